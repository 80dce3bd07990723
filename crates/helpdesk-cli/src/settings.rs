//! `--config FILE`: settings from a TOML file, beneath flags and the
//! environment.
//!
//! Each key is a long flag with `_` for `-`. A key the file sets becomes
//! the flag's environment variable when the environment does not set it,
//! before the command line is read: so a flag wins over the environment,
//! the environment over the file, and the file over the default, with one
//! parser deciding all of it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use figment::providers::{Format, Toml};
use figment::Figment;
use serde::Deserialize;

use crate::logging::LogFormat;

/// Every key a config file may hold, with its type.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    blob_url: Option<String>,
    max_image_bytes: Option<u64>,
    cache_bytes: Option<u64>,
    metrics_listen: Option<SocketAddr>,
    log_format: Option<LogFormat>,
    event_retry_schedule: Option<String>,
    event_timeout: Option<String>,
    event_history_days: Option<u32>,
    rate_limit_per_app: Option<u32>,
    token_rate_limit: Option<u32>,
    token_lifetime: Option<i64>,
    header_timeout: Option<String>,
    body_timeout: Option<String>,
    idle_timeout: Option<String>,
    max_connections: Option<usize>,
    api_threads: Option<usize>,
    fixtures: Option<PathBuf>,
}

impl FileSettings {
    /// Each key the file set, as its environment variable and value.
    fn variables(&self) -> Vec<(&'static str, String)> {
        let mut vars = Vec::new();
        let mut set = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                vars.push((name, value));
            }
        };
        set("HELPDESK_LISTEN", self.listen.map(|a| a.to_string()));
        set(
            "HELPDESK_DATA_DIR",
            self.data_dir.as_ref().map(|p| p.display().to_string()),
        );
        set("HELPDESK_DATABASE_URL", self.database_url.clone());
        set("HELPDESK_BLOB_URL", self.blob_url.clone());
        set(
            "HELPDESK_MAX_IMAGE_BYTES",
            self.max_image_bytes.map(|n| n.to_string()),
        );
        set(
            "HELPDESK_CACHE_BYTES",
            self.cache_bytes.map(|n| n.to_string()),
        );
        set(
            "HELPDESK_METRICS_LISTEN",
            self.metrics_listen.map(|a| a.to_string()),
        );
        set(
            "HELPDESK_LOG_FORMAT",
            self.log_format.map(|f| f.name().to_string()),
        );
        set(
            "HELPDESK_EVENT_RETRY_SCHEDULE",
            self.event_retry_schedule.clone(),
        );
        set("HELPDESK_EVENT_TIMEOUT", self.event_timeout.clone());
        set(
            "HELPDESK_EVENT_HISTORY_DAYS",
            self.event_history_days.map(|n| n.to_string()),
        );
        set(
            "HELPDESK_RATE_LIMIT_PER_APP",
            self.rate_limit_per_app.map(|n| n.to_string()),
        );
        set(
            "HELPDESK_TOKEN_RATE_LIMIT",
            self.token_rate_limit.map(|n| n.to_string()),
        );
        set(
            "HELPDESK_TOKEN_LIFETIME",
            self.token_lifetime.map(|n| n.to_string()),
        );
        set("HELPDESK_HEADER_TIMEOUT", self.header_timeout.clone());
        set("HELPDESK_BODY_TIMEOUT", self.body_timeout.clone());
        set("HELPDESK_IDLE_TIMEOUT", self.idle_timeout.clone());
        set(
            "HELPDESK_MAX_CONNECTIONS",
            self.max_connections.map(|n| n.to_string()),
        );
        set(
            "HELPDESK_API_THREADS",
            self.api_threads.map(|n| n.to_string()),
        );
        set(
            "HELPDESK_FIXTURES",
            self.fixtures.as_ref().map(|p| p.display().to_string()),
        );
        vars
    }
}

/// Reads the file and sets the environment variables of the keys it holds
/// that the environment does not. Call before any thread starts.
pub fn load(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    let settings: FileSettings = Figment::from(Toml::string(&text))
        .extract()
        .map_err(|e| explain(path, e))?;
    for (name, value) in settings.variables() {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

/// One line naming the file and the key.
fn explain(path: &Path, e: figment::Error) -> anyhow::Error {
    let key = e.path.join(".");
    let what = match &e.kind {
        // The known keys are `FileSettings`' fields, as serde lists them.
        figment::error::Kind::UnknownField(field, known) => {
            return anyhow!(
                "{}: unknown key `{field}`: the keys are long flag names with _ for - ({})",
                path.display(),
                known.join(", ")
            )
        }
        kind => kind.to_string(),
    };
    if key.is_empty() {
        anyhow!("{}: {what}", path.display())
    } else {
        anyhow!("{}: key `{key}`: {what}", path.display())
    }
}

/// `250ms`, `15s`, `5m`, `1h`, `30d`: a number and a unit.
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit: write 250ms, 15s, 5m, 1h or 30d"))?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        "d" => n.saturating_mul(86_400_000),
        _ => return Err(format!("{text:?}: the unit is ms, s, m, h or d")),
    };
    Ok(std::time::Duration::from_millis(ms))
}

/// `--since T`: a duration ago (`24h`, `7d`) or an RFC 3339 time
/// (`2026-12-01T00:00:00Z`), as milliseconds since the epoch.
pub fn parse_since(text: &str) -> std::result::Result<i64, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(at.timestamp_millis());
    }
    let ago = parse_duration(text).map_err(|_| {
        format!("{text:?} is neither a duration ago (24h, 7d) nor an RFC 3339 time (2026-12-01T00:00:00Z)")
    })?;
    Ok(helpdesk_store::now_ms().saturating_sub(ago.as_millis() as i64))
}

/// Milliseconds since the epoch as RFC 3339 (UTC, to the millisecond).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

/// Waits between tries, in order.
#[derive(Debug, Clone)]
pub struct Schedule(pub Vec<std::time::Duration>);

/// `15s,5m,1h,6h`: durations, comma-separated; empty for no retries.
pub fn parse_schedule(text: &str) -> std::result::Result<Schedule, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(parse_duration)
        .collect::<std::result::Result<_, _>>()
        .map(Schedule)
}
