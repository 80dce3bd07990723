//! Who is calling: the credentials a request presents, checked in Feishu's
//! order (token, scope, app kind, helpdesk credential), and the extractors
//! that carry the result into a handler.
//!
//! Reading the headers and checking the token's signature need no database;
//! judging needs the app and helpdesk rows, which the caller looks up in
//! whatever single query suits it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use helpdesk_core::auth::{bearer, helpdesk_credential, HelpdeskCredential};
use helpdesk_core::wire::header;
use helpdesk_core::{scope, ApiError};
use helpdesk_store::tokens::{Claims, TokenKind};
use helpdesk_store::{secret, Agent, App, AppKind, Helpdesk};

use crate::response::Failure;
use crate::tokens::Verified;
use crate::AppState;

/// The credentials a request carries: a genuine, unexpired token's claims and
/// the helpdesk credential, if one decodes.
pub struct Presented {
    /// The kind the token was checked as, and what it says.
    verified: Verified,
    credential: Option<HelpdeskCredential>,
}

impl Presented {
    /// 99991661 without `Authorization: Bearer …`, 99991663 for a token that
    /// is not ours or has expired; a user token where a tenant token is
    /// wanted answers as Feishu does.
    pub fn read(headers: &HeaderMap, state: &AppState) -> Result<Presented, Failure> {
        Self::read_kind(headers, state, TokenKind::Tenant)
    }

    fn read_kind(
        headers: &HeaderMap,
        state: &AppState,
        kind: TokenKind,
    ) -> Result<Presented, Failure> {
        let header = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::MissingToken)?;
        let token = bearer(header).ok_or(ApiError::MissingToken)?;
        match (kind, TokenKind::of(token)) {
            (TokenKind::Tenant, Some(TokenKind::User)) => {
                return Err(ApiError::UserTokenNotSupported.into())
            }
            (TokenKind::User, Some(TokenKind::Tenant | TokenKind::App)) => {
                return Err(ApiError::UserTokenRequired.into())
            }
            _ => {}
        }
        let invalid = match kind {
            TokenKind::User => ApiError::InvalidUserToken,
            _ => ApiError::InvalidToken,
        };
        let verified = state
            .tokens
            .load()
            .verify(kind, token.as_bytes(), helpdesk_store::now())
            .ok_or(invalid)?;
        state.rate_limits.check_app(&verified.1.app_id)?;
        let credential = headers
            .get(header::HELPDESK_CREDENTIAL)
            .and_then(|v| v.to_str().ok())
            .and_then(helpdesk_credential);
        Ok(Presented {
            verified,
            credential,
        })
    }

    fn claims(&self) -> &Claims {
        &self.verified.1
    }

    pub fn app_id(&self) -> &str {
        &self.claims().app_id
    }

    /// When the token was issued, for revocation checks.
    pub fn issued_at(&self) -> i64 {
        self.claims().issued_at
    }

    /// The helpdesk the credential names ("" when there is none).
    pub fn helpdesk_id(&self) -> &str {
        self.credential
            .as_ref()
            .map_or("", |c| c.helpdesk_id.as_str())
    }

    /// The app, if it still exists, is enabled and has not revoked this token.
    fn judge_app(&self, app: Option<App>) -> Result<App, Failure> {
        match app {
            Some(app) if self.claims().issued_at >= app.tokens_not_before && !app.disabled => {
                Ok(app)
            }
            _ => Err(ApiError::InvalidToken.into()),
        }
    }

    /// A custom app holding one of `scopes`, with the token of a helpdesk of
    /// its own tenant; `found` is what the lookup of `app_id()` and
    /// `helpdesk_id()` returned.
    pub fn judge_helpdesk(
        &self,
        found: Option<(App, Option<Helpdesk>)>,
        scopes: &'static [&'static str],
    ) -> Result<HelpdeskCaller, Failure> {
        let (app, helpdesk) = match found {
            Some((app, helpdesk)) => (Some(app), helpdesk),
            None => (None, None),
        };
        let caller = Caller {
            app: self.judge_app(app)?,
        };
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
        let (Some(credential), Some(helpdesk)) = (&self.credential, helpdesk) else {
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
}

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
        let presented = Presented::read(&parts.headers, state)?;
        let app = state.meta.app(presented.app_id()).await?;
        Ok(Caller {
            app: presented.judge_app(app)?,
        })
    }
}

/// A custom app of the helpdesk's own tenant, with its helpdesk credential.
pub struct HelpdeskCaller {
    pub app: App,
    pub helpdesk: Helpdesk,
}

impl HelpdeskCaller {
    /// Reads, looks up (app and helpdesk in one query) and judges.
    pub async fn authorize(
        headers: &HeaderMap,
        state: &AppState,
        scopes: &'static [&'static str],
    ) -> Result<HelpdeskCaller, Failure> {
        let presented = Presented::read(headers, state)?;
        let found = state
            .meta
            .app_and_helpdesk(presented.app_id(), presented.helpdesk_id())
            .await?;
        presented.judge_helpdesk(found, scopes)
    }
}

/// An agent of the helpdesk, acting with its user access token (what
/// Feishu's SDKs send for `PUT /tickets/:id`): the token's app must be a
/// custom app holding `helpdesk:all`, of the agent's own tenant, and the
/// agent enabled. A helpdesk credential, when sent, must be the agent's
/// helpdesk's.
pub struct AgentCaller {
    pub helpdesk: Helpdesk,
    pub agent: Agent,
    /// The app the agent's token was issued to: the actor of what the agent
    /// changes, in the audit trail.
    pub app_id: String,
}

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let presented = Presented::read_kind(&parts.headers, state, TokenKind::User)?;
        let agent = state.meta.agent(&presented.claims().user).await?;
        let Some(agent) = agent.filter(|a| !a.disabled) else {
            return Err(ApiError::InvalidUserToken.into());
        };
        let found = state
            .meta
            .app_and_helpdesk(presented.app_id(), &agent.helpdesk_id)
            .await?;
        let (app, helpdesk) = match found {
            Some((app, helpdesk)) => (Some(app), helpdesk),
            None => (None, None),
        };
        let app = presented
            .judge_app(app)
            .map_err(|_| Failure(ApiError::InvalidUserToken))?;
        let helpdesk = helpdesk
            .filter(|h| h.tenant_key == app.tenant_key)
            .ok_or(ApiError::InvalidUserToken)?;
        let caller = Caller { app };
        caller.require(scope::HELPDESK_WRITE)?;
        if caller.app.kind != AppKind::Custom {
            return Err(ApiError::Forbidden(
                "only custom (self-built) apps may call helpdesk APIs".into(),
            )
            .into());
        }
        if let Some(credential) = &presented.credential {
            if credential.helpdesk_id != helpdesk.helpdesk_id
                || !secret::matches(&credential.token, &helpdesk.token_sha256)
            {
                return Err(ApiError::Forbidden(
                    "X-Lark-Helpdesk-Authorization names another helpdesk than the agent's: send the agent's helpdesk, or none"
                        .into(),
                )
                .into());
            }
        }
        Ok(AgentCaller {
            helpdesk,
            agent,
            app_id: caller.app.app_id,
        })
    }
}

/// May read tickets, messages and images.
pub struct HelpdeskReader(pub HelpdeskCaller);
/// May also open tickets and post messages.
pub struct HelpdeskWriter(pub HelpdeskCaller);

impl FromRequestParts<AppState> for HelpdeskReader {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        HelpdeskCaller::authorize(&parts.headers, state, scope::HELPDESK_READ)
            .await
            .map(HelpdeskReader)
    }
}

impl FromRequestParts<AppState> for HelpdeskWriter {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        HelpdeskCaller::authorize(&parts.headers, state, scope::HELPDESK_WRITE)
            .await
            .map(HelpdeskWriter)
    }
}
