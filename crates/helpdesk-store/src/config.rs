//! Choosing and opening the backends from the storage flags.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{BlobStore, MetadataStore, ObjectBlobs, Result, SqliteMeta, StoreError};

/// Where metadata and blobs live. `serve` and `admin` share it.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Holds the embedded database, the blobs and temporary upload files.
    pub data_dir: PathBuf,
    /// `sqlite://…`; default: `helpdesk.db` in the data dir.
    pub database_url: Option<String>,
    /// `file:///…`; default: `blobs/` in the data dir.
    pub blob_url: Option<String>,
}

/// The opened backends.
#[derive(Clone)]
pub struct Stores {
    pub meta: Arc<dyn MetadataStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// Where uploads are spooled while they are hashed and sniffed.
    pub tmp_dir: PathBuf,
}

/// Opens (creating and migrating where needed) the configured backends.
pub async fn open(config: &StorageConfig) -> Result<Stores> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir)?;
    let tmp_dir = data_dir.join("tmp");
    std::fs::create_dir_all(&tmp_dir)?;

    let meta: Arc<dyn MetadataStore> = match config.database_url.as_deref() {
        None => Arc::new(SqliteMeta::open_file(&data_dir.join("helpdesk.db")).await?),
        Some(url) if url.starts_with("sqlite:") => Arc::new(SqliteMeta::open_url(url).await?),
        Some(url) => {
            return Err(StoreError::Invalid(format!(
                "unsupported --database-url {:?}: this build speaks sqlite:// only",
                scheme(url)
            )))
        }
    };

    let blobs: Arc<dyn BlobStore> = match config.blob_url.as_deref() {
        None => Arc::new(ObjectBlobs::local(&data_dir.join("blobs"))?),
        Some(url) if url.starts_with("file://") => {
            let u = url::Url::parse(url)
                .map_err(|e| StoreError::Invalid(format!("bad --blob-url {url:?}: {e}")))?;
            let path = u.to_file_path().map_err(|_| {
                StoreError::Invalid(format!("bad --blob-url {url:?}: not an absolute file path"))
            })?;
            Arc::new(ObjectBlobs::local(Path::new(&path))?)
        }
        Some(url) => {
            return Err(StoreError::Invalid(format!(
                "unsupported --blob-url {:?}: this build speaks file:// only",
                scheme(url)
            )))
        }
    };

    Ok(Stores {
        meta,
        blobs,
        tmp_dir,
    })
}

fn scheme(url: &str) -> &str {
    url.split_once(':').map(|(s, _)| s).unwrap_or(url)
}
