//! Ticket message content: what a client posts, and the images it holds.

use serde_json::Value;

/// The three message types a helpdesk message can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Text,
    Image,
    Post,
}

impl MessageType {
    /// Parses a client's `msg_type`; `img` is an alias of `image`.
    pub fn parse(s: &str) -> Option<MessageType> {
        match s {
            "text" => Some(MessageType::Text),
            "image" | "img" => Some(MessageType::Image),
            "post" => Some(MessageType::Post),
            _ => None,
        }
    }

    /// The name sent back in `message_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::Post => "post",
        }
    }
}

/// Why a message's content was refused; the text goes to the client as a hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ContentError(pub String);

fn bad(msg: impl Into<String>) -> ContentError {
    ContentError(msg.into())
}

/// The image keys a message's content holds, in reading order: one for an
/// image message, every `img` element of a post, none for text. The content
/// is the JSON document the client sent as a string.
pub fn image_keys(msg_type: MessageType, content: &str) -> Result<Vec<String>, ContentError> {
    let v: Value =
        serde_json::from_str(content).map_err(|e| bad(format!("content is not JSON: {e}")))?;
    match msg_type {
        MessageType::Text => match v.get("text") {
            Some(Value::String(_)) => Ok(Vec::new()),
            _ => Err(bad("a text message's content is {\"text\": \"...\"}")),
        },
        MessageType::Image => match v.get("image_key") {
            Some(Value::String(k)) if !k.is_empty() => Ok(vec![k.clone()]),
            _ => Err(bad(
                "an image message's content is {\"image_key\": \"img_...\"}",
            )),
        },
        MessageType::Post => post_image_keys(&v),
    }
}

/// Locales tried first when a post carries several; then any other, in the
/// order the document has them.
const PREFERRED_LOCALES: &[&str] = &["zh_cn", "en_us", "ja_jp"];

fn post_body(v: &Value) -> Option<&Value> {
    let v = v.get("post").unwrap_or(v);
    if v.get("content").is_some() {
        return Some(v);
    }
    let obj = v.as_object()?;
    PREFERRED_LOCALES
        .iter()
        .find_map(|l| obj.get(*l))
        .or_else(|| obj.values().find(|b| b.get("content").is_some()))
}

fn post_image_keys(v: &Value) -> Result<Vec<String>, ContentError> {
    let body = post_body(v).ok_or_else(|| {
        bad("a post's content is {\"zh_cn\": {\"title\": \"...\", \"content\": [[{\"tag\": \"text\", ...}]]}}")
    })?;
    let paragraphs = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("a post's `content` is an array of paragraphs"))?;
    let mut keys = Vec::new();
    for paragraph in paragraphs {
        let elements = paragraph
            .as_array()
            .ok_or_else(|| bad("each paragraph of a post is an array of elements"))?;
        for el in elements {
            if el.get("tag").and_then(Value::as_str) == Some("img") {
                match el.get("image_key").and_then(Value::as_str) {
                    Some(k) if !k.is_empty() => keys.push(k.to_string()),
                    _ => return Err(bad("an `img` element needs an `image_key`")),
                }
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posts_images_come_in_reading_order_in_every_wrapping() {
        let body = r#"{"title":"t","content":[[{"tag":"text","text":"a"},{"tag":"img","image_key":"k1"}],
            [{"tag":"img","image_key":"k2"},{"tag":"at","user_id":"x"}],[{"tag":"img","image_key":"k3"}]]}"#;
        for doc in [
            body.to_string(),
            format!(r#"{{"zh_cn":{body}}}"#),
            format!(r#"{{"post":{{"zh_cn":{body}}}}}"#),
            format!(r#"{{"fr_fr":{body}}}"#),
        ] {
            assert_eq!(
                image_keys(MessageType::Post, &doc).unwrap(),
                ["k1", "k2", "k3"],
                "{doc}"
            );
        }
    }

    #[test]
    fn zh_cn_wins_over_other_locales() {
        let doc = r#"{"en_us":{"content":[[{"tag":"img","image_key":"en"}]]},"zh_cn":{"content":[[{"tag":"img","image_key":"zh"}]]}}"#;
        assert_eq!(image_keys(MessageType::Post, doc).unwrap(), ["zh"]);
    }

    #[test]
    fn text_and_image_and_bad_content() {
        assert!(image_keys(MessageType::Text, r#"{"text":"hi"}"#)
            .unwrap()
            .is_empty());
        assert_eq!(
            image_keys(MessageType::Image, r#"{"image_key":"k"}"#).unwrap(),
            ["k"]
        );
        assert!(image_keys(MessageType::Image, r#"{"image_key":""}"#).is_err());
        assert!(image_keys(MessageType::Text, "not json").is_err());
        assert!(image_keys(
            MessageType::Post,
            r#"{"zh_cn":{"content":[[{"tag":"img"}]]}}"#
        )
        .is_err());
        assert!(image_keys(MessageType::Post, r#"{"zh_cn":{"content":"x"}}"#).is_err());
        assert_eq!(MessageType::parse("img"), Some(MessageType::Image));
        assert_eq!(MessageType::parse("interactive"), None);
    }
}
