//! What every console request passes before a page sees it, in order:
//!
//! 1. **Host.** A loopback name (`localhost`, `127.0.0.1`, `[::1]`, any port)
//!    or the host of `--console-public-url`; anything else is 421. A page
//!    of another site that a DNS rebinding points at our address still
//!    sends its own name here.
//! 2. **Origin.** A state-changing request (anything but GET and HEAD) and
//!    the live stream carry no `Origin`, or our own; another is 403 (the
//!    cross-site WebSocket hijacking of Mailpit's CVE-2026-22689, for SSE).
//! 3. **Session.** `/login` and `/assets/` are open; anything else without
//!    a session gets the sign-in page (401).
//!
//! Every answer carries a strict Content-Security-Policy (nothing but our
//! own scripts, styles and images; no framing), no referrer, and nosniff.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{cookie_value, Principal};
use crate::Console;

const CSP: &str = "default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'; \
                   base-uri 'none'; form-action 'self'";

/// The host part of a Host header or URL authority (no port, no brackets).
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// Whether `host` (a Host header) names this console.
pub fn host_allowed(host: &str, public_host: Option<&str>) -> bool {
    let name = host_name(host).to_ascii_lowercase();
    matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
        || public_host
            .is_some_and(|p| p.eq_ignore_ascii_case(host) || p.eq_ignore_ascii_case(&name))
}

/// Whether an `Origin` is this console's own (the Host it asked, or the
/// public URL's origin).
fn origin_allowed(origin: &str, host: &str, public_origin: Option<&str>) -> bool {
    origin == format!("http://{host}")
        || origin == format!("https://{host}")
        || public_origin.is_some_and(|p| p == origin)
}

pub async fn guard(State(console): State<Arc<Console>>, mut req: Request, next: Next) -> Response {
    let checked = match check(&console, &req) {
        Ok(Some(p)) => still_valid(&console, p).await,
        other => other,
    };
    let mut res = match checked {
        Ok(principal) => {
            if let Some(p) = principal {
                req.extensions_mut().insert::<Principal>(p);
            }
            next.run(req).await
        }
        Err(refused) => refused.into_response(),
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A session opened by a database token lasts while the token does.
async fn still_valid(console: &Console, p: Principal) -> Result<Option<Principal>, Refused> {
    let Some(token_id) = &p.token_id else {
        return Ok(Some(p));
    };
    match console.stores.meta.console_token_live(token_id).await {
        Ok(true) => Ok(Some(p)),
        Ok(false) => Err(Refused::NoSession),
        Err(e) => {
            tracing::error!(error = %e, "console: cannot check a session's token");
            Err(Refused::Unavailable)
        }
    }
}

/// Why a request stops at the guard.
enum Refused {
    Host,
    Origin,
    NoSession,
    Unavailable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Host => plain(
                StatusCode::MISDIRECTED_REQUEST,
                "this console answers to localhost or its --console-public-url only",
            ),
            Refused::Origin => plain(
                StatusCode::FORBIDDEN,
                "a request from another site: open the console itself",
            ),
            Refused::NoSession => crate::pages::sign_in_page(StatusCode::UNAUTHORIZED, None),
            Refused::Unavailable => plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database cannot be reached; try again shortly",
            ),
        }
    }
}

/// The session of a request that may go on (None: an open path), or why
/// it stops.
fn check(console: &Console, req: &Request) -> Result<Option<Principal>, Refused> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !host_allowed(host, console.public_host.as_deref()) {
        return Err(Refused::Host);
    }
    let path = req.uri().path();
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD);
    if changes || path == "/live" {
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !origin_allowed(origin, host, console.public_origin.as_deref()) {
                return Err(Refused::Origin);
            }
        }
    }
    if path == "/login" || path.starts_with("/assets/") {
        return Ok(None);
    }
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(cookie_value)
        .and_then(|id| console.auth.session(id))
        .map(Some)
        .ok_or(Refused::NoSession)
}

pub fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_the_public_host_are_allowed_and_nothing_else() {
        for host in ["localhost:8081", "127.0.0.1:9", "[::1]:8081", "LOCALHOST"] {
            assert!(host_allowed(host, None), "{host}");
        }
        for host in [
            "evil.example:8081",
            "127.0.0.1.evil.example",
            "",
            "localhost.evil",
        ] {
            assert!(!host_allowed(host, None), "{host}");
        }
        assert!(host_allowed("console.example:443", Some("console.example")));
        assert!(!host_allowed("other.example", Some("console.example")));
    }

    #[test]
    fn only_our_own_origin_passes() {
        assert!(origin_allowed(
            "http://127.0.0.1:8081",
            "127.0.0.1:8081",
            None
        ));
        assert!(!origin_allowed(
            "http://evil.example",
            "127.0.0.1:8081",
            None
        ));
        assert!(!origin_allowed("null", "127.0.0.1:8081", None));
        assert!(origin_allowed(
            "https://c.example",
            "c.example",
            Some("https://c.example")
        ));
    }
}
