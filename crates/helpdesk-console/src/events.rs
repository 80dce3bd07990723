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

/// An event and whose it is.
pub struct Listed {
    pub tenant_key: String,
    pub event: EventRow,
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
    let app = q.app.unwrap_or_default();
    let event_type = q.event_type.unwrap_or_default();
    let wanted_status = q.status.unwrap_or_default();
    let events = listed(
        &console,
        &who,
        &app,
        wanted_status == "failed",
        EVENTS_SHOWN,
    )
    .await
    .map_err(failed)?
    .into_iter()
    .filter(|l| event_type.is_empty() || l.event.event_type == event_type)
    .filter(|l| wanted_status.is_empty() || status(&l.event) == wanted_status)
    .collect();
    Ok(EventsPage {
        events,
        app,
        event_type,
        status: wanted_status,
    }
    .into_response())
}

/// The events the session may see, of one app (`app` not empty) or all,
/// failed ones only or all, newest first, at most `limit` an app.
pub async fn listed(
    console: &Console,
    who: &Principal,
    app: &str,
    failed_only: bool,
    limit: u32,
) -> Result<Vec<Listed>, helpdesk_store::StoreError> {
    let meta = &console.stores.meta;
    let mut events = Vec::new();
    for tenant in meta.tenant_counts().await? {
        if !who.scope.sees(&tenant.tenant_key) {
            continue;
        }
        for a in meta.apps(Some(&tenant.tenant_key)).await? {
            if !app.is_empty() && a.app_id != app {
                continue;
            }
            let rows = meta.list_events(&a.app_id, failed_only, limit).await?;
            events.extend(rows.into_iter().map(|event| Listed {
                tenant_key: tenant.tenant_key.clone(),
                event,
            }));
        }
    }
    events.sort_by_key(|l| std::cmp::Reverse(l.event.created_at));
    Ok(events)
}

/// One attempt as its part shows it.
pub struct AttemptView {
    pub attempt: EventAttemptRow,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub body: String,
}

impl AttemptView {
    pub fn of(attempt: EventAttemptRow) -> AttemptView {
        AttemptView {
            request_headers: headers(&attempt.request_headers),
            response_headers: headers(&attempt.response_headers),
            body: String::from_utf8_lossy(&attempt.response_body).into_owned(),
            attempt,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "event.html")]
struct EventPage {
    tenant_key: String,
    event: EventRow,
    payload: String,
    attempts: Vec<AttemptView>,
    read_only: bool,
    /// The live stream starts after this row of the feed.
    head: i64,
    /// The event, sealed and signed afresh, as a curl to its app's URL.
    curl: Option<String>,
    oob: bool,
}

fn headers(json: &str) -> Vec<(String, String)> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The event `id` and its tenant, when the session may see it.
pub async fn visible_event(
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
    // Read before the attempts: one that commits in between comes in both,
    // and console.js drops the stream's copy; read after, it would be in
    // neither.
    let head = console.stores.meta.activity_head().await.map_err(failed)?;
    let attempts = console
        .stores
        .meta
        .event_attempts(&event.event_id)
        .await
        .map_err(failed)?
        .into_iter()
        .map(AttemptView::of)
        .collect();
    let curl = console
        .stores
        .meta
        .event_config(&event.app_id)
        .await
        .map_err(failed)?
        .and_then(|config| curl(&event.body, &config));
    let payload = serde_json::from_str::<serde_json::Value>(&event.body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| event.body.clone());
    Ok(EventPage {
        tenant_key,
        event,
        payload,
        attempts,
        read_only: who.read_only,
        head,
        curl,
        oob: false,
    }
    .into_response())
}

/// `POST /events/{id}/redeliver`: a new attempt, the same event_id.
pub async fn redeliver(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
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
    // From the page's script (htmx): the new attempt comes by the live
    // stream, the page stays. From a plain form: back to the page.
    if headers.contains_key("hx-request") {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Redirect::to(&format!(
        "/events/{}",
        crate::pages::path_part(&event.event_id)
    ))
    .into_response())
}

/// `body` (the stored event) as a curl that delivers it to the app's URL,
/// sealed and signed now, as the delivery would; None when it is not JSON
/// or the app has no URL. The encrypt key itself is never shown.
fn curl(body: &str, config: &helpdesk_store::EventConfig) -> Option<String> {
    if config.url.is_empty() {
        return None;
    }
    let document: serde_json::Value = serde_json::from_str(body).ok()?;
    let sealed = helpdesk_core::events::seal(
        &document,
        &config.encrypt_key,
        helpdesk_store::now_ms() / 1000,
    );
    let mut out = format!("curl -X POST {}", shell_quote(&config.url));
    out.push_str(" \\\n  -H 'Content-Type: application/json; charset=utf-8'");
    for (name, value) in &sealed.headers {
        out.push_str(&format!(
            " \\\n  -H {}",
            shell_quote(&format!("{name}: {value}"))
        ));
    }
    out.push_str(&format!(" \\\n  --data-raw {}", shell_quote(&sealed.body)));
    Some(out)
}

/// `s` as one word for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_survive_the_shell() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("a b"), "'a b'");
    }
}
