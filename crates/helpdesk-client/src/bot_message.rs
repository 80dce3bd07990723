//! The helpdesk bot's message (`helpdesk.v1.bot_message.create`): into a
//! ticket's chat or to a user, as the app (tenant token and the helpdesk
//! credential). Not retried after an ambiguous failure: sent twice, the
//! message shows twice.

use helpdesk_core::wire::path;
use serde_json::{json, Value};

use crate::retry::Idempotence;
use crate::{Auth, Client, Error, MessageContent};

/// Where a bot message goes (`receive_type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReceiveType {
    /// A ticket's chat (`receiver_id` its `chat_id`); Feishu's default.
    #[default]
    Chat,
    /// A user (`receiver_id` an open_id).
    User,
}

impl ReceiveType {
    fn as_str(self) -> &'static str {
        match self {
            ReceiveType::Chat => "chat",
            ReceiveType::User => "user",
        }
    }
}

/// What a bot message says: a [`MessageContent`] (text, image, post), or
/// any type with its content as raw JSON (an `interactive` card, say).
#[derive(Debug, Clone)]
pub enum BotContent {
    /// Text, an image or a post.
    Message(MessageContent),
    /// `msg_type` with `content` as the im API has it (a JSON object, or a
    /// string already holding one, sent as it is).
    Raw {
        /// `text`, `post`, `image` or `interactive`.
        msg_type: String,
        /// The content document.
        content: Value,
    },
}

impl From<MessageContent> for BotContent {
    fn from(m: MessageContent) -> BotContent {
        BotContent::Message(m)
    }
}

impl BotContent {
    fn to_wire(&self) -> (String, String) {
        match self {
            BotContent::Message(m) => {
                let (t, c) = m.to_wire();
                (t.to_string(), c)
            }
            BotContent::Raw {
                msg_type,
                content: Value::String(s),
            } => (msg_type.clone(), s.clone()),
            BotContent::Raw { msg_type, content } => (msg_type.clone(), content.to_string()),
        }
    }
}

/// A message of the helpdesk's bot (`POST /message`, Feishu's `BotMessage`).
#[derive(Debug, Clone)]
pub struct BotMessage {
    /// What it says.
    pub content: BotContent,
    /// A ticket's `chat_id`, or a user's open_id.
    pub receiver_id: String,
    /// Which of the two `receiver_id` is.
    pub receive_type: ReceiveType,
}

impl BotMessage {
    /// A message into a ticket's chat (its `chat_id`, from `start_service`).
    pub fn to_chat(chat_id: impl Into<String>, content: impl Into<BotContent>) -> BotMessage {
        BotMessage {
            content: content.into(),
            receiver_id: chat_id.into(),
            receive_type: ReceiveType::Chat,
        }
    }

    /// A message to a user, by open_id.
    pub fn to_user(open_id: impl Into<String>, content: impl Into<BotContent>) -> BotMessage {
        BotMessage {
            content: content.into(),
            receiver_id: open_id.into(),
            receive_type: ReceiveType::User,
        }
    }

    fn body(&self) -> Value {
        let (msg_type, content) = self.content.to_wire();
        json!({"msg_type": msg_type, "content": content, "receiver_id": self.receiver_id,
               "receive_type": self.receive_type.as_str()})
    }
}

impl Client {
    /// Sends a message as the helpdesk's bot (`helpdesk.v1.bot_message.create`,
    /// `user_id_type=open_id`) and returns its `message_id`. Not retried after
    /// an ambiguous failure.
    pub async fn send_bot_message(&self, message: &BotMessage) -> Result<String, Error> {
        #[derive(serde::Deserialize)]
        struct Data {
            #[serde(default)]
            message_id: String,
        }
        let body = message.body();
        let data: Data = self
            .call(
                path::BOT_MESSAGE,
                Auth::Helpdesk,
                Idempotence::Unsafe,
                |http, url| {
                    http.post(url)
                        .query(&[("user_id_type", "open_id")])
                        .json(&body)
                },
            )
            .await?;
        Ok(data.message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_is_a_json_string_whichever_way_it_was_given() {
        let m = BotMessage::to_chat("oc_1", MessageContent::Text("hi".into()));
        assert_eq!(
            m.body(),
            json!({"msg_type": "text", "content": "{\"text\":\"hi\"}", "receiver_id": "oc_1",
                   "receive_type": "chat"})
        );
        let card = BotContent::Raw {
            msg_type: "interactive".into(),
            content: json!({"elements": []}),
        };
        let m = BotMessage::to_user("ou_1", card);
        assert_eq!(m.body()["content"], "{\"elements\":[]}");
        assert_eq!(m.body()["receive_type"], "user");
        let raw = BotContent::Raw {
            msg_type: "text".into(),
            content: Value::String("{\"text\":\"as is\"}".into()),
        };
        assert_eq!(
            BotMessage::to_chat("oc_1", raw).body()["content"],
            "{\"text\":\"as is\"}"
        );
    }
}
