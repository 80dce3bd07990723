//! A helpdesk's ticket customized fields: `/ticket_customized_fields`
//! (create, patch and delete as an agent, as the SDKs call them; list and
//! get with the tenant token and helpdesk credential).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::Uri;
use axum::response::Response;
use helpdesk_core::{ids, ApiError};
use helpdesk_store::{Field, StoreError};
use serde_json::{json, Map, Value};

use super::json_object;
use crate::auth::{AgentCaller, HelpdeskReader};
use crate::query;
use crate::response::{success, Failure};
use crate::AppState;

const FIELD_TYPES: [&str; 4] = ["string", "multiline", "dropdown", "dropdown_nested"];
const DEFAULT_PAGE_SIZE: usize = 20;
/// The docs' most for this list (100, not 200); more is refused.
const MAX_PAGE_SIZE: usize = 100;

fn bad(detail: impl Into<String>) -> Failure {
    Failure(ApiError::BadRequest(detail.into()))
}

fn missing(id: &str) -> Failure {
    Failure(ApiError::NotFound(format!(
        "no ticket customized field {id} in this helpdesk"
    )))
}

/// The `:ticket_customized_field_id` of a path (undecodable: not found).
pub struct FieldId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for FieldId {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(FieldId(id)),
            Err(_) => Err(missing("(the id in the path is not valid)")),
        }
    }
}

/// Every field of a helpdesk, oldest first.
pub async fn helpdesk_fields(state: &AppState, helpdesk_id: &str) -> Result<Vec<Field>, Failure> {
    Ok(state.meta.fields(helpdesk_id).await?)
}

/// A field as the SDKs' `TicketCustomizedField` reads it: times are strings
/// of milliseconds, people are `TicketUser`s.
pub fn field_json(f: &Field) -> Value {
    let mut v = json!({
        "ticket_customized_field_id": f.field_id,
        "helpdesk_id": f.helpdesk_id,
        "key_name": f.key_name,
        "display_name": f.display_name,
        "position": f.position,
        "field_type": f.field_type,
        "description": f.description,
        "visible": f.visible,
        "editable": f.editable,
        "required": f.required,
        "created_at": f.created_at.to_string(),
        "updated_at": f.updated_at.to_string(),
        "created_by": {"id": f.created_by},
        "updated_by": {"id": f.updated_by},
        "dropdown_allow_multiple": f.dropdown_allow_multiple,
    });
    if let Ok(options) = serde_json::from_str::<Value>(&f.dropdown_options) {
        v["dropdown_options"] = options;
    }
    v
}

/// Every option tag of a dropdown's tree.
fn option_tags(options: &Value, out: &mut Vec<String>) {
    for child in options["children"].as_array().into_iter().flatten() {
        if let Some(tag) = child["tag"].as_str() {
            out.push(tag.to_string());
        }
        option_tags(child, out);
    }
}

/// Whether `value` is one a ticket may hold in `field`; the error names the
/// field and the value.
pub fn validate_value(field: &Field, value: &str) -> Result<(), String> {
    let name = &field.key_name;
    if value.is_empty() {
        return if field.required {
            Err(format!("customized_fields: {name} is required"))
        } else {
            Ok(())
        };
    }
    match field.field_type.as_str() {
        "string" if value.contains('\n') => Err(format!(
            "customized_fields: {name} is a one-line string (use a multiline field for more)"
        )),
        "dropdown" | "dropdown_nested" => {
            let options: Value = serde_json::from_str(&field.dropdown_options).unwrap_or_default();
            let mut tags = Vec::new();
            option_tags(&options, &mut tags);
            let chosen: Vec<String> = match serde_json::from_str::<Vec<String>>(value) {
                Ok(many) if field.dropdown_allow_multiple => many,
                Ok(_) => {
                    return Err(format!(
                        "customized_fields: {name} takes one option, not a list"
                    ))
                }
                Err(_) => vec![value.to_string()],
            };
            match chosen.iter().find(|c| !tags.contains(c)) {
                Some(c) => Err(format!(
                    "customized_fields: {c:?} is not an option of {name} (options: {})",
                    tags.join(", ")
                )),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

fn text(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, Failure> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // The docs show `position` as a string; a number is what it means.
        Some(Value::Number(n)) if name == "position" => Ok(Some(n.to_string())),
        Some(_) => Err(bad(format!("`{name}` is a string"))),
    }
}

fn flag(obj: &Map<String, Value>, name: &str) -> Result<Option<bool>, Failure> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(format!("`{name}` is a boolean"))),
    }
}

/// Dropdown options as stored: `{children: [{tag, display_name, children}]}`,
/// every tag unique and non-empty, at most three levels.
fn options(obj: &Map<String, Value>, field_type: &str) -> Result<Option<String>, Failure> {
    let dropdown = field_type.starts_with("dropdown");
    let Some(v) = obj.get("dropdown_options").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    if !dropdown {
        return Err(bad(format!(
            "`dropdown_options` is for dropdown fields, not {field_type}"
        )));
    }
    fn check(v: &Value, depth: u32, tags: &mut Vec<String>) -> Result<(), String> {
        let children = v["children"]
            .as_array()
            .ok_or("`dropdown_options` is {children: [{tag, display_name, children}]}")?;
        if depth > 3 {
            return Err("`dropdown_options` nest at most three levels".into());
        }
        for c in children {
            let tag = c["tag"].as_str().filter(|t| !t.is_empty());
            let shown = c["display_name"].as_str().filter(|t| !t.is_empty());
            let (Some(tag), Some(_)) = (tag, shown) else {
                return Err("every dropdown option has a `tag` and a `display_name`".into());
            };
            if tags.iter().any(|t| t == tag) {
                return Err(format!("dropdown option tag {tag:?} is given twice"));
            }
            tags.push(tag.to_string());
            if !c["children"].is_null() {
                check(c, depth + 1, tags)?;
            }
        }
        Ok(())
    }
    let mut tags = Vec::new();
    check(v, 1, &mut tags).map_err(bad)?;
    if tags.is_empty() {
        return Err(bad("a dropdown field needs at least one option"));
    }
    Ok(Some(v.to_string()))
}

pub async fn create_field(
    State(state): State<AppState>,
    caller: AgentCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = json_object(&body).map_err(bad)?;
    let helpdesk = &caller.helpdesk;
    if let Some(h) = text(&obj, "helpdesk_id")?.filter(|h| !h.is_empty()) {
        if h != helpdesk.helpdesk_id {
            return Err(bad(format!(
                "helpdesk_id {h} is not the agent's helpdesk ({})",
                helpdesk.helpdesk_id
            )));
        }
    }
    let key_name = text(&obj, "key_name")?
        .filter(|k| !k.is_empty())
        .ok_or_else(|| bad("`key_name` is required"))?;
    if !key_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || key_name.len() > 64
    {
        return Err(bad(format!(
            "`key_name` {key_name:?} is up to 64 letters, digits and underscores"
        )));
    }
    let display_name = text(&obj, "display_name")?
        .filter(|k| !k.is_empty())
        .ok_or_else(|| bad("`display_name` is required"))?;
    let field_type = text(&obj, "field_type")?.unwrap_or_default();
    if !FIELD_TYPES.contains(&field_type.as_str()) {
        return Err(bad(format!(
            "`field_type` is one of {}, not {field_type:?}",
            FIELD_TYPES.join(", ")
        )));
    }
    let dropdown_options = options(&obj, &field_type)?;
    if field_type.starts_with("dropdown") && dropdown_options.is_none() {
        return Err(bad("a dropdown field needs `dropdown_options`"));
    }
    let now = helpdesk_store::now_ms();
    let field = Field {
        seq: 0,
        field_id: ids::field_id(),
        helpdesk_id: helpdesk.helpdesk_id.clone(),
        key_name,
        display_name,
        position: text(&obj, "position")?.unwrap_or_else(|| "0".into()),
        field_type,
        description: text(&obj, "description")?.unwrap_or_default(),
        visible: flag(&obj, "visible")?.unwrap_or(true),
        editable: flag(&obj, "editable")?.unwrap_or(true),
        required: flag(&obj, "required")?.unwrap_or(false),
        dropdown_allow_multiple: flag(&obj, "dropdown_allow_multiple")?.unwrap_or(false),
        dropdown_options: dropdown_options.unwrap_or_default(),
        created_by: caller.agent.agent_id.clone(),
        updated_by: caller.agent.agent_id.clone(),
        created_at: now,
        updated_at: now,
    };
    state.meta.create_field(&field).await.map_err(|e| match e {
        StoreError::Invalid(d) => bad(d),
        e => e.into(),
    })?;
    // The SDKs model no data for create; the field is there for callers
    // that read it (its id above all), as get returns it.
    Ok(success(field_json(&field)))
}

pub async fn get_field(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    FieldId(id): FieldId,
) -> Result<Response, Failure> {
    let field = state
        .meta
        .field(&caller.helpdesk.helpdesk_id, &id)
        .await?
        .ok_or_else(|| missing(&id))?;
    Ok(success(field_json(&field)))
}

pub async fn list_fields(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let params = query::Params::of(&uri);
    let page_size = match params.first("page_size").filter(|v| !v.is_empty()) {
        None => DEFAULT_PAGE_SIZE,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| bad(format!("`page_size` is from 1 to {MAX_PAGE_SIZE}")))?,
    };
    // The SDKs send `{visible}` as a body of this GET.
    let visible = flag(&json_object(&body).map_err(bad)?, "visible")?;
    let fields: Vec<Field> = helpdesk_fields(&state, &caller.helpdesk.helpdesk_id)
        .await?
        .into_iter()
        .filter(|f| visible.is_none_or(|v| f.visible == v))
        .collect();
    let start = match params.first("page_token").filter(|v| !v.is_empty()) {
        None => 0,
        Some(token) => {
            fields
                .iter()
                .position(|f| f.field_id == token)
                .ok_or_else(|| bad(format!("`page_token` {token:?} is not one this list gave")))?
                + 1
        }
    };
    let page = &fields[start.min(fields.len())..(start + page_size).min(fields.len())];
    let has_more = start + page.len() < fields.len();
    let mut data = json!({
        "has_more": has_more,
        "items": page.iter().map(field_json).collect::<Vec<_>>(),
    });
    if has_more {
        if let Some(last) = page.last() {
            data["next_page_token"] = json!(last.field_id);
        }
    }
    Ok(success(data))
}

pub async fn patch_field(
    State(state): State<AppState>,
    caller: AgentCaller,
    FieldId(id): FieldId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = json_object(&body).map_err(bad)?;
    let helpdesk_id = &caller.helpdesk.helpdesk_id;
    let mut field = state
        .meta
        .field(helpdesk_id, &id)
        .await?
        .ok_or_else(|| missing(&id))?;
    for (name, now) in [
        ("key_name", &field.key_name),
        ("field_type", &field.field_type),
    ] {
        if let Some(v) = text(&obj, name)?.filter(|v| !v.is_empty()) {
            if &v != now {
                return Err(bad(format!(
                    "`{name}` cannot change once a field exists: create another field"
                )));
            }
        }
    }
    if let Some(v) = text(&obj, "display_name")? {
        if v.is_empty() {
            return Err(bad("`display_name` cannot be empty"));
        }
        field.display_name = v;
    }
    if let Some(v) = text(&obj, "position")? {
        field.position = v;
    }
    if let Some(v) = text(&obj, "description")? {
        field.description = v;
    }
    if let Some(v) = flag(&obj, "visible")? {
        field.visible = v;
    }
    if let Some(v) = flag(&obj, "editable")? {
        field.editable = v;
    }
    if let Some(v) = flag(&obj, "required")? {
        field.required = v;
    }
    if let Some(v) = flag(&obj, "dropdown_allow_multiple")? {
        field.dropdown_allow_multiple = v;
    }
    if let Some(v) = options(&obj, &field.field_type)? {
        field.dropdown_options = v;
    }
    field.updated_by = caller.agent.agent_id.clone();
    field.updated_at = helpdesk_store::now_ms().max(field.updated_at);
    if !state.meta.update_field(&field).await.map_err(|e| match e {
        StoreError::Invalid(d) => bad(d),
        e => e.into(),
    })? {
        return Err(missing(&id));
    }
    Ok(success(json!({})))
}

pub async fn delete_field(
    State(state): State<AppState>,
    caller: AgentCaller,
    FieldId(id): FieldId,
) -> Result<Response, Failure> {
    if !state
        .meta
        .delete_field(&caller.helpdesk.helpdesk_id, &id)
        .await?
    {
        return Err(missing(&id));
    }
    state
        .audit(helpdesk_store::NewAudit {
            actor: &helpdesk_store::Actor::App(caller.app_id.clone()),
            action: "field.delete",
            tenant_key: Some(&caller.helpdesk.tenant_key),
            target: Some(&id),
            detail: json!({"helpdesk_id": caller.helpdesk.helpdesk_id, "agent_id": caller.agent.agent_id}),
        })
        .await;
    Ok(success(json!({})))
}
