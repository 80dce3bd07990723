//! The one access line per request, written straight to stderr: text, or
//! (`--log-format json`) a JSON object.
//!
//! Through tracing's formatter this line cost about 15% of a cached
//! download (scripts/bench-vs-nginx with and without it): field visitors,
//! timestamp formatting, a `String` per field. Here it is written by hand
//! into a reused buffer (the date once a second, no `format!`) and out with
//! one `write(2)`, as nginx writes its own.
//! It keeps tracing's layout and obeys `RUST_LOG` for the target
//! `helpdesk::access`.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::logid::{civil_from_days, put_digits};
use crate::LogId;

thread_local! {
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(256));
    /// The second last written and its `YYYY-MM-DDTHH:MM:SS.`: it changes
    /// once a second, the microseconds every line.
    static SECOND: std::cell::Cell<(u64, [u8; 20])> = const { std::cell::Cell::new((u64::MAX, [0; 20])) };
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
    let secs = now.as_secs();
    let (cached, mut date) = SECOND.get();
    if cached != secs {
        let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
        let sod = (secs % 86_400) as u32;
        put_digits(&mut date[0..4], y.clamp(0, 9999) as u32);
        put_digits(&mut date[5..7], mo);
        put_digits(&mut date[8..10], d);
        put_digits(&mut date[11..13], sod / 3600);
        put_digits(&mut date[14..16], sod / 60 % 60);
        put_digits(&mut date[17..19], sod % 60);
        for (i, sep) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ] {
            date[i] = sep;
        }
        SECOND.set((secs, date));
    }
    let mut micros = [0u8; 7];
    put_digits(&mut micros[..6], now.subsec_micros());
    micros[6] = b'Z';
    out.push_str(std::str::from_utf8(&date).unwrap_or_default());
    out.push_str(std::str::from_utf8(&micros).unwrap_or_default());
}

/// `n` in decimal.
fn push_int(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
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
        line.push_str("  INFO helpdesk::access: log_id=");
        line.push_str(log_id.as_str());
        line.push_str(" method=");
        line.push_str(method.as_str());
        line.push_str(" path=");
        line.push_str(path);
        line.push_str(" status=");
        push_int(&mut line, u64::from(status));
        line.push_str(" code=");
        match code {
            Some(c) if c < 0 => {
                let _ = write!(line, "{c}");
            }
            Some(c) => push_int(&mut line, c as u64),
            None => line.push('-'),
        }
        let micros = took.as_micros() as u64;
        line.push_str(" duration_ms=");
        push_int(&mut line, micros / 1000);
        let mut frac = [b'.', 0, 0, 0, b'\n'];
        put_digits(&mut frac[1..4], (micros % 1000) as u32);
        line.push_str(std::str::from_utf8(&frac).unwrap_or_default());
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
