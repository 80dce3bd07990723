//! A tenant's page: its apps, helpdesks, agents and tickets (paged and
//! filtered). A tenant token sees only its own tenant's page.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Extension;
use helpdesk_store::{App, Helpdesk, Ticket, TicketQuery};
use serde::Deserialize;

use crate::auth::Principal;
use crate::pages::{days_from_civil, failed, not_found, Page};
use crate::Console;

struct HelpdeskView {
    helpdesk: Helpdesk,
    agents: Vec<helpdesk_store::Agent>,
    tickets: Vec<Ticket>,
    total: u64,
    /// The page shown (from 1), and the query string of its neighbours.
    page: u64,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "tenant.html")]
struct TenantPage {
    tenant_key: String,
    name: String,
    apps: Vec<App>,
    helpdesks: Vec<HelpdeskView>,
    /// Every helpdesk of the tenant, for the filter's choice.
    all_helpdesks: Vec<Helpdesk>,
    filter: TicketFilter,
    /// The filter could not be read: why.
    filter_error: Option<&'static str>,
}

/// Tickets listed per helpdesk and page on a tenant's page.
const TICKETS_SHOWN: u64 = 50;

/// The tenant page's ticket filter, as its form sends it (GET).
#[derive(Deserialize, Default, Clone)]
pub struct TicketFilter {
    #[serde(default)]
    helpdesk: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    guest: String,
    /// `YYYY-MM-DD` (UTC), created on or after.
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD` (UTC), created on or before.
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<u64>,
}

impl TicketFilter {
    /// The store's query for page `page`, or why the filter is not one.
    fn query(&self, page: u64) -> Result<TicketQuery, &'static str> {
        let status = match self.status.trim() {
            "" => Vec::new(),
            s => vec![s
                .parse::<i64>()
                .map_err(|_| "status is a number (1 open, 50 closed, ...)")?],
        };
        let day = |s: &str| -> Result<Option<i64>, &'static str> {
            match s.trim() {
                "" => Ok(None),
                s => days_from_civil(s)
                    .map(|d| Some(d * 86_400))
                    .ok_or("dates are YYYY-MM-DD"),
            }
        };
        let from = day(&self.from)?;
        let to = day(&self.to)?.map(|d| d + 86_399);
        let guest = self.guest.trim();
        Ok(TicketQuery {
            statuses: status,
            guest_id: (!guest.is_empty()).then(|| guest.to_string()),
            created: (from, to),
            offset: (page - 1) * TICKETS_SHOWN,
            limit: TICKETS_SHOWN,
            ..TicketQuery::default()
        })
    }

    /// This filter's query string at `page`, for one helpdesk.
    fn link(&self, helpdesk_id: &str, page: u64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("helpdesk", helpdesk_id);
        for (k, v) in [
            ("status", &self.status),
            ("guest", &self.guest),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.append_pair("page", &page.to_string());
        q.finish()
    }
}

pub async fn tenant(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(key): Path<String>,
    Query(filter): Query<TicketFilter>,
) -> Page {
    let meta = &console.stores.meta;
    let tenants = meta.tenant_counts().await.map_err(failed)?;
    let Some(tenant) = tenants
        .into_iter()
        .find(|t| t.tenant_key == key && who.scope.sees(&t.tenant_key))
    else {
        return Err(not_found().await);
    };
    let apps = meta.apps(Some(&key)).await.map_err(failed)?;
    let all_helpdesks = meta.helpdesks(Some(&key)).await.map_err(failed)?;
    let page = filter.page.unwrap_or(1).clamp(1, 10_000);
    let (query, filter_error) = match filter.query(page) {
        Ok(q) => (q, None),
        Err(e) => (
            TicketQuery {
                limit: TICKETS_SHOWN,
                ..TicketQuery::default()
            },
            Some(e),
        ),
    };
    let mut helpdesks = Vec::new();
    for helpdesk in all_helpdesks.iter().cloned() {
        let chosen = filter.helpdesk == helpdesk.helpdesk_id;
        if !filter.helpdesk.is_empty() && !chosen {
            continue;
        }
        // Only the chosen helpdesk pages; without a choice, each shows its first.
        let (page, query) = if chosen {
            (page, query.clone())
        } else {
            (
                1,
                TicketQuery {
                    offset: 0,
                    ..query.clone()
                },
            )
        };
        let agents = meta.agents(&helpdesk.helpdesk_id).await.map_err(failed)?;
        let found = meta
            .tickets(&key, &helpdesk.helpdesk_id, &query)
            .await
            .map_err(failed)?;
        let shown = query.offset + found.tickets.len() as u64;
        helpdesks.push(HelpdeskView {
            newer: (page > 1).then(|| filter.link(&helpdesk.helpdesk_id, page - 1)),
            older: (shown < found.total).then(|| filter.link(&helpdesk.helpdesk_id, page + 1)),
            helpdesk,
            agents,
            tickets: found.tickets,
            total: found.total,
            page,
        });
    }
    Ok(TenantPage {
        tenant_key: tenant.tenant_key,
        name: tenant.name,
        apps,
        helpdesks,
        all_helpdesks,
        filter,
        filter_error,
    }
    .into_response())
}
