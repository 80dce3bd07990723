//! `GET /faqs` and `GET /faqs/search` under `/open-apis/helpdesk/v1`: a
//! page of a helpdesk's FAQs, by category or by what they say. Both read
//! with the tenant token and the helpdesk credential.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use base64::Engine;
use helpdesk_core::search;
use helpdesk_store::{FaqQuery, FAQ_DELETED, FAQ_GONE, FAQ_ONLINE};
use serde_json::json;

use crate::auth::HelpdeskReader;
use crate::query;
use crate::response::{success, Failure};
use crate::AppState;

use super::faqs::{bad, faqs_json, store_error};

const DEFAULT_PAGE_SIZE: u32 = 20;
const MAX_PAGE_SIZE: u32 = 100;

fn page_of(params: &query::Params) -> Result<(Option<i64>, u32), Failure> {
    let size = match params.first("page_size").filter(|v| !v.is_empty()) {
        None => DEFAULT_PAGE_SIZE,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| bad(format!("`page_size` is from 1 to {MAX_PAGE_SIZE}")))?,
    };
    let after = match params.first("page_token").filter(|v| !v.is_empty()) {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| bad(format!("`page_token` {t:?} is not one this list gave")))?,
        ),
    };
    Ok((after, size))
}

/// At most this many characters of a search.
const MAX_QUERY: usize = 1000;

fn search_tokens(q: &str) -> Result<Vec<String>, Failure> {
    if q.chars().count() > MAX_QUERY {
        return Err(bad(format!("a search is at most {MAX_QUERY} characters")));
    }
    Ok(search::query(q))
}

pub async fn list_faqs(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    uri: Uri,
) -> Result<Response, Failure> {
    let params = query::Params::of(&uri);
    let (after, limit) = page_of(&params)?;
    let status = match params.first("status").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(s) if [FAQ_ONLINE, FAQ_DELETED, FAQ_GONE].contains(&s) => Some(s),
            _ => {
                return Err(bad(format!(
                    "`status` is 1 (online), 0 (deleted) or 2 (deleted for good), not {v:?}"
                )))
            }
        },
    };
    let query = FaqQuery {
        category_id: params
            .first("category_id")
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        status,
        search: search_tokens(params.first("search").unwrap_or(""))?,
        after,
        limit,
    };
    list(&state, &caller.helpdesk, &query, true).await
}

pub async fn search_faqs(
    State(state): State<AppState>,
    HelpdeskReader(caller): HelpdeskReader,
    uri: Uri,
) -> Result<Response, Failure> {
    let params = query::Params::of(&uri);
    let (after, limit) = page_of(&params)?;
    let raw = params
        .first("query")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad("`query` is required"))?;
    // Feishu: non-English queries are sent URL-encoded, or base64 with
    // `base64=true`.
    let decoded;
    let q = match params.first("base64") {
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => {
            // A `+` sent without percent-encoding arrives as a space.
            let plus = raw.replace(' ', "+");
            let trimmed = plus.trim_end_matches('=');
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(trimmed)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
                .map_err(|_| bad("`query` is not base64, though `base64` is true"))?;
            decoded = String::from_utf8(bytes)
                .map_err(|_| bad("`query` is base64 of text that is not UTF-8"))?;
            decoded.as_str()
        }
        _ => raw,
    };
    let tokens = search_tokens(q)?;
    if tokens.is_empty() {
        return Err(bad("`query` holds no word to search for"));
    }
    let query = FaqQuery {
        search: tokens,
        after,
        limit,
        ..FaqQuery::default()
    };
    list(&state, &caller.helpdesk, &query, false).await
}

async fn list(
    state: &AppState,
    helpdesk: &helpdesk_store::Helpdesk,
    query: &FaqQuery,
    with_total: bool,
) -> Result<Response, Failure> {
    let page = state
        .meta
        .faqs(&helpdesk.helpdesk_id, query)
        .await
        .map_err(store_error)?;
    let items = faqs_json(
        state,
        &helpdesk.tenant_key,
        &helpdesk.helpdesk_id,
        &page.faqs,
    )
    .await?;
    let mut data = json!({"has_more": page.more, "items": items});
    if page.more {
        if let Some(last) = page.faqs.last() {
            data["page_token"] = json!(last.seq.to_string());
        }
    }
    if with_total {
        data["page_size"] = json!(query.limit);
        data["total"] = json!(page.total);
    }
    Ok(success(data))
}
