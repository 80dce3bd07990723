//! `serve`'s console flags: where the inspector console listens, and who
//! may sign in (see the helpdesk-console crate).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};

/// Where `--console` puts it.
pub const DEFAULT_CONSOLE: &str = "127.0.0.1:8081";

#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleArgs {
    /// Run the inspector console on its own listener (never the API's).
    /// Off by default; `--demo` turns it on at 127.0.0.1:8081.
    #[arg(long, env = "HELPDESK_CONSOLE_LISTEN", value_name = "ADDR")]
    pub console_listen: Option<SocketAddr>,
    /// The console on 127.0.0.1:8081.
    #[arg(long)]
    pub console: bool,
    /// Operators' console tokens, one per line (blank lines and `#`
    /// comments skipped); needed for an address other machines can reach.
    #[arg(long, env = "HELPDESK_CONSOLE_TOKEN_FILE", value_name = "FILE")]
    pub console_token_file: Option<PathBuf>,
    /// The URL people open the console at, when not on loopback (behind a
    /// proxy): its host is accepted besides loopback names.
    #[arg(long, env = "HELPDESK_CONSOLE_PUBLIC_URL", value_name = "URL")]
    pub console_public_url: Option<url::Url>,
    /// Thumbnails rendered at a time (default: half the cores).
    #[arg(long, env = "HELPDESK_THUMB_WORKERS", value_name = "N")]
    pub thumb_workers: Option<usize>,
    /// Memory the console's thumbnail cache may hold, in bytes.
    #[arg(long, env = "HELPDESK_THUMB_CACHE_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub thumb_cache_bytes: u64,
}

/// A console to start: its listener and configuration.
pub struct Planned {
    pub listener: tokio::net::TcpListener,
    pub config: helpdesk_console::ConsoleConfig,
}

/// Binds the console's listener when the flags (or `--demo`) ask for it.
/// A non-loopback address without a token file is refused: anyone who
/// could reach it would need only the start-up link.
pub async fn plan(args: &ConsoleArgs, demo: bool, api_base: &str) -> Result<Option<Planned>> {
    let default: SocketAddr = DEFAULT_CONSOLE.parse().expect("a socket address");
    let (addr, explicit) = match (args.console_listen, args.console) {
        (Some(addr), _) => (addr, true),
        (None, true) => (default, true),
        (None, false) if demo => (default, false),
        (None, false) => return Ok(None),
    };
    if !addr.ip().is_loopback() && args.console_token_file.is_none() {
        anyhow::bail!(
            "the console on {addr} would be reachable from other machines: pass --console-token-file FILE, or listen on 127.0.0.1"
        );
    }
    let operator_tokens = match &args.console_token_file {
        Some(path) => read_tokens(path)?,
        None => Vec::new(),
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        // The demo's console takes any free port rather than stop the demo.
        Err(_) if !explicit => tokio::net::TcpListener::bind((addr.ip(), 0))
            .await
            .context("cannot listen for the console")?,
        Err(e) => {
            return Err(e).with_context(|| {
                format!("cannot listen on {addr} for the console: pass a free address with --console-listen")
            })
        }
    };
    Ok(Some(Planned {
        listener,
        config: helpdesk_console::ConsoleConfig {
            public_url: args.console_public_url.clone(),
            operator_tokens,
            api_base: api_base.to_string(),
            thumbs: helpdesk_console::thumbs::ThumbConfig {
                workers: args
                    .thumb_workers
                    .unwrap_or_else(helpdesk_console::thumbs::default_workers),
                cache_bytes: args.thumb_cache_bytes,
            },
            // Set by `serve` once the API's state exists.
            changes: None,
        },
    }))
}

fn read_tokens(path: &std::path::Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --console-token-file {}", path.display()))?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if tokens.iter().any(|t| t.len() < 16) {
        anyhow::bail!(
            "--console-token-file {}: every token must be at least 16 characters (e.g. `openssl rand -hex 32`)",
            path.display()
        );
    }
    if tokens.is_empty() {
        anyhow::bail!(
            "--console-token-file {} holds no token: one per line",
            path.display()
        );
    }
    Ok(tokens)
}
