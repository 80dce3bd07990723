use serde::{Deserialize, Serialize};

use helpdesk_core::content::{self, MessageType};

/// A message of a ticket, as `ticket_message.list` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketMessage {
    /// The message's numeric id.
    pub id: String,
    /// The message's `om_…` id; `ticket_image` takes either.
    pub message_id: String,
    /// `text`, `image` or `post`.
    pub message_type: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// The message's content: a JSON document, as a string.
    pub content: String,
    /// Who sent it.
    #[serde(default)]
    pub user_name: String,
    /// The sender's avatar.
    #[serde(default)]
    pub avatar_url: String,
    /// The sender's open_id.
    #[serde(default)]
    pub user_id: String,
}

impl TicketMessage {
    /// How many images `ticket_image` can fetch from this message: one for an
    /// image message, every `img` of a post in reading order, none otherwise.
    pub fn image_count(&self) -> usize {
        MessageType::parse(&self.message_type)
            .and_then(|t| content::image_keys(t, &self.content).ok())
            .map_or(0, |keys| keys.len())
    }

    /// The `index` to send for each of the message's images: `None` for an
    /// image message (it takes none), `Some(i)` for a post.
    pub fn image_indexes(&self) -> Vec<Option<u32>> {
        match MessageType::parse(&self.message_type) {
            Some(MessageType::Image) if self.image_count() == 1 => vec![None],
            Some(MessageType::Post) => (0..self.image_count() as u32).map(Some).collect(),
            _ => Vec::new(),
        }
    }
}

/// One page of a ticket's messages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MessagePage {
    /// The messages of this page, oldest first.
    #[serde(default)]
    pub messages: Vec<TicketMessage>,
    /// How many messages match in all pages.
    #[serde(default)]
    pub total: u64,
}

/// Which messages to list.
#[derive(Debug, Clone, Default)]
pub struct ListMessages {
    /// Only messages sent at or after this second.
    pub time_start: Option<i64>,
    /// Only messages sent at or before this second.
    pub time_end: Option<i64>,
    /// The page, from 1 (default 1).
    pub page: Option<u32>,
    /// Messages per page, 1 to 200 (default 20 on the server).
    pub page_size: Option<u32>,
}

/// What `start_service` opens a ticket with.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StartService {
    /// The customer's open_id.
    pub open_id: String,
    /// Straight to a human agent.
    pub human_service: bool,
    /// Agents to hand the ticket to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub appointed_agents: Vec<String>,
    /// Free text the helpdesk shows with the ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customized_info: Option<String>,
}

/// The ticket `start_service` opened.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ServiceStarted {
    /// The ticket's group chat.
    pub chat_id: String,
    /// The new ticket.
    pub ticket_id: String,
}

/// The content of a message to post.
#[derive(Debug, Clone)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// One uploaded image.
    Image {
        /// From `upload_image`.
        image_key: String,
    },
    /// Rich text: the post document, e.g.
    /// `{"zh_cn": {"title": "…", "content": [[{"tag": "img", "image_key": "…"}]]}}`.
    Post(serde_json::Value),
}

impl MessageContent {
    pub(crate) fn to_wire(&self) -> (&'static str, String) {
        match self {
            MessageContent::Text(text) => ("text", serde_json::json!({ "text": text }).to_string()),
            MessageContent::Image { image_key } => (
                "image",
                serde_json::json!({ "image_key": image_key }).to_string(),
            ),
            MessageContent::Post(doc) => ("post", doc.to_string()),
        }
    }
}
