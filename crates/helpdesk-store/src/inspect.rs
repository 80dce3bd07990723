//! What the inspector console reads (`InspectRepo`).

use serde::Serialize;

/// A tenant and what it holds, for the console's front page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantCounts {
    pub tenant_key: String,
    pub name: String,
    pub apps: u64,
    pub helpdesks: u64,
    pub tickets: u64,
    pub messages: u64,
    /// Uploaded images not deleted.
    pub images: u64,
}

/// One image of a ticket's message, at the `index` `ticket_images` counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketImage {
    pub message_id: String,
    pub index: u32,
    pub image_key: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
    /// Deleted, or its bytes quarantined: `ticket_images` answers 154404.
    pub deleted: bool,
}

/// What an id names, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// A ticket, or a message or image of it.
    Ticket {
        tenant_key: String,
        ticket_id: String,
    },
    Faq {
        tenant_key: String,
        faq_id: String,
    },
    Event {
        tenant_key: String,
        event_id: String,
    },
}

impl Located {
    pub fn tenant_key(&self) -> &str {
        match self {
            Located::Ticket { tenant_key, .. }
            | Located::Faq { tenant_key, .. }
            | Located::Event { tenant_key, .. } => tenant_key,
        }
    }
}

/// A token that signs in to the console (`admin console-token create`);
/// the token itself is shown once and kept as its SHA-256 only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleToken {
    pub token_id: String,
    /// The one tenant it sees; `None`: every tenant.
    pub tenant_key: Option<String>,
    pub read_only: bool,
    /// Unix seconds.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// What `ConsoleTokenRepo::create_console_token` stores.
#[derive(Debug, Clone)]
pub struct NewConsoleToken<'a> {
    pub token_id: &'a str,
    pub token_sha256: &'a str,
    pub tenant_key: Option<&'a str>,
    pub read_only: bool,
}
