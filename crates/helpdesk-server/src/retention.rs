//! The retention sweep: deletes the images of messages older than their
//! tenant's retention (`admin tenant set --retain`) or the server's
//! (`serve --retain`), as `admin image delete` does. One replica sweeps at
//! a time (a lease in the store); it deletes in small batches, each one
//! transaction that moves the change counter once, with a pause between
//! them, so that downloads keep their cache and their pace.
//!
//! The same sweep prunes event history (`serve --event-history-days`):
//! delivery attempts older than that, and the events delivered before then.

use std::sync::Weak;
use std::time::Duration;

use helpdesk_store::{cleanup, now, now_ms};

use crate::state::Inner;

/// Messages whose images one batch deletes.
const BATCH: u32 = 200;
/// Attempts (and events) one batch of pruning deletes.
const HISTORY_BATCH: u32 = 500;
/// The pause between batches.
const PAUSE: Duration = Duration::from_millis(100);
const LEASE: &str = "retention";

/// What is deleted for its age: images, and event history.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// How long images are kept where a tenant sets nothing; `None`: for
    /// ever.
    pub retain: Option<Duration>,
    /// How often a sweep runs.
    pub sweep_every: Duration,
    /// How long delivery attempts (and delivered events) are kept.
    pub event_history: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            retain: None,
            sweep_every: Duration::from_secs(3600),
            event_history: Duration::from_secs(7 * 86_400),
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
        prune_event_history(&state, config.event_history).await;
        prune_activity(&state, config.event_history).await;
    }
}

/// Deletes the console's live feed older than `keep` (the event history's
/// age: the feed is the console's history of the same days).
async fn prune_activity(state: &Inner, keep: Duration) {
    let before = now_ms().saturating_sub(keep.as_millis() as i64);
    let mut rows = 0;
    loop {
        match state.meta.prune_activity(before, HISTORY_BATCH).await {
            Ok(n) => {
                rows += n;
                if n < u64::from(HISTORY_BATCH) {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "pruning the live feed stopped; it runs again later");
                break;
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
    if rows > 0 {
        tracing::info!(rows, "retention sweep pruned the console's old live feed");
    }
}

/// Deletes the event history older than `keep`, a batch at a time.
async fn prune_event_history(state: &Inner, keep: Duration) {
    let before = now_ms().saturating_sub(keep.as_millis() as i64);
    let mut pruned = helpdesk_store::PrunedHistory::default();
    loop {
        let batch = match state.meta.prune_event_history(before, HISTORY_BATCH).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "pruning event history stopped; it runs again later");
                break;
            }
        };
        pruned.attempts += batch.attempts;
        pruned.events += batch.events;
        if batch.attempts < u64::from(HISTORY_BATCH) && batch.events < u64::from(HISTORY_BATCH) {
            break;
        }
        tokio::time::sleep(PAUSE).await;
    }
    if pruned != helpdesk_store::PrunedHistory::default() {
        tracing::info!(
            attempts = pruned.attempts,
            events = pruned.events,
            "retention sweep pruned old event history"
        );
    }
}
