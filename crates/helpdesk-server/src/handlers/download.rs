//! What every image download answers once it is decided, whichever API
//! decided it (`ticket_images`, `faq_image`, im/v1 image get): the
//! conditional request, HEAD, the headers, and the bytes kept or streamed.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use helpdesk_core::ApiError;
use helpdesk_store::StoreError;

use crate::cache::Decided;
use crate::response::{mark_success, Failure};
use crate::AppState;

/// True when `If-None-Match` names this entity (weak comparison, RFC 9110).
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The image's bytes are not in storage.
pub struct Missing;

pub fn header_value(s: &str) -> Result<HeaderValue, Failure> {
    HeaderValue::from_str(s).map_err(|_| ApiError::Internal.into())
}

/// The answer to a decided download: 304 when the client has it, the
/// headers alone for HEAD, else the bytes (kept, or streamed from storage).
pub async fn answer(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    decided: &Decided,
) -> Result<Response, Missing> {
    let mut res = Response::new(Body::empty());
    let h = res.headers_mut();
    h.insert(header::ETAG, decided.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if none_match(headers, decided.etag.to_str().unwrap_or("")) {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        mark_success(&mut res);
        return Ok(res);
    }
    h.insert(header::CONTENT_TYPE, decided.content_type.clone());
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(decided.image.size),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        decided.content_disposition.clone(),
    );
    if method != Method::HEAD {
        *res.body_mut() = match &decided.bytes {
            Some(bytes) => Body::from(bytes.clone()),
            None => match state.blobs.get(&decided.image.sha256).await {
                Ok(stream) => Body::from_stream(stream),
                Err(StoreError::NotFound { .. }) => return Err(Missing),
                Err(e) => {
                    tracing::error!(error = %e, "storage failed");
                    return Ok(Failure(ApiError::Internal).into_response());
                }
            },
        };
        crate::metrics::image_bytes(decided.image.size);
    }
    mark_success(&mut res);
    Ok(res)
}
