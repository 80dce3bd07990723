//! FAQs: create, get, patch and delete `/faqs/:id` under
//! `/open-apis/helpdesk/v1` (their lists in `faq_list.rs`, their images in
//! `faq_image.rs`, their categories in `categories.rs`).
//! Writes take an agent's user token and reads the tenant token with the
//! helpdesk credential, as the SDKs send them.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::Response;
use helpdesk_core::{ids, search, ApiError};
use helpdesk_store::{json_list, Category, Faq, Image, StoreError, User, FAQ_GONE, FAQ_ONLINE};
use serde_json::{json, Map, Value};

use super::categories::category_json;
use super::{json_object, Id};
use crate::auth::{AgentCaller, HelpdeskReader};
use crate::response::{success, Failure};
use crate::AppState;

pub(super) fn bad(detail: impl Into<String>) -> Failure {
    Failure(ApiError::BadRequest(detail.into()))
}

pub(super) fn store_error(e: StoreError) -> Failure {
    match e {
        StoreError::Invalid(d) => bad(d),
        e => e.into(),
    }
}

fn no_faq(id: &str) -> Failure {
    Failure(ApiError::NotFound(format!("no faq {id} in this helpdesk")))
}

pub(super) fn text<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad(format!("`{name}` is a string"))),
    }
}

/// Rich-text element types an answer may hold.
const RICHTEXT_TYPES: [&str; 5] = ["text", "hyperlink", "image", "line_break", "paragraph"];

/// `answer_richtext` as the SDKs send it: a string holding a JSON array
/// (create) or the array itself (patch); either way, the elements.
fn richtext(v: &Value) -> Result<Vec<Value>, Failure> {
    let parsed;
    let items = match v {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|e| {
                bad(format!(
                    "`answer_richtext` is a JSON array of {{content, type}}: {e}"
                ))
            })?;
            &parsed
        }
        v => v,
    };
    let items = items
        .as_array()
        .ok_or_else(|| bad("`answer_richtext` is a JSON array of {content, type}"))?;
    let mut out = Vec::new();
    for item in items {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        if !RICHTEXT_TYPES.contains(&kind) {
            return Err(bad(format!(
                "answer_richtext: element type {kind:?} is not one of {}",
                RICHTEXT_TYPES.join(", ")
            )));
        }
        let content = match item.get("content") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(bad("answer_richtext: an element's `content` is a string")),
        };
        if kind == "image" && content.is_empty() {
            return Err(bad(
                "answer_richtext: an image element's `content` is an image_key from POST /open-apis/im/v1/images",
            ));
        }
        out.push(json!({"content": content, "type": kind}));
    }
    Ok(out)
}

/// The uploaded images an answer names, in order, each a live image of the
/// tenant (another tenant's key answers as a missing one).
async fn answer_images(
    state: &AppState,
    tenant_key: &str,
    elements: &[Value],
) -> Result<Vec<Image>, Failure> {
    let keys: Vec<String> = elements
        .iter()
        .filter(|e| e["type"] == "image")
        .filter_map(|e| e["content"].as_str().map(str::to_string))
        .collect();
    let found = state.meta.images(tenant_key, &keys).await?;
    let mut ordered: Vec<Image> = Vec::new();
    for key in &keys {
        let image = found.iter().find(|i| &i.image_key == key).ok_or_else(|| {
            bad(format!(
                "answer_richtext: image_key {key} is not a live image uploaded by this tenant (unknown, or deleted)"
            ))
        })?;
        if !ordered.iter().any(|i| &i.image_key == key) {
            ordered.push(image.clone());
        }
    }
    Ok(ordered)
}

/// The plain answer of rich text: its text and links, in order.
fn plain(elements: &[Value]) -> String {
    elements
        .iter()
        .filter(|e| e["type"] == "text" || e["type"] == "hyperlink")
        .filter_map(|e| e["content"].as_str())
        .collect::<Vec<_>>()
        .join("")
}

fn tags(obj: &Map<String, Value>) -> Result<Option<Vec<String>>, Failure> {
    match obj.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| t.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| bad("`tags` is an array of strings")),
        Some(_) => Err(bad("`tags` is an array of strings")),
    }
}

/// The `faq` object of a create or patch body.
fn faq_body(body: &Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, Failure> {
    let obj = json_object(body).map_err(bad)?;
    match obj.get("faq") {
        Some(Value::Object(f)) => Ok(f.clone()),
        _ => Err(bad(
            "send {\"faq\": {question, answer or answer_richtext, ...}}",
        )),
    }
}

async fn category_of(
    state: &AppState,
    helpdesk_id: &str,
    obj: &Map<String, Value>,
) -> Result<Option<String>, Failure> {
    match text(obj, "category_id")?.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => match state.meta.category(helpdesk_id, c).await? {
            Some(_) => Ok(Some(c.to_string())),
            None => Err(bad(format!(
                "category_id {c} is not a category of this helpdesk"
            ))),
        },
    }
}

fn grams(question: &str, answer: &str) -> String {
    search::document(&format!("{question}\n{answer}"))
}

/// An FAQ as the SDKs' `Faq` reads it.
fn faq_json(f: &Faq, categories: &[Category], people: &[User]) -> Value {
    let person = |open_id: &str| match people.iter().find(|u| u.open_id == open_id) {
        Some(u) => {
            json!({"id": u.open_id, "name": u.name, "avatar_url": u.avatar_url, "email": u.email})
        }
        None => json!({"id": open_id}),
    };
    let richtext: Value = serde_json::from_str(&f.answer_richtext).unwrap_or_else(|_| json!([]));
    json!({
        "faq_id": f.faq_id,
        "id": f.faq_id,
        "helpdesk_id": f.helpdesk_id,
        "question": f.question,
        "answer": f.answer,
        "answer_richtext": richtext,
        "create_time": f.create_time,
        "update_time": f.update_time,
        "categories": f
            .categories()
            .iter()
            .filter_map(|id| categories.iter().find(|c| &c.category_id == id))
            .map(category_json)
            .collect::<Vec<_>>(),
        "tags": f.tag_names(),
        "expire_time": 0,
        "update_user": person(&f.update_user),
        "create_user": person(&f.create_user),
    })
}

/// FAQs as JSON, with the categories and people they name looked up once.
pub(super) async fn faqs_json(
    state: &AppState,
    tenant_key: &str,
    helpdesk_id: &str,
    faqs: &[Faq],
) -> Result<Vec<Value>, Failure> {
    let categories = state.meta.categories(helpdesk_id).await?;
    let mut ids: Vec<String> = faqs
        .iter()
        .flat_map(|f| [f.create_user.clone(), f.update_user.clone()])
        .collect();
    ids.sort();
    ids.dedup();
    let people = state.meta.users(tenant_key, &ids).await?;
    Ok(faqs
        .iter()
        .map(|f| faq_json(f, &categories, &people))
        .collect())
}

pub async fn create_faq(
    State(state): State<AppState>,
    caller: AgentCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = faq_body(&body)?;
    let helpdesk = &caller.helpdesk;
    let question = text(&obj, "question")?
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| bad("faq.question is required"))?;
    let elements = match obj.get("answer_richtext") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => richtext(v)?,
    };
    let answer = match text(&obj, "answer")? {
        Some(a) if !a.is_empty() => a.to_string(),
        _ => plain(&elements),
    };
    if answer.is_empty() && elements.is_empty() {
        return Err(bad("give faq.answer or faq.answer_richtext"));
    }
    let images = answer_images(&state, &helpdesk.tenant_key, &elements).await?;
    let category = category_of(&state, &helpdesk.helpdesk_id, &obj).await?;
    let now = helpdesk_store::now_ms();
    let agent = &caller.agent.agent_id;
    let faq = Faq {
        seq: 0,
        faq_id: ids::field_id(),
        helpdesk_id: helpdesk.helpdesk_id.clone(),
        search_grams: grams(question, &answer),
        question: question.to_string(),
        answer,
        answer_richtext: Value::Array(elements).to_string(),
        category_ids: json_list(&category.into_iter().collect::<Vec<_>>()),
        tags: json_list(&tags(&obj)?.unwrap_or_default()),
        status: FAQ_ONLINE,
        create_user: agent.clone(),
        update_user: agent.clone(),
        create_time: now,
        update_time: now,
    };
    state
        .meta
        .create_faq(&faq, &images)
        .await
        .map_err(store_error)?;
    let shown = faqs_json(&state, &helpdesk.tenant_key, &helpdesk.helpdesk_id, &[faq]).await?;
    Ok(success(json!({"faq": shown[0]})))
}

pub async fn get_faq(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    Id(id): Id,
) -> Result<Response, Failure> {
    let helpdesk = &caller.helpdesk;
    let faq = state
        .meta
        .faq(&helpdesk.helpdesk_id, &id)
        .await?
        .ok_or_else(|| no_faq(&id))?;
    let shown = faqs_json(&state, &helpdesk.tenant_key, &helpdesk.helpdesk_id, &[faq]).await?;
    Ok(success(json!({"faq": shown[0]})))
}

pub async fn patch_faq(
    State(state): State<AppState>,
    caller: AgentCaller,
    Id(id): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = faq_body(&body)?;
    let helpdesk = &caller.helpdesk;
    let mut faq = state
        .meta
        .faq(&helpdesk.helpdesk_id, &id)
        .await?
        .ok_or_else(|| no_faq(&id))?;
    if let Some(q) = text(&obj, "question")? {
        if q.trim().is_empty() {
            return Err(bad("faq.question cannot be empty"));
        }
        faq.question = q.to_string();
    }
    let mut images = None;
    if let Some(v) = obj.get("answer_richtext").filter(|v| !v.is_null()) {
        let elements = richtext(v)?;
        images = Some(answer_images(&state, &helpdesk.tenant_key, &elements).await?);
        if text(&obj, "answer")?.is_none() {
            faq.answer = plain(&elements);
        }
        faq.answer_richtext = Value::Array(elements).to_string();
    }
    if let Some(a) = text(&obj, "answer")? {
        faq.answer = a.to_string();
    }
    if let Some(c) = category_of(&state, &helpdesk.helpdesk_id, &obj).await? {
        faq.category_ids = json_list(&[c]);
    }
    if let Some(t) = tags(&obj)? {
        faq.tags = json_list(&t);
    }
    // Patching a deleted FAQ brings it back, as Feishu's recoverable delete.
    faq.status = FAQ_ONLINE;
    faq.search_grams = grams(&faq.question, &faq.answer);
    faq.update_user = caller.agent.agent_id.clone();
    faq.update_time = helpdesk_store::now_ms().max(faq.update_time);
    if !state
        .meta
        .update_faq(&faq, images.as_deref())
        .await
        .map_err(store_error)?
    {
        return Err(no_faq(&id));
    }
    if images.is_some() {
        state.changed_here().await;
    }
    Ok(success(json!({})))
}

/// Removes the bytes of released images that nothing else uses (a failure
/// leaves them to the sweep, as every delete does).
async fn release(state: &AppState, released: &[String]) {
    for sha256 in released {
        if let Err(e) = helpdesk_store::cleanup::remove_if_unreferenced(
            state.meta.as_ref(),
            state.blobs.as_ref(),
            sha256,
        )
        .await
        {
            tracing::warn!(%sha256, error = %e, "released image left for the sweep");
        }
    }
}

pub async fn delete_faq(
    State(state): State<AppState>,
    caller: AgentCaller,
    Id(id): Id,
) -> Result<Response, Failure> {
    let (status, released) = state
        .meta
        .delete_faq(&caller.helpdesk.helpdesk_id, &id)
        .await?
        .ok_or_else(|| no_faq(&id))?;
    if status == FAQ_GONE {
        state.changed_here().await;
    }
    release(&state, &released).await;
    state
        .audit(helpdesk_store::NewAudit {
            actor: &helpdesk_store::Actor::App(caller.app_id.clone()),
            action: if status == FAQ_GONE { "faq.purge" } else { "faq.delete" },
            tenant_key: Some(&caller.helpdesk.tenant_key),
            target: Some(&id),
            detail: json!({"helpdesk_id": caller.helpdesk.helpdesk_id, "agent_id": caller.agent.agent_id, "images_released": released.len()}),
        })
        .await;
    Ok(success(json!({})))
}
