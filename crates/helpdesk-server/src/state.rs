use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use helpdesk_store::changes::{Listening, Tick};
use helpdesk_store::scan::{Scanner, ScannerAddr};
use helpdesk_store::tokens::TokenSigner;
use helpdesk_store::{
    BlobStore, IngestLimits, MetadataStore, ScanFailure, ScanPolicy, Screening, Stores, StripMode,
};

use crate::cache::{DownloadCache, POLL_EVERY};
use crate::delivery::DeliveryConfig;
use crate::limits::RateLimits;
use crate::response::Observe;
use crate::retention::RetentionConfig;
use crate::tokens::Tokens;

/// Token requests a second from one IP: far above what SDKs need (one per
/// app every 90 minutes, from their cache), far below what would load the
/// database, and it makes guessing a secret online hopeless twice over.
pub const DEFAULT_TOKEN_RATE_LIMIT: u32 = 100;

/// What the operator can tune.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest image an upload may carry, in bytes.
    pub max_image_bytes: u64,
    /// Memory the download cache may hold, in bytes; 0 turns it off.
    pub cache_bytes: u64,
    /// Access lines as JSON objects.
    pub json_log: bool,
    /// Count requests for a metrics recorder the caller installed.
    pub metrics: bool,
    /// How events are delivered.
    pub events: DeliveryConfig,
    /// API calls a second per app; 0: no limit.
    pub rate_limit_per_app: u32,
    /// Token requests a second per client IP; 0: no limit.
    pub token_rate_limit: u32,
    /// A request body must arrive whole within this.
    pub body_timeout: Duration,
    /// Seconds a new access token lives (at most Feishu's 7200).
    pub token_lifetime: i64,
    /// Scan every upload with clamd; `None`: no scan.
    pub scan: Option<ScanConfig>,
    /// What uploads lose of their metadata before they are stored.
    pub strip: StripMode,
    /// What is deleted for its age: images, and event history.
    pub retention: RetentionConfig,
    /// Large kept images in local files are sent with sendfile(2) (see
    /// `sendfile`).
    pub sendfile: bool,
}

/// Where clamd listens and what an upload does while it cannot be reached.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub addr: ScannerAddr,
    pub failure: ScanFailure,
    /// clamd's StreamMaxLength, when it is not its default 25 MiB.
    pub stream_max: Option<u64>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_image_bytes: 10 * 1024 * 1024,
            cache_bytes: 64 * 1024 * 1024,
            json_log: false,
            metrics: false,
            events: DeliveryConfig::default(),
            rate_limit_per_app: 0,
            token_rate_limit: DEFAULT_TOKEN_RATE_LIMIT,
            body_timeout: Duration::from_secs(60),
            token_lifetime: helpdesk_store::tokens::TOKEN_LIFETIME,
            scan: None,
            strip: StripMode::Location,
            retention: RetentionConfig::default(),
            sendfile: true,
        }
    }
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub meta: Arc<dyn MetadataStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub tmp_dir: PathBuf,
    /// The token signer of the current signing keys and the tokens it has
    /// verified, replaced whenever the store changes (keys may have rotated).
    pub tokens: ArcSwap<Tokens>,
    pub limits: IngestLimits,
    /// The malware scan and metadata stripping every upload goes through.
    pub screening: Screening,
    pub cache: DownloadCache,
    pub observe: Observe,
    /// Woken when an event may have become due (one was recorded here, or
    /// a delivery ended).
    pub events_ready: Arc<tokio::sync::Notify>,
    pub rate_limits: RateLimits,
    pub body_timeout: Duration,
    pub token_lifetime: i64,
    /// One catch-up at a time, so that the generations they observe only
    /// ever move forward (see `catch_up`).
    catching_up: tokio::sync::Mutex<()>,
    /// Announcements of changes reach this server while it is held.
    listening: std::sync::OnceLock<Listening>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads the token-signing keys, which are the same for every process that
    /// shares the database, and starts watching the store for changes made
    /// elsewhere (see `cache`): polling it, and answering the announcements
    /// of changes that admin commands make (`helpdesk_store::changes`).
    pub async fn new(stores: Stores, config: ServerConfig) -> helpdesk_store::Result<AppState> {
        let keys = stores.meta.signing_keys().await?;
        let generation = stores.meta.generation().await?;
        let cache = DownloadCache::new(config.cache_bytes, config.sendfile);
        cache.observe(Some(generation));
        let state = AppState(Arc::new(Inner {
            meta: stores.meta,
            blobs: stores.blobs,
            tmp_dir: stores.tmp_dir,
            tokens: ArcSwap::from_pointee(Tokens::new(TokenSigner::new(keys))),
            limits: IngestLimits {
                max_bytes: config.max_image_bytes,
            },
            screening: Screening {
                scan: config.scan.map(|c| {
                    let mut scanner = Scanner::new(c.addr);
                    if let Some(max) = c.stream_max {
                        scanner = scanner.with_stream_max(max);
                    }
                    ScanPolicy::new(scanner, c.failure)
                }),
                strip: config.strip,
            },
            cache,
            observe: Observe {
                json_log: config.json_log,
                metrics: config.metrics,
            },
            events_ready: Arc::new(tokio::sync::Notify::new()),
            rate_limits: RateLimits::new(config.rate_limit_per_app, config.token_rate_limit),
            body_timeout: config.body_timeout,
            token_lifetime: config.token_lifetime,
            catching_up: tokio::sync::Mutex::new(()),
            listening: std::sync::OnceLock::new(),
        }));
        tokio::spawn(watch(Arc::downgrade(&state.0)));
        let weak = Arc::downgrade(&state.0);
        let tick: Tick = Arc::new(move || {
            let weak = weak.clone();
            Box::pin(async move {
                if let Some(state) = weak.upgrade() {
                    state.catch_up().await;
                }
            })
        });
        let _ = state.listening.set(stores.changes.listen(tick).await);
        tokio::spawn(crate::retention::run(
            Arc::downgrade(&state.0),
            config.retention,
        ));
        tokio::spawn(crate::delivery::run(
            state.meta.clone(),
            Arc::downgrade(&state.events_ready),
            config.events,
        ));
        Ok(state)
    }

    /// Records a change an API call made in the audit trail. The change is
    /// made, so a failure to record it is logged, not answered.
    pub async fn audit(&self, entry: helpdesk_store::NewAudit<'_>) {
        if let Err(e) = self.meta.record_audit(&entry).await {
            tracing::error!(error = %e, action = entry.action, "cannot record a change in the audit trail");
        }
    }

    /// After this process's own write moved the change counter: catches up
    /// now, not at the next poll, so that its next answer is the new one
    /// (other processes see it at their poll).
    pub async fn changed_here(&self) {
        self.catch_up().await;
    }

    /// The socket announcements of changes reach this server on (embedded
    /// storage), if they can.
    pub fn changes_socket(&self) -> Option<&std::path::Path> {
        self.listening.get().and_then(Listening::socket)
    }
}

impl Inner {
    /// What a poll tick does and what an announced change waits for: reads
    /// the store's change counter and, when it moved, drops the cache and
    /// reads the signing keys again. One at a time: two overlapping ones
    /// could otherwise observe an older generation after a newer, and a
    /// decision read before the change would then be kept under it.
    pub(crate) async fn catch_up(&self) {
        let _one = self.catching_up.lock().await;
        let generation = match self.meta.generation().await {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the change counter: the cache is off until it can");
                None
            }
        };
        if self.cache.observe(generation) && generation.is_some() {
            match self.meta.signing_keys().await {
                Ok(keys) => self
                    .tokens
                    .store(Arc::new(Tokens::new(TokenSigner::new(keys)))),
                Err(e) => tracing::warn!(error = %e, "cannot reload the signing keys"),
            }
        }
    }
}

/// Polls the store's change counter until the state is dropped (the
/// fallback when an announcement cannot reach this server).
async fn watch(state: Weak<Inner>) {
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(state) = state.upgrade() else { return };
        state.rate_limits.forget_idle();
        state.catch_up().await;
    }
}
