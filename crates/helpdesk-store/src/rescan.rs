//! `admin scan`: every stored blob (or those stored since a time) sent to
//! clamd again, after a signature update; bytes found infected are
//! quarantined (see `ScanRepo`) and the quarantine is recorded in the audit
//! trail as the scan's. Works above both stores, as `cleanup` does.

use futures::TryStreamExt;
use serde::Serialize;

use crate::scan::{ScanError, Scanner, Verdict};
use crate::{Actor, BlobStore, MetadataStore, NewAudit, Quarantined, StoreError};

/// What a rescan did.
#[derive(Debug, Default, Serialize)]
pub struct RescanReport {
    /// The engine and signature version that scanned.
    pub engine: String,
    pub scanned: u64,
    pub clean: u64,
    /// Newly quarantined, with the images each hides.
    pub quarantined: Vec<Quarantined>,
    /// Blobs whose object is missing (see `admin verify`).
    pub missing: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RescanError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rescans the blobs stored at or after `since` (seconds; all when `None`),
/// calling `progress` with the count after each.
pub async fn rescan(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    scanner: &Scanner,
    since: Option<i64>,
    mut progress: impl FnMut(u64),
) -> Result<RescanReport, RescanError> {
    let mut report = RescanReport {
        engine: scanner.version().await?,
        ..RescanReport::default()
    };
    let mut after = String::new();
    loop {
        let page = meta.blobs_to_scan(since, &after, 100).await?;
        let Some(last) = page.last() else {
            return Ok(report);
        };
        after = last.sha256.clone();
        for blob in page {
            let bytes: Vec<u8> = match blobs.get(&blob.sha256).await {
                Ok(stream) => stream
                    .map_ok(|chunk| chunk.to_vec())
                    .try_concat()
                    .await
                    .map_err(StoreError::from)?,
                Err(StoreError::NotFound { .. }) => {
                    report.missing.push(blob.sha256);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let verdict = scanner.scan_bytes(&bytes).await?;
            report.scanned += 1;
            progress(report.scanned);
            match verdict {
                Verdict::Clean => {
                    meta.record_verdict(&blob.sha256, &report.engine, None)
                        .await?;
                    report.clean += 1;
                }
                Verdict::Infected { signature } => {
                    meta.record_verdict(&blob.sha256, &report.engine, Some(&signature))
                        .await?;
                    let q = meta
                        .quarantine(&blob.sha256, &signature, &report.engine)
                        .await?;
                    tracing::warn!(sha256 = %blob.sha256, signature, images = q.images.len(), "malware scan: stored bytes quarantined");
                    let tenants: Vec<&str> = {
                        let mut t: Vec<&str> =
                            q.images.iter().map(|i| i.tenant_key.as_str()).collect();
                        t.dedup();
                        t
                    };
                    for tenant in tenants {
                        let images: Vec<&str> = q
                            .images
                            .iter()
                            .filter(|i| i.tenant_key == tenant)
                            .map(|i| i.image.as_str())
                            .collect();
                        meta.record_audit(&NewAudit {
                            actor: &Actor::Scan,
                            action: "quarantine.add",
                            tenant_key: Some(tenant),
                            target: Some(&blob.sha256),
                            detail: serde_json::json!({
                                "signature": signature,
                                "engine": report.engine,
                                "images": images,
                            }),
                        })
                        .await?;
                    }
                    report.quarantined.push(q);
                }
            }
        }
    }
}
