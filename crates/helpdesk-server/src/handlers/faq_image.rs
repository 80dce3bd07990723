//! `GET /open-apis/helpdesk/v1/faqs/:id/image/:image_key`: an image an
//! FAQ's answer holds, answered as `ticket_images` answers a message's.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use helpdesk_core::{scope, ApiError};
use helpdesk_store::StoreError;

use super::download::{answer, credential, decided, Missing};
use crate::auth::Presented;
use crate::cache::DownloadCache;
use crate::response::Failure;
use crate::AppState;

/// `GET /faqs/:id/image/:image_key`: as `ticket_images`, from its cache
/// (keyed by this path) or one lookup of credentials and image.
pub async fn faq_image(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    ids: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<Response, Failure> {
    // A segment that cannot be decoded names nothing: 154004, as any id.
    let Ok(Path((faq_id, image_key))) = ids else {
        return Err(ApiError::NotFound("the id in the path is not valid".into()).into());
    };
    let presented = Presented::read(&headers, &state)?;
    let key = DownloadCache::key(presented.app_id(), credential(&headers), uri.path());
    if let Some(decided) = state.cache.get(&key, presented.issued_at()) {
        match answer(&state, &method, &headers, &decided).await {
            Err(Missing) => state.cache.forget(&key),
            Ok(res) => return Ok(res),
        }
    }
    let generation = state.cache.generation();
    let lookup = || {
        state.meta.faq_image_with_credentials(
            presented.app_id(),
            presented.helpdesk_id(),
            &faq_id,
            &image_key,
        )
    };
    let (credentials, image) = match lookup().await? {
        Some((app, helpdesk, image)) => (Some((app, helpdesk)), image),
        None => (None, None),
    };
    let caller = presented.judge_helpdesk(credentials, scope::HELPDESK_READ)?;
    let image = image
        .ok_or_else(|| ApiError::NotFound(format!("faq {faq_id} holds no image {image_key}")))?;
    if image.deleted {
        return Err(ApiError::ImageDeleted.into());
    }
    let decided = decided(caller.app.tokens_not_before, image)?;
    let decided = match state
        .cache
        .keep(key, generation, decided, state.blobs.as_ref())
        .await
    {
        Ok(decided) => decided,
        Err(StoreError::NotFound { .. }) => return Err(gone(lookup().await?)),
        Err(e) => return Err(e.into()),
    };
    match answer(&state, &method, &headers, &decided).await {
        Ok(res) => Ok(res),
        Err(Missing) => Err(gone(lookup().await?)),
    }
}

/// Bytes missing under a decided download: deleted since (154404), or lost.
fn gone(
    now: Option<(
        helpdesk_store::App,
        Option<helpdesk_store::Helpdesk>,
        Option<helpdesk_store::StoredImage>,
    )>,
) -> Failure {
    match now {
        Some((_, _, Some(image))) if image.deleted => ApiError::ImageDeleted.into(),
        _ => {
            tracing::error!("blob is held by an faq but missing from storage");
            ApiError::Internal.into()
        }
    }
}
