//! The records the metadata store keeps (FAQs and their categories in
//! `model/faqs.rs`).

use helpdesk_core::content::MessageType;
use helpdesk_core::ImageType;

mod faqs;
pub use faqs::*;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Tenant {
    pub tenant_key: String,
    pub name: String,
}

/// Only custom (self-built) apps may call helpdesk APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Custom,
    Store,
}

impl AppKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Custom => "custom",
            AppKind::Store => "store",
        }
    }
    pub fn parse(s: &str) -> Option<AppKind> {
        match s {
            "custom" => Some(AppKind::Custom),
            "store" => Some(AppKind::Store),
            _ => None,
        }
    }
}

pub struct NewApp<'a> {
    pub tenant_key: &'a str,
    pub name: &'a str,
    pub kind: AppKind,
    pub scopes: &'a [String],
    pub secret_sha256: &'a str,
}

#[derive(Debug, Clone)]
pub struct App {
    pub app_id: String,
    pub tenant_key: String,
    pub name: String,
    pub kind: AppKind,
    pub scopes: Vec<String>,
    pub secret_sha256: String,
    /// Tokens issued before this second are refused.
    pub tokens_not_before: i64,
    /// A disabled app gets no tokens, and those it holds are refused.
    pub disabled: bool,
}

/// What `MetadataStore::update_app` changes.
#[derive(Debug, Clone, Copy)]
pub enum AppChange<'a> {
    /// The SHA-256 of a new secret.
    Secret(&'a str),
    Disabled(bool),
}

#[derive(Debug, Clone)]
pub struct Helpdesk {
    pub helpdesk_id: String,
    pub tenant_key: String,
    pub name: String,
    pub token_sha256: String,
}

/// Bytes that were hashed and sniffed at ingest.
#[derive(Debug, Clone)]
pub struct Blob {
    pub sha256: String,
    pub size: u64,
    pub image_type: ImageType,
}

/// An uploaded image, owned by one tenant.
#[derive(Debug, Clone)]
pub struct Image {
    pub image_key: String,
    pub tenant_key: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
}

pub struct NewTicket<'a> {
    pub helpdesk_id: &'a str,
    /// The helpdesk's tenant, whose user the guest is (made when new).
    pub tenant_key: &'a str,
    pub guest_open_id: &'a str,
    pub human_service: bool,
    pub customized_info: Option<&'a str>,
    /// The agents serving it from the start (human service only).
    pub agent_ids: &'a [String],
}

/// A ticket as stored. Times in seconds; the lists are JSON arrays (read
/// them with the accessors).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Ticket {
    pub ticket_id: String,
    pub helpdesk_id: String,
    pub chat_id: String,
    pub guest_open_id: String,
    pub human_service: bool,
    pub customized_info: Option<String>,
    pub status: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// 0 while open.
    pub closed_at: i64,
    /// The open_id of who closed it; empty while open.
    pub closed_by: String,
    /// 0 not said, 1 not solved, 2 solved.
    pub solved: i64,
    pub channel: i64,
    pub score: i64,
    /// A JSON array of open_ids.
    pub agent_ids: String,
    /// A JSON array of tag names.
    pub tags: String,
    /// A JSON object: the agent's last comment, as the API shows it.
    pub comment: Option<String>,
    /// A JSON array of `{id, value}`: the customized fields' values.
    pub field_values: String,
    /// When the first agent took it (0: no agent yet).
    pub agent_entry_at: i64,
}

/// A string list column, as written by `json_list`.
fn list(column: &str) -> Vec<String> {
    serde_json::from_str(column).unwrap_or_default()
}

/// How a string list column is written (and found: `"value"` is in it).
pub fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

impl Ticket {
    pub fn agents(&self) -> Vec<String> {
        list(&self.agent_ids)
    }
    pub fn tag_names(&self) -> Vec<String> {
        list(&self.tags)
    }
    /// The customized fields' values: `(field id, value)`.
    pub fn values(&self) -> Vec<FieldValue> {
        serde_json::from_str(&self.field_values).unwrap_or_default()
    }
}

/// A ticket's value of one customized field.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldValue {
    pub id: String,
    pub value: String,
}

/// Which tickets `TicketRepo::tickets` returns. Times in seconds, inclusive.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub ticket_id: Option<String>,
    pub agent_id: Option<String>,
    pub closed_by_id: Option<String>,
    /// 1 bot service, 2 human service.
    pub ticket_type: Option<i64>,
    pub channel: Option<i64>,
    pub solved: Option<i64>,
    pub score: Option<i64>,
    /// Any of these statuses.
    pub statuses: Vec<i64>,
    /// Part of the guest's name.
    pub guest_name: Option<String>,
    pub guest_id: Option<String>,
    /// Any of these tags.
    pub tags: Vec<String>,
    pub created: (Option<i64>, Option<i64>),
    pub updated: (Option<i64>, Option<i64>),
    pub offset: u64,
    pub limit: u64,
}

/// The most tickets a list counts and pages through, as Feishu.
pub const TICKET_LIST_CAP: u64 = 10_000;

/// One page of tickets, newest first, and how many match (at most
/// `TICKET_LIST_CAP`).
#[derive(Debug, Clone)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    pub total: u64,
}

/// What `TicketRepo::update_ticket` changes; `None` keeps.
#[derive(Debug, Clone, Default)]
pub struct TicketChange {
    pub status: Option<i64>,
    pub tags: Option<Vec<String>>,
    /// The comment's text; the store dates and signs it.
    pub comment: Option<String>,
    /// Values to set, by field id (others keep theirs).
    pub values: Vec<FieldValue>,
    pub ticket_type: Option<i64>,
    pub solved: Option<i64>,
    pub channel: Option<i64>,
}

/// The statuses of a closed ticket (Feishu's 50 closed by the bot, 51 by an
/// agent, 52 by the guest): moving into one sets `closed_at` and
/// `closed_by`, and a closed ticket takes no more messages from its guest.
pub const CLOSED_STATUSES: [i64; 3] = [50, 51, 52];

/// A person of a tenant: a guest or an agent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct User {
    #[serde(skip)]
    pub tenant_key: String,
    pub open_id: String,
    pub name: String,
    pub email: String,
    pub avatar_url: String,
    pub department: String,
    pub city: String,
    pub country: String,
    #[serde(skip)]
    pub created_at: i64,
}

/// A user who serves in a helpdesk.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Agent {
    pub agent_id: String,
    pub helpdesk_id: String,
    pub name: String,
    pub email: String,
    pub disabled: bool,
}

/// A helpdesk's ticket field (`ticket_customized_field`). Times in ms.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Field {
    /// Creation order; made by the store (0 before), not copied by
    /// `migrate` (the destination numbers its own, in the same order).
    pub seq: i64,
    pub field_id: String,
    pub helpdesk_id: String,
    pub key_name: String,
    pub display_name: String,
    pub position: String,
    /// `string`, `multiline`, `dropdown` or `dropdown_nested`.
    pub field_type: String,
    pub description: String,
    pub visible: bool,
    pub editable: bool,
    pub required: bool,
    pub dropdown_allow_multiple: bool,
    /// JSON: `{"children": [{"tag", "display_name", "children"}]}`, or "".
    pub dropdown_options: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The most ticket customized fields a helpdesk has: every ticket shows
/// them all, so they are read whole.
pub const MAX_FIELDS: usize = 1000;

impl Ticket {
    /// What the ticket events say of it.
    pub fn facts(&self) -> helpdesk_core::events::TicketFacts<'_> {
        helpdesk_core::events::TicketFacts {
            ticket_id: &self.ticket_id,
            helpdesk_id: &self.helpdesk_id,
            chat_id: &self.chat_id,
            guest_open_id: &self.guest_open_id,
            human_service: self.human_service,
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

pub struct NewMessage<'a> {
    pub ticket_id: &'a str,
    pub message_type: MessageType,
    pub content: &'a str,
    pub user_id: &'a str,
    pub user_name: &'a str,
    pub avatar_url: &'a str,
    /// The images the content names, in reading order.
    pub images: &'a [Image],
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub message_id: String,
    pub ticket_id: String,
    pub message_type: String,
    pub content: String,
    pub user_id: String,
    pub user_name: String,
    pub avatar_url: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Inclusive, seconds.
    pub time_start: Option<i64>,
    /// Inclusive, seconds.
    pub time_end: Option<i64>,
    pub offset: u64,
    pub limit: u64,
}

/// What the download path needs to decide between its answers.
#[derive(Debug, Clone)]
pub struct ImageLookup {
    pub message_type: MessageType,
    pub image_count: u32,
    /// The image at the index asked for, if the message has one there.
    pub image: Option<StoredImage>,
}

#[derive(Debug, Clone)]
pub struct StoredImage {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeletedImage {
    pub id: String,
    pub message_id: String,
    pub index: u32,
    pub sha256: String,
    /// False when a live message image or upload key still uses the bytes.
    pub blob_removed: bool,
}

/// One page of a ticket's messages and how many match in all.
#[derive(Debug, Clone)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub total: u64,
}

/// Where an app's events go.
#[derive(Clone, PartialEq, Eq)]
pub struct EventConfig {
    pub url: String,
    /// Empty: events go unencrypted and unsigned.
    pub encrypt_key: String,
    pub verification_token: String,
}

impl std::fmt::Debug for EventConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventConfig")
            .field("url", &self.url)
            .field(
                "encrypt_key",
                &(!self.encrypt_key.is_empty()).then_some("<redacted>"),
            )
            .field(
                "verification_token",
                &(!self.verification_token.is_empty()).then_some("<redacted>"),
            )
            .finish()
    }
}

/// An event claimed for delivery, with where it goes.
#[derive(Debug, Clone)]
pub struct ClaimedEvent {
    pub event: crate::records::EventRow,
    pub config: EventConfig,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    Delivered,
    /// Try again at this time (ms).
    Retry {
        at_ms: i64,
        error: String,
    },
    /// The schedule is spent.
    Failed {
        error: String,
    },
}

/// An uploaded image as `GET /im/v1/images/:key` needs it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub image: Image,
    /// The app that uploaded it; `None` for images from before apps were kept.
    pub app_id: Option<String>,
    pub deleted: bool,
}

/// A bot message sent to a user of the tenant (`POST /message` with
/// `receive_type` user). Time in ms.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BotMessage {
    /// Creation order; made by the store, not copied by `migrate`.
    pub seq: i64,
    pub message_id: String,
    pub app_id: String,
    pub tenant_key: String,
    pub receiver_id: String,
    pub msg_type: String,
    pub content: String,
    pub created_at: i64,
}
