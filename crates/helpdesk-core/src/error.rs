//! Every error a client can see, with its Feishu `code` and HTTP status.

use crate::wire::{code, path};

/// One error a client can receive. `code`, `http_status` and `msg` are the only
/// place where a variant is mapped onto the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 99991661: the `Authorization` header is missing or not `Bearer <token>`.
    #[error("missing access token")]
    MissingToken,
    /// 99991663: the token is unknown, forged, revoked or expired.
    #[error("invalid access token")]
    InvalidToken,
    /// 99991668: the user access token is unknown, forged, revoked or
    /// expired, or its agent is disabled.
    #[error("invalid user access token")]
    InvalidUserToken,
    /// 99991663 (Feishu's "tenant access token not support"): a tenant (or
    /// app) token where the method takes a user access token.
    #[error("user access token required")]
    UserTokenRequired,
    /// 99991668 (Feishu's "user access token not support"): a user access
    /// token where the method takes a tenant access token.
    #[error("user access token not supported")]
    UserTokenNotSupported,
    /// 99991672: the app lacks every scope the API accepts.
    #[error("scope required: {0:?}")]
    ScopeRequired(&'static [&'static str]),
    /// 10003 (HTTP 200, as Feishu): token request without app_id or app_secret.
    #[error("invalid param: {0}")]
    TokenInvalidParam(String),
    /// 10014 (HTTP 200, as Feishu): unknown app or wrong secret.
    #[error("app secret invalid")]
    AppSecretInvalid,
    /// 154000: a malformed helpdesk request; the detail says which part.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 154003: helpdesk credential missing or wrong, another tenant's helpdesk,
    /// or an app that is not a custom (self-built) app.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 154004: ticket or message not found, or the message holds no image.
    #[error("not found: {0}")]
    NotFound(String),
    /// 154404: the image was deleted.
    #[error("image deleted")]
    ImageDeleted,
    /// 155000: something failed on our side; the log id is the handle.
    #[error("internal error")]
    Internal,
    /// 234001: upload without `image_type` or `image`, or a bad
    /// `image_type`; an image get of a key that names no image of the
    /// tenant.
    #[error("upload invalid param: {0}")]
    UploadInvalidParam(String),
    /// 234005 (im image get): the image was deleted.
    #[error("im image deleted")]
    ImImageDeleted,
    /// 234008 (im image get): another app of the tenant uploaded it.
    #[error("not the image's sender")]
    ImNotSender,
    /// 234006: the image is larger than the limit (bytes).
    #[error("image too large (limit {0} bytes)")]
    UploadTooLarge(u64),
    /// 234010: the uploaded file is empty.
    #[error("empty file")]
    UploadEmpty,
    /// 234011: the bytes are not an image type we accept.
    #[error("image format not supported")]
    UploadUnsupported,
    /// 234901 (ours, not Feishu's): the malware scan matched a signature;
    /// nothing of the upload was stored.
    #[error("image refused by the malware scan ({0})")]
    UploadInfected(String),
    /// 234902 (ours, not Feishu's): the upload would take the tenant's
    /// stored images past its quota.
    #[error("tenant quota exceeded")]
    UploadQuotaExceeded { max_bytes: u64, would_use: u64 },
    /// 99991400 (HTTP 429): over the rate limit of `limit` requests a
    /// second; the window resets in `reset_secs`.
    #[error("rate limited")]
    RateLimited { limit: u32, reset_secs: u64 },
}

impl ApiError {
    /// The Feishu error code.
    pub fn code(&self) -> i64 {
        match self {
            ApiError::MissingToken => code::MISSING_TOKEN,
            ApiError::InvalidToken => code::INVALID_TOKEN,
            ApiError::InvalidUserToken => code::INVALID_USER_TOKEN,
            ApiError::UserTokenRequired => code::USER_TOKEN_REQUIRED,
            ApiError::UserTokenNotSupported => code::USER_TOKEN_NOT_SUPPORTED,
            ApiError::ScopeRequired(_) => code::SCOPE_REQUIRED,
            ApiError::TokenInvalidParam(_) => code::TOKEN_INVALID_PARAM,
            ApiError::AppSecretInvalid => code::APP_SECRET_INVALID,
            ApiError::BadRequest(_) => code::BAD_REQUEST,
            ApiError::Forbidden(_) => code::FORBIDDEN,
            ApiError::NotFound(_) => code::NOT_FOUND,
            ApiError::ImageDeleted => code::IMAGE_DELETED,
            ApiError::Internal => code::INTERNAL,
            ApiError::UploadInvalidParam(_) => code::UPLOAD_INVALID_PARAM,
            ApiError::UploadTooLarge(_) => code::UPLOAD_TOO_LARGE,
            ApiError::ImImageDeleted => code::IM_IMAGE_DELETED,
            ApiError::ImNotSender => code::IM_NOT_SENDER,
            ApiError::UploadEmpty => code::UPLOAD_EMPTY,
            ApiError::UploadUnsupported => code::UPLOAD_UNSUPPORTED,
            ApiError::UploadInfected(_) => code::UPLOAD_INFECTED,
            ApiError::UploadQuotaExceeded { .. } => code::UPLOAD_QUOTA_EXCEEDED,
            ApiError::RateLimited { .. } => code::RATE_LIMITED,
        }
    }

    /// The HTTP status Feishu answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::MissingToken
            | ApiError::InvalidToken
            | ApiError::InvalidUserToken
            | ApiError::UserTokenRequired
            | ApiError::UserTokenNotSupported
            | ApiError::ScopeRequired(_) => 400,
            ApiError::TokenInvalidParam(_) | ApiError::AppSecretInvalid => 200,
            ApiError::BadRequest(_) => 400,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::ImageDeleted => 401,
            ApiError::Internal => 500,
            ApiError::UploadInvalidParam(_)
            | ApiError::ImImageDeleted
            | ApiError::ImNotSender
            | ApiError::UploadTooLarge(_)
            | ApiError::UploadEmpty
            | ApiError::UploadUnsupported
            | ApiError::UploadInfected(_)
            | ApiError::UploadQuotaExceeded { .. } => 400,
            ApiError::RateLimited { .. } => 429,
        }
    }

    /// The `msg` of the envelope: Feishu's own wording, which clients compare.
    pub fn msg(&self) -> String {
        match self {
            ApiError::MissingToken => {
                "Missing access token for authorization. Please make a request with token attached."
                    .into()
            }
            ApiError::InvalidToken => {
                "Invalid access token for authorization. Please make a request with token attached."
                    .into()
            }
            ApiError::InvalidUserToken => {
                "Invalid access token for authorization. Please make a request with token attached."
                    .into()
            }
            // Feishu's general error table: the "invalid" codes, told apart
            // by their msg.
            ApiError::UserTokenRequired => "tenant access token not support".into(),
            ApiError::UserTokenNotSupported => "user access token not support".into(),
            ApiError::ScopeRequired(scopes) => format!(
                "Access denied. One of the following scopes is required: [{}]",
                scopes.join(", ")
            ),
            ApiError::TokenInvalidParam(_) => "invalid param".into(),
            ApiError::AppSecretInvalid => "app secret invalid".into(),
            ApiError::BadRequest(_) => "Bad request, please check your request body".into(),
            ApiError::Forbidden(_) => "Please check you have the correct access".into(),
            ApiError::NotFound(_) => "Resource not found".into(),
            ApiError::ImageDeleted => "Image might be deleted".into(),
            ApiError::Internal => "Internal error".into(),
            ApiError::UploadInvalidParam(_) => "invalid param".into(),
            ApiError::UploadTooLarge(_) => "file size exceed the max value".into(),
            ApiError::ImImageDeleted => "The image has been deleted.".into(),
            ApiError::ImNotSender => "The app is not the resource sender.".into(),
            ApiError::UploadEmpty => "file is empty".into(),
            ApiError::UploadUnsupported => "image type not supported".into(),
            ApiError::UploadInfected(_) => "file refused by the malware scan".into(),
            ApiError::UploadQuotaExceeded { .. } => "tenant storage quota exceeded".into(),
            ApiError::RateLimited { .. } => "request trigger frequency limit".into(),
        }
    }

    /// What to do next, in one line: sent as `error.details[{key: "hint"}]`.
    pub fn hint(&self) -> String {
        match self {
            ApiError::MissingToken => "send `Authorization: Bearer <tenant_access_token>`".into(),
            ApiError::InvalidToken => format!(
                "get a new tenant_access_token from {}",
                path::TENANT_ACCESS_TOKEN
            ),
            ApiError::InvalidUserToken => {
                "get the agent a new user_access_token (helpdesk admin agent token); a disabled agent's tokens are refused".into()
            }
            ApiError::UserTokenRequired => {
                "this method is called as an agent: send its user_access_token (u-...), not a tenant_access_token".into()
            }
            ApiError::UserTokenNotSupported => {
                "this method takes a tenant_access_token (t-...), not a user_access_token".into()
            }
            ApiError::ScopeRequired(scopes) => {
                format!("grant the app one of: {}", scopes.join(", "))
            }
            ApiError::TokenInvalidParam(d)
            | ApiError::BadRequest(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::UploadInvalidParam(d) => d.clone(),
            ApiError::AppSecretInvalid => "check app_id and app_secret".into(),
            ApiError::ImageDeleted => {
                "the image was removed from the ticket; it cannot be fetched again".into()
            }
            ApiError::Internal => {
                "retry later; if it persists, give the log id to the server's operator".into()
            }
            ApiError::UploadTooLarge(limit) => format!("upload an image of at most {limit} bytes"),
            ApiError::ImImageDeleted => "the image was deleted; it cannot be fetched again".into(),
            ApiError::ImNotSender => {
                "an app gets only the images it uploaded itself: fetch it with the app that uploaded it".into()
            }
            ApiError::UploadEmpty => "the `image` part has no bytes".into(),
            ApiError::UploadUnsupported => {
                "upload a PNG, JPEG, GIF, WEBP, BMP, TIFF or ICO image".into()
            }
            ApiError::UploadInfected(signature) => format!(
                "the file matches the malware signature {signature}; it was not stored"
            ),
            ApiError::UploadQuotaExceeded {
                max_bytes,
                would_use,
            } => format!(
                "the tenant's images would hold {would_use} bytes, over its quota of {max_bytes}: delete images, or ask the operator to raise it (helpdesk admin tenant set --max-bytes)"
            ),
            ApiError::RateLimited { limit, reset_secs } => format!(
                "at most {limit} requests a second: retry after {reset_secs} s (x-ogw-ratelimit-reset)"
            ),
        }
    }
}

/// The innermost error of a chain: what actually went wrong (a connection
/// refused, a body cut off), not the layers that passed it on.
pub fn root_cause<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    let mut e = e;
    while let Some(source) = e.source() {
        e = source;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_image_error_table_matches_the_api_page() {
        let rows = [
            (
                ApiError::BadRequest(String::new()),
                400,
                154000,
                "Bad request, please check your request body",
            ),
            (
                ApiError::Forbidden(String::new()),
                403,
                154003,
                "Please check you have the correct access",
            ),
            (
                ApiError::NotFound(String::new()),
                404,
                154004,
                "Resource not found",
            ),
            (
                ApiError::ImageDeleted,
                401,
                154404,
                "Image might be deleted",
            ),
            (ApiError::Internal, 500, 155000, "Internal error"),
        ];
        for (err, status, code, msg) in rows {
            assert_eq!(
                (err.http_status(), err.code(), err.msg().as_str()),
                (status, code, msg)
            );
        }
    }
}
