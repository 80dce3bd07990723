//! The retention sweep: deletes the images of messages older than their
//! tenant's retention (`admin tenant set --retain`) or the server's
//! (`serve --retain`), as `admin image delete` does. One replica sweeps at
//! a time (a lease in the store); it deletes in small batches, each one
//! transaction that moves the change counter once, with a pause between
//! them, so that downloads keep their cache and their pace.

use std::sync::Weak;
use std::time::Duration;

use helpdesk_store::{cleanup, now, now_ms};

use crate::state::Inner;

/// Messages whose images one batch deletes.
const BATCH: u32 = 200;
/// The pause between batches.
const PAUSE: Duration = Duration::from_millis(100);
const LEASE: &str = "retention";

/// When images are deleted for their age.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// How long images are kept where a tenant sets nothing; `None`: for
    /// ever.
    pub retain: Option<Duration>,
    /// How often a sweep runs.
    pub sweep_every: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            retain: None,
            sweep_every: Duration::from_secs(3600),
        }
    }
}

/// Sweeps every `sweep_every` while the server's state lives.
pub(crate) async fn run(state: Weak<Inner>, config: RetentionConfig) {
    let holder = helpdesk_core::ids::audit_id();
    // Long enough for a sweep, short enough that another replica takes
    // over soon after this one is gone.
    let ttl = config.sweep_every.max(Duration::from_secs(60)) * 2;
    loop {
        tokio::time::sleep(config.sweep_every).await;
        let Some(state) = state.upgrade() else { return };
        match state
            .meta
            .take_lease(LEASE, &holder, now_ms(), ttl.as_millis() as i64)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "retention sweep: cannot take its lease");
                continue;
            }
        }
        let retain = config.retain.map(|d| d.as_secs().max(1));
        let mut messages = 0;
        let mut images = 0;
        loop {
            let expired = match state.meta.expire_images(now(), retain, BATCH).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "retention sweep stopped; it runs again later");
                    break;
                }
            };
            if expired.messages == 0 {
                break;
            }
            messages += expired.messages;
            images += expired.images.len();
            let mut shas: Vec<&str> = expired
                .images
                .iter()
                .map(|(_, d)| d.sha256.as_str())
                .collect();
            shas.sort_unstable();
            shas.dedup();
            for sha256 in shas {
                // An object left behind is swept at the next start.
                let _ = cleanup::remove_if_unreferenced(
                    state.meta.as_ref(),
                    state.blobs.as_ref(),
                    sha256,
                )
                .await;
            }
            state.catch_up().await;
            if expired.messages < u64::from(BATCH) {
                break;
            }
            tokio::time::sleep(PAUSE).await;
        }
        if messages > 0 {
            tracing::info!(
                messages,
                images,
                "retention sweep deleted the images of old messages"
            );
        }
    }
}
