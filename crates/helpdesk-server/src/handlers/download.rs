//! What every image download answers once it is decided, whichever API
//! decided it (`ticket_images`, `faq_image`, im/v1 image get): the
//! conditional request, HEAD, the headers, and the bytes kept or streamed.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use bytes::Bytes;
use helpdesk_core::disposition;
use helpdesk_core::wire::header::{HELPDESK_CREDENTIAL, LOG_ID};
use helpdesk_core::ApiError;
use helpdesk_store::{StoreError, StoredImage};

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

/// The helpdesk credential header's bytes, as a download's cache key holds
/// them (see `DownloadCache::key`).
pub fn credential(headers: &HeaderMap) -> &[u8] {
    const CREDENTIAL: HeaderName = HeaderName::from_static(HELPDESK_CREDENTIAL);
    headers.get(CREDENTIAL).map_or(&[], |v| v.as_bytes())
}

/// The image's bytes are not in storage.
pub struct Missing;

pub fn header_value(s: &str) -> Result<HeaderValue, Failure> {
    HeaderValue::from_str(s).map_err(|_| ApiError::Internal.into())
}

/// The decision to answer with `image` for an app whose tokens issued
/// before `tokens_not_before` are refused, with its headers written once.
/// Each map already holds `X-Tt-Logid` (a placeholder the envelope writes
/// over), so that a clone takes the request's id without growing.
pub fn decided(tokens_not_before: i64, image: StoredImage) -> Result<Decided, Failure> {
    let etag = header_value(&format!("\"{}\"", image.sha256))?;
    let mut not_modified = HeaderMap::with_capacity(8);
    not_modified.insert(header::ETAG, etag.clone());
    not_modified.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    not_modified.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    not_modified.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    let mut ok = not_modified.clone();
    ok.reserve(4);
    ok.insert(header::CONTENT_TYPE, header_value(&image.content_type)?);
    ok.insert(header::CONTENT_LENGTH, HeaderValue::from(image.size));
    ok.insert(
        header::CONTENT_DISPOSITION,
        header_value(&disposition::attachment(&image.file_name))?,
    );
    for h in [&mut not_modified, &mut ok] {
        h.insert(LOG_ID, HeaderValue::from_static("-"));
    }
    Ok(Decided {
        tokens_not_before,
        image,
        etag,
        ok_headers: ok,
        not_modified_headers: not_modified,
        bytes: None,
        file: None,
    })
}

/// The answer to a decided download that needs no storage: 304 when the
/// client has it, the headers alone for HEAD, the bytes when they are kept.
/// None when the bytes must be read.
pub fn answer_kept(
    method: &Method,
    headers: &HeaderMap,
    decided: &Decided,
) -> Option<(StatusCode, HeaderMap, Option<Bytes>)> {
    if headers.contains_key(header::IF_NONE_MATCH)
        && none_match(headers, decided.etag.to_str().unwrap_or(""))
    {
        return Some((
            StatusCode::NOT_MODIFIED,
            decided.not_modified_headers.clone(),
            None,
        ));
    }
    if method == Method::HEAD {
        return Some((StatusCode::OK, decided.ok_headers.clone(), None));
    }
    let bytes = decided.bytes.clone()?;
    crate::metrics::image_bytes(decided.image.size);
    Some((StatusCode::OK, decided.ok_headers.clone(), Some(bytes)))
}

/// The answer to a decided download: as `answer_kept`, or else the bytes
/// streamed from storage.
pub async fn answer(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    decided: &Decided,
) -> Result<Response, Missing> {
    let mut res = match answer_kept(method, headers, decided) {
        Some((status, headers, bytes)) => {
            let mut res = Response::new(bytes.map_or_else(Body::empty, Body::from));
            *res.status_mut() = status;
            *res.headers_mut() = headers;
            res
        }
        None => {
            let body = match state.blobs.get(&decided.image.sha256).await {
                Ok(stream) => Body::from_stream(stream),
                Err(StoreError::NotFound { .. }) => return Err(Missing),
                Err(e) => {
                    tracing::error!(error = %e, "storage failed");
                    return Ok(Failure(ApiError::Internal).into_response());
                }
            };
            crate::metrics::image_bytes(decided.image.size);
            let mut res = Response::new(body);
            *res.headers_mut() = decided.ok_headers.clone();
            res
        }
    };
    mark_success(&mut res);
    Ok(res)
}
