//! Storage for helpdesk: the metadata repo (one trait per concern, in
//! `repo`, summed as `MetadataStore`), the blob store, their backends, and
//! the work above both: ingest (sniff, hash, write the blob, then the row),
//! cleanup (remove the bytes no row uses) and migrate.
//!
//! Handlers only ever see `dyn MetadataStore` (or the concern they use) and
//! `dyn BlobStore`, so a new backend slots in here without touching them.
//! The metadata store never receives the blob store: whatever touches both
//! lives beside `ingest`. `README.md` beside `src/` says how to add a
//! concern or a backend.

// Each concern's SQL in `sql/` is compiled once per backend, by design.
#![allow(clippy::duplicate_mod)]

#[macro_use]
mod sql;

mod attempts;
pub mod backup;
mod blobs;
pub mod changes;
pub mod cleanup;
mod config;
pub mod fixtures;
mod ingest;
mod inspect;
pub mod migrate;
mod model;
mod postgres;
pub mod provision;
pub mod records;
pub mod repo;
pub mod rescan;
mod safety;
pub mod scan;
mod screen;
pub mod secret;
mod sqlite;
pub mod tokens;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

pub use attempts::*;
pub use blobs::ObjectBlobs;
pub use config::{open, open_blobs, open_meta, StorageConfig, Stores};
pub use helpdesk_media::StripMode;
pub use ingest::{
    ingest, spool, sweep_spool, IngestError, IngestLimits, Screened, Spooled, DRAIN_LIMIT,
};
pub use inspect::*;
pub use model::*;
pub use postgres::PostgresMeta;
pub use records::{Cursor, Record, RecordKind};
pub use repo::{
    ActivityRepo, AuditRepo, BlobClaim, ConsoleTokenRepo, DirectoryRepo, EventRepo, FaqRepo,
    FieldRepo, ImageRepo, InspectRepo, KeyRepo, LimitsRepo, MessageRepo, MetadataStore, PeopleRepo,
    RetentionRepo, ScanRepo, TicketRepo, TransferRepo,
};
pub use safety::*;
pub use screen::{ScanFailure, ScanOutcome, ScanPolicy, Screening};
pub use sqlite::SqliteMeta;

/// What can go wrong below the API. Handlers map every variant but `Invalid`
/// and `NotFound` to an internal error (155000).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Something named does not exist (an admin typo, a missing blob).
    #[error("{entity} {id:?} not found")]
    NotFound { entity: Entity, id: String },
    /// The request cannot be carried out as given.
    #[error("{0}")]
    Invalid(String),
    /// An upload would take its tenant past its `max_bytes`.
    #[error("the tenant's images would hold {would_use} bytes, over its quota of {max_bytes}")]
    QuotaExceeded { max_bytes: u64, would_use: u64 },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob storage: {0}")]
    Blob(#[from] object_store::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// `entity` `id` does not exist.
    pub fn not_found(entity: Entity, id: impl Into<String>) -> StoreError {
        StoreError::NotFound {
            entity,
            id: id.into(),
        }
    }
}

/// What a `StoreError::NotFound` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entity {
    Tenant,
    App,
    Helpdesk,
    Message,
    Event,
    Blob,
    User,
    Agent,
    Ticket,
    Field,
    Image,
    Faq,
    Category,
    Quarantine,
    ConsoleToken,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Tenant => "tenant",
            Entity::Quarantine => "quarantined blob",
            Entity::ConsoleToken => "console token",
            Entity::App => "app",
            Entity::Helpdesk => "helpdesk",
            Entity::Message => "message",
            Entity::Event => "event",
            Entity::Blob => "blob",
            Entity::User => "user",
            Entity::Agent => "agent",
            Entity::Ticket => "ticket",
            Entity::Field => "ticket customized field",
            Entity::Image => "image",
            Entity::Faq => "faq",
            Entity::Category => "category",
        })
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A blob's bytes, in chunks, as they come off storage.
pub type BlobStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Image bytes, content-addressed by their SHA-256 (hex).
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores the file at `path` under `sha256`; durable when this returns.
    async fn put_file(&self, sha256: &str, path: &Path) -> Result<()>;
    /// The object's size, or `None` when it is missing.
    async fn stat(&self, sha256: &str) -> Result<Option<u64>>;
    async fn exists(&self, sha256: &str) -> Result<bool> {
        Ok(self.stat(sha256).await?.is_some())
    }
    /// The bytes as a stream; `StoreError::NotFound` when the object is missing.
    async fn get(&self, sha256: &str) -> Result<BlobStream>;
    /// Removes the object; removing a missing object is not an error.
    async fn delete(&self, sha256: &str) -> Result<()>;
    /// Every stored object's SHA-256.
    fn list(&self) -> BoxStream<'static, Result<String>>;
    /// Answers when objects can be stored (for readiness probes).
    async fn check(&self) -> Result<()>;
    /// The file holding the object, when objects are local files, so that
    /// a server can hand it to the kernel (`sendfile`) instead of copying
    /// its bytes. Content-addressed: a file found there holds exactly the
    /// bytes its name hashes to (or is missing).
    fn local_path(&self, _sha256: &str) -> Option<PathBuf> {
        None
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
