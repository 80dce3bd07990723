//! What the console's pages share (errors, sign-in, dates and sizes, ids
//! as path parts), the front page, `/go` and the embedded assets; a
//! tenant's page is in `tenants`, a ticket's in `tickets`, beside `events`
//! and `faqs`. Every handler reads through the session's scope: a foreign
//! tenant's item is `not_found`, the same page a missing one gets.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use helpdesk_store::{Located, StoreError};
use serde::Deserialize;

use crate::auth::{Principal, Scope, COOKIE};
use crate::Console;

/// What a page answers when something failed: one line, logged once here.
pub type Page = Result<Response, Response>;

pub fn failed(e: StoreError) -> Response {
    tracing::error!(error = %e, "console: storage failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "storage failed; the server's log says why",
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct SignIn {
    error: Option<&'static str>,
}

/// The sign-in page, with `status`.
pub fn sign_in_page(status: StatusCode, error: Option<&'static str>) -> Response {
    (status, SignIn { error }).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "not_found.html")]
struct NotFound;

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, NotFound).into_response()
}

#[derive(Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
}

/// `/login?token=T`: opens a session and goes to `/` without the token.
pub async fn login(State(console): State<Arc<Console>>, Query(q): Query<LoginQuery>) -> Response {
    let Some(token) = q.token.filter(|t| !t.is_empty()) else {
        return sign_in_page(StatusCode::OK, None);
    };
    let token = token.trim();
    let principal = if console.auth.local_token(token) {
        Some(Principal::operator())
    } else {
        let digest = helpdesk_store::secret::digest(token);
        match console.stores.meta.live_console_token(&digest).await {
            Ok(found) => found.map(|t| Principal {
                scope: match t.tenant_key {
                    Some(key) => Scope::Tenant(key),
                    None => Scope::All,
                },
                read_only: t.read_only,
                token_id: Some(t.token_id),
            }),
            Err(e) => return failed(e),
        }
    };
    match principal.and_then(|p| console.auth.open(p)) {
        Some(session) => {
            let mut res = Redirect::to("/").into_response();
            // Secure when people reach it over https: never sent in clear.
            let secure = console
                .public_origin
                .as_deref()
                .is_some_and(|o| o.starts_with("https://"));
            let cookie = format!(
                "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/{}",
                if secure { "; Secure" } else { "" }
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        None => sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid (a start-up link works once): ask for a new one."),
        ),
    }
}

/// UTC, as `2026-12-02 03:04:05`, from Unix seconds.
pub fn utc(secs: &i64) -> String {
    let (y, m, d, h, mi, s) = civil(*secs);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// Year, month, day, hour, minute, second (UTC) of Unix seconds.
pub fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (UTC); None if it is not one.
pub fn days_from_civil(date: &str) -> Option<i64> {
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&year) {
        return None;
    }
    // Howard Hinnant's algorithm, the inverse of `civil`.
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // 2026-02-31 is not a day: it must read back as itself.
    let (yy, mm, dd, ..) = civil(days * 86_400);
    (yy == year && mm == m && dd == d).then_some(days)
}

/// Bytes as people read them.
pub fn size(bytes: &u64) -> String {
    let b = *bytes as f64;
    match *bytes {
        0..=1023 => format!("{bytes} B"),
        1024..=1_048_575 => format!("{:.1} KiB", b / 1024.0),
        _ => format!("{:.1} MiB", b / 1_048_576.0),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct Index {
    tenants: Vec<helpdesk_store::TenantCounts>,
    /// The latest activity, newest first.
    recent: Vec<crate::live::ActivityView>,
    failed: Vec<crate::events::Listed>,
    head: i64,
}

/// Activity rows the front page shows before its stream adds more.
const RECENT_SHOWN: usize = 20;
/// Rows of the feed the front page reads to find them.
const RECENT_READ: i64 = 500;
/// Failed deliveries the front page lists.
const FAILED_SHOWN: usize = 10;

pub async fn index(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
) -> Page {
    let meta = &console.stores.meta;
    let mut tenants = meta.tenant_counts().await.map_err(failed)?;
    tenants.retain(|t| who.scope.sees(&t.tenant_key));
    let head = meta.activity_head().await.map_err(failed)?;
    let mut recent: Vec<_> = meta
        .activity_after((head - RECENT_READ).max(0), RECENT_READ as u32)
        .await
        .map_err(failed)?
        .iter()
        .rev()
        .filter(|a| who.scope.sees(&a.tenant_key))
        .map(crate::live::ActivityView::of)
        .collect();
    recent.truncate(RECENT_SHOWN);
    let mut failed_events = crate::events::listed(&console, &who, "", true, FAILED_SHOWN as u32)
        .await
        .map_err(failed)?;
    failed_events.truncate(FAILED_SHOWN);
    Ok(Index {
        tenants,
        recent,
        failed: failed_events,
        head,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct GoQuery {
    id: Option<String>,
}

/// `/go?id=`: the page of whatever a ticket, message, image key, FAQ or
/// event id names.
pub async fn go(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<GoQuery>,
) -> Page {
    let id = q.id.unwrap_or_default();
    let id = id.trim();
    if id.is_empty() {
        return Err(not_found().await);
    }
    let found = console.stores.meta.locate(id).await.map_err(failed)?;
    match found {
        Some(found) if who.scope.sees(found.tenant_key()) => Ok(match found {
            Located::Ticket { ticket_id, .. } => {
                Redirect::to(&format!("/tickets/{}", path_part(&ticket_id))).into_response()
            }
            Located::Event { event_id, .. } => {
                Redirect::to(&format!("/events/{}", path_part(&event_id))).into_response()
            }
            Located::Faq { faq_id, .. } => {
                Redirect::to(&format!("/faqs/{}", path_part(&faq_id))).into_response()
            }
        }),
        _ => Err(not_found().await),
    }
}

/// An id as a path segment: ids are ASCII letters, digits, `_` and `-`;
/// anything else is escaped.
pub fn path_part(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub async fn asset(Path(file): Path<String>) -> Response {
    let Some(found) = Assets::get(&file) else {
        return not_found().await;
    };
    let kind = match file.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        found.data.into_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(&0), "1970-01-01 00:00:00");
        assert_eq!(utc(&1_795_000_000), "2026-11-18 11:06:40");
        assert_eq!(utc(&951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn dates_read_back_as_days() {
        assert_eq!(days_from_civil("1970-01-01"), Some(0));
        assert_eq!(days_from_civil("2000-02-29"), Some(951_782_400 / 86_400));
        assert_eq!(
            days_from_civil("2026-11-18").map(|d| d * 86_400),
            Some(1_795_000_000 - 1_795_000_000 % 86_400)
        );
        for bad in [
            "2026-02-31",
            "2025-02-29",
            "2026-13-01",
            "26-1-1x",
            "",
            "2026-00-10",
        ] {
            assert_eq!(days_from_civil(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_become_safe_path_parts() {
        assert_eq!(path_part("7412345678901"), "7412345678901");
        assert_eq!(path_part("a/../b"), "a%2F%2E%2E%2Fb");
    }
}
