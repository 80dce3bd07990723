//! The console's FAQ pages: every helpdesk's FAQs (online or deleted), and
//! one FAQ with its question, answer and the images the answer holds, each
//! with its thumbnail, facts and a `faq_image` curl.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use helpdesk_store::{Faq, FaqImage, FaqQuery, Helpdesk, FAQ_DELETED, FAQ_ONLINE};
use serde::Deserialize;

use crate::auth::Principal;
use crate::pages::{failed, not_found, Page};
use crate::thumbs::ThumbQuery;
use crate::Console;

/// FAQs listed per helpdesk and page.
const FAQS_SHOWN: u32 = 50;

struct HelpdeskFaqs {
    helpdesk: Helpdesk,
    faqs: Vec<Faq>,
    total: u64,
    /// The query string of the next page, when there is one.
    more: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "faqs.html")]
struct FaqsPage {
    helpdesks: Vec<HelpdeskFaqs>,
    /// Every helpdesk the session sees, for the filter's choice.
    all_helpdesks: Vec<Helpdesk>,
    helpdesk: String,
    deleted: bool,
}

#[derive(Deserialize, Default)]
pub struct FaqsQuery {
    #[serde(default)]
    helpdesk: String,
    /// `deleted`: the recoverable ones; anything else: online ones.
    #[serde(default)]
    status: String,
    /// The `seq` the page starts after (the chosen helpdesk's only).
    after: Option<i64>,
}

/// `/faqs`: each helpdesk's FAQs the session sees, fifty at a time.
pub async fn faqs(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<FaqsQuery>,
) -> Page {
    let meta = &console.stores.meta;
    let mut all_helpdesks = meta.helpdesks(None).await.map_err(failed)?;
    all_helpdesks.retain(|h| who.scope.sees(&h.tenant_key));
    let deleted = q.status == "deleted";
    let mut helpdesks = Vec::new();
    for helpdesk in all_helpdesks.iter().cloned() {
        let chosen = q.helpdesk == helpdesk.helpdesk_id;
        if !q.helpdesk.is_empty() && !chosen {
            continue;
        }
        let page = meta
            .faqs(
                &helpdesk.helpdesk_id,
                &FaqQuery {
                    status: Some(if deleted { FAQ_DELETED } else { FAQ_ONLINE }),
                    after: if chosen { q.after } else { None },
                    limit: FAQS_SHOWN,
                    ..FaqQuery::default()
                },
            )
            .await
            .map_err(failed)?;
        let more = match page.faqs.last() {
            Some(last) if page.more => {
                let mut next = url::form_urlencoded::Serializer::new(String::new());
                next.append_pair("helpdesk", &helpdesk.helpdesk_id);
                if deleted {
                    next.append_pair("status", "deleted");
                }
                next.append_pair("after", &last.seq.to_string());
                Some(next.finish())
            }
            _ => None,
        };
        helpdesks.push(HelpdeskFaqs {
            helpdesk,
            faqs: page.faqs,
            total: page.total,
            more,
        });
    }
    Ok(FaqsPage {
        helpdesks,
        all_helpdesks,
        helpdesk: q.helpdesk,
        deleted,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "faq.html")]
struct FaqPage {
    tenant_key: String,
    faq: Faq,
    images: Vec<FaqImage>,
    dimensions: Vec<Option<helpdesk_media::thumb::Dimensions>>,
    api_base: String,
}

/// The FAQ `id` when the session may see it (not one deleted for good).
async fn visible_faq(
    console: &Console,
    who: &Principal,
    id: &str,
) -> Result<(String, Faq), Response> {
    match console.stores.meta.faq_anywhere(id).await.map_err(failed)? {
        Some((tenant_key, faq)) if who.scope.sees(&tenant_key) => Ok((tenant_key, faq)),
        _ => Err(not_found().await),
    }
}

/// `/faqs/{id}`.
pub async fn faq(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    let (tenant_key, faq) = visible_faq(&console, &who, &id).await?;
    let images = console
        .stores
        .meta
        .faq_images(&faq.faq_id)
        .await
        .map_err(failed)?;
    let dimensions =
        crate::tickets::dimensions_of(&console, images.iter().map(|i| i.live_sha256()).collect())
            .await;
    Ok(FaqPage {
        tenant_key,
        faq,
        images,
        dimensions,
        api_base: console.api_base.clone(),
    }
    .into_response())
}

/// A live image of an FAQ the session may see, by its key.
async fn visible_image(
    console: &Console,
    who: &Principal,
    (id, image_key): (String, String),
) -> Result<FaqImage, Response> {
    match console
        .located
        .faq_image(console.stores.meta.as_ref(), (&id, &image_key))
        .await
        .map_err(failed)?
    {
        Some((tenant_key, image)) if who.scope.sees(&tenant_key) && !image.deleted => Ok(image),
        _ => Err(not_found().await),
    }
}

/// `/faqs/{id}/images/{image_key}`: the original, as `faq_image` answers it.
pub async fn faq_image(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(at): Path<(String, String)>,
) -> Page {
    let image = visible_image(&console, &who, at).await?;
    crate::tickets::original(&console, &image.sha256, &image.content_type, image.size).await
}

/// `/faqs/{id}/images/{image_key}/thumb?w=`.
pub async fn faq_thumb(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(at): Path<(String, String)>,
    Query(q): Query<ThumbQuery>,
    headers: axum::http::HeaderMap,
) -> Page {
    let width = q.width()?;
    let image = visible_image(&console, &who, at).await?;
    crate::thumbs::answer(&console, &image.sha256, width, &headers).await
}

/// Where an FAQ's image is (its thumbnails are below it).
pub fn image_path(faq_id: &str, image_key: &str) -> String {
    format!(
        "/faqs/{}/images/{}",
        crate::pages::path_part(faq_id),
        crate::pages::path_part(image_key)
    )
}

/// An FAQ's status, as people say it.
pub fn status(faq: &Faq) -> &'static str {
    match faq.status {
        FAQ_ONLINE => "online",
        FAQ_DELETED => "deleted (recoverable)",
        _ => "deleted for good",
    }
}
