use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use crate::handlers::{messages, probes, ticket_images, tickets, token, upload};
use crate::response::{envelope, not_found, panic_response};
use crate::AppState;

/// Multipart framing and the `image_type` part, on top of the image itself.
const UPLOAD_OVERHEAD: u64 = 1024 * 1024;

/// Every route of the API, wrapped in the envelope.
pub fn router(state: AppState) -> Router {
    let upload_limit =
        (state.limits.max_bytes + UPLOAD_OVERHEAD + helpdesk_store::DRAIN_LIMIT) as usize;
    Router::new()
        .route(
            "/open-apis/auth/v3/tenant_access_token/internal",
            post(token::tenant_access_token),
        )
        .route(
            "/open-apis/auth/v3/app_access_token/internal",
            post(token::app_access_token),
        )
        .route(
            "/open-apis/im/v1/images",
            post(upload::upload_image).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/open-apis/helpdesk/v1/start_service",
            post(tickets::start_service),
        )
        .route(
            "/open-apis/helpdesk/v1/tickets/{ticket_id}",
            get(tickets::get_ticket),
        )
        .route(
            "/open-apis/helpdesk/v1/tickets/{ticket_id}/messages",
            get(messages::list_messages).post(messages::create_message),
        )
        .route(
            "/open-apis/helpdesk/v1/ticket_images",
            get(ticket_images::ticket_image),
        )
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(envelope))
        .with_state(state)
}
