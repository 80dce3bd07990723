//! FAQ categories: `/categories` and `/categories/:id`, under
//! `/open-apis/helpdesk/v1`, nested by `parent_id`. Writes take an agent's
//! user token, reads the tenant token with the helpdesk credential.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use helpdesk_core::{ids, ApiError};
use helpdesk_store::Category;
use serde_json::{json, Value};

use super::faqs::{bad, store_error, text};
use super::{json_object, Id};
use crate::auth::{AgentCaller, HelpdeskReader};
use crate::query;
use crate::response::{success, Failure};
use crate::AppState;

fn no_category(id: &str) -> Failure {
    Failure(ApiError::NotFound(format!(
        "no category {id} in this helpdesk"
    )))
}

/// A category as the SDKs' `Category` reads it.
pub(super) fn category_json(c: &Category) -> Value {
    json!({
        "category_id": c.category_id,
        "id": c.category_id,
        "name": c.name,
        "parent_id": c.parent_id,
        "helpdesk_id": c.helpdesk_id,
        "language": c.language,
    })
}

/// `parent_id` must name a category of this helpdesk that is not `id`
/// itself or below it.
fn check_parent(all: &[Category], parent: &str, id: Option<&str>) -> Result<(), Failure> {
    if parent.is_empty() || parent == "0" {
        return Ok(());
    }
    let mut at = Some(parent);
    let mut steps = 0;
    while let Some(p) = at {
        if Some(p) == id {
            return Err(bad(format!(
                "parent_id {parent} is the category itself or below it: that would be a cycle"
            )));
        }
        let Some(c) = all.iter().find(|c| c.category_id == p) else {
            return Err(bad(format!(
                "parent_id {p} is not a category of this helpdesk"
            )));
        };
        at = (!c.parent_id.is_empty()).then_some(c.parent_id.as_str());
        steps += 1;
        if steps > all.len() {
            break;
        }
    }
    Ok(())
}

pub async fn create_category(
    State(state): State<AppState>,
    caller: AgentCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = json_object(&body).map_err(bad)?;
    let name = text(&obj, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad("`name` is required"))?;
    let parent = text(&obj, "parent_id")?.unwrap_or("");
    let language = text(&obj, "language")?.unwrap_or("zh_cn");
    let helpdesk_id = &caller.helpdesk.helpdesk_id;
    let all = state.meta.categories(helpdesk_id).await?;
    check_parent(&all, parent, None)?;
    let now = helpdesk_store::now_ms();
    let category = Category {
        seq: 0,
        category_id: ids::field_id(),
        helpdesk_id: helpdesk_id.clone(),
        name: name.trim().to_string(),
        parent_id: if parent == "0" { "" } else { parent }.to_string(),
        language: language.to_string(),
        created_at: now,
        updated_at: now,
    };
    state
        .meta
        .create_category(&category)
        .await
        .map_err(store_error)?;
    Ok(success(json!({"category": category_json(&category)})))
}

pub async fn get_category(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    Id(id): Id,
) -> Result<Response, Failure> {
    let c = state
        .meta
        .category(&caller.helpdesk.helpdesk_id, &id)
        .await?
        .ok_or_else(|| no_category(&id))?;
    Ok(success(category_json(&c)))
}

pub async fn list_categories(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    uri: Uri,
) -> Result<Response, Failure> {
    let params = query::Params::of(&uri);
    let lang = params.first("lang").filter(|v| !v.is_empty());
    let asc = match params.first("asc") {
        None | Some("") => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => return Err(bad(format!("`asc` is true or false, not {v:?}"))),
    };
    // Feishu's order_by: 1 by creation time, 2 by name.
    let by_name = match params.first("order_by").filter(|v| !v.is_empty()) {
        None | Some("1") => false,
        Some("2") => true,
        Some(v) => {
            return Err(bad(format!(
                "`order_by` is 1 (creation time) or 2 (name), not {v:?}"
            )))
        }
    };
    let mut all: Vec<Category> = state
        .meta
        .categories(&caller.helpdesk.helpdesk_id)
        .await?
        .into_iter()
        .filter(|c| lang.is_none_or(|l| c.language == l))
        .collect();
    if by_name {
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.seq.cmp(&b.seq)));
    }
    if !asc {
        all.reverse();
    }
    Ok(success(json!({
        "categories": all.iter().map(category_json).collect::<Vec<_>>(),
    })))
}

pub async fn patch_category(
    State(state): State<AppState>,
    caller: AgentCaller,
    Id(id): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = json_object(&body).map_err(bad)?;
    let helpdesk_id = &caller.helpdesk.helpdesk_id;
    let all = state.meta.categories(helpdesk_id).await?;
    let mut c = all
        .iter()
        .find(|c| c.category_id == id)
        .cloned()
        .ok_or_else(|| no_category(&id))?;
    if let Some(name) = text(&obj, "name")? {
        if name.trim().is_empty() {
            return Err(bad("`name` cannot be empty"));
        }
        c.name = name.trim().to_string();
    }
    if let Some(parent) = text(&obj, "parent_id")? {
        check_parent(&all, parent, Some(&id))?;
        c.parent_id = if parent == "0" { "" } else { parent }.to_string();
    }
    if let Some(language) = text(&obj, "language")? {
        c.language = language.to_string();
    }
    c.updated_at = helpdesk_store::now_ms();
    if !state.meta.update_category(&c).await.map_err(store_error)? {
        return Err(no_category(&id));
    }
    Ok(success(json!({})))
}

pub async fn delete_category(
    State(state): State<AppState>,
    caller: AgentCaller,
    Id(id): Id,
) -> Result<Response, Failure> {
    if !state
        .meta
        .delete_category(&caller.helpdesk.helpdesk_id, &id)
        .await
        .map_err(store_error)?
    {
        return Err(no_category(&id));
    }
    state
        .audit(helpdesk_store::NewAudit {
            actor: &helpdesk_store::Actor::App(caller.app_id.clone()),
            action: "category.delete",
            tenant_key: Some(&caller.helpdesk.tenant_key),
            target: Some(&id),
            detail: json!({"helpdesk_id": caller.helpdesk.helpdesk_id, "agent_id": caller.agent.agent_id}),
        })
        .await;
    Ok(success(json!({})))
}
