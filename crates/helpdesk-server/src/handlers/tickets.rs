//! `POST /open-apis/helpdesk/v1/start_service` and
//! `GET /open-apis/helpdesk/v1/tickets/:ticket_id`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::Response;
use helpdesk_core::ApiError;
use helpdesk_store::{NewTicket, StoreError, Ticket};
use serde_json::{json, Value};

use super::{json_object, string_field, TicketId};
use crate::auth::{HelpdeskReader, HelpdeskWriter};
use crate::response::{success, Failure};
use crate::AppState;

pub async fn start_service(
    State(state): State<AppState>,
    HelpdeskWriter(caller): HelpdeskWriter,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let bad = |d: &str| Failure(ApiError::BadRequest(d.to_string()));
    let obj = json_object(&body).map_err(|e| bad(&e))?;
    let open_id = string_field(&obj, "open_id")
        .ok_or_else(|| bad("`open_id` of the customer is required"))?;
    let human_service = match obj.get("human_service") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("`human_service` is a boolean")),
    };
    let customized_info = match obj.get("customized_info") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(bad("`customized_info` is a string")),
    };
    let ticket = state
        .meta
        .create_ticket(NewTicket {
            helpdesk_id: &caller.helpdesk.helpdesk_id,
            guest_open_id: open_id,
            human_service,
            customized_info,
        })
        .await
        .map_err(|e| match e {
            StoreError::Invalid(d) => bad(&d),
            e => e.into(),
        })?;
    state.events_ready.notify_one();
    Ok(success(
        json!({"chat_id": ticket.chat_id, "ticket_id": ticket.ticket_id}),
    ))
}

fn ticket_json(t: &Ticket) -> Value {
    json!({
        "ticket_id": t.ticket_id,
        "helpdesk_id": t.helpdesk_id,
        "chat_id": t.chat_id,
        "guest": {"id": t.guest_open_id, "name": ""},
        "status": t.status,
        "ticket_type": if t.human_service { 2 } else { 1 },
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "closed_at": 0,
        "solve": 0,
        "channel": 0,
        "customized_fields": [],
    })
}

pub async fn get_ticket(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    TicketId(ticket_id): TicketId,
) -> Result<Response, Failure> {
    let ticket = state
        .meta
        .ticket(&caller.helpdesk.helpdesk_id, &ticket_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {ticket_id} in this helpdesk")))?;
    Ok(success(json!({"ticket": ticket_json(&ticket)})))
}
