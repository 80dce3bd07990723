//! The console's event pages: deliveries by app, type and status, and one
//! event with its payload and every attempt, with Redeliver.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use helpdesk_store::records::{EventAttemptRow, EventRow};
use serde::Deserialize;

use crate::auth::Principal;
use crate::pages::{failed, not_found, Page};
use crate::Console;

/// Events listed per app.
const EVENTS_SHOWN: u32 = 200;

/// An event's state, as people say it.
pub fn status(e: &EventRow) -> &'static str {
    if e.delivered_at.is_some() {
        "delivered"
    } else if e.failed_at.is_some() {
        "failed"
    } else {
        "pending"
    }
}

/// UTC from Unix milliseconds.
pub fn utc_ms(ms: &i64) -> String {
    crate::pages::utc(&(ms / 1000))
}

struct Listed {
    tenant_key: String,
    event: EventRow,
}

#[derive(Template, WebTemplate)]
#[template(path = "events.html")]
struct EventsPage {
    events: Vec<Listed>,
    app: String,
    event_type: String,
    status: String,
}

#[derive(Deserialize)]
pub struct EventsQuery {
    app: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    status: Option<String>,
}

pub async fn events(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<EventsQuery>,
) -> Page {
    let meta = &console.stores.meta;
    let app = q.app.unwrap_or_default();
    let event_type = q.event_type.unwrap_or_default();
    let wanted_status = q.status.unwrap_or_default();
    let mut events = Vec::new();
    for tenant in meta.tenant_counts().await.map_err(failed)? {
        if !who.scope.sees(&tenant.tenant_key) {
            continue;
        }
        for a in meta.apps(Some(&tenant.tenant_key)).await.map_err(failed)? {
            if !app.is_empty() && a.app_id != app {
                continue;
            }
            let rows = meta
                .list_events(&a.app_id, wanted_status == "failed", EVENTS_SHOWN)
                .await
                .map_err(failed)?;
            events.extend(
                rows.into_iter()
                    .filter(|e| event_type.is_empty() || e.event_type == event_type)
                    .filter(|e| wanted_status.is_empty() || status(e) == wanted_status)
                    .map(|event| Listed {
                        tenant_key: tenant.tenant_key.clone(),
                        event,
                    }),
            );
        }
    }
    events.sort_by_key(|l| std::cmp::Reverse(l.event.created_at));
    Ok(EventsPage {
        events,
        app,
        event_type,
        status: wanted_status,
    }
    .into_response())
}

struct AttemptView {
    attempt: EventAttemptRow,
    request_headers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
    body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "event.html")]
struct EventPage {
    tenant_key: String,
    event: EventRow,
    payload: String,
    attempts: Vec<AttemptView>,
    read_only: bool,
}

fn headers(json: &str) -> Vec<(String, String)> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The event `id` and its tenant, when the session may see it.
async fn visible_event(
    console: &Console,
    who: &Principal,
    id: &str,
) -> Result<(String, EventRow), Response> {
    let meta = &console.stores.meta;
    let Some(event) = meta.event(id).await.map_err(failed)? else {
        return Err(not_found().await);
    };
    match meta.app(&event.app_id).await.map_err(failed)? {
        Some(app) if who.scope.sees(&app.tenant_key) => Ok((app.tenant_key, event)),
        _ => Err(not_found().await),
    }
}

pub async fn event(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    let (tenant_key, event) = visible_event(&console, &who, &id).await?;
    let attempts = console
        .stores
        .meta
        .event_attempts(&event.event_id)
        .await
        .map_err(failed)?
        .into_iter()
        .map(|attempt| AttemptView {
            request_headers: headers(&attempt.request_headers),
            response_headers: headers(&attempt.response_headers),
            body: String::from_utf8_lossy(&attempt.response_body).into_owned(),
            attempt,
        })
        .collect();
    let payload = serde_json::from_str::<serde_json::Value>(&event.body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| event.body.clone());
    Ok(EventPage {
        tenant_key,
        event,
        payload,
        attempts,
        read_only: who.read_only,
    }
    .into_response())
}

/// `POST /events/{id}/redeliver`: a new attempt, the same event_id.
pub async fn redeliver(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    let (_, event) = visible_event(&console, &who, &id).await?;
    if who.read_only {
        return Err(crate::guard::plain(
            StatusCode::FORBIDDEN,
            "this console token is read-only: ask for one without --read-only",
        ));
    }
    console
        .stores
        .meta
        .redeliver_event(&event.event_id, helpdesk_store::now_ms())
        .await
        .map_err(failed)?;
    Ok(Redirect::to(&format!(
        "/events/{}",
        crate::pages::path_part(&event.event_id)
    ))
    .into_response())
}
