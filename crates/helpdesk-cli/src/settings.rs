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
        figment::error::Kind::UnknownField(field, _) => {
            return anyhow!(
                "{}: unknown key `{field}`: the keys are long flag names with _ for - (listen, data_dir, database_url, blob_url, max_image_bytes, cache_bytes, metrics_listen, log_format)",
                path.display()
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
