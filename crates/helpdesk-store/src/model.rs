//! The records the metadata store keeps.

use helpdesk_core::content::MessageType;
use helpdesk_core::ImageType;

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
    pub guest_open_id: &'a str,
    pub human_service: bool,
    pub customized_info: Option<&'a str>,
}

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
}

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
