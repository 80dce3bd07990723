//! What the metadata store does, one trait per concern, as pict-rs splits
//! its repo: a caller names the concern it uses (`&dyn ImageRepo`), and a
//! reader finds a behaviour by its area. [`MetadataStore`] is their sum,
//! what a backend implements and what the server holds. [`KeyRepo`] and
//! the sum are here; the Helpdesk data's traits (directory to images) are
//! in `repo/helpdesk.rs`, and running the service's (events to console
//! tokens) in `repo/operations.rs`.
//!
//! | concern | trait | SQL |
//! |---|---|---|
//! | signing keys, the change counter, readiness | [`KeyRepo`] | `sql/keys.rs` |
//! | tenants, apps, helpdesks, their credentials | [`DirectoryRepo`] | `sql/directory.rs` |
//! | tickets: opened, listed, changed | [`TicketRepo`] | `sql/tickets.rs` |
//! | messages, bot messages, the download's lookup | [`MessageRepo`] | `sql/messages.rs` |
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

use async_trait::async_trait;

use crate::tokens::SigningKey;
use crate::*;

mod helpdesk;
mod operations;

pub use helpdesk::{
    BlobClaim, DirectoryRepo, FaqRepo, FieldRepo, ImageRepo, MessageRepo, PeopleRepo, TicketRepo,
};
pub use operations::{
    ActivityRepo, AuditRepo, ConsoleTokenRepo, EventRepo, InspectRepo, LimitsRepo, RetentionRepo,
    ScanRepo, TransferRepo,
};

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

pub trait MetadataStore:
    KeyRepo
    + DirectoryRepo
    + TicketRepo
    + MessageRepo
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
        + MessageRepo
        + MessageRepo
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
