//! `POST /open-apis/helpdesk/v1/events/subscribe` and `.../unsubscribe`:
//! which helpdesk events of a helpdesk the calling app receives (at the
//! event URL its admin configured). Body: `{"events": [{"type", "subtype"}]}`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::Response;
use helpdesk_core::{events, ApiError};
use serde_json::{json, Value};

use super::json_object;
use crate::auth::HelpdeskReader;
use crate::response::{success, Failure};
use crate::AppState;

/// The event types a body names; 154000 naming what is wrong otherwise.
fn event_types(body: &Result<Bytes, BytesRejection>) -> Result<Vec<&'static str>, Failure> {
    let bad = |d: String| Failure(ApiError::BadRequest(d));
    let obj = json_object(body).map_err(bad)?;
    let Some(Value::Array(list)) = obj.get("events") else {
        return Err(bad(
            "send {\"events\": [{\"type\": \"helpdesk.ticket_message\", \"subtype\": \"ticket_message.created_v1\"}]}".into(),
        ));
    };
    if list.is_empty() {
        return Err(bad("`events` is empty".into()));
    }
    list.iter()
        .map(|e| {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
            let subtype = e.get("subtype").and_then(Value::as_str).unwrap_or("");
            events::event_type(kind, subtype).ok_or_else(|| {
                bad(format!(
                    "unsupported event {kind:?}/{subtype:?}: this server emits helpdesk.ticket/ticket.created_v1 and helpdesk.ticket_message/ticket_message.created_v1"
                ))
            })
        })
        .collect()
}

async fn change(
    state: &AppState,
    caller: &HelpdeskReader,
    body: &Result<Bytes, BytesRejection>,
    subscribe: bool,
) -> Result<Response, Failure> {
    let types = event_types(body)?;
    state
        .meta
        .subscribe_events(
            &caller.0.app.app_id,
            &caller.0.helpdesk.helpdesk_id,
            &types,
            subscribe,
        )
        .await?;
    Ok(success(json!({})))
}

pub async fn subscribe(
    State(state): State<AppState>,
    caller: HelpdeskReader,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    change(&state, &caller, &body, true).await
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: HelpdeskReader,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    change(&state, &caller, &body, false).await
}
