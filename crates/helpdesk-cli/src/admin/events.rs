//! `admin events show`: one event and every delivery attempt kept of it.

use anyhow::Result;
use base64::Engine;
use helpdesk_store::records::EventAttemptRow;
use helpdesk_store::{Entity, EventRepo, StoreError};
use serde_json::{json, Value};

/// `{"event": {...}, "attempts": [...]}`.
pub(super) async fn show(meta: &dyn EventRepo, event_id: &str) -> Result<Value> {
    let event = meta
        .event(event_id)
        .await?
        .ok_or_else(|| super::explain(StoreError::not_found(Entity::Event, event_id)))?;
    let attempts = meta.event_attempts(event_id).await?;
    let mut shown = serde_json::to_value(&event)?;
    shown["state"] = json!(event.state().as_str());
    shown["next_retry_at"] = json!(event.next_retry_at());
    // The document as recorded: its token is set only as it is sent.
    shown["payload"] = serde_json::from_str(&event.body).unwrap_or(Value::Null);
    Ok(json!({
        "event": shown,
        "attempts": attempts.iter().map(attempt_json).collect::<Vec<_>>(),
    }))
}

fn attempt_json(a: &EventAttemptRow) -> Value {
    let (body, encoding) = match a.body_text() {
        Some(text) => (text.to_string(), "utf-8"),
        None => (
            base64::engine::general_purpose::STANDARD.encode(&a.response_body),
            "base64",
        ),
    };
    json!({
        "attempt": a.attempt,
        "started_at": a.started_at,
        "duration_ms": a.duration_ms,
        "request_headers": a.request_headers(),
        "status": a.status,
        "response_headers": a.response_headers(),
        "body": body,
        "body_encoding": encoding,
        "body_bytes": a.response_body.len(),
        "body_truncated": a.body_truncated,
        "error": a.error,
    })
}
