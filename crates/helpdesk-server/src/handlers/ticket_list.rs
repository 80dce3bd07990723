//! `GET /tickets` under `/open-apis/helpdesk/v1`: a page of a helpdesk's
//! tickets, newest first, filtered as the SDKs' `ListTicketReq` asks.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use helpdesk_store::TicketQuery;
use serde_json::json;

use super::fields::helpdesk_fields;
use crate::auth::HelpdeskReader;
use crate::query;
use crate::response::{success, Failure};
use crate::AppState;

use super::tickets::{bad, people, store_error, ticket_json};

const DEFAULT_PAGE_SIZE: u64 = 20;
/// The docs' most; more is refused (154000) as our other lists do.
const MAX_PAGE_SIZE: u64 = 200;

/// An integer query parameter; empty means absent.
fn int(params: &query::Params, name: &str) -> Result<Option<i64>, Failure> {
    params
        .first(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| bad(format!("`{name}` is an integer, not {v:?}")))
        })
        .transpose()
}

/// A time range's pair in milliseconds, as seconds to compare with.
fn range(
    params: &query::Params,
    start: &str,
    end: &str,
) -> Result<(Option<i64>, Option<i64>), Failure> {
    let (s, e) = (int(params, start)?, int(params, end)?);
    if s.is_some() != e.is_some() {
        return Err(bad(format!("`{start}` and `{end}` are given together")));
    }
    if let (Some(s), Some(e)) = (s, e) {
        if s > e {
            return Err(bad(format!("`{start}` is after `{end}`")));
        }
    }
    // A ticket's second t is in [s, e] (ms) when t*1000 is.
    Ok((
        s.map(|s| s.div_euclid(1000) + i64::from(s.rem_euclid(1000) != 0)),
        e.map(|e| e.div_euclid(1000)),
    ))
}

pub async fn list_tickets(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    uri: Uri,
) -> Result<Response, Failure> {
    let params = query::Params::of(&uri);
    let text = |name: &str| {
        params
            .first(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut statuses = Vec::new();
    for v in params.all("status_list") {
        for s in v.split(',').filter(|s| !s.is_empty()) {
            statuses.push(
                s.parse::<i64>()
                    .map_err(|_| bad(format!("`status_list` holds integers, not {s:?}")))?,
            );
        }
    }
    let tags: Vec<String> = params
        .all("tags")
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let page = int(&params, "page")?.unwrap_or(1);
    let page_size = int(&params, "page_size")?.unwrap_or(DEFAULT_PAGE_SIZE as i64);
    if page < 1 {
        return Err(bad("`page` starts at 1"));
    }
    if !(1..=MAX_PAGE_SIZE as i64).contains(&page_size) {
        return Err(bad(format!("`page_size` is from 1 to {MAX_PAGE_SIZE}")));
    }
    let ticket_type = int(&params, "type")?;
    if ticket_type.is_some_and(|t| !(1..=2).contains(&t)) {
        return Err(bad("`type` is 1 (bot service) or 2 (human service)"));
    }
    let solved = int(&params, "solved")?;
    if solved.is_some_and(|t| !(1..=2).contains(&t)) {
        return Err(bad("`solved` is 1 (not solved) or 2 (solved)"));
    }
    let query = TicketQuery {
        ticket_id: text("ticket_id"),
        agent_id: text("agent_id"),
        closed_by_id: text("closed_by_id"),
        ticket_type,
        channel: int(&params, "channel")?,
        solved,
        score: int(&params, "score")?,
        statuses,
        guest_name: text("guest_name"),
        guest_id: text("guest_id"),
        tags,
        created: range(&params, "create_time_start", "create_time_end")?,
        updated: range(&params, "update_time_start", "update_time_end")?,
        offset: (page as u64 - 1).saturating_mul(page_size as u64),
        limit: page_size as u64,
    };
    let helpdesk = &caller.helpdesk;
    let page = state
        .meta
        .tickets(&helpdesk.tenant_key, &helpdesk.helpdesk_id, &query)
        .await
        .map_err(store_error)?;
    let people = people(&state, &helpdesk.tenant_key, &page.tickets).await?;
    let fields = helpdesk_fields(&state, &helpdesk.helpdesk_id).await?;
    Ok(success(json!({
        "total": page.total,
        "tickets": page.tickets.iter().map(|t| ticket_json(t, &people, &fields)).collect::<Vec<_>>(),
    })))
}
