//! A ticket's page: its status, custom fields and message timeline, and
//! its images by message and index (originals and thumbnails). A ticket
//! the session may not see is `not_found`, as a missing one is.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use helpdesk_store::{Message, MessageFilter, StoreError, Ticket, TicketImage};

use crate::auth::Principal;
use crate::pages::{failed, not_found, path_part, Page};
use crate::Console;

/// A message of the timeline and its images, as its part shows them.
pub struct MessageView {
    pub message: Message,
    pub images: Vec<TicketImage>,
    /// Each image's header dimensions, in the order of `images`.
    pub dimensions: Vec<Option<helpdesk_media::thumb::Dimensions>>,
}

/// The header dimensions of the images these SHA-256s name (`None`: a
/// deleted one), eight read at a time, each once (the console keeps them).
pub async fn dimensions_of(
    console: &Console,
    images: Vec<Option<&str>>,
) -> Vec<Option<helpdesk_media::thumb::Dimensions>> {
    use futures::StreamExt;
    // Futures of an async fn, not of a closure: the stream stays Send.
    let each: Vec<_> = images
        .into_iter()
        .map(|sha256| dimensions_one(console, sha256))
        .collect();
    futures::stream::iter(each).buffered(8).collect().await
}

async fn dimensions_one(
    console: &Console,
    sha256: Option<&str>,
) -> Option<helpdesk_media::thumb::Dimensions> {
    console
        .thumbs
        .dimensions(console.stores.blobs.as_ref(), sha256?)
        .await
}

#[derive(Template, WebTemplate)]
#[template(path = "ticket.html")]
struct TicketPage {
    tenant_key: String,
    ticket: Ticket,
    messages: Vec<MessageView>,
    image_count: usize,
    api_base: String,
    /// The live stream starts after this row of the feed.
    head: i64,
}

/// Messages shown on a ticket's page.
const MESSAGES_SHOWN: u64 = 1000;

/// The ticket `id` when the session may see it.
pub async fn visible_ticket(
    console: &Console,
    who: &Principal,
    id: &str,
) -> Result<(String, Ticket), Response> {
    match console
        .stores
        .meta
        .ticket_anywhere(id)
        .await
        .map_err(failed)?
    {
        Some((tenant_key, ticket)) if who.scope.sees(&tenant_key) => Ok((tenant_key, ticket)),
        _ => Err(not_found().await),
    }
}

pub async fn ticket(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    let (tenant_key, ticket) = visible_ticket(&console, &who, &id).await?;
    let meta = &console.stores.meta;
    // Read before the messages: what commits after is streamed, and what
    // commits in between comes in both (console.js drops the second copy).
    let head = meta.activity_head().await.map_err(failed)?;
    let page = meta
        .messages(
            &ticket.ticket_id,
            &MessageFilter {
                limit: MESSAGES_SHOWN,
                ..MessageFilter::default()
            },
        )
        .await
        .map_err(failed)?;
    let images = meta
        .ticket_images(&ticket.ticket_id)
        .await
        .map_err(failed)?;
    let image_count = images.iter().filter(|i| !i.deleted).count();
    let dimensions =
        dimensions_of(&console, images.iter().map(|i| i.live_sha256()).collect()).await;
    let mut by_message: BTreeMap<String, (Vec<TicketImage>, Vec<_>)> = BTreeMap::new();
    for (image, dims) in images.into_iter().zip(dimensions) {
        let entry = by_message.entry(image.message_id.clone()).or_default();
        entry.0.push(image);
        entry.1.push(dims);
    }
    let messages = page
        .messages
        .into_iter()
        .map(|message| {
            let (images, dimensions) = by_message.remove(&message.message_id).unwrap_or_default();
            MessageView {
                images,
                dimensions,
                message,
            }
        })
        .collect();
    Ok(TicketPage {
        tenant_key,
        ticket,
        messages,
        image_count,
        api_base: console.api_base.clone(),
        head,
    }
    .into_response())
}

/// A live image of a ticket the session may see, by message and index.
async fn visible_image(
    console: &Console,
    who: &Principal,
    (id, msg_id, index): (String, String, u32),
) -> Result<TicketImage, Response> {
    match console
        .located
        .ticket_image(console.stores.meta.as_ref(), (&id, &msg_id, index))
        .await
        .map_err(failed)?
    {
        Some((tenant_key, image)) if who.scope.sees(&tenant_key) && !image.deleted => Ok(image),
        _ => Err(not_found().await),
    }
}

/// A thumbnail (`?w=200|400|1600`) of a ticket's image, or the
/// placeholder when it cannot be made; 304 for its ETag.
pub async fn ticket_thumb(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(at): Path<(String, String, u32)>,
    Query(q): Query<crate::thumbs::ThumbQuery>,
    headers: axum::http::HeaderMap,
) -> Page {
    let width = q.width()?;
    let image = visible_image(&console, &who, at).await?;
    crate::thumbs::answer(&console, &image.sha256, width, &headers).await
}

/// An image's original bytes, as `ticket_images` would answer them.
pub async fn ticket_image(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(at): Path<(String, String, u32)>,
) -> Page {
    let image = visible_image(&console, &who, at).await?;
    original(&console, &image.sha256, &image.content_type, image.size).await
}

/// The stored bytes `sha256` names, as the API would answer them. The
/// caller has checked that the session may see them.
pub async fn original(console: &Console, sha256: &str, content_type: &str, size: u64) -> Page {
    let stream = match console.stores.blobs.get(sha256).await {
        Ok(stream) => stream,
        Err(StoreError::NotFound { .. }) => return Err(not_found().await),
        Err(e) => return Err(failed(e)),
    };
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(res)
}

/// Where a ticket's image is, by message and index (its thumbnails are
/// below it).
pub fn image_path(ticket_id: &str, message_id: &str, index: &u32) -> String {
    format!(
        "/tickets/{}/messages/{}/images/{index}",
        path_part(ticket_id),
        path_part(message_id)
    )
}
