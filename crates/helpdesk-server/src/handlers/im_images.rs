//! `GET /open-apis/im/v1/images/:image_key`: an image the calling app
//! uploaded, as Feishu serves it (only the uploader; 234008 for another app
//! of the tenant; another tenant's key answers as a missing one).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use helpdesk_core::{scope, ApiError};
use helpdesk_store::{StoreError, StoredImage};

use super::download::{answer, decided, Missing};
use crate::auth::Caller;
use crate::response::Failure;
use crate::AppState;

pub async fn im_image(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    headers: HeaderMap,
    key: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, Failure> {
    caller.require(scope::IMAGE_UPLOAD)?;
    let missing = |key: &str| {
        Failure(ApiError::UploadInvalidParam(format!(
            "no image {key}: give an image_key this app uploaded (POST /open-apis/im/v1/images)"
        )))
    };
    let Ok(Path(key)) = key else {
        return Err(missing("(the key in the path is not valid)"));
    };
    let upload = state
        .meta
        .upload(&key)
        .await?
        .filter(|u| u.image.tenant_key == caller.app.tenant_key)
        .ok_or_else(|| missing(&key))?;
    if upload
        .app_id
        .as_deref()
        .is_some_and(|a| a != caller.app.app_id)
    {
        return Err(ApiError::ImNotSender.into());
    }
    if upload.deleted {
        return Err(ApiError::ImImageDeleted.into());
    }
    let image = upload.image;
    let decided = decided(
        caller.app.tokens_not_before,
        StoredImage {
            sha256: image.sha256,
            size: image.size,
            content_type: image.content_type,
            file_name: image.file_name,
            deleted: false,
        },
    )?;
    match answer(&state, &method, &headers, &decided).await {
        Ok(res) => Ok(res),
        // Deleted since we looked (its bytes went with it), or lost.
        Err(Missing) => match state.meta.upload(&key).await? {
            Some(u) if u.deleted => Err(ApiError::ImImageDeleted.into()),
            _ => {
                tracing::error!(sha256 = %decided.image.sha256, "blob of an upload missing from storage");
                Err(StoreError::not_found(helpdesk_store::Entity::Blob, &key).into())
            }
        },
    }
}
