//! Blobs through `object_store`: local files by default, or an
//! S3-compatible bucket.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientConfigKey, GetResultPayload, ObjectStore, PutPayload, RetryConfig,
    WriteMultipart,
};
use tokio::io::AsyncReadExt;

use crate::{BlobStore, BlobStream, Entity, Result, StoreError};

/// Parts of a multipart upload (S3's smallest); a smaller image goes up in
/// one PUT, held in memory. Also the largest buffer a put holds.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Where objects live under the root (or the bucket's prefix).
const ROOT: &str = "sha256";
/// Read size when serving a local file.
const READ_CHUNK: usize = 64 * 1024;
/// Local files up to this size are read at once, on the calling thread.
const INLINE_READ: u64 = 64 * 1024;

pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    /// Set for the local file system, whose writes we make durable ourselves.
    local_root: Option<PathBuf>,
    /// False for files thrown away at exit: no fsync.
    durable: bool,
}

impl ObjectBlobs {
    /// Blobs as files under `root`, created if missing.
    pub fn local(root: &Path) -> Result<ObjectBlobs> {
        std::fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        Ok(ObjectBlobs {
            store: Arc::new(LocalFileSystem::new_with_prefix(&root)?),
            local_root: Some(root),
            durable: true,
        })
    }

    /// Files thrown away at exit (`StorageConfig::durable` false): stored
    /// without an fsync.
    pub fn not_durable(self) -> ObjectBlobs {
        ObjectBlobs {
            durable: false,
            ..self
        }
    }

    /// Blobs in an S3-compatible bucket, from `s3://BUCKET[/PREFIX]` and the
    /// standard AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION` or `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP`), with path-style addressing unless
    /// `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`. Checks that the bucket answers.
    pub async fn s3(url: &url::Url) -> Result<ObjectBlobs> {
        let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| {
            StoreError::Invalid(format!(
                "--blob-url {url}: name a bucket, as s3://BUCKET[/PREFIX]"
            ))
        })?;
        let prefix = url.path().trim_matches('/');
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                // A request that cannot reach storage answers 155000 in
                // seconds rather than hanging for object_store's 3 minutes.
                max_retries: 3,
                retry_timeout: std::time::Duration::from_secs(10),
            })
            // Set one by one: replacing the client options would drop what
            // from_env read into them (AWS_ALLOW_HTTP).
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                "5s",
            )
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "300s")
            .build()?;
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        // A missing bucket or bad credentials: one line at start, not a 500
        // on the first upload.
        if let Err(e) = store
            .list_with_delimiter(Some(&ObjectPath::from(ROOT)))
            .await
        {
            let endpoint = std::env::var("AWS_ENDPOINT_URL")
                .or_else(|_| std::env::var("AWS_ENDPOINT"))
                .unwrap_or_else(|_| "AWS".to_string());
            let text = e.to_string();
            return Err(StoreError::Invalid(
                if matches!(e, object_store::Error::NotFound { .. })
                    || text.contains("NoSuchBucket")
                {
                    format!("bucket {bucket:?} does not exist at {endpoint}: create it, or fix --blob-url")
                } else {
                    // The first line only: S3 errors carry an XML body.
                    let reason = text.lines().next().unwrap_or_default();
                    format!(
                        "bucket {bucket:?} at {endpoint} cannot be listed ({reason}): check AWS_ENDPOINT_URL, AWS_REGION and the credentials"
                    )
                },
            ));
        }
        Ok(ObjectBlobs {
            store,
            local_root: None,
            durable: true,
        })
    }

    fn location(sha256: &str) -> ObjectPath {
        let fan = sha256.get(..2).unwrap_or("00");
        ObjectPath::from(format!("{ROOT}/{fan}/{sha256}"))
    }

    /// `object_store` renames the finished file into place but does not fsync:
    /// do it for the file and the directories the rename touched.
    async fn make_durable(&self, location: &ObjectPath) -> Result<()> {
        let (Some(root), true) = (&self.local_root, self.durable) else {
            return Ok(());
        };
        let file = root.join(location.as_ref());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::open(&file)?.sync_all()?;
            let mut dir = file.parent();
            // The renamed file's directory, and the two above it, which a
            // first upload may have created: fan-out dir, `sha256/`, root.
            for _ in 0..3 {
                if let Some(d) = dir {
                    std::fs::File::open(d)?.sync_all()?;
                    dir = d.parent();
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        Ok(())
    }
}

/// A local object, opened on the calling thread: the open and, for a file
/// of at most `INLINE_READ` bytes, the read too. Handing a page-cache read
/// of a screenshot to the blocking pool and back costs more than the read
/// (two thread switches per download showed in perf as the cold path's
/// largest cost); larger files stream from the blocking pool.
fn local_get(path: &Path, sha256: &str) -> Result<BlobStream> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::not_found(Entity::Blob, sha256))
        }
        Err(e) => return Err(e.into()),
    };
    let size = file.metadata()?.len();
    if size > INLINE_READ {
        return Ok(file_stream(file, size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, size), &mut bytes)?;
    Ok(futures::stream::once(std::future::ready(Ok(bytes::Bytes::from(bytes)))).boxed())
}

/// An open file as a stream, read in larger chunks than object_store's 8 KiB
/// and stopping at the size it had when opened, which spares the blocking
/// read that would only find the end of the file.
fn file_stream(file: std::fs::File, size: u64) -> BlobStream {
    let reader = tokio::fs::File::from_std(file).take(size);
    tokio_util::io::ReaderStream::with_capacity(reader, READ_CHUNK).boxed()
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    fn local_path(&self, sha256: &str) -> Option<PathBuf> {
        let root = self.local_root.as_ref()?;
        // Our own hashes only: a name is never a path.
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(root.join(Self::location(sha256).as_ref()))
    }

    async fn put_file(&self, sha256: &str, path: &Path) -> Result<()> {
        let location = Self::location(sha256);
        let len = tokio::fs::metadata(path).await?.len();
        if len < PART_SIZE as u64 {
            let bytes = tokio::fs::read(path).await?;
            self.store
                .put(&location, PutPayload::from(bytes::Bytes::from(bytes)))
                .await?;
            return self.make_durable(&location).await;
        }
        let upload = self.store.put_multipart(&location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut file = tokio::fs::File::open(path).await?;
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            };
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(2).await?;
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        self.make_durable(&location).await
    }

    async fn stat(&self, sha256: &str) -> Result<Option<u64>> {
        match self.store.head(&Self::location(sha256)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, sha256: &str) -> Result<BlobStream> {
        if let Some(root) = &self.local_root {
            return local_get(&root.join(Self::location(sha256).as_ref()), sha256);
        }
        let result = match self.store.get(&Self::location(sha256)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::not_found(Entity::Blob, sha256))
            }
            Err(e) => return Err(e.into()),
        };
        match result.payload {
            GetResultPayload::File(file, _) => Ok(file_stream(file, result.meta.size)),
            GetResultPayload::Stream(s) => Ok(s.map_err(std::io::Error::other).boxed()),
        }
    }

    async fn delete(&self, sha256: &str) -> Result<()> {
        match self.store.delete(&Self::location(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn check(&self) -> Result<()> {
        match &self.local_root {
            // Writable, not just present: write and remove a small file.
            Some(root) => {
                let probe = root.join(".ready-probe");
                tokio::fs::write(&probe, b"ok").await?;
                tokio::fs::remove_file(&probe).await?;
            }
            None => {
                self.store
                    .list_with_delimiter(Some(&ObjectPath::from(ROOT)))
                    .await?;
            }
        }
        Ok(())
    }

    fn list(&self) -> BoxStream<'static, Result<String>> {
        self.store
            .list(Some(&ObjectPath::from(ROOT)))
            .map(|meta| Ok(meta?.location.filename().unwrap_or_default().to_string()))
            .boxed()
    }
}
