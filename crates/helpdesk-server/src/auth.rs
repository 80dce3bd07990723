//! Extractors that carry the caller's identity into a handler.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use helpdesk_core::auth::{bearer, helpdesk_credential};
use helpdesk_core::{scope, ApiError};
use helpdesk_store::tokens::TokenKind;
use helpdesk_store::{secret, App, AppKind, Helpdesk};

use crate::response::Failure;
use crate::AppState;

/// An app holding a valid tenant access token.
pub struct Caller {
    pub app: App,
}

impl Caller {
    /// 99991672 unless the app holds one of `any_of`.
    pub fn require(&self, any_of: &'static [&'static str]) -> Result<(), Failure> {
        if scope::allows(&self.app.scopes, any_of) {
            Ok(())
        } else {
            Err(ApiError::ScopeRequired(any_of).into())
        }
    }
}

/// The app a valid tenant access token names, and the helpdesk
/// `helpdesk_id` names (if any), in one lookup.
async fn authenticate(
    parts: &Parts,
    state: &AppState,
    helpdesk_id: Option<&str>,
) -> Result<(App, Option<Helpdesk>), Failure> {
    let header = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::MissingToken)?;
    let token = bearer(header).ok_or(ApiError::MissingToken)?;
    let claims = state
        .tokens
        .verify(TokenKind::Tenant, token, helpdesk_store::now())
        .ok_or(ApiError::InvalidToken)?;
    let (app, helpdesk) = match helpdesk_id {
        Some(id) => state.meta.app_and_helpdesk(&claims.app_id, id).await?,
        None => state.meta.app(&claims.app_id).await?.map(|app| (app, None)),
    }
    .ok_or(ApiError::InvalidToken)?;
    if claims.issued_at < app.tokens_not_before {
        return Err(ApiError::InvalidToken.into());
    }
    Ok((app, helpdesk))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let (app, _) = authenticate(parts, state, None).await?;
        Ok(Caller { app })
    }
}

/// A custom app of the helpdesk's own tenant, with its helpdesk credential.
pub struct HelpdeskCaller {
    pub app: App,
    pub helpdesk: Helpdesk,
}

async fn helpdesk_caller(
    parts: &mut Parts,
    state: &AppState,
    scopes: &'static [&'static str],
) -> Result<HelpdeskCaller, Failure> {
    // Decoded before the lookup, so that app and helpdesk come in one query;
    // judged after the token and scope checks, which come first on Feishu.
    let credential = parts
        .headers
        .get("x-lark-helpdesk-authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(helpdesk_credential);
    let helpdesk_id = credential.as_ref().map_or("", |c| c.helpdesk_id.as_str());
    let (app, helpdesk) = authenticate(parts, state, Some(helpdesk_id)).await?;
    let caller = Caller { app };
    caller.require(scopes)?;
    if caller.app.kind != AppKind::Custom {
        return Err(ApiError::Forbidden(
            "only custom (self-built) apps may call helpdesk APIs".into(),
        )
        .into());
    }
    let forbidden = || {
        Failure(ApiError::Forbidden(
            "send X-Lark-Helpdesk-Authorization: base64 of helpdesk_id:helpdesk_token, of a helpdesk of the app's tenant"
                .into(),
        ))
    };
    let (Some(credential), Some(helpdesk)) = (credential, helpdesk) else {
        return Err(forbidden());
    };
    if !secret::matches(&credential.token, &helpdesk.token_sha256)
        || helpdesk.tenant_key != caller.app.tenant_key
    {
        return Err(forbidden());
    }
    Ok(HelpdeskCaller {
        app: caller.app,
        helpdesk,
    })
}

/// May read tickets, messages and images.
pub struct HelpdeskReader(pub HelpdeskCaller);
/// May also open tickets and post messages.
pub struct HelpdeskWriter(pub HelpdeskCaller);

impl FromRequestParts<AppState> for HelpdeskReader {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        helpdesk_caller(parts, state, scope::HELPDESK_READ)
            .await
            .map(HelpdeskReader)
    }
}

impl FromRequestParts<AppState> for HelpdeskWriter {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        helpdesk_caller(parts, state, scope::HELPDESK_WRITE)
            .await
            .map(HelpdeskWriter)
    }
}
