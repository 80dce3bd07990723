//! Copying everything from one pair of backends to another: every table's
//! rows (digests and signing keys included, so credentials and tokens stay
//! valid) and every object, each verified by its SHA-256 at the destination.
//!
//! Objects go before the rows that name them. Every insert skips what is
//! there, so an interrupted copy is finished by running it again, and a run
//! over a finished destination copies nothing. The source is only read.

use std::collections::BTreeMap;
use std::path::Path;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::records::{Record, RecordKind};
use crate::{BlobStore, Result, StoreError, Stores};

/// Rows a page of the copy carries.
const PAGE: u32 = 500;
/// Objects between two progress reports (a page of blobs takes a while).
const OBJECTS_PER_REPORT: u64 = 25;

/// What happened to one table (or to the objects).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Count {
    /// Rows (objects) the source has.
    pub source: u64,
    /// Of those, how many this run wrote to the destination.
    pub copied: u64,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    /// Per table, by name, and `objects`.
    pub counts: BTreeMap<&'static str, Count>,
    /// What could not be copied or verified, one line each.
    pub failures: Vec<String>,
}

/// Copies `from` into `to`; `progress` hears of every page as (table, rows
/// so far), and of objects as ("objects", objects so far).
pub async fn migrate(
    from: &Stores,
    to: &Stores,
    mut progress: impl FnMut(&'static str, u64),
) -> Result<Report> {
    let mut report = Report::default();
    for kind in RecordKind::ALL {
        let mut count = Count::default();
        let mut objects = Count::default();
        let mut after = None;
        loop {
            let page = from.meta.export(kind, after.as_ref(), PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.cursor());
            count.source += page.len() as u64;
            let mut rows = Vec::with_capacity(page.len());
            for record in page {
                if let Record::Blob(blob) = &record {
                    objects.source += 1;
                    if objects.source % OBJECTS_PER_REPORT == 0 {
                        progress("objects", objects.source);
                    }
                    match copy_object(
                        from.blobs.as_ref(),
                        to.blobs.as_ref(),
                        &to.tmp_dir,
                        &blob.sha256,
                        blob.size as u64,
                    )
                    .await
                    {
                        Ok(copied) => objects.copied += u64::from(copied),
                        Err(e) => {
                            // The row stays behind with its object: a re-run retries.
                            report.failures.push(format!("object {}: {e}", blob.sha256));
                            continue;
                        }
                    }
                }
                rows.push(record);
            }
            count.copied += to.meta.import(&rows).await?;
            progress(kind.name(), count.source);
        }
        report.counts.insert(kind.name(), count);
        if kind == RecordKind::Blobs {
            report.counts.insert("objects", objects);
        }
    }
    Ok(report)
}

/// Makes `to` hold the object `sha256` of `size` bytes from `from`,
/// verified by its SHA-256 (spooled in `spool_dir`); true when it had to
/// copy it. `StoreError::NotFound` when `from` does not have it.
pub(crate) async fn copy_object(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    spool_dir: &Path,
    sha256: &str,
    size: u64,
) -> Result<bool> {
    if to.stat(sha256).await? == Some(size) && digest(to, sha256).await? == sha256 {
        return Ok(false);
    }
    let spool = spool_dir.join(format!("copy-{sha256}"));
    let result = async {
        let mut file = tokio::fs::File::create(&spool).await?;
        let mut hasher = Sha256::new();
        let mut stream = from.get(sha256).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        if hex::encode(hasher.finalize()) != sha256 {
            return Err(StoreError::Invalid(
                "the source's bytes do not match their SHA-256".into(),
            ));
        }
        to.put_file(sha256, &spool).await?;
        if digest(to, sha256).await? != sha256 {
            return Err(StoreError::Invalid(
                "the copy at the destination does not match its SHA-256".into(),
            ));
        }
        Ok(true)
    }
    .await;
    let _ = tokio::fs::remove_file(&spool).await;
    result
}

/// The SHA-256 of an object as the store serves it.
pub(crate) async fn digest(blobs: &dyn BlobStore, sha256: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut stream = blobs.get(sha256).await?;
    while let Some(chunk) = stream.next().await {
        hasher.update(&chunk?);
    }
    Ok(hex::encode(hasher.finalize()))
}
