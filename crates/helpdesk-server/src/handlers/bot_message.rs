//! `POST /open-apis/helpdesk/v1/message`: the helpdesk bot sends a message,
//! into a ticket's chat (`receive_type` chat, the default: it becomes a
//! message of that ticket, with its event) or to a user of the tenant
//! (`receive_type` user: recorded for them).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use helpdesk_core::content::{self, MessageType};
use helpdesk_core::{ids, ApiError};
use helpdesk_store::{BotMessage, NewMessage, StoreError, CLOSED_STATUSES};
use serde_json::{json, Value};

use super::{json_object, string_field, tenant_images};
use crate::auth::HelpdeskWriter;
use crate::query;
use crate::response::{success, Failure};
use crate::AppState;

fn bad(detail: impl Into<String>) -> Failure {
    Failure(ApiError::BadRequest(detail.into()))
}

pub async fn bot_message(
    State(state): State<AppState>,
    HelpdeskWriter(caller): HelpdeskWriter,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let params = query::Params::of(&uri);
    match params.first("user_id_type").filter(|v| !v.is_empty()) {
        None | Some("open_id") => {}
        Some(t) => {
            return Err(bad(format!(
                "`user_id_type` {t:?}: this service names users by open_id only"
            )))
        }
    }
    let obj = json_object(&body).map_err(bad)?;
    let msg_type = string_field(&obj, "msg_type")
        .ok_or_else(|| bad("`msg_type` is one of text, post, image, interactive"))?;
    let content = match obj.get("content") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(v @ Value::Object(_)) => v.to_string(),
        _ => return Err(bad("`content` is the message's JSON content, as a string")),
    };
    let receiver = string_field(&obj, "receiver_id")
        .ok_or_else(|| bad("`receiver_id` is required: a ticket's chat_id, or a user's open_id"))?;
    let receive_type = string_field(&obj, "receive_type").unwrap_or("chat");
    let app = &caller.app;
    let message_id = match receive_type {
        "chat" => {
            let kind = MessageType::parse(msg_type).ok_or_else(|| {
                bad(format!(
                    "`msg_type` {msg_type:?}: a ticket's chat keeps text, post and image messages"
                ))
            })?;
            let ticket = state
                .meta
                .ticket_by_chat(&caller.helpdesk.helpdesk_id, receiver)
                .await?
                .ok_or_else(|| {
                    bad(format!(
                        "receiver_id {receiver} is not the chat of a ticket of this helpdesk"
                    ))
                })?;
            if CLOSED_STATUSES.contains(&ticket.status) {
                return Err(bad(format!(
                    "the ticket of chat {receiver} is closed: reopen it first"
                )));
            }
            let keys = content::image_keys(kind, &content).map_err(|e| bad(e.0))?;
            let ordered = tenant_images(&state, &app.tenant_key, &keys).await?;
            let message = state
                .meta
                .add_message(NewMessage {
                    ticket_id: &ticket.ticket_id,
                    message_type: kind,
                    content: &content,
                    user_id: "",
                    user_name: &caller.helpdesk.name,
                    avatar_url: "",
                    images: &ordered,
                })
                .await
                .map_err(|e| match e {
                    StoreError::Invalid(d) => bad(d),
                    e => e.into(),
                })?;
            state.events_ready.notify_one();
            message.message_id
        }
        "user" => {
            if !["text", "post", "image", "interactive"].contains(&msg_type) {
                return Err(bad("`msg_type` is one of text, post, image, interactive"));
            }
            if serde_json::from_str::<Value>(&content).is_err() {
                return Err(bad("`content` is a JSON document, as a string"));
            }
            if let Some(kind) = MessageType::parse(msg_type) {
                content::image_keys(kind, &content).map_err(|e| bad(e.0))?;
            }
            let message = BotMessage {
                seq: 0,
                message_id: ids::message_id(),
                app_id: app.app_id.clone(),
                tenant_key: app.tenant_key.clone(),
                receiver_id: receiver.to_string(),
                msg_type: msg_type.to_string(),
                content,
                created_at: helpdesk_store::now_ms(),
            };
            state
                .meta
                .add_bot_message(&message)
                .await
                .map_err(|e| match e {
                    StoreError::Invalid(d) => bad(d),
                    e => e.into(),
                })?;
            message.message_id
        }
        other => {
            return Err(bad(format!(
                "`receive_type` is chat or user, not {other:?}"
            )))
        }
    };
    Ok(success(json!({ "message_id": message_id })))
}
