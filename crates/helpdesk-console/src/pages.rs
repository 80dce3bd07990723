//! The console's pages. Every handler reads through the session's scope:
//! a foreign tenant's item is `not_found`, the same page a missing one gets.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use helpdesk_store::{
    App, Helpdesk, Located, Message, MessageFilter, StoreError, Ticket, TicketImage, TicketQuery,
};
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

struct HelpdeskView {
    helpdesk: Helpdesk,
    agents: Vec<helpdesk_store::Agent>,
    tickets: Vec<Ticket>,
    total: u64,
    /// The page shown (from 1), and the query string of its neighbours.
    page: u64,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "tenant.html")]
struct TenantPage {
    tenant_key: String,
    name: String,
    apps: Vec<App>,
    helpdesks: Vec<HelpdeskView>,
    /// Every helpdesk of the tenant, for the filter's choice.
    all_helpdesks: Vec<Helpdesk>,
    filter: TicketFilter,
    /// The filter could not be read: why.
    filter_error: Option<&'static str>,
}

/// Tickets listed per helpdesk and page on a tenant's page.
const TICKETS_SHOWN: u64 = 50;

/// The tenant page's ticket filter, as its form sends it (GET).
#[derive(Deserialize, Default, Clone)]
pub struct TicketFilter {
    #[serde(default)]
    helpdesk: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    guest: String,
    /// `YYYY-MM-DD` (UTC), created on or after.
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD` (UTC), created on or before.
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<u64>,
}

impl TicketFilter {
    /// The store's query for page `page`, or why the filter is not one.
    fn query(&self, page: u64) -> Result<TicketQuery, &'static str> {
        let status = match self.status.trim() {
            "" => Vec::new(),
            s => vec![s
                .parse::<i64>()
                .map_err(|_| "status is a number (1 open, 50 closed, ...)")?],
        };
        let day = |s: &str| -> Result<Option<i64>, &'static str> {
            match s.trim() {
                "" => Ok(None),
                s => days_from_civil(s)
                    .map(|d| Some(d * 86_400))
                    .ok_or("dates are YYYY-MM-DD"),
            }
        };
        let from = day(&self.from)?;
        let to = day(&self.to)?.map(|d| d + 86_399);
        let guest = self.guest.trim();
        Ok(TicketQuery {
            statuses: status,
            guest_id: (!guest.is_empty()).then(|| guest.to_string()),
            created: (from, to),
            offset: (page - 1) * TICKETS_SHOWN,
            limit: TICKETS_SHOWN,
            ..TicketQuery::default()
        })
    }

    /// This filter's query string at `page`, for one helpdesk.
    fn link(&self, helpdesk_id: &str, page: u64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("helpdesk", helpdesk_id);
        for (k, v) in [
            ("status", &self.status),
            ("guest", &self.guest),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.append_pair("page", &page.to_string());
        q.finish()
    }
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

pub async fn tenant(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(key): Path<String>,
    Query(filter): Query<TicketFilter>,
) -> Page {
    let meta = &console.stores.meta;
    let tenants = meta.tenant_counts().await.map_err(failed)?;
    let Some(tenant) = tenants
        .into_iter()
        .find(|t| t.tenant_key == key && who.scope.sees(&t.tenant_key))
    else {
        return Err(not_found().await);
    };
    let apps = meta.apps(Some(&key)).await.map_err(failed)?;
    let all_helpdesks = meta.helpdesks(Some(&key)).await.map_err(failed)?;
    let page = filter.page.unwrap_or(1).clamp(1, 10_000);
    let (query, filter_error) = match filter.query(page) {
        Ok(q) => (q, None),
        Err(e) => (
            TicketQuery {
                limit: TICKETS_SHOWN,
                ..TicketQuery::default()
            },
            Some(e),
        ),
    };
    let mut helpdesks = Vec::new();
    for helpdesk in all_helpdesks.iter().cloned() {
        let chosen = filter.helpdesk == helpdesk.helpdesk_id;
        if !filter.helpdesk.is_empty() && !chosen {
            continue;
        }
        // Only the chosen helpdesk pages; without a choice, each shows its first.
        let (page, query) = if chosen {
            (page, query.clone())
        } else {
            (
                1,
                TicketQuery {
                    offset: 0,
                    ..query.clone()
                },
            )
        };
        let agents = meta.agents(&helpdesk.helpdesk_id).await.map_err(failed)?;
        let found = meta
            .tickets(&key, &helpdesk.helpdesk_id, &query)
            .await
            .map_err(failed)?;
        let shown = query.offset + found.tickets.len() as u64;
        helpdesks.push(HelpdeskView {
            newer: (page > 1).then(|| filter.link(&helpdesk.helpdesk_id, page - 1)),
            older: (shown < found.total).then(|| filter.link(&helpdesk.helpdesk_id, page + 1)),
            helpdesk,
            agents,
            tickets: found.tickets,
            total: found.total,
            page,
        });
    }
    Ok(TenantPage {
        tenant_key: tenant.tenant_key,
        name: tenant.name,
        apps,
        helpdesks,
        all_helpdesks,
        filter,
        filter_error,
    }
    .into_response())
}

/// A message of the timeline and its images, as its part shows them.
pub struct MessageView {
    pub message: Message,
    pub images: Vec<TicketImage>,
    /// Each image's header dimensions, in the order of `images`.
    pub dimensions: Vec<Option<helpdesk_media::thumb::Dimensions>>,
}

/// The header dimensions of the images these SHA-256s name (`None`: a
/// deleted one), eight read at a time, each once (the console keeps them).
pub async fn dimensions_of(
    console: &Console,
    images: Vec<Option<&str>>,
) -> Vec<Option<helpdesk_media::thumb::Dimensions>> {
    use futures::StreamExt;
    // Futures of an async fn, not of a closure: the stream stays Send.
    let each: Vec<_> = images
        .into_iter()
        .map(|sha256| dimensions_one(console, sha256))
        .collect();
    futures::stream::iter(each).buffered(8).collect().await
}

async fn dimensions_one(
    console: &Console,
    sha256: Option<&str>,
) -> Option<helpdesk_media::thumb::Dimensions> {
    console
        .thumbs
        .dimensions(console.stores.blobs.as_ref(), sha256?)
        .await
}

#[derive(Template, WebTemplate)]
#[template(path = "ticket.html")]
struct TicketPage {
    tenant_key: String,
    ticket: Ticket,
    messages: Vec<MessageView>,
    image_count: usize,
    api_base: String,
    /// The live stream starts after this row of the feed.
    head: i64,
}

/// Messages shown on a ticket's page.
const MESSAGES_SHOWN: u64 = 1000;

/// The ticket `id` when the session may see it.
pub async fn visible_ticket(
    console: &Console,
    who: &Principal,
    id: &str,
) -> Result<(String, Ticket), Response> {
    match console
        .stores
        .meta
        .ticket_anywhere(id)
        .await
        .map_err(failed)?
    {
        Some((tenant_key, ticket)) if who.scope.sees(&tenant_key) => Ok((tenant_key, ticket)),
        _ => Err(not_found().await),
    }
}

pub async fn ticket(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    let (tenant_key, ticket) = visible_ticket(&console, &who, &id).await?;
    let meta = &console.stores.meta;
    // Read before the messages: what commits after is streamed, and what
    // commits in between comes in both (console.js drops the second copy).
    let head = meta.activity_head().await.map_err(failed)?;
    let page = meta
        .messages(
            &ticket.ticket_id,
            &MessageFilter {
                limit: MESSAGES_SHOWN,
                ..MessageFilter::default()
            },
        )
        .await
        .map_err(failed)?;
    let images = meta
        .ticket_images(&ticket.ticket_id)
        .await
        .map_err(failed)?;
    let image_count = images.iter().filter(|i| !i.deleted).count();
    let dimensions =
        dimensions_of(&console, images.iter().map(|i| i.live_sha256()).collect()).await;
    let mut by_message: BTreeMap<String, (Vec<TicketImage>, Vec<_>)> = BTreeMap::new();
    for (image, dims) in images.into_iter().zip(dimensions) {
        let entry = by_message.entry(image.message_id.clone()).or_default();
        entry.0.push(image);
        entry.1.push(dims);
    }
    let messages = page
        .messages
        .into_iter()
        .map(|message| {
            let (images, dimensions) = by_message.remove(&message.message_id).unwrap_or_default();
            MessageView {
                images,
                dimensions,
                message,
            }
        })
        .collect();
    Ok(TicketPage {
        tenant_key,
        ticket,
        messages,
        image_count,
        api_base: console.api_base.clone(),
        head,
    }
    .into_response())
}

/// A live image of a ticket the session may see, by message and index.
async fn visible_image(
    console: &Console,
    who: &Principal,
    (id, msg_id, index): (String, String, u32),
) -> Result<TicketImage, Response> {
    match console
        .located
        .ticket_image(console.stores.meta.as_ref(), (&id, &msg_id, index))
        .await
        .map_err(failed)?
    {
        Some((tenant_key, image)) if who.scope.sees(&tenant_key) && !image.deleted => Ok(image),
        _ => Err(not_found().await),
    }
}

/// A thumbnail (`?w=200|400|1600`) of a ticket's image, or the
/// placeholder when it cannot be made; 304 for its ETag.
pub async fn ticket_thumb(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(at): Path<(String, String, u32)>,
    Query(q): Query<crate::thumbs::ThumbQuery>,
    headers: axum::http::HeaderMap,
) -> Page {
    let width = q.width()?;
    let image = visible_image(&console, &who, at).await?;
    crate::thumbs::answer(&console, &image.sha256, width, &headers).await
}

/// An image's original bytes, as `ticket_images` would answer them.
pub async fn ticket_image(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(at): Path<(String, String, u32)>,
) -> Page {
    let image = visible_image(&console, &who, at).await?;
    original(&console, &image.sha256, &image.content_type, image.size).await
}

/// The stored bytes `sha256` names, as the API would answer them. The
/// caller has checked that the session may see them.
pub async fn original(console: &Console, sha256: &str, content_type: &str, size: u64) -> Page {
    let stream = match console.stores.blobs.get(sha256).await {
        Ok(stream) => stream,
        Err(StoreError::NotFound { .. }) => return Err(not_found().await),
        Err(e) => return Err(failed(e)),
    };
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(res)
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

/// Where a ticket's image is, by message and index (its thumbnails are
/// below it).
pub fn image_path(ticket_id: &str, message_id: &str, index: &u32) -> String {
    format!(
        "/tickets/{}/messages/{}/images/{index}",
        path_part(ticket_id),
        path_part(message_id)
    )
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
