//! What every request meets first, and last.
//!
//! First its log id. Then a download this server has already decided for
//! these exact credentials and query, whose answer needs no storage, is
//! answered right here (`ticket_images::kept`): no router, no extractors,
//! no span, no allocation beyond the response's headers. Everything else,
//! and every error, goes through the router, inside a span that puts the
//! log id on every line logged meanwhile. Last, for both: the error body,
//! `X-Tt-Logid`, the metrics and the access line.
//!
//! This replaced an axum middleware around the router: with it, routing
//! and the layers cost a cached download more than the download itself
//! (scripts/count-instructions).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, Response, Uri};
use axum::Router;
use bytes::Bytes;
use helpdesk_core::wire::header::LOG_ID;
use helpdesk_core::wire::path::TICKET_IMAGES;
use helpdesk_core::ApiError;
use http_body::{Frame, SizeHint};
use tower_service::Service;
use tracing::Instrument;

use crate::handlers::ticket_images;
use crate::response::{error_response, Code, Observe, Route};
use crate::serve::PeerAddr;
use crate::{access_log, AppState, LogId};

/// The API: what `serve` answers every request with.
#[derive(Clone)]
pub struct Api {
    state: AppState,
    router: Router,
}

/// Every route of the API, behind its front.
pub fn api(state: AppState) -> Api {
    Api {
        router: crate::router::router(state.clone()),
        state,
    }
}

/// A response's body: bytes already in memory, or whatever the router gave.
pub enum ApiBody {
    Kept(Option<Bytes>),
    Routed(Body),
}

impl http_body::Body for ApiBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.get_mut() {
            ApiBody::Kept(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ApiBody::Routed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ApiBody::Kept(bytes) => bytes.is_none(),
            ApiBody::Routed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ApiBody::Kept(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            ApiBody::Routed(body) => body.size_hint(),
        }
    }
}

/// On a response whose kept body is also this file: the connection may
/// send it from there (`sendfile`).
#[derive(Clone)]
pub struct FromFile(pub Arc<Path>);

/// An answer: ready at once (the fast path), or to be awaited.
pub enum Answer {
    Ready(Option<Response<ApiBody>>),
    Routed(Pin<Box<dyn Future<Output = Response<ApiBody>> + Send>>),
}

impl Future for Answer {
    type Output = Result<Response<ApiBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Ready(res) => match res.take() {
                Some(res) => Poll::Ready(Ok(res)),
                None => Poll::Pending,
            },
            Answer::Routed(fut) => fut.as_mut().poll(cx).map(Ok),
        }
    }
}

/// What the closing line and counters need of a request.
struct Seen {
    /// When it began, if anything reports how long it took.
    started: Option<Instant>,
    log_id: LogId,
    method: Method,
    uri: Uri,
    /// The app a JSON line names: as the token says, before it is checked
    /// (the line's code tells whether it was accepted).
    app_id: Option<String>,
}

impl Api {
    /// Answers one request from `peer` (hyper's, or any body: the fuzzer's).
    pub fn call<B>(&self, req: Request<B>, peer: SocketAddr) -> Answer
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let observe = self.state.observe;
        // Read the clock once for the log id and the token's expiry, and
        // time the request only when something reports how long it took.
        let now = helpdesk_store::now();
        let log_id = LogId::at(now);
        let started = (observe.metrics || access_log::enabled()).then(Instant::now);
        let (parts, body) = req.into_parts();
        let app_id = observe
            .json_log
            .then(|| claimed_app_id(&parts.headers))
            .flatten();
        if parts.uri.path() == TICKET_IMAGES
            && (parts.method == Method::GET || parts.method == Method::HEAD)
        {
            let kept = std::panic::catch_unwind(AssertUnwindSafe(|| {
                ticket_images::kept(&self.state, now, &parts.method, &parts.uri, &parts.headers)
            }));
            let kept = match kept {
                Ok(kept) => kept.map(Ok),
                Err(_) => {
                    tracing::error!(%log_id, "handler panicked");
                    Some(Err(ApiError::Internal))
                }
            };
            if let Some(kept) = kept {
                let (res, code) = match kept {
                    Ok(kept) => {
                        let mut res = Response::new(ApiBody::Kept(kept.bytes));
                        *res.status_mut() = kept.status;
                        *res.headers_mut() = kept.headers;
                        if let Some(file) = kept.file {
                            res.extensions_mut().insert(FromFile(file));
                        }
                        (res, 0)
                    }
                    Err(err) => (
                        error_response(&err, &log_id).map(ApiBody::Routed),
                        err.code(),
                    ),
                };
                let seen = Seen {
                    started,
                    log_id,
                    method: parts.method,
                    uri: parts.uri,
                    app_id,
                };
                let res = finish(observe, &seen, res, Some(TICKET_IMAGES), Some(code));
                return Answer::Ready(Some(res));
            }
        }
        let seen = Seen {
            started,
            log_id,
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            app_id,
        };
        let mut req = Request::from_parts(parts, Body::new(body));
        req.extensions_mut().insert(PeerAddr(peer));
        let mut router = self.router.clone();
        Answer::Routed(Box::pin(async move {
            let span = tracing::info_span!("request", log_id = %seen.log_id);
            let routed = router.call(req).instrument(span).await;
            let mut res = match routed {
                Ok(res) => res,
                Err(never) => match never {},
            };
            // Read before an error body replaces the response and its
            // extensions, and only when something reports it.
            let route = observe
                .needs_route()
                .then(|| res.extensions().get::<Route>().map_or("unmatched", |r| r.0));
            let code = match res.extensions_mut().remove::<ApiError>() {
                Some(err) => {
                    res = error_response(&err, &seen.log_id);
                    Some(err.code())
                }
                None => res.extensions().get::<Code>().map(|c| c.0),
            };
            finish(observe, &seen, res.map(ApiBody::Routed), route, code)
        }))
    }
}

fn claimed_app_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(helpdesk_core::auth::bearer)
        .and_then(helpdesk_store::tokens::claimed_app_id)
}

/// Sets `X-Tt-Logid`, counts, and writes the access line.
fn finish(
    observe: Observe,
    seen: &Seen,
    mut res: Response<ApiBody>,
    route: Option<&'static str>,
    code: Option<i64>,
) -> Response<ApiBody> {
    const LOG_ID_NAME: HeaderName = HeaderName::from_static(LOG_ID);
    if let Ok(v) = HeaderValue::from_bytes(seen.log_id.as_bytes()) {
        res.headers_mut().insert(LOG_ID_NAME, v);
    }
    let status = res.status().as_u16();
    let took = seen.started.map(|s| s.elapsed()).unwrap_or_default();
    let path = seen.uri.path();
    if let Some(route) = route.filter(|_| observe.needs_route()) {
        if observe.metrics {
            crate::metrics::request(route, status, code, took);
        }
        if observe.json_log {
            if access_log::enabled() {
                access_log::write_json(
                    &seen.log_id,
                    &seen.method,
                    route,
                    path,
                    status,
                    code,
                    seen.app_id.as_deref(),
                    took,
                );
            }
            return res;
        }
    }
    if access_log::enabled() {
        access_log::write(&seen.log_id, &seen.method, path, status, code, took);
    }
    res
}
