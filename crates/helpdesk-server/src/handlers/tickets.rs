//! Tickets: `start_service`, get, update (as an agent),
//! `answer_user_query` and `customized_fields`, under
//! `/open-apis/helpdesk/v1` (the list is in `ticket_list.rs`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use helpdesk_core::ApiError;
use helpdesk_store::{Field, FieldValue, NewTicket, StoreError, Ticket, TicketChange, User};
use serde_json::{json, Map, Value};

use super::fields::{field_json, helpdesk_fields, validate_value};
use super::{json_object, string_field, TicketId};
use crate::auth::{AgentCaller, HelpdeskReader, HelpdeskWriter};
use crate::query;
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

pub async fn start_service(
    State(state): State<AppState>,
    HelpdeskWriter(caller): HelpdeskWriter,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = json_object(&body).map_err(bad)?;
    let open_id = string_field(&obj, "open_id")
        .ok_or_else(|| bad("`open_id` of the customer is required"))?;
    let human_service = match obj.get("human_service") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("`human_service` is a boolean")),
    };
    let customized_info = match obj.get("customized_info") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(bad("`customized_info` is a string")),
    };
    let appointed = match obj.get("appointed_agents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("`appointed_agents` is an array of agent open_ids"))?,
        Some(_) => return Err(bad("`appointed_agents` is an array of agent open_ids")),
    };
    let helpdesk = &caller.helpdesk;
    let agent_ids = if human_service {
        let agents = state.meta.agents(&helpdesk.helpdesk_id).await?;
        if appointed.is_empty() {
            agents
                .iter()
                .find(|a| !a.disabled)
                .map(|a| a.agent_id.clone())
                .into_iter()
                .collect()
        } else {
            for id in &appointed {
                if !agents.iter().any(|a| &a.agent_id == id && !a.disabled) {
                    return Err(bad(format!(
                        "appointed_agents: {id} is not an enabled agent of this helpdesk"
                    )));
                }
            }
            appointed
        }
    } else {
        Vec::new()
    };
    let ticket = state
        .meta
        .create_ticket(NewTicket {
            helpdesk_id: &helpdesk.helpdesk_id,
            tenant_key: &helpdesk.tenant_key,
            guest_open_id: open_id,
            human_service,
            customized_info,
            agent_ids: &agent_ids,
        })
        .await
        .map_err(store_error)?;
    state.events_ready.notify_one();
    Ok(success(
        json!({"chat_id": ticket.chat_id, "ticket_id": ticket.ticket_id}),
    ))
}

/// A person as the Ticket model shows one (`TicketUser`).
fn user_json(open_id: &str, people: &[User]) -> Value {
    match people.iter().find(|u| u.open_id == open_id) {
        Some(u) => json!({
            "id": u.open_id,
            "name": u.name,
            "avatar_url": u.avatar_url,
            "email": u.email,
            "department": u.department,
            "city": u.city,
            "country": u.country,
        }),
        None => json!({"id": open_id, "name": ""}),
    }
}

/// Everyone a page of tickets names, in one lookup.
pub(super) async fn people(
    state: &AppState,
    tenant_key: &str,
    tickets: &[Ticket],
) -> Result<Vec<User>, Failure> {
    let mut ids: Vec<String> = Vec::new();
    for t in tickets {
        ids.push(t.guest_open_id.clone());
        ids.extend(t.agents());
        if !t.closed_by.is_empty() {
            ids.push(t.closed_by.clone());
        }
    }
    ids.sort();
    ids.dedup();
    Ok(state.meta.users(tenant_key, &ids).await?)
}

/// The whole Ticket model (`TicketV2` in the SDKs). Times are seconds, as
/// `created_at` always was here; the `*_time` fields are milliseconds and
/// the durations seconds (`agent_service_duration` minutes), as Feishu's.
/// What we cannot know (first and last agent response, satisfaction) is
/// absent.
pub(super) fn ticket_json(t: &Ticket, people: &[User], fields: &[Field]) -> Value {
    let agents = t.agents();
    let mut v = json!({
        "ticket_id": t.ticket_id,
        "helpdesk_id": t.helpdesk_id,
        "chat_id": t.chat_id,
        "guest": user_json(&t.guest_open_id, people),
        "status": t.status,
        "ticket_type": if t.human_service { 2 } else { 1 },
        "score": t.score,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "closed_at": t.closed_at,
        "solve": t.solved,
        "channel": t.channel,
        "agents": agents.iter().map(|a| user_json(a, people)).collect::<Vec<_>>(),
        "collaborators": [],
        "customized_fields": t.values().iter().filter_map(|v| {
            let f = fields.iter().find(|f| f.field_id == v.id)?;
            Some(json!({
                "id": f.field_id,
                "value": v.value,
                "key_name": f.key_name,
                "display_name": f.display_name,
                "position": f.position.parse::<i64>().unwrap_or(0),
                "required": f.required,
                "editable": f.editable,
            }))
        }).collect::<Vec<_>>(),
        "tags": t.tag_names().iter().map(|n| json!({"id": n, "name": n})).collect::<Vec<_>>(),
    });
    let o = v.as_object_mut().expect("an object");
    if let Some(first) = agents.first() {
        o.insert("agent_owner".into(), user_json(first, people));
    }
    if !t.closed_by.is_empty() {
        o.insert("closed_by".into(), user_json(&t.closed_by, people));
    }
    if let Some(c) = t
        .comment
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
    {
        o.insert("comments".into(), c);
    }
    if t.agent_entry_at > 0 {
        o.insert("agent_entry_time".into(), json!(t.agent_entry_at * 1000));
        o.insert(
            "bot_service_duration".into(),
            json!((t.agent_entry_at - t.created_at).max(0)),
        );
    }
    if t.closed_at > 0 {
        o.insert(
            "actual_processing_time".into(),
            json!((t.closed_at - t.created_at).max(0)),
        );
        if t.agent_entry_at > 0 {
            let served = (t.closed_at - t.agent_entry_at).max(0);
            o.insert("agent_resolution_time".into(), json!(served));
            o.insert("agent_service_duration".into(), json!(served as f64 / 60.0));
        }
    }
    v
}

pub async fn get_ticket(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    TicketId(ticket_id): TicketId,
) -> Result<Response, Failure> {
    let ticket = state
        .meta
        .ticket(&caller.helpdesk.helpdesk_id, &ticket_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {ticket_id} in this helpdesk")))?;
    let tickets = [ticket];
    let people = people(&state, &caller.helpdesk.tenant_key, &tickets).await?;
    let fields = helpdesk_fields(&state, &caller.helpdesk.helpdesk_id).await?;
    Ok(success(
        json!({"ticket": ticket_json(&tickets[0], &people, &fields)}),
    ))
}

/// An optional integer of a body, one of `allowed`.
fn body_int(obj: &Map<String, Value>, name: &str, allowed: &[i64]) -> Result<Option<i64>, Failure> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if allowed.is_empty() || allowed.contains(&n) => Ok(Some(n)),
            _ if allowed.is_empty() => Err(bad(format!("`{name}` is an integer"))),
            _ => Err(bad(format!(
                "`{name}` is one of {}",
                allowed
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
    }
}

pub async fn update_ticket(
    State(state): State<AppState>,
    caller: AgentCaller,
    TicketId(ticket_id): TicketId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = json_object(&body).map_err(bad)?;
    let mut change = TicketChange {
        status: body_int(&obj, "status", &[1, 2, 3, 5, 50, 51])?,
        ticket_type: body_int(&obj, "ticket_type", &[1, 2])?,
        solved: body_int(&obj, "solved", &[1, 2])?,
        channel: body_int(&obj, "channel", &[])?,
        ..TicketChange::default()
    };
    match obj.get("tag_names") {
        None | Some(Value::Null) => {}
        Some(Value::Array(names)) => {
            let mut tags = Vec::new();
            for n in names {
                match n.as_str() {
                    Some(n) if !n.trim().is_empty() => tags.push(n.trim().to_string()),
                    _ => return Err(bad("`tag_names` holds non-empty strings")),
                }
            }
            tags.dedup();
            change.tags = Some(tags);
        }
        Some(_) => return Err(bad("`tag_names` is an array of strings")),
    }
    match obj.get("comment") {
        None | Some(Value::Null) => {}
        Some(Value::String(c)) if !c.is_empty() => change.comment = Some(c.clone()),
        Some(Value::String(_)) => {}
        Some(_) => return Err(bad("`comment` is a string")),
    }
    let helpdesk_id = &caller.helpdesk.helpdesk_id;
    match obj.get("customized_fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if !items.is_empty() => {
            let fields = helpdesk_fields(&state, helpdesk_id).await?;
            for item in items {
                let id = item
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                let key = item
                    .get("key_name")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                let field = fields
                    .iter()
                    .find(|f| {
                        Some(f.field_id.as_str()) == id
                            || (id.is_none() && Some(f.key_name.as_str()) == key)
                    })
                    .ok_or_else(|| {
                        bad(format!(
                            "customized_fields: no field {} in this helpdesk",
                            id.or(key).unwrap_or("(give `id` or `key_name`)")
                        ))
                    })?;
                let value = match item.get("value") {
                    Some(Value::String(s)) => s.clone(),
                    None | Some(Value::Null) => String::new(),
                    Some(_) => {
                        return Err(bad(format!(
                            "customized_fields: the value of {} is a string",
                            field.key_name
                        )))
                    }
                };
                validate_value(field, &value).map_err(bad)?;
                change.values.push(FieldValue {
                    id: field.field_id.clone(),
                    value,
                });
            }
        }
        Some(Value::Array(_)) => {}
        Some(_) => return Err(bad("`customized_fields` is an array of {id, value}")),
    }
    let nothing = change.status.is_none()
        && change.tags.is_none()
        && change.comment.is_none()
        && change.values.is_empty()
        && change.ticket_type.is_none()
        && change.solved.is_none()
        && change.channel.is_none();
    if nothing {
        return Err(bad(
            "nothing to change: give at least one of status, tag_names, comment, customized_fields, ticket_type, solved, channel",
        ));
    }
    state
        .meta
        .update_ticket(helpdesk_id, &ticket_id, &caller.agent.agent_id, &change)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {ticket_id} in this helpdesk")))?;
    state.events_ready.notify_one();
    Ok(success(json!({})))
}

/// Feishu sends the FAQs a bot chose to the guest; this service keeps no
/// chat with the guest, so it checks the ticket and the shape and answers
/// as Feishu does.
pub async fn answer_user_query(
    State(state): State<AppState>,
    HelpdeskWriter(caller): HelpdeskWriter,
    TicketId(ticket_id): TicketId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let obj = json_object(&body).map_err(bad)?;
    string_field(&obj, "event_id").ok_or_else(|| bad("`event_id` is required"))?;
    match obj.get("faqs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(faqs)) => {
            for faq in faqs {
                let ok = faq
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
                    && faq
                        .get("score")
                        .is_none_or(|s| s.is_number() || s.is_null());
                if !ok {
                    return Err(bad("`faqs` holds {id: string, score: number}"));
                }
            }
        }
        Some(_) => return Err(bad("`faqs` is an array of {id, score}")),
    }
    state
        .meta
        .ticket(&caller.helpdesk.helpdesk_id, &ticket_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {ticket_id} in this helpdesk")))?;
    Ok(success(json!({})))
}

/// `GET /customized_fields`: the helpdesk's ticket fields (no user fields
/// are kept: that list is empty).
pub async fn customized_fields(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    uri: Uri,
) -> Result<Response, Failure> {
    let params = query::Params::of(&uri);
    let visible_only = match params.first("visible_only") {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => true,
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => false,
        Some(v) => return Err(bad(format!("`visible_only` is true or false, not {v:?}"))),
    };
    let fields = helpdesk_fields(&state, &caller.helpdesk.helpdesk_id).await?;
    Ok(success(json!({
        "user_customized_fields": [],
        "ticket_customized_fields": fields
            .iter()
            .filter(|f| !visible_only || f.visible)
            .map(field_json)
            .collect::<Vec<_>>(),
    })))
}
