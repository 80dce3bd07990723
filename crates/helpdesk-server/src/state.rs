use std::path::PathBuf;
use std::sync::Arc;

use helpdesk_store::tokens::TokenSigner;
use helpdesk_store::{BlobStore, IngestLimits, MetadataStore, Stores};

/// What the operator can tune.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest image an upload may carry, in bytes.
    pub max_image_bytes: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_image_bytes: 10 * 1024 * 1024,
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
    pub tokens: TokenSigner,
    pub limits: IngestLimits,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads the token-signing key once; it is the same for every process that
    /// shares the database.
    pub async fn new(stores: Stores, config: ServerConfig) -> helpdesk_store::Result<AppState> {
        let key = stores.meta.signing_key().await?;
        Ok(AppState(Arc::new(Inner {
            meta: stores.meta,
            blobs: stores.blobs,
            tmp_dir: stores.tmp_dir,
            tokens: TokenSigner::new(key),
            limits: IngestLimits {
                max_bytes: config.max_image_bytes,
            },
        })))
    }
}
