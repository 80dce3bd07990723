//! `GET /open-apis/helpdesk/v1/ticket_images`: the image bytes of a message.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::response::Response;
use helpdesk_core::content::MessageType;
use helpdesk_core::disposition;
use helpdesk_core::ids::MessageRef;
use helpdesk_core::wire::header::HELPDESK_CREDENTIAL;
use helpdesk_core::{scope, ApiError};
use helpdesk_store::{App, Helpdesk, ImageLookup, StoreError, StoredImage};

use crate::auth::{HelpdeskCaller, Presented};
use crate::cache::{Decided, DownloadCache};
use crate::query;
use crate::response::{mark_success, Failure};
use crate::AppState;

fn bad(detail: impl Into<String>) -> Failure {
    Failure(ApiError::BadRequest(detail.into()))
}

/// True when `If-None-Match` names this entity (weak comparison, RFC 9110).
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The query: `ticket_id`, `msg_id` (either of the message's ids), `index`.
fn parse_query(uri: &Uri) -> Result<(String, String, Option<u32>), Failure> {
    let mut params = query::params(uri);
    let mut required = |name: &str| {
        params
            .remove(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad(format!("`{name}` is required")))
    };
    let ticket_id = required("ticket_id")?;
    let msg_id = required("msg_id")?;
    let index = match params.get("index").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<u32>()
                .map_err(|_| bad(format!("`index` is an integer from 0; got {v:?}")))?,
        ),
    };
    Ok((ticket_id, msg_id, index))
}

/// The hot path. A download already decided for these exact credentials
/// and query (see `cache`) costs the token's signature and a hash lookup;
/// otherwise one query brings the app, the helpdesk and the image together,
/// the credentials are judged, and the decision is kept.
pub async fn ticket_image(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Failure> {
    let presented = Presented::read(&headers, &state)?;
    let credential = headers
        .get(HELPDESK_CREDENTIAL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let key = DownloadCache::key(presented.app_id(), credential, uri.query().unwrap_or(""));
    if let Some(decided) = state.cache.get(&key, presented.issued_at()) {
        match answer(&state, &method, &headers, &decided).await {
            // Its bytes went missing: forget it and decide again.
            Err(Missing) => state.cache.forget(&key),
            Ok(res) => return Ok(res),
        }
    }
    let generation = state.cache.generation();
    let (ticket_id, msg_id, index) = match parse_query(&uri) {
        Ok(q) => q,
        // Credentials are judged before parameters, as everywhere.
        Err(bad) => {
            HelpdeskCaller::authorize(&headers, &state, scope::HELPDESK_READ).await?;
            return Err(bad);
        }
    };
    let lookup = || {
        state.meta.image_with_credentials(
            presented.app_id(),
            presented.helpdesk_id(),
            &ticket_id,
            MessageRef::parse(&msg_id),
            index.unwrap_or(0),
        )
    };
    let (credentials, lookup_found) = match lookup().await? {
        Some((app, helpdesk, found)) => (Some((app, helpdesk)), found),
        None => (None, None),
    };
    let caller = presented.judge_helpdesk(credentials, scope::HELPDESK_READ)?;
    let found = lookup_found
        .ok_or_else(|| ApiError::NotFound(format!("no message {msg_id} in ticket {ticket_id}")))?;
    if found.image_count == 0 {
        return Err(ApiError::NotFound(format!("message {msg_id} holds no image")).into());
    }
    if found.message_type == MessageType::Post && index.is_none() {
        return Err(bad(format!(
            "message {msg_id} is a post with {} image(s): send `index`, from 0",
            found.image_count
        )));
    }
    let image = found.image.ok_or_else(|| {
        bad(format!(
            "`index` is out of range: message {msg_id} has {} image(s), index 0 to {}",
            found.image_count,
            found.image_count - 1
        ))
    })?;
    if image.deleted {
        return Err(ApiError::ImageDeleted.into());
    }
    let decided = Decided {
        tokens_not_before: caller.app.tokens_not_before,
        etag: header_value(&format!("\"{}\"", image.sha256))?,
        content_type: header_value(&image.content_type)?,
        content_disposition: header_value(&disposition::attachment(&image.file_name))?,
        image,
        bytes: None,
    };
    let sha256 = decided.image.sha256.clone();
    let decided = match state
        .cache
        .keep(key, generation, decided, state.blobs.as_ref())
        .await
    {
        Ok(decided) => decided,
        Err(StoreError::NotFound { .. }) => return Err(missing(lookup().await?, &sha256)),
        Err(e) => return Err(e.into()),
    };
    match answer(&state, &method, &headers, &decided).await {
        Ok(res) => Ok(res),
        Err(Missing) => Err(missing(lookup().await?, &sha256)),
    }
}

/// The image's bytes are not in storage.
struct Missing;

/// A delete that committed after our lookup may have taken the bytes since:
/// then the image is deleted (154404), not broken (155000). `now` is the
/// lookup made again.
fn missing(now: Option<(App, Option<Helpdesk>, Option<ImageLookup>)>, sha256: &str) -> Failure {
    if let Some((
        _,
        _,
        Some(ImageLookup {
            image: Some(StoredImage { deleted: true, .. }),
            ..
        }),
    )) = now
    {
        return ApiError::ImageDeleted.into();
    }
    tracing::error!(%sha256, "blob is referenced by a message but missing from storage");
    ApiError::Internal.into()
}

fn header_value(s: &str) -> Result<HeaderValue, Failure> {
    HeaderValue::from_str(s).map_err(|_| ApiError::Internal.into())
}

/// The answer to a decided download: 304 when the client has it, the
/// headers alone for HEAD, else the bytes (kept, or streamed from storage).
async fn answer(
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
