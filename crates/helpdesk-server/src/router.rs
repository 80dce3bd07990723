use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use helpdesk_core::wire::path::{
    ANSWER_USER_QUERY, APP_ACCESS_TOKEN, BOT_MESSAGE, CATEGORIES, CATEGORY, CUSTOMIZED_FIELDS,
    EVENTS_SUBSCRIBE, EVENTS_UNSUBSCRIBE, FAQ, FAQS, FAQ_IMAGE, FAQ_SEARCH, IMAGE, IMAGES,
    START_SERVICE, TENANT_ACCESS_TOKEN, TICKET, TICKETS, TICKET_CUSTOMIZED_FIELD,
    TICKET_CUSTOMIZED_FIELDS, TICKET_IMAGES, TICKET_MESSAGES,
};
use tower_http::catch_panic::CatchPanicLayer;

use crate::handlers::{
    bot_message, categories, events, faq_image, faq_list, faqs, fields, im_images, messages,
    probes, ticket_images, ticket_list, tickets, token, upload,
};
use crate::response::{not_found, panic_response, Route};
use crate::AppState;

const HEALTHZ: &str = "/healthz";
const READYZ: &str = "/readyz";
/// Every route, so that a matched path becomes a `&'static str` label.
const ROUTES: [&str; 24] = [
    TENANT_ACCESS_TOKEN,
    APP_ACCESS_TOKEN,
    IMAGES,
    IMAGE,
    CATEGORIES,
    CATEGORY,
    FAQS,
    FAQ,
    FAQ_SEARCH,
    FAQ_IMAGE,
    BOT_MESSAGE,
    START_SERVICE,
    TICKETS,
    TICKET,
    ANSWER_USER_QUERY,
    CUSTOMIZED_FIELDS,
    TICKET_CUSTOMIZED_FIELDS,
    TICKET_CUSTOMIZED_FIELD,
    TICKET_MESSAGES,
    TICKET_IMAGES,
    EVENTS_SUBSCRIBE,
    EVENTS_UNSUBSCRIBE,
    HEALTHZ,
    READYZ,
];

/// Puts the route pattern the request matched on its response.
async fn tag_route(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .and_then(|m| ROUTES.iter().find(|r| **r == m.as_str()).copied());
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(Route(route));
    }
    res
}

/// Multipart framing and the `image_type` part, on top of the image itself.
const UPLOAD_OVERHEAD: u64 = 1024 * 1024;

/// Every route of the API (the front, `front.rs`, wraps it).
pub(crate) fn router(state: AppState) -> Router {
    let upload_limit =
        (state.limits.max_bytes + UPLOAD_OVERHEAD + helpdesk_store::DRAIN_LIMIT) as usize;
    let observe = state.observe;
    let mut routes = Router::new()
        .route(TENANT_ACCESS_TOKEN, post(token::tenant_access_token))
        .route(APP_ACCESS_TOKEN, post(token::app_access_token))
        .route(
            IMAGES,
            post(upload::upload_image).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(IMAGE, get(im_images::im_image))
        .route(
            CATEGORIES,
            get(categories::list_categories).post(categories::create_category),
        )
        .route(
            CATEGORY,
            get(categories::get_category)
                .patch(categories::patch_category)
                .delete(categories::delete_category),
        )
        .route(FAQS, get(faq_list::list_faqs).post(faqs::create_faq))
        .route(FAQ_SEARCH, get(faq_list::search_faqs))
        .route(
            FAQ,
            get(faqs::get_faq)
                .patch(faqs::patch_faq)
                .delete(faqs::delete_faq),
        )
        .route(FAQ_IMAGE, get(faq_image::faq_image))
        .route(BOT_MESSAGE, post(bot_message::bot_message))
        .route(START_SERVICE, post(tickets::start_service))
        .route(TICKETS, get(ticket_list::list_tickets))
        .route(TICKET, get(tickets::get_ticket).put(tickets::update_ticket))
        .route(ANSWER_USER_QUERY, post(tickets::answer_user_query))
        .route(CUSTOMIZED_FIELDS, get(tickets::customized_fields))
        .route(
            TICKET_CUSTOMIZED_FIELDS,
            get(fields::list_fields).post(fields::create_field),
        )
        .route(
            TICKET_CUSTOMIZED_FIELD,
            get(fields::get_field)
                .patch(fields::patch_field)
                .delete(fields::delete_field),
        )
        .route(
            TICKET_MESSAGES,
            get(messages::list_messages).post(messages::create_message),
        )
        .route(TICKET_IMAGES, get(ticket_images::ticket_image))
        .route(EVENTS_SUBSCRIBE, post(events::subscribe))
        .route(EVENTS_UNSUBSCRIBE, post(events::unsubscribe))
        .route(HEALTHZ, get(probes::healthz))
        .route(READYZ, get(probes::readyz));
    // Only when something reports it: one more layer on the hot path.
    if observe.needs_route() {
        routes = routes.route_layer(axum::middleware::from_fn(tag_route));
    }
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.body_timeout,
            crate::deadline::body_deadline,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}
