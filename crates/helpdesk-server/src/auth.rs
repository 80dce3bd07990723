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

impl FromRequestParts<AppState> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
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
        let app = state
            .meta
            .app(&claims.app_id)
            .await?
            .ok_or(ApiError::InvalidToken)?;
        if claims.issued_at < app.tokens_not_before {
            return Err(ApiError::InvalidToken.into());
        }
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
    let caller = Caller::from_request_parts(parts, state).await?;
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
    let credential = parts
        .headers
        .get("x-lark-helpdesk-authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(helpdesk_credential)
        .ok_or_else(forbidden)?;
    let helpdesk = state
        .meta
        .helpdesk(&credential.helpdesk_id)
        .await?
        .ok_or_else(forbidden)?;
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
