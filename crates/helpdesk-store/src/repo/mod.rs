//! What the metadata store does, one trait per concern, as pict-rs splits
//! its repo: a caller names the concern it uses (`&dyn ImageRepo`), and a
//! reader finds a behaviour by its area. [`MetadataStore`] is their sum,
//! what a backend implements and what the server holds.
//!
//! | concern | trait | SQL |
//! |---|---|---|
//! | signing keys, the change counter, readiness | [`KeyRepo`] | `sql/keys.rs` |
//! | tenants, apps, helpdesks, their credentials | [`DirectoryRepo`] | `sql/directory.rs` |
//! | tickets, messages, the download's lookup | [`TicketRepo`] | `sql/tickets.rs` |
//! | a tenant's users, a helpdesk's agents | [`PeopleRepo`] | `sql/people.rs` |
//! | a helpdesk's ticket fields | [`FieldRepo`] | `sql/fields.rs` |
//! | FAQs, their categories and images, search | [`FaqRepo`] | `sql/faqs.rs` |
//! | uploaded images, message images, blob rows | [`ImageRepo`] | `sql/images.rs` |
//! | event URLs, subscriptions, the outbox, each delivery attempt | [`EventRepo`] | `sql/events.rs` |
//! | a tenant's quota and retention, what it uses | [`LimitsRepo`] | `sql/limits.rs` |
//! | malware verdicts, quarantine | [`ScanRepo`] | `sql/scans.rs` |
//! | the audit trail | [`AuditRepo`] | `sql/audit.rs` |
//! | retention, a guest's erasure, one-replica leases | [`RetentionRepo`] | `sql/retention.rs` |
//! | export, import, snapshot | [`TransferRepo`] | `sql/transfer.rs` |
//! | what the inspector console reads across concerns | [`InspectRepo`] | `sql/inspect.rs` |
//! | the console's sign-in tokens | [`ConsoleTokenRepo`] | `sql/console_tokens.rs` |

use std::path::Path;

use async_trait::async_trait;
use helpdesk_core::ids::MessageRef;

use crate::records::{Cursor, EventAttemptRow, EventRow, Record, RecordKind, TenantRow};
use crate::tokens::SigningKey;
use crate::*;

/// The keys that sign tokens, the counter that tells caches they are stale,
/// and whether the database answers.
#[async_trait]
pub trait KeyRepo: Send + Sync + 'static {
    /// The keys that sign and verify access tokens (see `tokens`): the first
    /// is made on first use, then they are the same for every process and
    /// replica sharing this database.
    async fn signing_keys(&self) -> Result<Vec<SigningKey>>;
    /// Adds a key that signs every new token and returns it. Earlier keys
    /// stay while tokens they signed may be alive, unless `revoke`: then they
    /// go, and every token issued before is refused.
    async fn rotate_signing_key(&self, revoke: bool) -> Result<SigningKey>;
    /// A counter that every write which can make a cached decision wrong
    /// (`rotate_signing_key`, `revoke_tokens`, `update_app`,
    /// `set_helpdesk_token`, `delete_message_images`) moves, in its own
    /// transaction: a process that caches what it read polls this and drops
    /// its caches when it changes.
    async fn generation(&self) -> Result<i64>;
    /// Answers when the database can be read (for readiness probes).
    async fn check(&self) -> Result<()>;
}

/// Tenants, their apps and helpdesks: who may call, and with what.
#[async_trait]
pub trait DirectoryRepo: Send + Sync + 'static {
    async fn create_tenant(&self, name: &str) -> Result<Tenant>;
    /// Every tenant, oldest first.
    async fn tenants(&self) -> Result<Vec<TenantRow>>;
    async fn create_app(&self, app: NewApp<'_>) -> Result<App>;
    async fn app(&self, app_id: &str) -> Result<Option<App>>;
    /// Every app, or a tenant's, oldest first.
    async fn apps(&self, tenant_key: Option<&str>) -> Result<Vec<App>>;
    /// Changes an app's secret or whether it is disabled, and moves the
    /// change counter so that running servers see it.
    async fn update_app(&self, app_id: &str, change: AppChange<'_>) -> Result<()>;
    /// Refuses every token issued to the app until now.
    async fn revoke_tokens(&self, app_id: &str) -> Result<()>;
    async fn create_helpdesk(
        &self,
        tenant_key: &str,
        name: &str,
        token_sha256: &str,
    ) -> Result<Helpdesk>;
    /// Every helpdesk, or a tenant's, oldest first.
    async fn helpdesks(&self, tenant_key: Option<&str>) -> Result<Vec<Helpdesk>>;
    /// Replaces a helpdesk's token; the old credential stops working.
    async fn set_helpdesk_token(&self, helpdesk_id: &str, token_sha256: &str) -> Result<()>;
    /// The app and, when it exists, the helpdesk: what a helpdesk call's two
    /// credentials name, in one lookup.
    async fn app_and_helpdesk(
        &self,
        app_id: &str,
        helpdesk_id: &str,
    ) -> Result<Option<(App, Option<Helpdesk>)>>;
}

/// Tickets and their messages, and the download's one lookup.
#[async_trait]
pub trait TicketRepo: Send + Sync + 'static {
    /// Creates the ticket, and its `ticket.created` events in the same
    /// transaction (see [`EventRepo::subscribe_events`]).
    async fn create_ticket(&self, ticket: NewTicket<'_>) -> Result<Ticket>;
    /// The ticket, if it exists in this helpdesk.
    async fn ticket(&self, helpdesk_id: &str, ticket_id: &str) -> Result<Option<Ticket>>;
    /// One page of a helpdesk's tickets, newest first, and how many match
    /// (counted up to `TICKET_LIST_CAP`). `tenant_key` is the helpdesk's:
    /// the guest's name is its user's.
    async fn tickets(
        &self,
        tenant_key: &str,
        helpdesk_id: &str,
        query: &TicketQuery,
    ) -> Result<TicketPage>;
    /// Changes the ticket as `actor` (an agent's open_id) and records its
    /// `ticket.updated` events in the same transaction; the ticket before
    /// and after, or `None` when it is not in this helpdesk. Moving into a
    /// closed status sets `closed_at` and `closed_by`; leaving one clears
    /// them.
    async fn update_ticket(
        &self,
        helpdesk_id: &str,
        ticket_id: &str,
        actor: &str,
        change: &TicketChange,
    ) -> Result<Option<(Ticket, Ticket)>>;
    /// Adds the message (and its events); `StoreError::Invalid` if one of
    /// its images was deleted since the caller looked it up. It holds the
    /// shared lock of [`ImageRepo`]'s rules on each image's blob row.
    async fn add_message(&self, message: NewMessage<'_>) -> Result<Message>;
    /// The ticket of a chat, if it is in this helpdesk (bot messages name a
    /// ticket by its chat).
    async fn ticket_by_chat(&self, helpdesk_id: &str, chat_id: &str) -> Result<Option<Ticket>>;
    /// Records a bot message sent to a user (`receive_type` user).
    async fn add_bot_message(&self, message: &BotMessage) -> Result<()>;
    /// One page of a ticket's messages, oldest first, and how many match in all.
    async fn messages(&self, ticket_id: &str, filter: &MessageFilter) -> Result<MessagePage>;
    /// The hot path of a download, in one indexed lookup: what the two
    /// credentials name (as `app_and_helpdesk`), and the message of the
    /// ticket (if the ticket is in that helpdesk) with its image at `index`.
    /// The caller must judge the credentials before using the image.
    async fn image_with_credentials(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: u32,
    ) -> Result<Option<(App, Option<Helpdesk>, Option<ImageLookup>)>>;
}

/// The people of a tenant: its users (guests and agents), and the agents of
/// its helpdesks.
#[async_trait]
pub trait PeopleRepo: Send + Sync + 'static {
    /// A new user with a fresh open_id.
    async fn create_user(&self, tenant_key: &str, name: &str, email: &str) -> Result<User>;
    /// The users among `open_ids` of this tenant.
    async fn users(&self, tenant_key: &str, open_ids: &[String]) -> Result<Vec<User>>;
    /// A new user of the helpdesk's tenant who is an agent of the helpdesk.
    async fn create_agent(&self, helpdesk_id: &str, name: &str, email: &str) -> Result<Agent>;
    /// The agent, in any helpdesk.
    async fn agent(&self, agent_id: &str) -> Result<Option<Agent>>;
    /// A helpdesk's agents, oldest first.
    async fn agents(&self, helpdesk_id: &str) -> Result<Vec<Agent>>;
    /// Disables (or enables) an agent: a disabled agent's user tokens are
    /// refused from the next request on, and no new ticket is given to it.
    async fn set_agent_disabled(&self, agent_id: &str, disabled: bool) -> Result<()>;
}

/// A helpdesk's ticket customized fields.
#[async_trait]
pub trait FieldRepo: Send + Sync + 'static {
    /// `StoreError::Invalid` when the helpdesk has a field of that key, or
    /// `MAX_FIELDS` already.
    async fn create_field(&self, field: &Field) -> Result<()>;
    async fn field(&self, helpdesk_id: &str, field_id: &str) -> Result<Option<Field>>;
    /// Every field of the helpdesk (at most `MAX_FIELDS`), oldest first.
    async fn fields(&self, helpdesk_id: &str) -> Result<Vec<Field>>;
    /// Replaces the field's row (same id and helpdesk); false when it is not
    /// there.
    async fn update_field(&self, field: &Field) -> Result<bool>;
    /// False when it was not there.
    async fn delete_field(&self, helpdesk_id: &str, field_id: &str) -> Result<bool>;
}

/// A helpdesk's FAQs and their categories. An FAQ holds uploaded images by
/// key: while it does, their image rows stay live (so [`ImageRepo`]'s blob
/// rules need nothing more), and attaching one takes the same shared locks
/// as [`TicketRepo::add_message`].
#[async_trait]
pub trait FaqRepo: Send + Sync + 'static {
    async fn create_category(&self, category: &Category) -> Result<()>;
    async fn category(&self, helpdesk_id: &str, category_id: &str) -> Result<Option<Category>>;
    /// Every category of the helpdesk, in creation order.
    async fn categories(&self, helpdesk_id: &str) -> Result<Vec<Category>>;
    /// Replaces name, parent and language; false when it is not there.
    async fn update_category(&self, category: &Category) -> Result<bool>;
    /// False when it is not there; `StoreError::Invalid` while it has
    /// sub-categories.
    async fn delete_category(&self, helpdesk_id: &str, category_id: &str) -> Result<bool>;
    /// Creates the FAQ holding `images` (live images of the helpdesk's
    /// tenant, in answer order); `StoreError::Invalid` if one was deleted
    /// since the caller looked it up.
    async fn create_faq(&self, faq: &Faq, images: &[Image]) -> Result<()>;
    async fn faq(&self, helpdesk_id: &str, faq_id: &str) -> Result<Option<Faq>>;
    /// The keys of the images an FAQ holds, in answer order.
    async fn faq_image_keys(&self, faq_id: &str) -> Result<Vec<String>>;
    async fn faqs(&self, helpdesk_id: &str, query: &FaqQuery) -> Result<FaqPage>;
    /// Replaces the FAQ's row and, with `images`, the images it holds (a
    /// key it no longer holds stays its uploader's; the change counter
    /// moves); false when it is not there.
    async fn update_faq(&self, faq: &Faq, images: Option<&[Image]>) -> Result<bool>;
    /// Deletes an FAQ: an online one becomes deleted (recoverable), a
    /// deleted one gone for good, which releases its images (their keys are
    /// deleted when nothing else holds them, and the change counter moves).
    /// The new status and the SHA-256
    /// of every image released, for `cleanup`; `None` when it is not there.
    async fn delete_faq(
        &self,
        helpdesk_id: &str,
        faq_id: &str,
    ) -> Result<Option<(i64, Vec<String>)>>;
    /// What a `faq_image` download's credentials name (as
    /// `DirectoryRepo::app_and_helpdesk`), and the image, if the FAQ is in
    /// that helpdesk, not gone, and holds `image_key`.
    async fn faq_image_with_credentials(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        faq_id: &str,
        image_key: &str,
    ) -> Result<Option<(App, Option<Helpdesk>, Option<StoredImage>)>>;
}

/// Uploaded images, the images of messages, and the blob rows they share.
///
/// # Blob rows and their objects
/// Every stored object has one `blobs` row, shared by every image of any
/// tenant with those bytes. Two rules keep a live image row from ever
/// pointing at a missing object, on any backend and with any number of
/// writers:
/// - whatever adds a live reference to a blob (`add_image`, and
///   [`TicketRepo::add_message`]) holds a shared lock on its `blobs` row
///   (creating it if needed) until it commits;
/// - the object is removed only by the holder of a [`BlobClaim`], which
///   holds an exclusive lock on that row, taken after every reference was
///   found dead, until the row is forgotten.
///
/// So a writer either commits before the claim looks (and the claim finds the
/// reference and is not granted) or waits for the claim to finish (and then
/// finds the object gone and writes it again: see `ingest`). SQLite gets both
/// locks from its single writer; PostgreSQL from `FOR SHARE` / `FOR UPDATE`.
#[async_trait]
pub trait ImageRepo: Send + Sync + 'static {
    /// Records an image `app_id` uploaded, whose blob is already durable.
    async fn add_image(
        &self,
        tenant_key: &str,
        app_id: &str,
        blob: &Blob,
        file_name: &str,
    ) -> Result<Image>;
    /// An uploaded image by key, deleted or not (a quarantined one reads as
    /// deleted).
    async fn upload(&self, image_key: &str) -> Result<Option<Upload>>;
    /// Deletes an uploaded image by key (`admin image delete --key`): `GET
    /// /im/v1/images` and the FAQs holding it answer it deleted; messages
    /// that posted it keep their copy. Its SHA-256, for `cleanup`.
    async fn delete_upload(&self, image_key: &str) -> Result<String>;
    /// The live images among `keys` that belong to `tenant_key`.
    async fn images(&self, tenant_key: &str, keys: &[String]) -> Result<Vec<Image>>;
    /// Marks a message's image (or all of them, with no index) deleted, and
    /// the upload key it was posted with once no live message uses that key.
    /// The bytes stay: `cleanup::delete_images` removes those no row uses.
    async fn delete_message_images(
        &self,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: Option<u32>,
    ) -> Result<Vec<DeletedImage>>;
    /// The exclusive lock on the blob row of `sha256`, if no live image or
    /// message image refers to it (see the trait's rules); `None` otherwise,
    /// or when there is no such row.
    async fn claim_unreferenced_blob(&self, sha256: &str) -> Result<Option<Box<dyn BlobClaim>>>;
    /// Up to `limit` blob rows that nothing live refers to: what a crash
    /// between a delete and its cleanup left behind.
    async fn unreferenced_blobs(&self, limit: u32) -> Result<Vec<String>>;
}

/// The exclusive lock on an unreferenced blob row: while it lives, nothing
/// can add a reference to the blob. Remove the object, then `forget` the row;
/// dropping the claim instead keeps the row (and releases the lock).
#[async_trait]
pub trait BlobClaim: Send {
    /// Deletes the blob row and releases the lock.
    async fn forget(self: Box<Self>) -> Result<()>;
}

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

pub trait MetadataStore:
    KeyRepo
    + DirectoryRepo
    + TicketRepo
    + PeopleRepo
    + FieldRepo
    + FaqRepo
    + ImageRepo
    + EventRepo
    + LimitsRepo
    + ScanRepo
    + AuditRepo
    + RetentionRepo
    + TransferRepo
    + InspectRepo
    + ConsoleTokenRepo
    + ActivityRepo
{
}

impl<T> MetadataStore for T where
    T: KeyRepo
        + DirectoryRepo
        + TicketRepo
        + PeopleRepo
        + FieldRepo
        + FaqRepo
        + ImageRepo
        + EventRepo
        + LimitsRepo
        + ScanRepo
        + AuditRepo
        + RetentionRepo
        + TransferRepo
        + InspectRepo
        + ConsoleTokenRepo
        + ActivityRepo
{
}
