//! The FAQ and its category as Feishu sends them (`Faq`, `Category`,
//! `Richtext`, field for field as the SDKs model them, every field
//! optional), a page of FAQs, and the FAQ status numbers.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::ticket_model::{lenient_string, null_default};
use crate::TicketUser;

/// Feishu's FAQ status numbers (the list's `status`).
pub mod faq_status {
    /// Deleted once: recoverable (a patch brings it back).
    pub const DELETED: i64 = 0;
    /// Online: what the list shows by default.
    pub const ONLINE: i64 = 1;
    /// Deleted twice: gone for good.
    pub const PURGED: i64 = 2;
}

/// An integer, or a string of one: times the SDKs model as integers, which
/// a server may send as strings.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {n}"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected an integer, got {s:?}"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

/// A category of the helpdesk's FAQs (Feishu's `Category`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Category {
    /// The category's id.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub category_id: Option<String>,
    /// The same id, under its old name.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The category it is under (`"0"` or empty at the top).
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_id: Option<String>,
    /// The helpdesk's id.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub helpdesk_id: Option<String>,
    /// Its language, e.g. `zh_cn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// One element of an FAQ's rich-text answer (Feishu's `Richtext`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Richtext {
    /// Text, a link's URL, or an image's `image_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The element's type (`type` on the wire): `text`, `hyperlink`,
    /// `image`, `line_break` or `paragraph`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Richtext {
    /// An element of this type and content.
    pub fn new(kind: impl Into<String>, content: impl Into<String>) -> Richtext {
        Richtext {
            content: Some(content.into()),
            kind: Some(kind.into()),
        }
    }

    /// Text.
    pub fn text(text: impl Into<String>) -> Richtext {
        Richtext::new("text", text)
    }

    /// A link.
    pub fn hyperlink(url: impl Into<String>) -> Richtext {
        Richtext::new("hyperlink", url)
    }

    /// An image uploaded with `upload_image`.
    pub fn image(image_key: impl Into<String>) -> Richtext {
        Richtext::new("image", image_key)
    }

    /// A line break.
    pub fn line_break() -> Richtext {
        Richtext::new("line_break", "")
    }

    /// The `image_key` if this is an image element.
    pub fn image_key(&self) -> Option<&str> {
        match (self.kind.as_deref(), self.content.as_deref()) {
            (Some("image"), Some(key)) if !key.is_empty() => Some(key),
            _ => None,
        }
    }
}

/// An FAQ, field for field as Feishu's `Faq`. Every field may be missing or
/// `null`. Times are integers as the server sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Faq {
    /// The FAQ's id.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub faq_id: Option<String>,
    /// The same id, under its old name.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The helpdesk's id.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub helpdesk_id: Option<String>,
    /// The question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The answer as plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The answer as rich text, element by element.
    #[serde(
        default,
        deserialize_with = "richtext_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub answer_richtext: Vec<Richtext>,
    /// When it was made.
    #[serde(
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub create_time: Option<i64>,
    /// When it last changed.
    #[serde(
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_time: Option<i64>,
    /// Its categories.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub categories: Vec<Category>,
    /// Its similar questions.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
    /// When it expires (0: never).
    #[serde(
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expire_time: Option<i64>,
    /// Who last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_user: Option<TicketUser>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_user: Option<TicketUser>,
}

impl Faq {
    /// The `image_key`s of the answer's image elements, in order (a key
    /// used twice is listed twice).
    pub fn image_keys(&self) -> Vec<&str> {
        self.answer_richtext
            .iter()
            .filter_map(Richtext::image_key)
            .collect()
    }
}

/// The rich text as an array (how answers carry it) or as a string holding
/// the array (how a create sends it, which a server might echo).
fn richtext_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Richtext>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => serde_json::from_str(&s).map_err(serde::de::Error::custom),
        Some(v) => serde_json::from_value(v).map_err(serde::de::Error::custom),
    }
}

/// One page of FAQs: of the list (`total` and `page_size` too) or of a
/// search (without them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FaqPage {
    /// Whether another page follows.
    #[serde(default, deserialize_with = "null_default")]
    pub has_more: bool,
    /// The next page's token, when `has_more`.
    #[serde(default)]
    pub page_token: Option<String>,
    /// The page size the server used (the list only).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// How many FAQs match in all (the list only).
    #[serde(default)]
    pub total: Option<u64>,
    /// This page's FAQs.
    #[serde(default, deserialize_with = "null_default")]
    pub items: Vec<Faq>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_whole_faq_decodes_with_its_images_in_order_and_an_empty_one_too() {
        let f: Faq = serde_json::from_value(json!({
            "faq_id": "7001", "id": "7001", "helpdesk_id": 6626871355780366330i64,
            "question": "VPN?", "answer": "see",
            "answer_richtext": [{"content": "see", "type": "text"},
                                {"content": "img_1", "type": "image"},
                                {"type": "line_break"},
                                {"content": "img_2", "type": "image"}],
            "create_time": 1714521600000i64, "update_time": "1714521600001",
            "categories": [{"category_id": "61", "id": "61", "name": "IT", "parent_id": "0",
                            "helpdesk_id": "1", "language": "zh_cn"}],
            "tags": ["vpn"], "expire_time": 0, "update_user": null,
            "create_user": {"id": "ou_1", "name": "Ann"}, "later": 1
        }))
        .unwrap();
        assert_eq!(f.image_keys(), ["img_1", "img_2"]);
        assert_eq!(f.helpdesk_id.as_deref(), Some("6626871355780366330"));
        assert_eq!(f.update_time, Some(1714521600001));
        assert_eq!(f.categories[0].name.as_deref(), Some("IT"));
        assert_eq!(f.create_user.as_ref().unwrap().name.as_deref(), Some("Ann"));
        let again: Faq = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(again, f);

        let as_string: Faq = serde_json::from_value(
            json!({"answer_richtext": "[{\"content\":\"k\",\"type\":\"image\"}]"}),
        )
        .unwrap();
        assert_eq!(as_string.image_keys(), ["k"]);
        let empty: Faq = serde_json::from_value(json!({"categories": null, "tags": null,
                                                       "answer_richtext": null}))
        .unwrap();
        assert_eq!(empty, Faq::default());
    }
}
