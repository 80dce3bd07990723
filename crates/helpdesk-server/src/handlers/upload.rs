//! `POST /open-apis/im/v1/images`: multipart `image_type` and `image`.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::response::Response;
use helpdesk_core::{scope, ApiError};
use serde_json::json;

use crate::auth::Caller;
use crate::response::{success, Failure};
use crate::AppState;

const IMAGE_TYPES: &[&str] = &["message", "avatar"];

pub async fn upload_image(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Failure> {
    let result = upload(state, caller, multipart).await;
    crate::metrics::upload(match &result {
        Ok(_) => "stored",
        Err(Failure(ApiError::UploadTooLarge(_))) => "too_large",
        Err(Failure(ApiError::UploadEmpty | ApiError::UploadUnsupported)) => "not_an_image",
        Err(Failure(ApiError::UploadInvalidParam(_))) => "bad_request",
        Err(Failure(ApiError::UploadInfected(_))) => "infected",
        Err(Failure(ApiError::UploadQuotaExceeded { .. })) => "over_quota",
        Err(Failure(ApiError::ScopeRequired(_))) => "refused",
        Err(_) => "failed",
    });
    result
}

async fn upload(
    state: AppState,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Failure> {
    caller.require(scope::IMAGE_UPLOAD)?;
    let bad = |detail: &str| Failure(ApiError::UploadInvalidParam(detail.to_string()));
    let mut multipart =
        multipart.map_err(|_| bad("send multipart/form-data with `image_type` and `image`"))?;
    let mut image_type: Option<String> = None;
    let mut spooled = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::UploadTooLarge(state.limits.max_bytes).into())
            }
            Err(e) => return Err(bad(&format!("malformed multipart body: {}", e.body_text()))),
        };
        match field.name() {
            Some("image_type") => {
                let text = field
                    .text()
                    .await
                    .map_err(|_| bad("unreadable `image_type`"))?;
                image_type = Some(text);
            }
            Some("image") if spooled.is_none() => {
                let name = field.file_name().map(str::to_string);
                spooled =
                    Some(helpdesk_store::spool(&state.tmp_dir, state.limits, name, field).await?);
            }
            // Other parts are read past and ignored, as Feishu does.
            _ => {}
        }
    }
    match image_type.as_deref() {
        Some(t) if IMAGE_TYPES.contains(&t) => {}
        _ => return Err(bad("`image_type` must be \"message\" or \"avatar\"")),
    }
    let spooled = spooled.ok_or_else(|| bad("the `image` part is missing"))?;
    let screened = spooled
        .screen(&state.screening, state.meta.as_ref())
        .await
        .inspect_err(crate::metrics::scan_refused)?;
    crate::metrics::scanned(screened.scan);
    let image = screened
        .commit(
            state.meta.as_ref(),
            state.blobs.as_ref(),
            &caller.app.tenant_key,
            &caller.app.app_id,
        )
        .await?;
    Ok(success(json!({"image_key": image.image_key})))
}
