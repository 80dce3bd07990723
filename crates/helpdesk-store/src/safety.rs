//! The vocabulary of keeping images safely: what an operator limits per
//! tenant, what a malware scan found, what is quarantined, and the audit
//! trail of every change (the concerns `LimitsRepo`, `ScanRepo` and
//! `AuditRepo` of `repo/operations.rs`).

use serde::Serialize;

use crate::DeletedImage;

/// A tenant's limits and what it uses (`admin tenant show`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantPolicy {
    pub tenant_key: String,
    /// The bytes of the tenant's live uploaded images: each upload counts
    /// its own size, whether or not another upload (of any tenant) has the
    /// same bytes, so that usage tells nothing about other tenants.
    pub used_bytes: u64,
    /// The most `used_bytes` may reach; `None`: no limit.
    pub max_bytes: Option<u64>,
    /// How long the images of the tenant's messages are kept, in seconds;
    /// `None`: the server's `--retain`, if any.
    pub retain_secs: Option<u64>,
}

/// What `admin tenant set` changes; a field left `None` stays as it is,
/// `Some(None)` removes the limit.
#[derive(Debug, Clone, Default)]
pub struct PolicyChange {
    pub max_bytes: Option<Option<u64>>,
    pub retain_secs: Option<Option<u64>>,
}

/// The last scan of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVerdict {
    /// The scanner and its signature version (clamd's `VERSION` line).
    pub engine: String,
    /// The signature that matched; `None`: clean.
    pub infected_with: Option<String>,
    pub scanned_at: i64,
}

/// A stored blob, as a rescan walks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// Seconds since the epoch.
    pub created_at: i64,
}

/// Bytes a rescan found infected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quarantined {
    pub sha256: String,
    pub signature: String,
    pub engine: String,
    /// Seconds since the epoch.
    pub quarantined_at: i64,
    /// The images that answer as deleted while it lasts (upload keys and
    /// message images, by tenant).
    pub images: Vec<QuarantinedImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedImage {
    pub tenant_key: String,
    /// An upload's image_key, or a message image as `MESSAGE_ID#INDEX`.
    pub image: String,
}

/// Who made a change the audit trail records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// `helpdesk admin` (an operator at the command line).
    Admin,
    /// The retention sweep.
    Retention,
    /// A malware scan that quarantined.
    Scan,
    /// An app, through the API.
    App(String),
}

impl Actor {
    pub fn as_str(&self) -> &str {
        match self {
            Actor::Admin => "admin",
            Actor::Retention => "retention",
            Actor::Scan => "scan",
            Actor::App(app_id) => app_id,
        }
    }
}

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Order of recording in this database.
    #[serde(skip)]
    pub seq: i64,
    /// `aud_...`, the same in every copy.
    pub id: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub actor: String,
    /// What was done, as `noun.verb` (`tenant.create`, `image.delete`,
    /// `faq.delete`, `quarantine.release`, ...).
    pub action: String,
    pub tenant_key: Option<String>,
    /// What it was done to (an app id, an image key, a ticket id, ...).
    pub target: Option<String>,
    /// The rest, as a JSON object; never a secret.
    pub detail: serde_json::Value,
}

/// A change to record.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub tenant_key: Option<&'a str>,
    pub target: Option<&'a str>,
    pub detail: serde_json::Value,
}

/// Which entries `AuditRepo::audit` lists.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Entries at or after this time (milliseconds).
    pub since_ms: Option<i64>,
    pub tenant_key: Option<String>,
    /// After this `seq` (paging).
    pub after_seq: i64,
    pub limit: u32,
}

/// Images the retention sweep deleted in one batch, by tenant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Expired {
    /// The images deleted, each with its tenant.
    pub images: Vec<(String, DeletedImage)>,
    /// How many messages they were in.
    pub messages: u64,
}

/// What `admin guest erase` removed (or, with `--dry-run`, would remove).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Erasure {
    /// The tickets the guest started.
    pub tickets: Vec<String>,
    /// Their images, whoever posted them.
    pub images: Vec<DeletedImage>,
    /// Messages whose text was erased (`--messages`).
    pub messages_erased: u64,
}
