//! The response writers: the JSON envelope, errors, and the middleware that
//! stamps every response with its log id and logs it.

use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use helpdesk_core::wire::header::{LOG_ID, RATELIMIT_LIMIT, RATELIMIT_RESET};
use helpdesk_core::ApiError;
use helpdesk_store::{IngestError, StoreError};
use serde_json::{json, Value};
use tracing::Instrument;

use crate::{access_log, LogId};

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A handler's error. It becomes a response carrying the `ApiError`; the
/// envelope middleware writes its body, which needs the request's log id.
#[derive(Debug)]
pub struct Failure(pub ApiError);

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        Failure(ApiError::Internal)
    }
}

impl From<IngestError> for Failure {
    fn from(e: IngestError) -> Self {
        Failure(match e {
            IngestError::Empty => ApiError::UploadEmpty,
            IngestError::TooLarge(limit) => ApiError::UploadTooLarge(limit),
            IngestError::Unsupported => ApiError::UploadUnsupported,
            IngestError::Body(detail) => {
                ApiError::UploadInvalidParam(format!("the upload broke off: {detail}"))
            }
            IngestError::Store(e) => return e.into(),
        })
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut res = Response::new(Body::empty());
        res.extensions_mut().insert(self.0);
        res
    }
}

/// The code a successful JSON or binary response stands for, for the log.
#[derive(Clone, Copy)]
struct Code(i64);

/// `{"code": 0, "msg": "success", "data": data}`.
pub fn success(data: Value) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"code": 0, "msg": "success", "data": data}),
    )
}

/// A JSON body as is, for the token endpoints' flat shape.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    res.extensions_mut().insert(Code(0));
    res
}

fn error_response(err: &ApiError, log_id: &LogId) -> Response {
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = body_of(err, log_id, status);
    if let ApiError::RateLimited { limit, reset_secs } = err {
        let h = res.headers_mut();
        h.insert(RATELIMIT_LIMIT, HeaderValue::from(*limit));
        h.insert(RATELIMIT_RESET, HeaderValue::from(*reset_secs));
    }
    res
}

fn body_of(err: &ApiError, log_id: &LogId, status: StatusCode) -> Response {
    json_response(
        status,
        &json!({
            "code": err.code(),
            "msg": err.msg(),
            "error": {
                "log_id": log_id.as_str(),
                "troubleshooter": format!("search the server log for log_id {log_id}"),
                "details": [{"key": "hint", "value": err.hint()}],
            }
        }),
    )
}

/// Unknown paths and methods: plain text, as Feishu's gateway answers.
pub async fn not_found() -> Response {
    let mut res = (StatusCode::NOT_FOUND, "404 page not found").into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// A panic is a bug, but the client still gets the documented 155000.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    Failure(ApiError::Internal).into_response()
}

/// What the envelope reports besides the text access line: chosen at start.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observe {
    /// Access lines as JSON objects (with route and app id).
    pub json_log: bool,
    /// Count requests for Prometheus.
    pub metrics: bool,
}

impl Observe {
    /// True when the route a request matched must be known.
    pub fn needs_route(self) -> bool {
        self.json_log || self.metrics
    }
}

/// The route pattern a request matched, put on its response by
/// `router::tag_route`.
#[derive(Debug, Clone, Copy)]
pub struct Route(pub &'static str);

/// Gives the request its log id, writes error bodies, sets `X-Tt-Logid`, and
/// logs (and counts) one line per request.
pub async fn envelope(
    axum::extract::State(observe): axum::extract::State<Observe>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let log_id = LogId::new();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // The app a JSON line names: as the token says, before it is checked
    // (the line's code tells whether it was accepted).
    let app_id = if observe.json_log {
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(helpdesk_core::auth::bearer)
            .and_then(helpdesk_store::tokens::claimed_app_id)
    } else {
        None
    };
    req.extensions_mut().insert(log_id.clone());
    let span = tracing::info_span!("request", log_id = %log_id);
    let mut res = next.run(req).instrument(span).await;
    // Read before an error body replaces the response and its extensions,
    // and only when something reports it.
    let route = observe
        .needs_route()
        .then(|| res.extensions().get::<Route>().map_or("unmatched", |r| r.0));

    let code = match res.extensions_mut().remove::<ApiError>() {
        Some(err) => {
            res = error_response(&err, &log_id);
            Some(err.code())
        }
        None => res.extensions().get::<Code>().map(|c| c.0),
    };
    if let Ok(v) = HeaderValue::from_str(log_id.as_str()) {
        res.headers_mut().insert(LOG_ID, v);
    }
    let status = res.status().as_u16();
    let took = started.elapsed();
    if let Some(route) = route {
        if observe.metrics {
            crate::metrics::request(route, status, code, took);
        }
        if observe.json_log && access_log::enabled() {
            access_log::write_json(
                &log_id,
                &method,
                route,
                &path,
                status,
                code,
                app_id.as_deref(),
                took,
            );
            return res;
        }
    }
    if access_log::enabled() {
        access_log::write(&log_id, &method, &path, status, code, took);
    }
    res
}

/// Marks a binary success for the access log.
pub fn mark_success(res: &mut Response) {
    res.extensions_mut().insert(Code(0));
}
