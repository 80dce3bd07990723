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

impl TicketImage {
    /// Its bytes' SHA-256 while they may be shown.
    pub fn live_sha256(&self) -> Option<&str> {
        (!self.deleted).then_some(self.sha256.as_str())
    }
}

/// One image of an FAQ's answer, in answer order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaqImage {
    pub index: u32,
    pub image_key: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
    /// Deleted, or its bytes quarantined: `faq_image` answers 404.
    pub deleted: bool,
}

impl FaqImage {
    /// Its bytes' SHA-256 while they may be shown.
    pub fn live_sha256(&self) -> Option<&str> {
        (!self.deleted).then_some(self.sha256.as_str())
    }
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

/// What one line of the live feed tells (`ActivityRepo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A ticket was opened; the subject is its ticket_id.
    Ticket,
    /// A ticket's status, agents, fields or tags changed; the subject is
    /// its ticket_id.
    TicketUpdated,
    /// A message was posted to a ticket; the subject is its message_id.
    Message,
    /// An event delivery was attempted (and its outcome recorded); the
    /// subject is the event_id.
    Attempt,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Ticket => "ticket",
            ActivityKind::TicketUpdated => "ticket_updated",
            ActivityKind::Message => "message",
            ActivityKind::Attempt => "attempt",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        Some(match s {
            "ticket" => ActivityKind::Ticket,
            "ticket_updated" => ActivityKind::TicketUpdated,
            "message" => ActivityKind::Message,
            "attempt" => ActivityKind::Attempt,
            _ => return None,
        })
    }
}

/// One line of the live feed: what changed, whose, when. Ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Its place in the feed; larger is later (see `ActivityRepo`).
    pub seq: i64,
    pub tenant_key: String,
    pub kind: ActivityKind,
    pub ticket_id: String,
    pub subject: String,
    /// An attempt's number (from 1, as `event_attempts` counts); else 0.
    pub number: i64,
    /// Unix milliseconds.
    pub at: i64,
}
