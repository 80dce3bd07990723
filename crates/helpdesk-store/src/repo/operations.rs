//! The concerns of running the service: event delivery, limits, malware
//! scans, the audit trail, retention and erasure, transfer, and what the
//! inspector console reads.

use std::path::Path;

use async_trait::async_trait;

use crate::records::{Cursor, EventAttemptRow, EventRow, Record, RecordKind};
use crate::*;

/// Where apps want their events, what they subscribed to, and the outbox.
///
/// # The outbox
/// An event is recorded in the transaction of the write that causes it, so
/// none is lost and none is sent for a write that rolled back. Delivery is
/// at least once, in order per (app, ticket): [`EventRepo::claim_events`]
/// never hands out an event while an earlier one of its app and ticket is
/// pending, nor one of an app with a delivery in flight, and a claim lapses
/// after its lease so that an event a crash interrupted goes again.
/// Replicas claim without waiting on each other (PostgreSQL's
/// `SKIP LOCKED`; SQLite's single writer).
///
/// # History
/// Each attempt is recorded with its outcome, in one transaction, numbered
/// from 1 per event across redeliveries; history is kept until
/// [`EventRepo::prune_event_history`] removes it by age.
#[async_trait]
pub trait EventRepo: Send + Sync + 'static {
    /// Where an app's events go, if anywhere.
    async fn event_config(&self, app_id: &str) -> Result<Option<EventConfig>>;
    /// Sets where an app's events go; `None` turns delivery off.
    async fn set_event_config(&self, app_id: &str, config: Option<&EventConfig>) -> Result<()>;
    /// Subscribes the app to (or, with `subscribe` false, unsubscribes it
    /// from) these event types of a helpdesk. Creating a ticket or a message
    /// records an event for every subscribed app of the helpdesk's tenant
    /// that has an event URL, in the same transaction.
    async fn subscribe_events(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        event_types: &[&str],
        subscribe: bool,
    ) -> Result<()>;
    /// Claims, until `now_ms + lease_ms`, up to `limit` events due at
    /// `now_ms`, oldest first, under the outbox's rules.
    async fn claim_events(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedEvent>>;
    /// Records how a claimed event's delivery attempt ended and the attempt
    /// itself (its body cut to `ATTEMPT_BODY_CAP`), and releases the event.
    async fn finish_event(
        &self,
        seq: i64,
        outcome: &DeliveryOutcome,
        attempt: &NewAttempt,
        now_ms: i64,
    ) -> Result<()>;
    /// One event, whatever its state.
    async fn event(&self, event_id: &str) -> Result<Option<EventRow>>;
    /// An event's recorded attempts, oldest first.
    async fn event_attempts(&self, event_id: &str) -> Result<Vec<EventAttemptRow>>;
    /// An app's events, newest first; only those that failed for good with
    /// `failed_only`.
    async fn list_events(
        &self,
        app_id: &str,
        failed_only: bool,
        limit: u32,
    ) -> Result<Vec<EventRow>>;
    /// Makes an event due again now, with a fresh retry schedule.
    async fn redeliver_event(&self, event_id: &str, now_ms: i64) -> Result<()>;
    /// Deletes up to `limit` attempts that started before `before_ms`, and
    /// up to `limit` events delivered before then that have none left.
    /// Pending and failed events stay, whatever their age.
    async fn prune_event_history(&self, before_ms: i64, limit: u32) -> Result<PrunedHistory>;
}

/// What an operator limits per tenant (`admin tenant set`), and what each
/// tenant uses. Usage is counted by the database itself as image rows come
/// and go (triggers), so no path that adds or removes an image can forget
/// it. [`ImageRepo::add_image`] refuses an upload that would take a tenant
/// past its `max_bytes` with `StoreError::QuotaExceeded`, deciding under a
/// lock on the tenant's policy row so that two uploads cannot both pass.
#[async_trait]
pub trait LimitsRepo: Send + Sync + 'static {
    /// Changes a tenant's limits; `StoreError::NotFound` for an unknown
    /// tenant.
    async fn set_policy(&self, tenant_key: &str, change: &PolicyChange) -> Result<TenantPolicy>;
    /// A tenant's limits and usage; `StoreError::NotFound` for an unknown
    /// tenant.
    async fn policy(&self, tenant_key: &str) -> Result<TenantPolicy>;
    /// Every tenant that has limits of its own.
    async fn policies(&self) -> Result<Vec<TenantPolicy>>;
}

/// Malware verdicts, kept per content (SHA-256), and the quarantine of
/// stored bytes a rescan found infected: while they are quarantined every
/// image with them answers as a deleted one does (the download lookups
/// read the quarantine), and cleanup keeps the object.
#[async_trait]
pub trait ScanRepo: Send + Sync + 'static {
    /// The last scan of these bytes, if any.
    async fn verdict(&self, sha256: &str) -> Result<Option<StoredVerdict>>;
    /// Records a scan of these bytes, replacing the last one.
    async fn record_verdict(
        &self,
        sha256: &str,
        engine: &str,
        infected_with: Option<&str>,
    ) -> Result<()>;
    /// Up to `limit` stored blobs after `after` in SHA-256 order, created
    /// at or after `since` (seconds), for a rescan.
    async fn blobs_to_scan(
        &self,
        since: Option<i64>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<StoredBlob>>;
    /// Quarantines the bytes (again: the first quarantine stays) and moves
    /// the change counter so that caches forget what they served.
    async fn quarantine(&self, sha256: &str, signature: &str, engine: &str) -> Result<Quarantined>;
    /// Everything quarantined, oldest first.
    async fn quarantined(&self) -> Result<Vec<Quarantined>>;
    /// Ends a quarantine: its images are served again. `StoreError::NotFound`
    /// when the bytes are not quarantined.
    async fn release(&self, sha256: &str) -> Result<Quarantined>;
    /// Deletes every image and message image with these bytes for good (as
    /// `admin image delete` does) and ends the quarantine; the object is
    /// `cleanup`'s to remove. `StoreError::NotFound` when not quarantined.
    async fn purge(&self, sha256: &str) -> Result<Quarantined>;
}

/// The audit trail: every change made by `admin`, retention, erasure,
/// quarantine and the API's deletes, in the order recorded.
#[async_trait]
pub trait AuditRepo: Send + Sync + 'static {
    async fn record_audit(&self, entry: &NewAudit<'_>) -> Result<()>;
    /// Entries matching `query`, oldest first.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;
}

/// Deleting what must not be kept: images past their retention, and what
/// a guest asked to have erased. Each deletes as
/// [`ImageRepo::delete_message_images`] does (154404 afterwards; the bytes
/// are `cleanup`'s once unreferenced), in one transaction per call that
/// moves the change counter once and records its audit entries.
#[async_trait]
pub trait RetentionRepo: Send + Sync + 'static {
    /// Deletes the live images of up to `limit` messages older than their
    /// tenant's `retain_secs`, or `default_retain_secs` for a tenant with
    /// none (no limit when both are `None`), at `now` (seconds).
    async fn expire_images(
        &self,
        now: i64,
        default_retain_secs: Option<u64>,
        limit: u32,
    ) -> Result<Expired>;
    /// Deletes every image of every ticket `open_id` started in the
    /// tenant's helpdesks, whoever posted it, and with `messages` empties
    /// their messages' text; with `dry_run` only says what it would do.
    /// Doing it again removes nothing more.
    async fn erase_guest(
        &self,
        tenant_key: &str,
        open_id: &str,
        messages: bool,
        dry_run: bool,
    ) -> Result<Erasure>;
    /// Takes (or renews) the lease `name` for `holder` until
    /// `now_ms + ttl_ms`; false while another holder's lease runs.
    async fn take_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>;
}

/// Whole tables, for `migrate` and `backup`.
#[async_trait]
pub trait TransferRepo: Send + Sync + 'static {
    /// One page of a table's rows in primary-key order, after `after`.
    async fn export(
        &self,
        kind: RecordKind,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<Record>>;
    /// Inserts rows (all of one kind, in export order) that are not there
    /// yet; returns how many it inserted.
    async fn import(&self, records: &[Record]) -> Result<u64>;
    /// Makes rows hold as given (fixtures): a tenant, app, helpdesk, user,
    /// agent or event config is inserted, or updated where its declared
    /// columns differ (its creation time and an app's `tokens_not_before`
    /// are kept); a row of any other kind is inserted unless it is there.
    /// One transaction; moves the change counter when anything changed.
    /// Returns how many rows it inserted or changed (0: nothing did).
    async fn upsert(&self, records: &[Record]) -> Result<u64>;
    /// Removes the tickets (with their messages and their images' rows),
    /// uploaded images, FAQs, categories, bot messages and events (with
    /// their attempts) of one tenant, or of all; keeps tenants, apps,
    /// helpdesks, users, agents, fields, event configs and subscriptions
    /// (and the users tickets made). Moves the change counter. The bytes no
    /// row uses any more are `cleanup`'s to remove. Returns how many rows it
    /// removed.
    async fn reset(&self, tenant_key: Option<&str>) -> Result<u64>;
    /// Writes a consistent copy of the whole database to a new SQLite file
    /// at `path` while other writers go on (`backup`); only the embedded
    /// backend can.
    async fn snapshot_into(&self, path: &Path) -> Result<()>;
}

/// Every concern: what a metadata backend implements, and what a process
/// that does everything (the server, `admin`) holds.
/// What the inspector console reads across concerns: every tenant's
/// counts, a ticket by its id alone, a ticket's images in the order
/// `ticket_images`' `index` counts them, and what any id names. The console
/// filters by tenant itself (each answer says whose it is).
#[async_trait]
pub trait InspectRepo: Send + Sync + 'static {
    /// Every tenant with what it holds, oldest first.
    async fn tenant_counts(&self) -> Result<Vec<TenantCounts>>;
    /// A ticket and its tenant's key, whatever its helpdesk.
    async fn ticket_anywhere(&self, ticket_id: &str) -> Result<Option<(String, Ticket)>>;
    /// The images of a ticket's messages, in message order then by index;
    /// deleted and quarantined ones included, marked.
    async fn ticket_images(&self, ticket_id: &str) -> Result<Vec<TicketImage>>;
    /// One image of a ticket's message, by the message's message_id and the
    /// image's index, and its tenant's key: what a thumbnail or an original
    /// needs, in one statement (a page of a thousand thumbnails asks it a
    /// thousand times). Deleted and quarantined ones included, marked.
    async fn ticket_image_at(
        &self,
        ticket_id: &str,
        message_id: &str,
        index: u32,
    ) -> Result<Option<(String, TicketImage)>>;
    /// One image of an FAQ's answer (not an FAQ deleted for good) by its
    /// key, and its tenant's key, in one statement; deleted and
    /// quarantined ones included, marked.
    async fn faq_image_at(
        &self,
        faq_id: &str,
        image_key: &str,
    ) -> Result<Option<(String, FaqImage)>>;
    /// An FAQ (not one deleted for good) and its tenant's key, whatever
    /// its helpdesk.
    async fn faq_anywhere(&self, faq_id: &str) -> Result<Option<(String, Faq)>>;
    /// The images an FAQ's answer holds, in answer order; deleted and
    /// quarantined ones included, marked.
    async fn faq_images(&self, faq_id: &str) -> Result<Vec<FaqImage>>;
    /// What a ticket, message, image key, FAQ or event id names (an FAQ
    /// deleted for good names nothing).
    async fn locate(&self, any_id: &str) -> Result<Option<Located>>;
}

/// The console's sign-in tokens (`admin console-token`), kept as SHA-256
/// digests. Revoking one ends its sessions: the console asks
/// [`ConsoleTokenRepo::console_token_live`] on every request of a session
/// it opened.
#[async_trait]
pub trait ConsoleTokenRepo: Send + Sync + 'static {
    /// Stores a new token; `StoreError::NotFound` for an unknown tenant.
    async fn create_console_token(&self, new: &NewConsoleToken<'_>) -> Result<ConsoleToken>;
    /// Every token, revoked ones included, oldest first.
    async fn console_tokens(&self) -> Result<Vec<ConsoleToken>>;
    /// The unrevoked token with this digest.
    async fn live_console_token(&self, token_sha256: &str) -> Result<Option<ConsoleToken>>;
    /// Whether the token is there and not revoked.
    async fn console_token_live(&self, token_id: &str) -> Result<bool>;
    /// Revokes a token (again: no change); `StoreError::NotFound` if none.
    async fn revoke_console_token(&self, token_id: &str) -> Result<ConsoleToken>;
}

/// The live feed the console streams (`GET /live`): a row per ticket
/// opened or changed, message posted and event delivery attempted, written
/// in the change's own transaction, ids only. `seq` grows with every row;
/// on PostgreSQL a row may commit after a later-numbered one, so a reader
/// that must miss nothing reads again a little behind what it has seen.
#[async_trait]
pub trait ActivityRepo: Send + Sync + 'static {
    /// The rows after `after`, oldest first, at most `limit`.
    async fn activity_after(&self, after: i64, limit: u32) -> Result<Vec<Activity>>;
    /// The largest `seq` written so far (0 for none).
    async fn activity_head(&self) -> Result<i64>;
    /// Removes at most `limit` rows older than `before_ms`; how many went.
    async fn prune_activity(&self, before_ms: i64, limit: u32) -> Result<u64>;
}
