//! The response writers: the JSON envelope and errors (the front,
//! `front.rs`, stamps every response with its log id and logs it).

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use helpdesk_core::wire::header::{RATELIMIT_LIMIT, RATELIMIT_RESET};
use helpdesk_core::ApiError;
use helpdesk_store::{IngestError, StoreError};
use serde_json::{json, Value};

use crate::LogId;

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
        if let StoreError::QuotaExceeded {
            max_bytes,
            would_use,
        } = e
        {
            return Failure(ApiError::UploadQuotaExceeded {
                max_bytes,
                would_use,
            });
        }
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
            IngestError::Infected(signature) => ApiError::UploadInfected(signature),
            // Logged where it was found, with what clamd answered.
            IngestError::ScanUnavailable(_) => ApiError::Internal,
            IngestError::Unstrippable(detail) => ApiError::UploadInvalidParam(format!(
                "the image's structure cannot be read ({detail}), so its metadata (a position among it) cannot be removed: upload the image again, whole"
            )),

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
pub(crate) struct Code(pub(crate) i64);

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

pub(crate) fn error_response(err: &ApiError, log_id: &LogId) -> Response {
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

/// Marks a binary success for the access log.
pub fn mark_success(res: &mut Response) {
    res.extensions_mut().insert(Code(0));
}
