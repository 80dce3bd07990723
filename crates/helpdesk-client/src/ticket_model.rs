//! The ticket as Feishu sends it: `Ticket` and the types it holds, field for
//! field as oapi-sdk-go's `Ticket` (with Node's `tags`), every field
//! optional, and the status numbers.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Feishu's ticket status numbers (`Ticket::status`, `status_list`).
pub mod ticket_status {
    /// Created.
    pub const CREATED: i64 = 1;
    /// Being handled.
    pub const PROCESSING: i64 = 2;
    /// Queued for an agent.
    pub const QUEUED: i64 = 3;
    /// Pending.
    pub const PENDING: i64 = 4;
    /// Waiting for the user's answer (what an update sets for "pending").
    pub const WAITING_FOR_USER: i64 = 5;
    /// Closed by the bot.
    pub const CLOSED_BY_BOT: i64 = 50;
    /// Closed by an agent.
    pub const CLOSED_BY_AGENT: i64 = 51;
    /// Closed by the user.
    pub const CLOSED_BY_USER: i64 = 52;
}

/// `null` or missing as the type's default: Feishu leaves out empty lists
/// and a server may send `null` for them.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string, or a number taken as its decimal string: ids and times the
/// SDKs model as strings, which a server may send as numbers.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}

/// A person on a ticket (Feishu's `TicketUser`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketUser {
    /// The user's id (open_id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user's avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// The user's email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The name of the user's department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The user's city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// The user's country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A ticket's note (Feishu's `Comments`: one object, not a list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketComments {
    /// The note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// When it was written, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    /// The note's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Its writer's avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_avatar_url: Option<String>,
    /// Its writer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Its writer's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
}

/// A text in Feishu's three languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct I18n {
    /// Chinese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zh_cn: Option<String>,
    /// English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en_us: Option<String>,
    /// Japanese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja_jp: Option<String>,
}

/// A customized field's value on a ticket (`CustomizedFieldDisplayItem`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketFieldValue {
    /// The field's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its value; for a dropdown, an option's `tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The field's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// The field's name as shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Where it is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Whether it must be filled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Whether it may be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editable: Option<bool>,
}

/// A tag of a ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketTag {
    /// The tag's id.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The tag's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A ticket, field for field as Feishu's `Ticket` (oapi-sdk-go's model,
/// with Node's `tags`). Every field may be missing or `null`: a field the
/// server leaves out is `None` or empty, never a decoding error. Times are
/// integers as the server sends them (Feishu's are milliseconds); durations
/// are seconds, except `agent_service_duration`, in minutes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ticket {
    /// The ticket's id.
    #[serde(default, deserialize_with = "null_default")]
    pub ticket_id: String,
    /// The helpdesk it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helpdesk_id: Option<String>,
    /// The ticket's group chat (this server's; Feishu's events carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<TicketUser>,
    /// The agents' note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<TicketComments>,
    /// 1 with the bot, 2 with a human agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<i64>,
    /// See [`ticket_status`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// The user's rating: 1 unsatisfied, 2 neutral, 3 satisfied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<i64>,
    /// When it was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    /// When it last changed (-1 when never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// When it was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    /// Why the user was unsatisfied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dissatisfaction_reason: Option<I18n>,
    /// The agents on it.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub agents: Vec<TicketUser>,
    /// Where it came from: 9 Open API, 2 QR code, 14 share, 13 search…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<i64>,
    /// 1 not solved, 2 solved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solve: Option<i64>,
    /// Who closed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<TicketUser>,
    /// The collaborators.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub collaborators: Vec<TicketUser>,
    /// Its customized fields' values.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub customized_fields: Vec<TicketFieldValue>,
    /// From the agent's entry to the agent's last answer, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_service_duration: Option<f64>,
    /// From the agent's entry to the agent's first answer, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_first_response_duration: Option<i64>,
    /// From the ticket's creation to the agent's entry, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_service_duration: Option<i64>,
    /// From the agent's entry to the close, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_resolution_time: Option<i64>,
    /// From the agent's entry to the close, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_processing_time: Option<i64>,
    /// When an agent came in, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_entry_time: Option<i64>,
    /// When an agent first answered, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_first_response_time: Option<i64>,
    /// When an agent last answered, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_last_response_time: Option<i64>,
    /// The agent responsible for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_owner: Option<TicketUser>,
    /// Its tags.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<TicketTag>,
}

/// One page of the ticket list.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct TicketPage {
    /// How many tickets match (Feishu gives 10,000 at most in all).
    #[serde(default, deserialize_with = "null_default")]
    pub total: u64,
    /// This page's tickets.
    #[serde(default, deserialize_with = "null_default")]
    pub tickets: Vec<Ticket>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_whole_feishu_ticket_decodes_and_an_empty_one_too() {
        let t: Ticket = serde_json::from_value(json!({
            "ticket_id": "6626871355780366331", "helpdesk_id": "6626871355780366330",
            "guest": {"id": "ou_1", "avatar_url": "https://a", "name": "Ann", "email": "a@x",
                      "department": "IT", "city": "Paris", "country": "FR"},
            "comments": {"content": "called back", "created_at": 1616920429000i64, "id": 1,
                         "user_avatar_url": "https://b", "user_name": "Bob", "user_id": 2},
            "ticket_type": 2, "status": 51, "score": 3,
            "created_at": 1616920429000i64, "updated_at": -1, "closed_at": 1616920529000i64,
            "dissatisfaction_reason": {"zh_cn": "慢", "en_us": "slow"},
            "agents": [{"id": "ou_2", "name": "Bob"}], "channel": 9, "solve": 2,
            "closed_by": {"id": "ou_2"}, "collaborators": null,
            "customized_fields": [{"id": "f1", "value": "tag_a", "key_name": "k",
                "display_name": "K", "position": 2, "required": true, "editable": false}],
            "agent_service_duration": 1.5, "agent_first_response_duration": 30,
            "bot_service_duration": 12, "agent_resolution_time": 90, "actual_processing_time": 95,
            "agent_entry_time": 1616920430000i64, "agent_first_response_time": 1616920460000i64,
            "agent_last_response_time": 1616920500000i64, "agent_owner": {"id": "ou_2"},
            "tags": [{"id": 7, "name": "vpn"}, {"id": "8", "name": "mail"}],
            "a_field_feishu_adds_later": {"x": 1}
        }))
        .unwrap();
        assert_eq!(t.guest.as_ref().unwrap().country.as_deref(), Some("FR"));
        assert_eq!(t.comments.as_ref().unwrap().user_id, Some(2));
        assert_eq!(t.agents.len(), 1);
        assert!(t.collaborators.is_empty());
        assert_eq!(t.customized_fields[0].position, Some(2));
        assert_eq!(t.agent_service_duration, Some(1.5));
        let tags: Vec<_> = t.tags.iter().map(|t| t.id.as_deref().unwrap()).collect();
        assert_eq!(tags, ["7", "8"]);
        // What it prints is what it read (less the unknown field).
        let again: Ticket = serde_json::from_value(serde_json::to_value(&t).unwrap()).unwrap();
        assert_eq!(again, t);

        let empty: Ticket = serde_json::from_value(json!({"ticket_id": null})).unwrap();
        assert_eq!(empty, Ticket::default());
        assert_eq!(
            serde_json::to_value(&empty).unwrap(),
            json!({"ticket_id": ""})
        );
    }
}
