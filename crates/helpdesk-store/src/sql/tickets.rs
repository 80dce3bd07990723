//! Tickets: opened, listed, changed, found by their chat (`TicketRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use helpdesk_core::events as wire_events;
use helpdesk_core::ids::{self};
use sqlx::Row;

use super::activity::record_activity;
use super::events::record_events;
use super::people::users_in;
use super::{Db, Meta};
use crate::sql::{id, storable};
use crate::*;

#[async_trait]
impl TicketRepo for Meta {
    async fn create_ticket(&self, new: NewTicket<'_>) -> Result<Ticket> {
        storable(&[new.guest_open_id, new.customized_info.unwrap_or("")])?;
        let now = now();
        let ticket = Ticket {
            ticket_id: ids::ticket_id(),
            helpdesk_id: new.helpdesk_id.to_string(),
            chat_id: ids::chat_id(),
            guest_open_id: new.guest_open_id.to_string(),
            human_service: new.human_service,
            customized_info: new.customized_info.map(str::to_string),
            status: 1,
            created_at: now,
            updated_at: now,
            closed_at: 0,
            closed_by: String::new(),
            solved: 0,
            channel: 0,
            score: 0,
            agent_ids: json_list(new.agent_ids),
            tags: "[]".into(),
            comment: None,
            field_values: "[]".into(),
            agent_entry_at: if new.agent_ids.is_empty() { 0 } else { now },
        };
        let mut tx = self.write().await?;
        // Test suites name guests by any open_id: the first ticket makes the
        // user, with a name a reader can tell apart.
        sqlx::query(
            "INSERT INTO users (tenant_key, open_id, name, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(new.tenant_key)
        .bind(new.guest_open_id)
        .bind(guest_name(new.guest_open_id))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO tickets (ticket_id, helpdesk_id, chat_id, guest_open_id, human_service,
                                  customized_info, status, created_at, updated_at, agent_ids,
                                  agent_entry_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&ticket.ticket_id)
        .bind(&ticket.helpdesk_id)
        .bind(&ticket.chat_id)
        .bind(&ticket.guest_open_id)
        .bind(ticket.human_service)
        .bind(&ticket.customized_info)
        .bind(ticket.status)
        .bind(ticket.created_at)
        .bind(ticket.updated_at)
        .bind(&ticket.agent_ids)
        .bind(ticket.agent_entry_at)
        .execute(&mut *tx)
        .await?;
        let facts = ticket.facts();
        record_events(
            &mut tx,
            &ticket.helpdesk_id,
            &ticket.ticket_id,
            wire_events::TICKET_CREATED,
            |_| wire_events::ticket_created(&facts),
        )
        .await?;
        record_activity(
            &mut tx,
            ActivityKind::Ticket,
            &ticket.ticket_id,
            &ticket.ticket_id,
            0,
        )
        .await?;
        tx.commit().await?;
        Ok(ticket)
    }

    async fn ticket(&self, helpdesk_id: &str, ticket_id: &str) -> Result<Option<Ticket>> {
        Ok(
            sqlx::query_as("SELECT * FROM tickets WHERE ticket_id = $1 AND helpdesk_id = $2")
                .bind(id(ticket_id))
                .bind(id(helpdesk_id))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn tickets(
        &self,
        tenant_key: &str,
        helpdesk_id: &str,
        query: &TicketQuery,
    ) -> Result<TicketPage> {
        let cap = TICKET_LIST_CAP;
        let mut count = sqlx::QueryBuilder::<Db>::new(
            "SELECT count(*) AS n FROM (SELECT 1 FROM tickets t WHERE ",
        );
        push_filters(&mut count, tenant_key, helpdesk_id, query);
        count.push(" LIMIT ").push_bind(cap as i64).push(") c");
        let total: i64 = count.build().fetch_one(&self.pool).await?.try_get("n")?;
        let limit = query.limit.min(cap.saturating_sub(query.offset));
        if limit == 0 {
            return Ok(TicketPage {
                tickets: Vec::new(),
                total: total as u64,
            });
        }
        // Newest first, reading only what the page needs: without statuses,
        // one range of the (helpdesk, created_at, ticket_id) index; with
        // them, one range per status of the (helpdesk, status, created_at,
        // ticket_id) index, each cut at offset + limit, merged. So a page
        // costs the same over a thousand tickets or a million (an `IN` would
        // sort every match first).
        let mut statuses = query.statuses.clone();
        statuses.sort_unstable();
        statuses.dedup();
        let per_status: Vec<TicketQuery> = statuses
            .iter()
            .map(|s| TicketQuery {
                statuses: vec![*s],
                ..query.clone()
            })
            .collect();
        let mut page = sqlx::QueryBuilder::<Db>::new("SELECT * FROM (");
        let parts: Vec<&TicketQuery> = if per_status.is_empty() {
            vec![query]
        } else {
            per_status.iter().collect()
        };
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                page.push(" UNION ALL ");
            }
            page.push("SELECT * FROM (SELECT t.* FROM tickets t WHERE ");
            push_filters(&mut page, tenant_key, helpdesk_id, part);
            page.push(" ORDER BY t.created_at DESC, t.ticket_id DESC LIMIT ")
                .push_bind((query.offset + limit) as i64)
                .push(format!(") s{i}"));
        }
        page.push(") u ORDER BY created_at DESC, ticket_id DESC LIMIT ")
            .push_bind(limit as i64)
            .push(" OFFSET ")
            .push_bind(query.offset as i64);
        let tickets = page.build_query_as().fetch_all(&self.pool).await?;
        Ok(TicketPage {
            tickets,
            total: total as u64,
        })
    }

    async fn update_ticket(
        &self,
        helpdesk_id: &str,
        ticket_id: &str,
        actor: &str,
        change: &TicketChange,
    ) -> Result<Option<(Ticket, Ticket)>> {
        if let Some(tags) = &change.tags {
            storable(&tags.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        storable(&[change.comment.as_deref().unwrap_or("")])?;
        let mut tx = self.write().await?;
        let old: Option<Ticket> = sqlx::query_as(concat!(
            "SELECT * FROM tickets WHERE ticket_id = $1 AND helpdesk_id = $2 ",
            for_update!()
        ))
        .bind(id(ticket_id))
        .bind(id(helpdesk_id))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = old else {
            return Ok(None);
        };
        let tenant_key: String =
            sqlx::query("SELECT tenant_key FROM helpdesks WHERE helpdesk_id = $1")
                .bind(&old.helpdesk_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("tenant_key")?;
        let now = now();
        let mut new = old.clone();
        new.updated_at = now.max(old.updated_at);
        if let Some(status) = change.status {
            new.status = status;
            let closing = CLOSED_STATUSES.contains(&status);
            if closing && !CLOSED_STATUSES.contains(&old.status) {
                new.closed_at = new.updated_at;
                new.closed_by = actor.to_string();
            } else if !closing {
                new.closed_at = 0;
                new.closed_by = String::new();
            }
            // The agent who takes a ticket into processing serves it.
            let mut agents = old.agents();
            if status == 2 && !agents.iter().any(|a| a == actor) {
                agents.push(actor.to_string());
                new.agent_ids = json_list(&agents);
                if new.agent_entry_at == 0 {
                    new.agent_entry_at = new.updated_at;
                }
            }
        }
        if let Some(tags) = &change.tags {
            new.tags = json_list(tags);
        }
        let actor_user: Vec<User> = users_in(&mut tx, &tenant_key, &[actor.to_string()]).await?;
        if let Some(text) = &change.comment {
            let previous: serde_json::Value = old
                .comment
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default();
            let id = previous["id"].as_i64().unwrap_or(0) + 1;
            let user = actor_user.first();
            new.comment = Some(
                serde_json::json!({
                    "content": text,
                    "created_at": new.updated_at,
                    "id": id,
                    "user_avatar_url": user.map_or("", |u| u.avatar_url.as_str()),
                    "user_name": user.map_or("", |u| u.name.as_str()),
                    "user_id": 0,
                })
                .to_string(),
            );
        }
        if !change.values.is_empty() {
            let mut values = old.values();
            for v in &change.values {
                match values.iter_mut().find(|o| o.id == v.id) {
                    Some(o) => o.value = v.value.clone(),
                    None => values.push(v.clone()),
                }
            }
            new.field_values = serde_json::to_string(&values).unwrap_or_else(|_| "[]".into());
        }
        if let Some(t) = change.ticket_type {
            new.human_service = t == 2;
        }
        if let Some(v) = change.solved {
            new.solved = v;
        }
        if let Some(v) = change.channel {
            new.channel = v;
        }
        sqlx::query(
            "UPDATE tickets SET status = $2, updated_at = $3, closed_at = $4, closed_by = $5,
                                tags = $6, comment = $7, field_values = $8, human_service = $9,
                                solved = $10, channel = $11, agent_ids = $12, agent_entry_at = $13
             WHERE ticket_id = $1",
        )
        .bind(&new.ticket_id)
        .bind(new.status)
        .bind(new.updated_at)
        .bind(new.closed_at)
        .bind(&new.closed_by)
        .bind(&new.tags)
        .bind(&new.comment)
        .bind(&new.field_values)
        .bind(new.human_service)
        .bind(new.solved)
        .bind(new.channel)
        .bind(&new.agent_ids)
        .bind(new.agent_entry_at)
        .execute(&mut *tx)
        .await?;
        // The event names people and fields as the ticket shows them.
        let agents = new.agents();
        let mut named = agents.clone();
        named.push(new.guest_open_id.clone());
        named.push(new.closed_by.clone());
        let people = users_in(&mut tx, &tenant_key, &named).await?;
        let name = |open_id: &str| {
            people
                .iter()
                .find(|u| u.open_id == open_id)
                .map_or("", |u| u.name.as_str())
        };
        let fields: Vec<(String, String)> = sqlx::query_as(
            "SELECT field_id, key_name FROM ticket_customized_fields WHERE helpdesk_id = $1",
        )
        .bind(&new.helpdesk_id)
        .fetch_all(&mut *tx)
        .await?;
        let customized_fields: Vec<serde_json::Value> = new
            .values()
            .iter()
            .map(|v| {
                let key = fields
                    .iter()
                    .find(|f| f.0 == v.id)
                    .map_or("", |f| f.1.as_str());
                serde_json::json!({"id": v.id, "value": v.value, "key_name": key})
            })
            .collect();
        let updated = wire_events::TicketUpdated {
            ticket: new.facts(),
            guest_name: name(&new.guest_open_id),
            score: new.score,
            closed_at: new.closed_at,
            channel: new.channel,
            solve: new.solved,
            agents: agents
                .iter()
                .map(|a| wire_events::Person {
                    open_id: a,
                    name: name(a),
                })
                .collect(),
            closed_by: (!new.closed_by.is_empty()).then(|| wire_events::Person {
                open_id: &new.closed_by,
                name: name(&new.closed_by),
            }),
            customized_fields: serde_json::Value::Array(customized_fields),
            old_human_service: old.human_service,
            old_status: old.status,
            old_updated_at: old.updated_at,
        };
        record_events(
            &mut tx,
            &new.helpdesk_id,
            &new.ticket_id,
            wire_events::TICKET_UPDATED,
            |_| wire_events::ticket_updated(&updated),
        )
        .await?;
        record_activity(
            &mut tx,
            ActivityKind::TicketUpdated,
            &new.ticket_id,
            &new.ticket_id,
            0,
        )
        .await?;
        tx.commit().await?;
        Ok(Some((old, new)))
    }

    async fn ticket_by_chat(&self, helpdesk_id: &str, chat_id: &str) -> Result<Option<Ticket>> {
        Ok(
            sqlx::query_as("SELECT * FROM tickets WHERE chat_id = $1 AND helpdesk_id = $2")
                .bind(id(chat_id))
                .bind(id(helpdesk_id))
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

/// The name of a guest the first ticket made: the open_id's end tells two
/// apart.
fn guest_name(open_id: &str) -> String {
    let chars: Vec<char> = open_id.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(6)..].iter().collect();
    format!("Guest {tail}")
}

/// A list column holds `value` (see `json_list`): its quoted JSON form.
fn quoted(value: &str) -> String {
    serde_json::Value::String(value.to_string()).to_string()
}

/// The `WHERE` of a ticket list, after `WHERE `.
fn push_filters<'a>(
    q: &mut sqlx::QueryBuilder<'a, Db>,
    tenant_key: &'a str,
    helpdesk_id: &'a str,
    f: &'a TicketQuery,
) {
    q.push("t.helpdesk_id = ").push_bind(id(helpdesk_id));
    if let Some(v) = &f.ticket_id {
        q.push(" AND t.ticket_id = ").push_bind(id(v));
    }
    if let Some(v) = &f.agent_id {
        q.push(concat!(" AND ", strpos!(), "(t.agent_ids, "))
            .push_bind(quoted(id(v)))
            .push(") > 0");
    }
    if let Some(v) = &f.closed_by_id {
        q.push(" AND t.closed_by = ").push_bind(id(v));
    }
    if let Some(v) = f.ticket_type {
        q.push(" AND t.human_service = ").push_bind(v == 2);
    }
    if let Some(v) = f.channel {
        q.push(" AND t.channel = ").push_bind(v);
    }
    if let Some(v) = f.solved {
        q.push(" AND t.solved = ").push_bind(v);
    }
    if let Some(v) = f.score {
        q.push(" AND t.score = ").push_bind(v);
    }
    if !f.statuses.is_empty() {
        q.push(" AND t.status IN (");
        let mut list = q.separated(", ");
        for s in &f.statuses {
            list.push_bind(*s);
        }
        q.push(")");
    }
    if let Some(v) = &f.guest_id {
        q.push(" AND t.guest_open_id = ").push_bind(id(v));
    }
    if let Some(v) = &f.guest_name {
        q.push(" AND EXISTS (SELECT 1 FROM users u WHERE u.tenant_key = ")
            .push_bind(id(tenant_key))
            .push(concat!(
                " AND u.open_id = t.guest_open_id AND ",
                strpos!(),
                "(u.name, "
            ))
            .push_bind(id(v))
            .push(") > 0)");
    }
    if !f.tags.is_empty() {
        q.push(" AND (");
        let mut any = q.separated(" OR ");
        for tag in &f.tags {
            any.push(concat!(strpos!(), "(t.tags, "))
                .push_bind_unseparated(quoted(id(tag)))
                .push_unseparated(") > 0");
        }
        q.push(")");
    }
    for (column, (start, end)) in [("t.created_at", f.created), ("t.updated_at", f.updated)] {
        if let Some(v) = start {
            q.push(format!(" AND {column} >= ")).push_bind(v);
        }
        if let Some(v) = end {
            q.push(format!(" AND {column} <= ")).push_bind(v);
        }
    }
}
