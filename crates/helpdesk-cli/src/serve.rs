//! `helpdesk serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use helpdesk_server::{AppState, ServerConfig};
use helpdesk_store::tokens::TOKEN_LIFETIME;

use crate::logging::{self, LogFormat};
use crate::StorageArgs;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Provision a demo tenant, app, helpdesk and ticket (once), write
    /// <data-dir>/demo.json, and print a curl session to try it.
    #[arg(long)]
    demo: bool,
    /// Tenants, apps, helpdesks, agents, subscriptions, tickets and FAQs
    /// with known ids and secrets (TOML, or JSON by its .json name), made
    /// to hold at every start (see deploy/fixtures.example.toml).
    #[arg(long, env = "HELPDESK_FIXTURES", value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// Keep everything in a new temporary directory (in place of
    /// --data-dir) removed at exit; the first line on stdout is then the
    /// base URL alone. For test suites, with `--listen 127.0.0.1:0`.
    #[arg(long)]
    ephemeral: bool,
    /// Once listening, also write the base URL (and a newline) to FILE.
    #[arg(long, env = "HELPDESK_READY_FILE", value_name = "FILE")]
    ready_file: Option<PathBuf>,
    /// Stop as SIGTERM would when the process that started this one ends
    /// (so that a killed test runner leaves no server, nor with
    /// --ephemeral its directory, behind).
    #[arg(long)]
    exit_with_parent: bool,
    /// Largest image an upload may carry, in bytes.
    #[arg(long, env = "HELPDESK_MAX_IMAGE_BYTES", default_value_t = 10 * 1024 * 1024)]
    max_image_bytes: u64,
    /// Memory the download cache may hold, in bytes (decisions and the bytes
    /// of small images); 0 turns it off.
    #[arg(long, env = "HELPDESK_CACHE_BYTES", default_value_t = 64 * 1024 * 1024)]
    cache_bytes: u64,
    /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of
    /// their own (off by default).
    #[arg(long, env = "HELPDESK_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Waits before each retry of an event delivery, comma-separated (units
    /// ms, s, m, h); once spent, the event has failed (see `admin events`).
    #[arg(
        long,
        env = "HELPDESK_EVENT_RETRY_SCHEDULE",
        default_value = "15s,5m,1h,6h",
        value_parser = crate::settings::parse_schedule
    )]
    event_retry_schedule: crate::settings::Schedule,
    /// How long an app's event receiver may take to answer.
    #[arg(long, env = "HELPDESK_EVENT_TIMEOUT", default_value = "10s", value_parser = crate::settings::parse_duration)]
    event_timeout: Duration,
    /// Days each delivery attempt is kept (what was sent, how the receiver
    /// answered: see `admin events show`), and each delivered event; failed
    /// and pending events stay; and the console's live feed. Pruned by the
    /// retention sweep.
    #[arg(long, env = "HELPDESK_EVENT_HISTORY_DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    event_history_days: u32,
    /// API calls a second per app, as Feishu's gateway limits them (429,
    /// code 99991400); 0: no limit.
    #[arg(long, env = "HELPDESK_RATE_LIMIT_PER_APP", default_value_t = 0)]
    rate_limit_per_app: u32,
    /// Token requests a second per client IP; 0: no limit.
    #[arg(long, env = "HELPDESK_TOKEN_RATE_LIMIT", default_value_t = helpdesk_server::DEFAULT_TOKEN_RATE_LIMIT)]
    token_rate_limit: u32,
    /// Seconds a new access token lives, 1 to Feishu's 7200. Shorter lets a
    /// test see an SDK's cached token expire: they cache for `expire` less
    /// 180 s (Go, Java, Node) or 600 s (Python).
    #[arg(long, env = "HELPDESK_TOKEN_LIFETIME", default_value_t = TOKEN_LIFETIME,
          value_parser = clap::value_parser!(i64).range(1..=TOKEN_LIFETIME))]
    token_lifetime: i64,
    /// Time a client has to send a request's headers.
    #[arg(long, env = "HELPDESK_HEADER_TIMEOUT", default_value = "10s", value_parser = crate::settings::parse_duration)]
    header_timeout: Duration,
    /// Time a request's body has to arrive whole (an upload that trickles
    /// in is cut off with 234001 and its spool file removed).
    #[arg(long, env = "HELPDESK_BODY_TIMEOUT", default_value = "60s", value_parser = crate::settings::parse_duration)]
    body_timeout: Duration,
    /// Time a keep-alive connection may sit idle between requests.
    #[arg(long, env = "HELPDESK_IDLE_TIMEOUT", default_value = "60s", value_parser = crate::settings::parse_duration)]
    idle_timeout: Duration,
    /// Open connections at most; at the cap a new one closes the idlest idle
    /// connection, and is refused when none is idle.
    #[arg(long, env = "HELPDESK_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// Threads serving the API's connections, each with a runtime of its
    /// own (as nginx's workers); 0, the default, means one per core. The
    /// console and the background work run beside them.
    #[arg(long, env = "HELPDESK_API_THREADS", default_value_t = 0)]
    api_threads: usize,
    /// How log lines are written to stderr.
    #[arg(long, env = "HELPDESK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Scan every upload with clamd before it is acknowledged:
    /// clamd:HOST:PORT or clamd:/path/to/clamd.sock. An infected file is
    /// refused (234901) and nothing of it is stored. Off by default.
    #[arg(long, env = "HELPDESK_SCAN", value_name = "clamd:ADDR")]
    scan: Option<helpdesk_store::scan::ScannerAddr>,
    /// While clamd cannot be reached: `closed` refuses uploads (500,
    /// 155000) until it answers again; `open` stores them unscanned, with a
    /// warning.
    #[arg(long, env = "HELPDESK_SCAN_FAILURE", value_enum, default_value_t = ScanFailureArg::Closed)]
    scan_failure: ScanFailureArg,
    /// clamd's StreamMaxLength, if not its default 25 MiB; it must be at
    /// least --max-image-bytes.
    #[arg(long, env = "HELPDESK_SCAN_MAX_BYTES", value_name = "BYTES")]
    scan_max_bytes: Option<u64>,
    /// What uploads lose before they are stored: `location` (GPS in EXIF
    /// and XMP), `all` (every EXIF, XMP, comment and text chunk; the
    /// orientation is kept), or `off`. Pixels are never re-encoded.
    #[arg(
        long,
        env = "HELPDESK_STRIP_METADATA",
        default_value = "location",
        value_name = "off|location|all"
    )]
    strip_metadata: helpdesk_store::StripMode,
    /// Delete the images of messages older than this (`30d`, `12h`, `90s`),
    /// as `admin image delete` does, where a tenant sets no retention of its
    /// own (`admin tenant set --retain`). Off by default: kept for ever.
    #[arg(long, env = "HELPDESK_RETAIN", value_name = "DURATION", value_parser = crate::settings::parse_duration)]
    retain: Option<Duration>,
    /// How often the retention sweep runs (one replica at a time).
    #[arg(long, env = "HELPDESK_RETENTION_SWEEP_EVERY", default_value = "1h", value_parser = crate::settings::parse_duration)]
    retention_sweep_every: Duration,
    /// Send large cached images (256 KiB and up, in a local data dir) from
    /// their file with sendfile(2) rather than copying them from memory,
    /// as nginx's `sendfile on`; `off` for filesystems where that misbehaves.
    #[arg(long, env = "HELPDESK_SENDFILE", value_enum, default_value_t = OnOff::On)]
    sendfile: OnOff,
    #[command(flatten)]
    console: crate::console::ConsoleArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFailureArg {
    Closed,
    Open,
}

impl ServeArgs {
    /// Whether every line it writes is JSON (`--log-format json`).
    pub fn json_log(&self) -> bool {
        self.log_format == LogFormat::Json
    }
}

/// `--scan` and its companions, checked against `--max-image-bytes`: clamd
/// refuses a stream longer than its StreamMaxLength, so a larger upload
/// could never be scanned.
fn scan_config(args: &ServeArgs) -> Result<Option<helpdesk_server::ScanConfig>> {
    let Some(addr) = args.scan.clone() else {
        return Ok(None);
    };
    let stream_max = args
        .scan_max_bytes
        .unwrap_or(helpdesk_store::scan::DEFAULT_STREAM_MAX);
    if stream_max < args.max_image_bytes {
        anyhow::bail!(
            "--max-image-bytes {} is more than clamd scans ({stream_max} bytes, its StreamMaxLength): raise StreamMaxLength in clamd.conf and pass it as --scan-max-bytes, or lower --max-image-bytes",
            args.max_image_bytes
        );
    }
    Ok(Some(helpdesk_server::ScanConfig {
        addr,
        failure: match args.scan_failure {
            ScanFailureArg::Closed => helpdesk_store::ScanFailure::Closed,
            ScanFailureArg::Open => helpdesk_store::ScanFailure::Open,
        },
        stream_max: args.scan_max_bytes,
    }))
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT). The handlers are installed when
/// this is called, before the listening line is printed: a signal sent as
/// soon as a script or a supervisor read that line stops the server
/// gracefully, instead of killing it with the signal's default action.
fn shutdown_signal(
    exit_with_parent: bool,
) -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let stopped = {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = interrupt.recv() => {},
            }
        }
    };
    #[cfg(not(unix))]
    let stopped = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // The parent as it is now, not when the future is first polled: by
    // then a parent that only waited for the ready file may have gone.
    #[cfg(unix)]
    let parent = std::os::unix::process::parent_id();
    #[cfg(not(unix))]
    let parent = 0;
    if exit_with_parent && parent == 1 {
        tracing::warn!("--exit-with-parent: the parent is init (pid 1), or ended before this server began; nothing to watch");
    }
    let orphaned = async move {
        if !exit_with_parent {
            return std::future::pending().await;
        }
        parent_gone(parent).await;
        tracing::info!("the parent process ended");
    };
    Ok(async move {
        tokio::select! {
            _ = stopped => {},
            _ = orphaned => {},
        }
        tracing::info!("stopping: finishing in-flight requests");
    })
}

/// Resolves when the process that started this one (`parent`) has ended:
/// the parent id changes (to 1, or to a subreaper's), which a poll sees
/// within 100 ms.
async fn parent_gone(parent: u32) {
    #[cfg(unix)]
    {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if std::os::unix::process::parent_id() != parent {
                return;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = parent;
        std::future::pending::<()>().await
    }
}

/// What `serve` prints on stdout, as text or, with `--log-format json`, as
/// one JSON object per line, so that a log shipper never sees a stray line.
struct Stdout {
    json: bool,
}

impl Stdout {
    fn line(&self, text: String, key: &str, value: serde_json::Value) {
        use std::io::Write;
        let line = if self.json {
            serde_json::json!({ key: value }).to_string()
        } else {
            text
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Writes `text` to `path` whole: a reader sees the old file or the new one.
fn write_whole(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

pub async fn run(args: ServeArgs) -> Result<()> {
    logging::init_for_server(args.log_format);
    // First of all: the parent `--exit-with-parent` watches is the one that
    // started us, even if it ends while we start.
    let shutdown = shutdown_signal(args.exit_with_parent)
        .context("cannot install the SIGTERM and SIGINT handlers")?;
    let out = Stdout {
        json: args.log_format == LogFormat::Json,
    };
    // Checked whole before storage is opened: nothing of a bad file is applied.
    let fixtures = match &args.fixtures {
        Some(path) => Some(crate::fixtures::load(path)?),
        None => None,
    };
    let mut storage = args.storage.config();
    // Removed when `run` returns, however the server stopped.
    let _ephemeral = if args.ephemeral {
        if storage.database_url.is_some() || storage.blob_url.is_some() {
            anyhow::bail!("--ephemeral keeps everything in a temporary directory: drop --database-url and --blob-url, or drop --ephemeral");
        }
        let dir = tempfile::Builder::new()
            .prefix("helpdesk-ephemeral-")
            .tempdir()
            .context("cannot make a temporary directory for --ephemeral (is TMPDIR writable?)")?;
        storage.data_dir = dir.path().to_path_buf();
        // Removed at exit: nothing in it must survive a crash.
        storage.durable = false;
        crate::fixtures::mark_ephemeral(&storage.data_dir)?;
        Some(dir)
    } else {
        None
    };
    let storage = &storage;
    let metrics = match args.metrics_listen {
        Some(addr) => Some(crate::metrics::start(addr).await?),
        None => None,
    };
    let scan = scan_config(&args)?;
    let stores = helpdesk_store::open(storage)
        .await
        .with_context(|| format!("opening storage in {}", storage.data_dir.display()))?;
    match helpdesk_store::sweep_spool(&stores.tmp_dir, std::time::Duration::from_secs(3600)) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            removed = n,
            "removed upload spool files left by an earlier crash"
        ),
        Err(e) => {
            tracing::warn!(error = %e, dir = %stores.tmp_dir.display(), "cannot sweep the upload spool")
        }
    }
    // Bytes a crash left between a delete and its cleanup; claims make this
    // safe with other replicas doing the same.
    match helpdesk_store::cleanup::sweep(stores.meta.as_ref(), stores.blobs.as_ref(), 1000).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed objects no image uses any more"),
        Err(e) => tracing::warn!(error = %e, "cannot sweep unused objects"),
    }
    let state = AppState::new(
        stores.clone(),
        ServerConfig {
            max_image_bytes: args.max_image_bytes,
            cache_bytes: args.cache_bytes,
            json_log: args.log_format == LogFormat::Json,
            metrics: metrics.is_some(),
            events: helpdesk_server::DeliveryConfig {
                retry_schedule: args.event_retry_schedule.0,
                timeout: args.event_timeout,
            },
            rate_limit_per_app: args.rate_limit_per_app,
            token_rate_limit: args.token_rate_limit,
            body_timeout: args.body_timeout,
            token_lifetime: args.token_lifetime,
            scan,
            strip: args.strip_metadata,
            sendfile: args.sendfile == OnOff::On,
            retention: helpdesk_server::RetentionConfig {
                retain: args.retain,
                sweep_every: args.retention_sweep_every,
                event_history: Duration::from_secs(u64::from(args.event_history_days) * 86_400),
            },
        },
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: pass a free address with --listen",
                args.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    // Before anything is printed: a refused console stops the start.
    let console = crate::console::plan(&args.console, args.demo, &base_url).await?;
    if let Some(fixtures) = &fixtures {
        crate::fixtures::apply(&stores, storage, fixtures).await?;
    }
    let demo = match args.demo {
        true => Some(
            crate::demo::provision(&stores, storage, &base_url)
                .await
                .context("provisioning the demo")?,
        ),
        false => None,
    };
    // Scripts and tests wait for this line to learn the address: the first
    // on stdout, printed once the listener accepts connections.
    let listening = match args.ephemeral {
        true => base_url.clone(),
        false => format!("helpdesk listening on {base_url}"),
    };
    out.line(listening, "listening", base_url.clone().into());
    if let Some(path) = &args.ready_file {
        write_whole(path, &format!("{base_url}\n"))
            .with_context(|| format!("cannot write --ready-file {}", path.display()))?;
    }
    if let Some(addr) = metrics {
        let url = format!("http://{addr}/metrics");
        out.line(format!("helpdesk metrics on {url}"), "metrics", url.into());
    }
    if let Some(demo) = &demo {
        out.line(
            crate::demo::curl_session(demo),
            "demo",
            serde_json::to_value(demo)?,
        );
    }
    if let Some(planned) = console {
        let addr = planned.listener.local_addr()?;
        let url = format!("http://{addr}");
        let observed = state.clone();
        let config = helpdesk_console::ConsoleConfig {
            changes: Some(helpdesk_console::Changes(std::sync::Arc::new(move || {
                observed.cache.known_generation()
            }))),
            ..planned.config.clone()
        };
        let started = helpdesk_console::console(stores.clone(), config);
        tracing::info!(
            jpeg_decoder = helpdesk_console::thumbs::JPEG_DECODER,
            "console thumbnails"
        );
        let link_base = planned
            .config
            .public_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_string())
            .unwrap_or_else(|| url.clone());
        out.line(
            format!("helpdesk console on {url}"),
            "console",
            url.clone().into(),
        );
        // stderr, not stdout: the link signs in, and stdout is often kept.
        eprintln!(
            "helpdesk console: sign in at {link_base}/login?token={} (the link works once)",
            started.login_token
        );
        tokio::spawn(async move {
            if let Err(e) =
                helpdesk_console::serve(planned.listener, started.router, std::future::pending())
                    .await
            {
                tracing::error!(error = %e, "the console stopped");
            }
        });
    }
    tracing::info!(%base_url, data_dir = %storage.data_dir.display(), "listening");
    // The API's connections on threads of their own (see helpdesk-server's
    // `threads`); the console and the background work stay on this runtime.
    let threads = match args.api_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    helpdesk_server::serve_on_threads(
        listener,
        helpdesk_server::api(state),
        shutdown,
        helpdesk_server::ConnLimits {
            header_timeout: args.header_timeout,
            idle_timeout: args.idle_timeout,
            max_connections: args.max_connections,
        },
        threads,
    )
    .await?;
    tracing::info!("stopped");
    Ok(())
}
