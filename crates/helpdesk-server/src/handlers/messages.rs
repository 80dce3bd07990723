//! `POST` and `GET /open-apis/helpdesk/v1/tickets/:ticket_id/messages`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use helpdesk_core::content::{self, MessageType};
use helpdesk_core::ApiError;
use helpdesk_store::{Message, MessageFilter, NewMessage, StoreError, Ticket, CLOSED_STATUSES};
use serde_json::{json, Value};

use super::{json_object, string_field, tenant_images, TicketId};
use crate::auth::{HelpdeskCaller, HelpdeskReader, HelpdeskWriter};
use crate::query;
use crate::response::{success, Failure};
use crate::AppState;

const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 200;

fn bad(detail: impl Into<String>) -> Failure {
    Failure(ApiError::BadRequest(detail.into()))
}

async fn require_ticket(
    state: &AppState,
    caller: &HelpdeskCaller,
    ticket_id: &str,
) -> Result<Ticket, Failure> {
    match state
        .meta
        .ticket(&caller.helpdesk.helpdesk_id, ticket_id)
        .await?
    {
        Some(t) => Ok(t),
        None => Err(ApiError::NotFound(format!("no ticket {ticket_id} in this helpdesk")).into()),
    }
}

pub async fn create_message(
    State(state): State<AppState>,
    HelpdeskWriter(caller): HelpdeskWriter,
    TicketId(ticket_id): TicketId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let ticket = require_ticket(&state, &caller, &ticket_id).await?;
    // Feishu's chat of a closed ticket takes no more messages.
    if CLOSED_STATUSES.contains(&ticket.status) {
        return Err(bad(format!(
            "ticket {ticket_id} is closed (status {}): reopen it first (PUT /tickets/{ticket_id} with status 1 or 2)",
            ticket.status
        )));
    }
    let obj = json_object(&body).map_err(bad)?;
    let msg_type = string_field(&obj, "msg_type")
        .and_then(MessageType::parse)
        .ok_or_else(|| bad("`msg_type` is one of text, image, post"))?;
    // `content` is a JSON document sent as a string; an object is taken too.
    let content = match obj.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(v @ Value::Object(_)) => v.to_string(),
        _ => return Err(bad("`content` is the message's JSON content, as a string")),
    };
    let keys = content::image_keys(msg_type, &content).map_err(|e| bad(e.0))?;
    let ordered = tenant_images(&state, &caller.app.tenant_key, &keys).await?;
    let message = state
        .meta
        .add_message(NewMessage {
            ticket_id: &ticket_id,
            message_type: msg_type,
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
    Ok(success(json!({"message_id": message.message_id})))
}

fn message_json(m: &Message) -> Value {
    json!({
        "id": m.id,
        "message_id": m.message_id,
        "message_type": m.message_type,
        "created_at": m.created_at,
        "content": m.content,
        "user_name": m.user_name,
        "avatar_url": m.avatar_url,
        "user_id": m.user_id,
    })
}

fn int_param(
    params: &std::collections::HashMap<String, String>,
    name: &str,
) -> Result<Option<i64>, Failure> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| bad(format!("`{name}` is an integer")))
        })
        .transpose()
}

pub async fn list_messages(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    TicketId(ticket_id): TicketId,
    uri: Uri,
) -> Result<Response, Failure> {
    let params = query::params(&uri);
    let time_start = int_param(&params, "time_start")?;
    let time_end = int_param(&params, "time_end")?;
    let page = int_param(&params, "page")?.unwrap_or(1);
    let page_size = int_param(&params, "page_size")?.unwrap_or(DEFAULT_PAGE_SIZE as i64);
    if page < 1 {
        return Err(bad("`page` starts at 1"));
    }
    if !(1..=MAX_PAGE_SIZE as i64).contains(&page_size) {
        return Err(bad(format!("`page_size` is from 1 to {MAX_PAGE_SIZE}")));
    }
    require_ticket(&state, &caller, &ticket_id).await?;
    let filter = MessageFilter {
        time_start,
        time_end,
        offset: (page as u64 - 1).saturating_mul(page_size as u64),
        limit: page_size as u64,
    };
    let page = state.meta.messages(&ticket_id, &filter).await?;
    Ok(success(json!({
        "messages": page.messages.iter().map(message_json).collect::<Vec<_>>(),
        "total": page.total,
    })))
}
