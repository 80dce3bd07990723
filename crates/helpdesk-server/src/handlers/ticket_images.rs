//! `GET /open-apis/helpdesk/v1/ticket_images`: the image bytes of a message.

use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;
use helpdesk_core::content::MessageType;
use helpdesk_core::ids::MessageRef;
use helpdesk_core::{scope, ApiError};
use helpdesk_store::tokens::TokenKind;
use helpdesk_store::{App, Helpdesk, ImageLookup, StoreError, StoredImage};

use super::download::{answer, answer_kept, credential, decided, Missing};
use crate::auth::{HelpdeskCaller, Presented};
use crate::cache::DownloadCache;
use crate::query;
use crate::response::Failure;
use crate::AppState;
use helpdesk_core::wire::header::HELPDESK_CREDENTIAL;

fn bad(detail: impl Into<String>) -> Failure {
    Failure(ApiError::BadRequest(detail.into()))
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

/// The fast path, taken by the front before any routing: a download this
/// server has decided already for these exact credentials and query, when
/// its answer needs no storage (the bytes are kept, or it is a HEAD) and
/// the request is not conditional. The token is checked as `Presented::read` checks it (signature
/// and expiry, through the verified tokens; the per-app rate limit) and
/// its issue time against the revocation time the decision carries. None
/// whenever anything is not so: the whole path then answers, errors
/// included.
pub fn kept(
    state: &AppState,
    now: i64,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Kept> {
    // As the SDKs send it, byte for byte: a token that is spelled any other
    // way, or is not visible ASCII, is in no cache, and the whole path
    // answers it as it always did.
    let mut authorization = None;
    let mut credential = None;
    // One pass over the few headers a request carries costs less than
    // hashing each name sought; the first of a repeated one counts, as
    // `HeaderMap::get` reads it.
    for (name, value) in headers {
        if name == http::header::AUTHORIZATION {
            authorization.get_or_insert(value);
        } else if name.as_str() == HELPDESK_CREDENTIAL {
            credential.get_or_insert(value.as_bytes());
        } else if name == http::header::IF_NONE_MATCH {
            // Conditional requests take the whole path.
            return None;
        }
    }
    let credential = credential.unwrap_or_default();
    let token = authorization?.as_bytes().strip_prefix(b"Bearer ")?;
    let query = uri.query().unwrap_or("");
    let (verified, decided) = KEY.with_borrow_mut(|key| {
        // Seen before, exactly so: one lookup.
        DownloadCache::presented_key_into(key, token, credential, query);
        if let Some(hit) = state.cache.presented(key, now) {
            return Some(hit);
        }
        // Else the token (verified, or remembered as such), then the
        // decision for its app; remembered together for next time.
        let verified = state.tokens.load().verify(TokenKind::Tenant, token, now)?;
        let presented = key.clone();
        DownloadCache::key_into(key, &verified.1.app_id, credential, query);
        let (generation, decided) = state.cache.peek(key, verified.1.issued_at)?;
        state
            .cache
            .remember_presented(presented, generation, verified.clone(), decided.clone());
        Some((verified, decided))
    })?;
    state.rate_limits.check_app(&verified.1.app_id).ok()?;
    let (status, headers, bytes) = answer_kept(method, headers, &decided)?;
    crate::metrics::cache(true);
    let file = bytes.as_ref().and(decided.file.clone());
    Some(Kept {
        status,
        headers,
        bytes,
        file,
    })
}

thread_local! {
    /// The fast path's cache key, written anew for every request.
    static KEY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A download answered by the fast path.
pub struct Kept {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body, when there is one.
    pub bytes: Option<Bytes>,
    /// The file that holds the body, when it is worth sending from there.
    pub file: Option<Arc<Path>>,
}

/// The whole path. A download already decided for these exact credentials
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
    let key = DownloadCache::key(
        presented.app_id(),
        credential(&headers),
        uri.query().unwrap_or(""),
    );
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
    let decided = decided(caller.app.tokens_not_before, image)?;
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
