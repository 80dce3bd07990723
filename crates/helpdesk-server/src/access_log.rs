//! The one access line per request, written straight to stderr: text, or
//! (`--log-format json`) a JSON object.
//!
//! Through tracing's formatter this line cost about 15% of a cached
//! download (scripts/bench-vs-nginx with and without it): field visitors,
//! timestamp formatting, a `String` per field. Here it is formatted into a
//! reused buffer and written with one `write(2)`, as nginx writes its own.
//! It keeps tracing's layout and obeys `RUST_LOG` for the target
//! `helpdesk::access`.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::logid::civil_from_days;
use crate::LogId;

thread_local! {
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(256));
}

/// True when `RUST_LOG` lets access lines through.
pub fn enabled() -> bool {
    tracing::enabled!(target: "helpdesk::access", tracing::Level::INFO)
}

/// Now, as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (tracing's layout).
fn write_timestamp(out: &mut String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        now.subsec_micros(),
    );
}

pub fn write(
    log_id: &LogId,
    method: &http::Method,
    path: &str,
    status: u16,
    code: Option<i64>,
    took: Duration,
) {
    LINE.with(|line| {
        let Ok(mut line) = line.try_borrow_mut() else {
            return;
        };
        line.clear();
        write_timestamp(&mut line);
        let _ = write!(
            line,
            "  INFO helpdesk::access: log_id={log_id} method={method} path={path} status={status} code="
        );
        match code {
            Some(c) => {
                let _ = write!(line, "{c}");
            }
            None => line.push('-'),
        }
        let micros = took.as_micros();
        let _ = writeln!(line, " duration_ms={}.{:03}", micros / 1000, micros % 1000);
        let _ = std::io::stderr().write_all(line.as_bytes());
    });
}

/// The access line as one JSON object, with the fields `tracing`'s JSON
/// lines have (`timestamp`, `level`, `target`) and the request's.
#[allow(clippy::too_many_arguments)]
pub fn write_json(
    log_id: &LogId,
    method: &http::Method,
    route: &str,
    path: &str,
    status: u16,
    code: Option<i64>,
    app_id: Option<&str>,
    took: Duration,
) {
    let mut timestamp = String::with_capacity(27);
    write_timestamp(&mut timestamp);
    let line = serde_json::json!({
        "timestamp": timestamp,
        "level": "INFO",
        "target": "helpdesk::access",
        "log_id": log_id.as_str(),
        "method": method.as_str(),
        "route": route,
        "path": path,
        "status": status,
        "code": code,
        "app_id": app_id,
        "duration_ms": took.as_secs_f64() * 1000.0,
    });
    let mut bytes = line.to_string().into_bytes();
    bytes.push(b'\n');
    let _ = std::io::stderr().write_all(&bytes);
}
