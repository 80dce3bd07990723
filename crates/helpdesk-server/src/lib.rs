//! The Feishu-compatible HTTP server.
//!
//! One request takes one path: the front (log id, error body, access log;
//! a download already decided is answered there) -> the router -> an
//! extractor (who is calling) -> a thin handler -> the store -> a response
//! writer. Handlers return `Failure` for every error; only
//! `response.rs` turns one into a status and a body.

mod access_log;
mod auth;
mod cache;
mod deadline;
mod delivery;
mod front;
mod handlers;
mod limits;
mod logid;
mod metrics;
mod query;
mod response;
mod retention;
mod router;
mod sendfile;
mod serve;
mod state;
mod threads;
mod tokens;
mod tracker;

pub use delivery::{event_client, post_sealed, DeliveryConfig};
pub use front::{api, Api};
pub use logid::LogId;
pub use metrics::describe_metrics;
pub use retention::RetentionConfig;
pub use serve::serve;
pub use serve::{serve_on_threads, serve_with, ConnLimits, PeerAddr};
pub use state::{AppState, ScanConfig, ServerConfig, DEFAULT_TOKEN_RATE_LIMIT};
