//! Ingest: spool an upload to a temporary file while hashing it, screen it
//! (the malware scan, the image type, metadata stripping: see `screen`),
//! write the blob and make it durable, then commit the row that points at it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use helpdesk_core::disposition::upload_file_name;
use helpdesk_core::ImageType;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::screen::Screening;
use crate::{Blob, BlobStore, Image, ImageRepo, MetadataStore, StoreError};

/// How far past the limit an oversized upload is still read (and dropped), so
/// that the client gets our answer instead of a reset connection.
pub const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// Largest image accepted, in bytes.
    pub max_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("empty file")]
    Empty,
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    #[error("not an image of a supported type")]
    Unsupported,
    /// The malware scan matched this signature.
    #[error("the malware scan found {0}")]
    Infected(String),
    /// The malware scan could not be done, and uploads wait for it
    /// (`--scan-failure closed`).
    #[error("the malware scan is unavailable: {0}")]
    ScanUnavailable(String),
    /// The image carries metadata, but its structure does not parse, so
    /// the metadata cannot be removed.
    #[error("the image's structure cannot be read ({0}), so its metadata cannot be removed")]
    Unstrippable(String),

    /// The client's body broke off.
    #[error("reading the upload: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Removes spool files a crashed process left in `tmp_dir`: those older than
/// `age` (an upload in flight, here or in another process, is younger).
/// Returns how many it removed.
pub fn sweep_spool(tmp_dir: &Path, age: std::time::Duration) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp_dir)? {
        let entry = entry?;
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|elapsed| elapsed > age);
        if stale && entry.file_name().to_string_lossy().starts_with("upload-") {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes the spool file however ingest ends.
pub(crate) struct Spool(pub(crate) PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An upload spooled to a temporary file and hashed, not yet screened (see
/// `screen`) nor stored. Dropping it removes the file.
pub struct Spooled {
    pub(crate) spool: Spool,
    /// The SHA-256 and size of the bytes as received.
    pub(crate) sha256: String,
    pub(crate) size: u64,
    /// Its type, if its first bytes are those of an image we accept.
    pub(crate) image_type: Option<ImageType>,
    pub(crate) client_name: Option<String>,
}

/// An upload that passed screening: what will be stored. Dropping it
/// removes its file.
pub struct Screened {
    pub(crate) spool: Spool,
    pub blob: Blob,
    pub(crate) client_name: Option<String>,
    /// What its malware scan came to.
    pub scan: crate::screen::ScanOutcome,
}

/// Reads an upload to a temporary file in `tmp_dir`, hashing it and noting
/// its type, and refusing it when empty or too large.
pub async fn spool<S, E>(
    tmp_dir: &Path,
    limits: IngestLimits,
    client_name: Option<String>,
    mut body: S,
) -> Result<Spooled, IngestError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    let spool = Spool(tmp_dir.join(format!("upload-{}", helpdesk_core::ids::image_key())));
    let mut file = tokio::fs::File::create(&spool.0)
        .await
        .map_err(StoreError::from)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(ImageType::SNIFF_LEN);
    let mut size: u64 = 0;

    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| IngestError::Body(helpdesk_core::error::root_cause(&e).to_string()))?;
        size += chunk.len() as u64;
        if size > limits.max_bytes {
            if size > limits.max_bytes + DRAIN_LIMIT {
                break;
            }
            continue;
        }
        if head.len() < ImageType::SNIFF_LEN {
            let take = (ImageType::SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(StoreError::from)?;
    }
    if size > limits.max_bytes {
        return Err(IngestError::TooLarge(limits.max_bytes));
    }
    if size == 0 {
        return Err(IngestError::Empty);
    }
    file.flush().await.map_err(StoreError::from)?;
    Ok(Spooled {
        spool,
        sha256: hex::encode(hasher.finalize()),
        size,
        image_type: ImageType::sniff(&head),
        client_name,
    })
}

impl Screened {
    /// Writes the blob (once per content), makes it durable, then records the
    /// image as `app_id`'s of `tenant_key`.
    pub async fn commit(
        self,
        images: &dyn ImageRepo,
        blobs: &dyn BlobStore,
        tenant_key: &str,
        app_id: &str,
    ) -> Result<Image, IngestError> {
        let blob = &self.blob;
        if !blobs.exists(&blob.sha256).await? {
            blobs.put_file(&blob.sha256, &self.spool.0).await?;
        }
        let file_name = upload_file_name(self.client_name.as_deref(), blob.image_type.extension());
        let image = images
            .add_image(tenant_key, app_id, blob, &file_name)
            .await?;
        // A cleanup of the same bytes may have removed the object between our
        // check and our commit. It removes objects only under a claim that our
        // commit waited for (see `ImageRepo`), so looking again after
        // ours is enough to catch it.
        if !blobs.exists(&blob.sha256).await? {
            blobs.put_file(&blob.sha256, &self.spool.0).await?;
        }
        Ok(image)
    }
}

/// Spools, screens and commits in one go, for callers that have the whole
/// upload.
#[allow(clippy::too_many_arguments)]
pub async fn ingest<S, E>(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    tmp_dir: &Path,
    limits: IngestLimits,
    screening: &Screening,
    (tenant_key, app_id): (&str, &str),
    client_name: Option<&str>,
    body: S,
) -> Result<Image, IngestError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    spool(tmp_dir, limits, client_name.map(str::to_string), body)
        .await?
        .screen(screening, meta)
        .await?
        .commit(meta, blobs, tenant_key, app_id)
        .await
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    #[test]
    fn the_sweep_removes_only_old_spool_files() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("upload-old");
        let fresh = dir.path().join("upload-fresh");
        let other = dir.path().join("keep-me");
        for p in [&old, &fresh, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
        for p in [&old, &other] {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        assert_eq!(
            sweep_spool(dir.path(), Duration::from_secs(3600)).unwrap(),
            1
        );
        assert!(!old.exists() && fresh.exists() && other.exists());
    }
}
