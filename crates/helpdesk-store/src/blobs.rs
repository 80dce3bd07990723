//! Blobs through `object_store`: local files by default; any other store the
//! crate speaks slots in the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetResultPayload, ObjectStore, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::{BlobStore, BlobStream, Result, StoreError};

/// Parts of a streamed upload; also the largest buffer a put holds.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Read size when serving a local file.
const READ_CHUNK: usize = 64 * 1024;

pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    /// Set for the local file system, whose writes we make durable ourselves.
    local_root: Option<PathBuf>,
}

impl ObjectBlobs {
    /// Blobs as files under `root`, created if missing.
    pub fn local(root: &Path) -> Result<ObjectBlobs> {
        std::fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        Ok(ObjectBlobs {
            store: Arc::new(LocalFileSystem::new_with_prefix(&root)?),
            local_root: Some(root),
        })
    }

    /// Blobs in any object store.
    pub fn remote(store: Arc<dyn ObjectStore>) -> ObjectBlobs {
        ObjectBlobs {
            store,
            local_root: None,
        }
    }

    fn location(sha256: &str) -> ObjectPath {
        let fan = sha256.get(..2).unwrap_or("00");
        ObjectPath::from(format!("sha256/{fan}/{sha256}"))
    }

    /// `object_store` renames the finished file into place but does not fsync:
    /// do it for the file and the directories the rename touched.
    async fn make_durable(&self, location: &ObjectPath) -> Result<()> {
        let Some(root) = &self.local_root else {
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

#[async_trait]
impl BlobStore for ObjectBlobs {
    async fn put_file(&self, sha256: &str, path: &Path) -> Result<()> {
        let location = Self::location(sha256);
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

    async fn exists(&self, sha256: &str) -> Result<bool> {
        match self.store.head(&Self::location(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, sha256: &str) -> Result<BlobStream> {
        let result = match self.store.get(&Self::location(sha256)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::NotFound(format!("blob {sha256}")))
            }
            Err(e) => return Err(e.into()),
        };
        match result.payload {
            // A local file: read it in larger chunks than object_store's 8 KiB,
            // and stop at the size it had when opened, which spares the
            // blocking read that would only find the end of the file.
            GetResultPayload::File(file, _) => {
                let reader = tokio::fs::File::from_std(file).take(result.meta.size);
                Ok(tokio_util::io::ReaderStream::with_capacity(reader, READ_CHUNK).boxed())
            }
            GetResultPayload::Stream(s) => Ok(s.map_err(std::io::Error::other).boxed()),
        }
    }

    async fn delete(&self, sha256: &str) -> Result<()> {
        match self.store.delete(&Self::location(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
