//! `POST /open-apis/auth/v3/{tenant,app}_access_token/internal`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use helpdesk_core::ApiError;
use helpdesk_store::tokens::{Issued, TokenKind};
use helpdesk_store::{now, secret, App};
use serde_json::json;

use super::{json_object, string_field};
use crate::response::{json_response, Failure};
use crate::{AppState, PeerAddr};

/// The app whose app_id and app_secret the body carries.
async fn authenticate(
    state: &AppState,
    body: &Result<Bytes, BytesRejection>,
) -> Result<App, Failure> {
    let obj = json_object(body).map_err(ApiError::TokenInvalidParam)?;
    let (Some(app_id), Some(app_secret)) = (
        string_field(&obj, "app_id"),
        string_field(&obj, "app_secret"),
    ) else {
        return Err(ApiError::TokenInvalidParam(
            "send {\"app_id\": \"cli_...\", \"app_secret\": \"...\"}".into(),
        )
        .into());
    };
    let app = state
        .meta
        .app(app_id)
        .await?
        .ok_or(ApiError::AppSecretInvalid)?;
    // A disabled app is refused as a wrong secret is: nothing tells a
    // caller more than that these credentials get no token.
    if !secret::matches(app_secret, &app.secret_sha256) || app.disabled {
        return Err(ApiError::AppSecretInvalid.into());
    }
    Ok(app)
}

fn issue(state: &AppState, app: &App, kind: TokenKind, now: i64) -> Issued {
    crate::metrics::token_issued(match kind {
        TokenKind::Tenant => "tenant",
        TokenKind::App => "app",
        TokenKind::User => "user",
    });
    state.tokens.load().signer().issue(
        kind,
        &app.app_id,
        app.tokens_not_before,
        now,
        state.token_lifetime,
    )
}

/// The per-IP limit of token requests, when the peer is known.
fn limit(state: &AppState, peer: Option<Extension<PeerAddr>>) -> Result<(), Failure> {
    match peer {
        Some(Extension(PeerAddr(addr))) => Ok(state.rate_limits.check_token(addr.ip())?),
        None => Ok(()),
    }
}

pub async fn tenant_access_token(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    limit(&state, peer)?;
    let app = authenticate(&state, &body).await?;
    let issued = issue(&state, &app, TokenKind::Tenant, now());
    Ok(json_response(
        StatusCode::OK,
        &json!({"code": 0, "msg": "ok", "tenant_access_token": issued.token, "expire": issued.expire}),
    ))
}

pub async fn app_access_token(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    limit(&state, peer)?;
    let app = authenticate(&state, &body).await?;
    // One instant for both, so that they come from the same issuing period.
    let now = now();
    let app_token = issue(&state, &app, TokenKind::App, now);
    let tenant_token = issue(&state, &app, TokenKind::Tenant, now);
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "code": 0,
            "msg": "ok",
            "app_access_token": app_token.token,
            "tenant_access_token": tenant_token.token,
            "expire": app_token.expire,
        }),
    ))
}
