//! Choosing and opening the backends from the storage flags.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::changes::Changes;
use crate::{BlobStore, MetadataStore, ObjectBlobs, PostgresMeta, Result, SqliteMeta, StoreError};

/// Where metadata and blobs live. `serve`, `admin` and `migrate` share it.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Holds the embedded database and blobs when no URL names others, the
    /// demo's `demo.json`, and temporary upload files, on every backend.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `helpdesk.db` in the data dir.
    pub database_url: Option<String>,
    /// `file:///…` or `s3://BUCKET[/PREFIX]`; default: `blobs/` in the data dir.
    pub blob_url: Option<String>,
    /// False for a data dir thrown away at exit (`serve --ephemeral`, the
    /// emulator): the embedded database and files then skip their fsyncs,
    /// since nothing in them must survive a crash. Other backends ignore it.
    pub durable: bool,
}

/// The opened backends.
#[derive(Clone)]
pub struct Stores {
    pub meta: Arc<dyn MetadataStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// Where uploads are spooled while they are hashed and sniffed.
    pub tmp_dir: PathBuf,
    /// How the processes on this storage tell each other of a change
    /// (`changes::announce`).
    pub changes: Arc<dyn Changes>,
}

/// Opens (creating and migrating where needed) the configured backends.
pub async fn open(config: &StorageConfig) -> Result<Stores> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir)?;
    let tmp_dir = data_dir.join("tmp");
    std::fs::create_dir_all(&tmp_dir)?;
    let (meta, changes) =
        open_meta_and_changes(data_dir, config.database_url.as_deref(), config.durable).await?;
    let blobs: Arc<dyn BlobStore> = match (&config.blob_url, config.durable) {
        (None, false) => Arc::new(ObjectBlobs::local(&data_dir.join("blobs"))?.not_durable()),
        (url, _) => open_blobs(data_dir, url.as_deref()).await?,
    };
    Ok(Stores {
        meta,
        blobs,
        tmp_dir,
        changes,
    })
}

/// The metadata store a `--database-url` names (the data dir's SQLite file
/// when it names none).
pub async fn open_meta(data_dir: &Path, url: Option<&str>) -> Result<Arc<dyn MetadataStore>> {
    Ok(open_meta_and_changes(data_dir, url, true).await?.0)
}

/// The metadata store and how its processes tell each other of changes.
async fn open_meta_and_changes(
    data_dir: &Path,
    url: Option<&str>,
    durable: bool,
) -> Result<(Arc<dyn MetadataStore>, Arc<dyn Changes>)> {
    fn sqlite(meta: SqliteMeta) -> (Arc<dyn MetadataStore>, Arc<dyn Changes>) {
        let changes = meta.changes();
        (Arc::new(meta), changes)
    }
    Ok(match url {
        None if !durable => sqlite(SqliteMeta::open_scratch(&data_dir.join("helpdesk.db")).await?),
        None => sqlite(SqliteMeta::open_file(&data_dir.join("helpdesk.db")).await?),
        Some(url) if url.starts_with("sqlite:") => sqlite(SqliteMeta::open_url(url).await?),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let meta = PostgresMeta::open_url(url).await?;
            let changes = meta.changes();
            (Arc::new(meta), changes)
        }
        Some(url) => {
            return Err(StoreError::Invalid(format!(
            "unsupported database URL scheme {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
            scheme(url)
        )))
        }
    })
}

/// The blob store a `--blob-url` names (the data dir's `blobs/` when it
/// names none).
pub async fn open_blobs(data_dir: &Path, url: Option<&str>) -> Result<Arc<dyn BlobStore>> {
    let Some(url) = url else {
        return Ok(Arc::new(ObjectBlobs::local(&data_dir.join("blobs"))?));
    };
    let parsed = url::Url::parse(url)
        .map_err(|e| StoreError::Invalid(format!("bad blob URL {url:?}: {e}")))?;
    Ok(match parsed.scheme() {
        "file" => {
            let path = parsed.to_file_path().map_err(|_| {
                StoreError::Invalid(format!("bad blob URL {url:?}: not an absolute file path"))
            })?;
            Arc::new(ObjectBlobs::local(&path)?)
        }
        "s3" => Arc::new(ObjectBlobs::s3(&parsed).await?),
        other => {
            return Err(StoreError::Invalid(format!(
                "unsupported blob URL scheme {other:?}: use file:///PATH or s3://BUCKET[/PREFIX]"
            )))
        }
    })
}

fn scheme(url: &str) -> &str {
    url.split_once(':').map(|(s, _)| s).unwrap_or(url)
}
