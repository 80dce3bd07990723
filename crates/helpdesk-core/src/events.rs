//! Helpdesk events as Feishu pushes them to an app's event URL: the schema
//! 2.0 envelope, the two events this service emits, the subscription names
//! the subscribe API takes, and the security Feishu wraps them in (AES-256-CBC
//! under the SHA-256 of the app's encrypt key, and a SHA-256 signature over
//! timestamp, nonce, key and body).

use crate::wire::header;
use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A new ticket, on `start_service`.
pub const TICKET_CREATED: &str = "helpdesk.ticket.created_v1";
/// A new message in a ticket.
pub const TICKET_MESSAGE_CREATED: &str = "helpdesk.ticket_message.created_v1";
/// A ticket changed (`PUT /tickets/:id`).
pub const TICKET_UPDATED: &str = "helpdesk.ticket.updated_v1";
/// The events this service emits.
pub const EVENT_TYPES: [&str; 3] = [TICKET_CREATED, TICKET_MESSAGE_CREATED, TICKET_UPDATED];

/// The event type a subscription's `{"type", "subtype"}` names, as the
/// subscribe API takes them (`helpdesk.ticket_message` and
/// `ticket_message.created_v1`), if this service emits it.
pub fn event_type(kind: &str, subtype: &str) -> Option<&'static str> {
    let (object, _) = subtype.split_once('.')?;
    if kind.strip_prefix("helpdesk.") != Some(object) {
        return None;
    }
    let full = format!("helpdesk.{subtype}");
    EVENT_TYPES.into_iter().find(|t| *t == full)
}

/// A new event id: 32 hex digits, as Feishu's look.
pub fn event_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill(&mut bytes);
    hex::encode(bytes)
}

/// The schema 2.0 envelope; `token` (the app's verification token) is set
/// when the event is sent, so that a changed token applies to events
/// already recorded.
pub fn envelope(
    event_id: &str,
    event_type: &str,
    create_time_ms: i64,
    app_id: &str,
    tenant_key: &str,
    event: Value,
) -> Value {
    json!({
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "event_type": event_type,
            "create_time": create_time_ms.to_string(),
            "token": "",
            "app_id": app_id,
            "tenant_key": tenant_key,
        },
        "event": event,
    })
}

/// A user as the events name one: by open_id.
fn user(open_id: &str, name: Option<&str>) -> Value {
    let mut v = json!({"id": {"open_id": open_id, "user_id": "", "union_id": ""}});
    if let Some(name) = name {
        v["name"] = json!(name);
    }
    v
}

/// What `helpdesk.ticket.created_v1` says of a ticket.
pub struct TicketFacts<'a> {
    pub ticket_id: &'a str,
    pub helpdesk_id: &'a str,
    pub chat_id: &'a str,
    pub guest_open_id: &'a str,
    pub human_service: bool,
    pub status: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The `event` of `helpdesk.ticket.created_v1`.
pub fn ticket_created(t: &TicketFacts<'_>) -> Value {
    json!({
        "ticket_id": t.ticket_id,
        "helpdesk_id": t.helpdesk_id,
        "guest": user(t.guest_open_id, None),
        // 1: with the bot, 2: with a person.
        "stage": if t.human_service { 2 } else { 1 },
        "status": t.status,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "chat_id": t.chat_id,
        "channel": 0,
        "solve": 0,
    })
}

/// A person as `helpdesk.ticket.updated_v1` names one: open_id and name.
pub struct Person<'a> {
    pub open_id: &'a str,
    pub name: &'a str,
}

/// What `helpdesk.ticket.updated_v1` says: the ticket now, and the stage,
/// status and update time it had.
pub struct TicketUpdated<'a> {
    pub ticket: TicketFacts<'a>,
    pub guest_name: &'a str,
    pub score: i64,
    pub closed_at: i64,
    pub channel: i64,
    pub solve: i64,
    pub agents: Vec<Person<'a>>,
    pub closed_by: Option<Person<'a>>,
    /// `[{id, value, key_name}]`, as the ticket shows them.
    pub customized_fields: Value,
    pub old_human_service: bool,
    pub old_status: i64,
    pub old_updated_at: i64,
}

/// The `event` of `helpdesk.ticket.updated_v1`: `object` (the SDKs'
/// `TicketEvent`) and `old_object` (`TicketEventUpdateInfo`).
pub fn ticket_updated(u: &TicketUpdated<'_>) -> Value {
    let t = &u.ticket;
    let person = |p: &Person<'_>| user(p.open_id, Some(p.name));
    json!({
        "object": {
            "ticket_id": t.ticket_id,
            "helpdesk_id": t.helpdesk_id,
            "guest": user(t.guest_open_id, Some(u.guest_name)),
            "stage": if t.human_service { 2 } else { 1 },
            "status": t.status,
            "score": u.score,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "closed_at": u.closed_at,
            "agents": u.agents.iter().map(person).collect::<Vec<_>>(),
            "channel": u.channel,
            "solve": u.solve,
            "closed_by": u.closed_by.as_ref().map(person),
            "collaborators": [],
            "customized_fields": u.customized_fields,
            "chat_id": t.chat_id,
        },
        "old_object": {
            "stage": if u.old_human_service { 2 } else { 1 },
            "status": u.old_status,
            "updated_at": u.old_updated_at,
        },
    })
}

/// What `helpdesk.ticket_message.created_v1` says of a message.
pub struct MessageFacts<'a> {
    pub id: &'a str,
    pub message_id: &'a str,
    /// `text`, `image` or `post`.
    pub msg_type: &'a str,
    /// The content as posted: a JSON document.
    pub content: &'a str,
    pub image_keys: &'a [String],
    pub sender_open_id: &'a str,
    /// Its place in the ticket, from 1.
    pub position: i64,
    pub ticket: TicketFacts<'a>,
}

/// The `event` of `helpdesk.ticket_message.created_v1`: `content` carries
/// `image_key` (an image message) or `image_keys` (a post), so that the
/// receiver can fetch them with `ticket_images`.
pub fn message_created(m: &MessageFacts<'_>, event_id: &str) -> Value {
    let parsed: Value = serde_json::from_str(m.content).unwrap_or(Value::Null);
    let text = parsed.get("text").and_then(Value::as_str).unwrap_or("");
    let mut content = json!({"msg_type": m.msg_type, "content": m.content});
    match m.msg_type {
        "image" => content["image_key"] = json!(m.image_keys.first()),
        "post" => content["image_keys"] = json!(m.image_keys),
        _ => content["content"] = json!(text),
    }
    let guest = m.sender_open_id == m.ticket.guest_open_id;
    json!({
        "ticket_message_id": m.id,
        "message_id": m.message_id,
        "msg_type": m.msg_type,
        "position": m.position.to_string(),
        "sender_id": {"open_id": m.sender_open_id, "user_id": "", "union_id": ""},
        // 1: the customer, 2: an agent or the app.
        "sender_type": if guest { 1 } else { 2 },
        "text": text,
        "ticket": {
            "ticket_id": m.ticket.ticket_id,
            "helpdesk_id": m.ticket.helpdesk_id,
            // The SDKs model this ticket as `Ticket`, whose guest is a
            // `TicketUser` with a string id (Go and Java refuse an object
            // here), unlike ticket.created_v1's `TicketUserEvent`.
            "guest": {"id": m.ticket.guest_open_id},
            "status": m.ticket.status,
            "created_at": m.ticket.created_at,
            "updated_at": m.ticket.updated_at,
            "chat_id": m.ticket.chat_id,
        },
        "event_id": event_id,
        "chat_id": m.ticket.chat_id,
        "content": content,
    })
}

/// The body and headers of a delivery: with an encrypt key, the body is
/// `{"encrypt": ...}` and the headers carry the timestamp, nonce and
/// signature; without one, the event as it is and no signature.
pub struct Sealed {
    pub body: String,
    /// `(name, value)`, in Feishu's spelling.
    pub headers: Vec<(&'static str, String)>,
}

/// Encrypts `plain` as Feishu does: AES-256-CBC, key SHA-256 of the encrypt
/// key, a random IV in front, PKCS#7, base64.
pub fn encrypt(encrypt_key: &str, plain: &[u8]) -> String {
    let key: [u8; 32] = Sha256::digest(encrypt_key.as_bytes()).into();
    let mut iv = [0u8; 16];
    rand::thread_rng().fill(&mut iv);
    let mut buf = vec![0u8; plain.len() + 16 - plain.len() % 16];
    buf[..plain.len()].copy_from_slice(plain);
    let cipher = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into());
    // The buffer has room for a whole block of padding: this cannot fail.
    let sealed = cipher
        .encrypt_padded_mut::<Pkcs7>(&mut buf, plain.len())
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let mut out = iv.to_vec();
    out.extend_from_slice(&sealed);
    STANDARD.encode(out)
}

/// Hex SHA-256 of timestamp, nonce, encrypt key and body, as
/// `X-Lark-Signature` carries it.
pub fn signature(timestamp: &str, nonce: &str, encrypt_key: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(timestamp.as_bytes());
    h.update(nonce.as_bytes());
    h.update(encrypt_key.as_bytes());
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// Seals a JSON document for delivery to an app with this encrypt key
/// (none: sent as it is, unsigned).
pub fn seal(document: &Value, encrypt_key: &str, now_secs: i64) -> Sealed {
    let plain = document.to_string();
    if encrypt_key.is_empty() {
        return Sealed {
            body: plain,
            headers: Vec::new(),
        };
    }
    // Compact JSON, as the Node SDK signs what JSON.stringify gives back.
    let body = json!({"encrypt": encrypt(encrypt_key, plain.as_bytes())}).to_string();
    let timestamp = now_secs.to_string();
    let nonce = {
        let mut n = [0u8; 8];
        rand::thread_rng().fill(&mut n);
        hex::encode(n)
    };
    let sig = signature(&timestamp, &nonce, encrypt_key, &body);
    Sealed {
        body,
        headers: vec![
            (header::REQUEST_TIMESTAMP, timestamp),
            (header::REQUEST_NONCE, nonce),
            (header::SIGNATURE, sig),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockDecryptMut;

    #[test]
    fn subscriptions_name_the_events_this_service_emits() {
        assert_eq!(
            event_type("helpdesk.ticket_message", "ticket_message.created_v1"),
            Some(TICKET_MESSAGE_CREATED)
        );
        assert_eq!(
            event_type("helpdesk.ticket", "ticket.created_v1"),
            Some(TICKET_CREATED)
        );
        assert_eq!(
            event_type("helpdesk.ticket", "ticket_message.created_v1"),
            None
        );
        assert_eq!(
            event_type("helpdesk.ticket", "ticket.updated_v1"),
            Some(TICKET_UPDATED)
        );
        assert_eq!(event_type("helpdesk.ticket", "ticket.deleted_v1"), None);
        assert_eq!(event_type("im.message", "message.receive_v1"), None);
    }

    #[test]
    fn each_event_names_its_guest_as_the_sdks_model_it() {
        let facts = || TicketFacts {
            ticket_id: "7",
            helpdesk_id: "1",
            chat_id: "oc_1",
            guest_open_id: "ou_guest",
            human_service: true,
            status: 1,
            created_at: 1,
            updated_at: 2,
        };
        // ticket.created_v1: TicketUserEvent, its id a UserId object.
        let created = ticket_created(&facts());
        assert_eq!(created["guest"]["id"]["open_id"], "ou_guest");
        // ticket_message.created_v1: the ticket's guest is a TicketUser.
        let message = message_created(
            &MessageFacts {
                id: "m1",
                message_id: "om_1",
                msg_type: "text",
                content: r#"{"text":"hi"}"#,
                image_keys: &[],
                sender_open_id: "ou_guest",
                position: 1,
                ticket: facts(),
            },
            "ev_1",
        );
        assert_eq!(message["ticket"]["guest"]["id"], "ou_guest");
        assert_eq!(message["sender_id"]["open_id"], "ou_guest");
    }

    #[test]
    fn sealed_bodies_decrypt_and_their_signature_covers_the_body() {
        let doc = json!({"schema": "2.0", "text": "é".repeat(40)});
        let sealed = seal(&doc, "k3y", 1_700_000_000);
        let v: Value = serde_json::from_str(&sealed.body).unwrap();
        let raw = STANDARD.decode(v["encrypt"].as_str().unwrap()).unwrap();
        let key: [u8; 32] = Sha256::digest(b"k3y").into();
        let (iv, rest) = raw.split_at(16);
        let mut buf = rest.to_vec();
        let plain = cbc::Decryptor::<aes::Aes256>::new(&key.into(), iv.into())
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .unwrap();
        assert_eq!(serde_json::from_slice::<Value>(plain).unwrap(), doc);
        let (ts, nonce, sig) = (
            &sealed.headers[0].1,
            &sealed.headers[1].1,
            &sealed.headers[2].1,
        );
        assert_eq!(*sig, signature(ts, nonce, "k3y", &sealed.body));
        assert!(seal(&doc, "", 0).headers.is_empty());
    }
}
