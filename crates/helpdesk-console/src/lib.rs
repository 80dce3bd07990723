//! The inspector console: what the server holds, in a browser, on a
//! listener of its own (never the API's port).
//!
//! It is off unless `serve --console-listen ADDR` (or `--console`, or
//! `--demo`) turns it on. Every request passes `guard` (Host, Origin, a
//! session, strict security headers) and every page filters by the
//! session's [`auth::Scope`] on the server: an item of another tenant
//! answers 404 exactly as a missing one does. Images are addressed by
//! ticket, message and index, never by their hash, so no session learns
//! what another tenant stored.
//!
//! Pages are askama templates rendered on the server; `/live` streams
//! their new parts (see `live`), which htmx's SSE extension swaps in. htmx
//! is vendored (`assets/VENDORED.md`); the lightbox script and the style
//! sheet are our own; all are embedded in the binary.

pub mod auth;
mod events;
mod faqs;
mod guard;
mod live;
mod located;
mod pages;
mod tenants;
pub mod thumbs;
mod tickets;
mod zip;

use std::future::Future;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use helpdesk_store::Stores;

pub use guard::host_allowed;

/// How the console is reached and who may sign in.
#[derive(Debug, Clone, Default)]
pub struct ConsoleConfig {
    /// `--console-public-url`: the URL people open when it is not on
    /// loopback (behind a proxy or on another name).
    pub public_url: Option<url::Url>,
    /// `--console-token-file`'s tokens: operators', each usable again.
    pub operator_tokens: Vec<String>,
    /// The API's base URL, for the `ticket_images` curl each image offers.
    pub api_base: String,
    pub thumbs: thumbs::ThumbConfig,
    /// The store's change counter as the API server last read it (`None`
    /// from it: unknown), which moves with every deletion, quarantine or
    /// erasure: images looked up for thumbnails and originals are kept
    /// while it stays. Without it nothing is kept.
    pub changes: Option<Changes>,
}

/// Reads the store's change counter as this process last observed it.
#[derive(Clone)]
pub struct Changes(pub Arc<dyn Fn() -> Option<i64> + Send + Sync>);

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Changes({:?})", (self.0)())
    }
}

/// The console's state, shared by its handlers.
pub struct Console {
    stores: Stores,
    auth: auth::Auth,
    /// The public URL's host (with its port, when it has one), for `guard`.
    public_host: Option<String>,
    /// The public URL's origin (`https://host[:port]`), for `guard`.
    public_origin: Option<String>,
    api_base: String,
    thumbs: thumbs::Thumbs,
    live: live::Live,
    /// Where images are, by what names them (see `located`).
    located: located::Located,
}

/// A console ready to serve, and the one-time token of its start-up link.
pub struct Started {
    pub router: Router,
    /// Signs in once at `/login?token=...`.
    pub login_token: String,
}

/// The console's routes over `stores`.
pub fn console(stores: Stores, config: ConsoleConfig) -> Started {
    let (auth, login_token) = auth::Auth::new(&config.operator_tokens);
    let public_host = config.public_url.as_ref().and_then(|u| {
        let host = u.host_str()?;
        Some(match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        })
    });
    let public_origin = config
        .public_url
        .as_ref()
        .map(|u| u.origin().ascii_serialization());
    let console = Arc::new(Console {
        stores: stores.clone(),
        auth,
        public_host,
        public_origin,
        api_base: config.api_base,
        thumbs: thumbs::Thumbs::new(&config.thumbs),
        live: live::Live::start(stores.clone()),
        located: located::Located::new(config.changes.clone()),
    });
    let router = Router::new()
        .route("/", get(pages::index))
        .route("/login", get(pages::login))
        .route("/go", get(pages::go))
        .route("/tenants/{key}", get(tenants::tenant))
        .route("/tickets/{id}", get(tickets::ticket))
        .route("/tickets/{id}/images.zip", get(zip::ticket_zip))
        .route(
            "/tickets/{id}/messages/{msg_id}/images/{index}",
            get(tickets::ticket_image),
        )
        .route(
            "/tickets/{id}/messages/{msg_id}/images/{index}/thumb",
            get(tickets::ticket_thumb),
        )
        .route("/faqs", get(faqs::faqs))
        .route("/faqs/{id}", get(faqs::faq))
        .route("/faqs/{id}/images/{image_key}", get(faqs::faq_image))
        .route("/faqs/{id}/images/{image_key}/thumb", get(faqs::faq_thumb))
        .route("/live", get(live::live))
        .route("/events", get(events::events))
        .route("/events/{id}", get(events::event))
        .route(
            "/events/{id}/redeliver",
            axum::routing::post(events::redeliver),
        )
        .route("/assets/{file}", get(pages::asset))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            guard::guard,
        ))
        .with_state(console);
    Started {
        router,
        login_token,
    }
}

/// Serves `router` on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A blob's bytes, whole (a zip's entry; a thumbnail's original from a
/// store with no local files).
async fn read_blob(
    blobs: &dyn helpdesk_store::BlobStore,
    sha256: &str,
) -> helpdesk_store::Result<bytes::Bytes> {
    use futures::TryStreamExt;
    let mut stream = blobs.get(sha256).await?;
    let mut all = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        all.extend_from_slice(&chunk);
    }
    Ok(bytes::Bytes::from(all))
}
