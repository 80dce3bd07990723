//! Screening an upload between spooling and storing, in this order:
//! 1. the malware scan (`serve --scan`): the bytes as received go to clamd,
//!    unless a verdict for the same bytes from the same engine and
//!    signature version is on record; infected bytes are refused and
//!    nothing of them is stored. Any file is scanned, image or not, so that
//!    malware is named as malware;
//! 2. the image type, sniffed from the first bytes;
//! 3. metadata stripping (`serve --strip-metadata`), which rewrites the
//!    spooled file when it removes something: the stored SHA-256, the
//!    ETag and deduplication are then those of the stripped bytes. A file
//!    whose structure does not parse is refused when it carries metadata
//!    (EXIF, XMP, GPS), and otherwise stored as it came, with a warning.

use std::path::Path;
use std::time::{Duration, Instant};

use helpdesk_core::ImageType;
use helpdesk_media::{StripMode, Stripped};
use sha2::{Digest, Sha256};

use crate::ingest::{Screened, Spool, Spooled};
use crate::scan::{ScanError, Scanner, Verdict};
use crate::{Blob, IngestError, ScanRepo};

/// What every upload goes through before it is stored.
pub struct Screening {
    pub scan: Option<ScanPolicy>,
    pub strip: StripMode,
}

impl Screening {
    /// No scan and no stripping: the bytes are stored as they came.
    pub fn none() -> Screening {
        Screening {
            scan: None,
            strip: StripMode::Off,
        }
    }
}

/// What an upload does while clamd cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFailure {
    /// It is refused (500 / 155000) until clamd answers again.
    Closed,
    /// It is stored unscanned, with a warning in the log.
    Open,
}

/// The scanner, what to do when it fails, and its engine version (asked
/// at most once a minute: it is part of every verdict's key).
pub struct ScanPolicy {
    scanner: Scanner,
    failure: ScanFailure,
    engine: std::sync::Mutex<Option<(Instant, String)>>,
}

/// How long clamd's engine and signature version is trusted before it is
/// asked again (a signature update shows within this).
const ENGINE_TTL: Duration = Duration::from_secs(60);

impl ScanPolicy {
    pub fn new(scanner: Scanner, failure: ScanFailure) -> ScanPolicy {
        ScanPolicy {
            scanner,
            failure,
            engine: std::sync::Mutex::new(None),
        }
    }

    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// clamd's VERSION line: its engine and signature version.
    pub async fn engine(&self) -> Result<String, ScanError> {
        if let Ok(cached) = self.engine.lock() {
            if let Some((at, engine)) = cached.as_ref() {
                if at.elapsed() < ENGINE_TTL {
                    return Ok(engine.clone());
                }
            }
        }
        let engine = self.scanner.version().await?;
        if let Ok(mut cached) = self.engine.lock() {
            *cached = Some((Instant::now(), engine.clone()));
        }
        Ok(engine)
    }

    /// Scans the file (or finds this engine's verdict on record) and
    /// records the verdict; `Err` when it is infected, or when the scan
    /// failed and uploads wait for it.
    async fn check(
        &self,
        path: &Path,
        sha256: &str,
        verdicts: &dyn ScanRepo,
    ) -> Result<ScanOutcome, IngestError> {
        let unavailable = |e: ScanError| -> Result<ScanOutcome, IngestError> {
            match self.failure {
                ScanFailure::Closed => {
                    tracing::warn!(error = %e, sha256, "malware scan unavailable: upload refused");
                    Err(IngestError::ScanUnavailable(e.to_string()))
                }
                ScanFailure::Open => {
                    tracing::warn!(error = %e, sha256, "malware scan unavailable: upload stored unscanned (--scan-failure open)");
                    Ok(ScanOutcome::Unscanned)
                }
            }
        };
        let engine = match self.engine().await {
            Ok(engine) => engine,
            Err(e) => return unavailable(e),
        };
        if let Some(known) = verdicts.verdict(sha256).await? {
            if known.engine == engine {
                return match known.infected_with {
                    None => {
                        tracing::info!(sha256, verdict = "clean", cached = true, "malware scan");
                        Ok(ScanOutcome::Clean { cached: true })
                    }
                    Some(signature) => {
                        tracing::info!(
                            sha256,
                            verdict = "infected",
                            signature,
                            cached = true,
                            "malware scan"
                        );
                        Err(IngestError::Infected(signature))
                    }
                };
            }
        }
        let verdict = match self.scanner.scan_file(path).await {
            Ok(v) => v,
            Err(e) => return unavailable(e),
        };
        match verdict {
            Verdict::Clean => {
                verdicts.record_verdict(sha256, &engine, None).await?;
                tracing::info!(sha256, verdict = "clean", cached = false, "malware scan");
                Ok(ScanOutcome::Clean { cached: false })
            }
            Verdict::Infected { signature } => {
                verdicts
                    .record_verdict(sha256, &engine, Some(&signature))
                    .await?;
                tracing::info!(
                    sha256,
                    verdict = "infected",
                    signature,
                    "malware scan: upload refused"
                );
                Err(IngestError::Infected(signature))
            }
        }
    }
}

/// What the scan of an upload that passed came to, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOutcome {
    /// No scanner is configured.
    Off,
    /// Scanned clean now, or found clean on record (`cached`).
    Clean { cached: bool },
    /// clamd could not be reached and `--scan-failure open` let it through.
    Unscanned,
}

impl Spooled {
    /// Scans, sniffs and strips the upload (see the module's doc).
    pub async fn screen(
        self,
        screening: &Screening,
        verdicts: &dyn ScanRepo,
    ) -> Result<Screened, IngestError> {
        let scan = match &screening.scan {
            Some(policy) => policy.check(&self.spool.0, &self.sha256, verdicts).await?,
            None => ScanOutcome::Off,
        };
        let image_type = self.image_type.ok_or(IngestError::Unsupported)?;
        let (sha256, size) = match screening.strip {
            StripMode::Off => (self.sha256, self.size),
            mode => strip_spooled(&self.spool, image_type, mode)
                .await?
                .unwrap_or((self.sha256, self.size)),
        };
        Ok(Screened {
            spool: self.spool,
            blob: Blob {
                sha256,
                size,
                image_type,
            },
            client_name: self.client_name,
            scan,
        })
    }
}

/// Bytes that begin metadata a stripper would remove: EXIF (JPEG, WebP),
/// PNG's eXIf chunk, XMP, and GPS fields named in text.
const METADATA_MARKERS: [&[u8]; 5] = [
    b"Exif\0\0",
    b"eXIf",
    b"<x:xmpmeta",
    b"http://ns.adobe.com/xap/1.0/",
    b"GPS",
];

fn carries_metadata(bytes: &[u8]) -> bool {
    METADATA_MARKERS
        .iter()
        .any(|m| bytes.windows(m.len()).any(|w| w == *m))
}

/// Strips the spooled file in place; its new SHA-256 and size, or `None`
/// when nothing was removed (the file is untouched). A file whose structure
/// does not parse is refused when it carries metadata (a viewer may still
/// show it, and a reader find its position), and otherwise stored as it
/// came: the server never decodes images.
async fn strip_spooled(
    spool: &Spool,
    image_type: ImageType,
    mode: StripMode,
) -> Result<Option<(String, u64)>, IngestError> {
    let path = spool.0.clone();
    let io = |e: std::io::Error| IngestError::Store(e.into());
    tokio::task::spawn_blocking(move || {
        let input = bytes::Bytes::from(std::fs::read(&path).map_err(io)?);
        let Stripped { bytes, changed, .. } =
            match helpdesk_media::strip_bytes(image_type, input.clone(), mode) {
                Ok(stripped) => stripped,
                Err(e) if carries_metadata(&input) => {
                    tracing::info!(error = %e, "upload refused: its metadata cannot be removed");
                    return Err(IngestError::Unstrippable(e.to_string()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metadata not stripped: the image's structure cannot be read, and it carries none");
                    return Ok(None);
                }
            };
        if !changed {
            return Ok(None);
        }
        std::fs::write(&path, &bytes).map_err(io)?;
        Ok(Some((hex::encode(Sha256::digest(&bytes)), bytes.len() as u64)))
    })
    .await
    .map_err(|e| IngestError::Store(std::io::Error::other(e.to_string()).into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_markers_are_found_and_bare_signatures_carry_none() {
        assert!(carries_metadata(b"\xff\xd8\xff\xe1\0\x10Exif\0\0MM"));
        assert!(carries_metadata(b"...<x:xmpmeta xmlns:x=..."));
        assert!(!carries_metadata(
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR0123456789"
        ));
    }
}
