//! `GET /open-apis/helpdesk/v1/ticket_images`: the image bytes of a message.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use helpdesk_core::content::MessageType;
use helpdesk_core::disposition;
use helpdesk_core::ids::MessageRef;
use helpdesk_core::{scope, ApiError};
use helpdesk_store::{ImageLookup, StoreError, StoredImage};

use crate::auth::{HelpdeskCaller, Presented};
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

/// The hot path: the token's signature, then one query that brings the app,
/// the helpdesk and the image together, then the bytes from storage.
pub async fn ticket_image(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Failure> {
    let presented = Presented::read(&headers, &state)?;
    let (ticket_id, msg_id, index) = match parse_query(&uri) {
        Ok(q) => q,
        // Credentials are judged before parameters, as everywhere.
        Err(bad) => {
            HelpdeskCaller::authorize(&headers, &state, scope::HELPDESK_READ).await?;
            return Err(bad);
        }
    };
    let found = state
        .meta
        .image_with_credentials(
            presented.app_id(),
            presented.helpdesk_id(),
            &ticket_id,
            MessageRef::parse(&msg_id),
            index.unwrap_or(0),
        )
        .await?;
    let (credentials, lookup) = match found {
        Some((app, helpdesk, lookup)) => (Some((app, helpdesk)), lookup),
        None => (None, None),
    };
    presented.judge_helpdesk(credentials, scope::HELPDESK_READ)?;
    let lookup = lookup
        .ok_or_else(|| ApiError::NotFound(format!("no message {msg_id} in ticket {ticket_id}")))?;
    if lookup.image_count == 0 {
        return Err(ApiError::NotFound(format!("message {msg_id} holds no image")).into());
    }
    if lookup.message_type == MessageType::Post && index.is_none() {
        return Err(bad(format!(
            "message {msg_id} is a post with {} image(s): send `index`, from 0",
            lookup.image_count
        )));
    }
    let image = lookup.image.ok_or_else(|| {
        bad(format!(
            "`index` is out of range: message {msg_id} has {} image(s), index 0 to {}",
            lookup.image_count,
            lookup.image_count - 1
        ))
    })?;
    if image.deleted {
        return Err(ApiError::ImageDeleted.into());
    }

    let etag = format!("\"{}\"", image.sha256);
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "private")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        );
    if none_match(&headers, &etag) {
        let mut res = builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(|_| ApiError::Internal)?;
        mark_success(&mut res);
        return Ok(res);
    }
    let content_disposition = HeaderValue::from_str(&disposition::attachment(&image.file_name))
        .map_err(|_| ApiError::Internal)?;
    builder = builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, &image.content_type)
        .header(header::CONTENT_LENGTH, image.size)
        .header(header::CONTENT_DISPOSITION, content_disposition);

    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        match state.blobs.get(&image.sha256).await {
            Ok(stream) => Body::from_stream(stream),
            Err(StoreError::NotFound(what)) => {
                // A delete that committed after our lookup may have taken the
                // bytes since: then the image is deleted, not broken.
                let now = state
                    .meta
                    .image_with_credentials(
                        presented.app_id(),
                        presented.helpdesk_id(),
                        &ticket_id,
                        MessageRef::parse(&msg_id),
                        index.unwrap_or(0),
                    )
                    .await?;
                if let Some((
                    _,
                    _,
                    Some(ImageLookup {
                        image: Some(StoredImage { deleted: true, .. }),
                        ..
                    }),
                )) = now
                {
                    return Err(ApiError::ImageDeleted.into());
                }
                tracing::error!(sha256 = %image.sha256, "{what} is referenced by a message but missing from storage");
                return Err(ApiError::Internal.into());
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut res = builder.body(body).map_err(|_| ApiError::Internal)?;
    mark_success(&mut res);
    Ok(res)
}
