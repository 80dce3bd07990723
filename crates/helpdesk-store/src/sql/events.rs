//! Event URLs, subscriptions and the outbox (`EventRepo`, whose claim rules
//! the statements here keep). Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;

use super::activity::record_activity;
use super::{Db, Meta};
use crate::attempts::headers_json;
use crate::records::{EventAttemptRow, EventConfigRow, EventRow};
use crate::sql::storable;
use crate::*;

/// Records `event_type` for every enabled app of the helpdesk's tenant that
/// subscribed to it through the helpdesk and has an event URL, in the
/// caller's transaction (the outbox's first rule).
pub(super) async fn record_events(
    tx: &mut sqlx::Transaction<'static, Db>,
    helpdesk_id: &str,
    ticket_id: &str,
    event_type: &str,
    event: impl Fn(&str) -> serde_json::Value,
) -> Result<()> {
    let apps: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.app_id, a.tenant_key FROM event_subscriptions s
         JOIN apps a ON a.app_id = s.app_id AND a.disabled_at IS NULL
         JOIN helpdesks h ON h.helpdesk_id = s.helpdesk_id AND h.tenant_key = a.tenant_key
         JOIN event_configs c ON c.app_id = s.app_id
         WHERE s.helpdesk_id = $1 AND s.event_type = $2
         ORDER BY s.app_id",
    )
    .bind(helpdesk_id)
    .bind(event_type)
    .fetch_all(&mut **tx)
    .await?;
    let now = now_ms();
    for (app_id, tenant_key) in apps {
        let event_id = helpdesk_core::events::event_id();
        let body = helpdesk_core::events::envelope(
            &event_id,
            event_type,
            now,
            &app_id,
            &tenant_key,
            event(&event_id),
        );
        sqlx::query(
            "INSERT INTO events (event_id, app_id, ticket_id, event_type, body, created_at,
                                 next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&event_id)
        .bind(&app_id)
        .bind(ticket_id)
        .bind(event_type)
        .bind(body.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl EventRepo for Meta {
    async fn event_config(&self, app_id: &str) -> Result<Option<EventConfig>> {
        let row: Option<EventConfigRow> =
            sqlx::query_as("SELECT * FROM event_configs WHERE app_id = $1")
                .bind(app_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(EventConfig::from))
    }

    async fn set_event_config(&self, app_id: &str, config: Option<&EventConfig>) -> Result<()> {
        if let Some(c) = config {
            storable(&[&c.url, &c.encrypt_key, &c.verification_token])?;
        }
        let mut tx = self.write().await?;
        let exists = sqlx::query("SELECT 1 FROM apps WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(Entity::App, app_id));
        }
        match config {
            None => {
                sqlx::query("DELETE FROM event_configs WHERE app_id = $1")
                    .bind(app_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(c) => {
                sqlx::query(
                    "INSERT INTO event_configs (app_id, url, encrypt_key, verification_token,
                                                updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (app_id) DO UPDATE SET url = excluded.url,
                         encrypt_key = excluded.encrypt_key,
                         verification_token = excluded.verification_token,
                         updated_at = excluded.updated_at",
                )
                .bind(app_id)
                .bind(&c.url)
                .bind(&c.encrypt_key)
                .bind(&c.verification_token)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn subscribe_events(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        event_types: &[&str],
        subscribe: bool,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        for event_type in event_types {
            let query = if subscribe {
                sqlx::query(
                    "INSERT INTO event_subscriptions (app_id, helpdesk_id, event_type, created_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(app_id)
                .bind(helpdesk_id)
                .bind(*event_type)
                .bind(now())
            } else {
                sqlx::query(
                    "DELETE FROM event_subscriptions
                     WHERE app_id = $1 AND helpdesk_id = $2 AND event_type = $3",
                )
                .bind(app_id)
                .bind(helpdesk_id)
                .bind(*event_type)
            };
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim_events(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedEvent>> {
        let mut tx = self.write().await?;
        // Due, not claimed, nothing earlier of its (app, ticket) pending,
        // and no delivery of its app in flight.
        let claimed: Vec<EventRow> = sqlx::query_as(concat!(
            "UPDATE events SET claimed_until = $2 WHERE seq IN (
               SELECT e.seq FROM events e
               JOIN apps a ON a.app_id = e.app_id AND a.disabled_at IS NULL
               JOIN event_configs c ON c.app_id = e.app_id
               WHERE e.delivered_at IS NULL AND e.failed_at IS NULL
                 AND e.next_attempt_at <= $1 AND e.claimed_until <= $1
                 AND NOT EXISTS (SELECT 1 FROM events p
                       WHERE p.app_id = e.app_id AND p.ticket_id = e.ticket_id AND p.seq < e.seq
                         AND p.delivered_at IS NULL AND p.failed_at IS NULL)
                 AND NOT EXISTS (SELECT 1 FROM events b
                       WHERE b.app_id = e.app_id AND b.claimed_until > $1
                         AND b.delivered_at IS NULL AND b.failed_at IS NULL)
               ORDER BY e.seq LIMIT $3 ",
            skip_locked!(),
            ") RETURNING *"
        ))
        .bind(now_ms)
        .bind(now_ms + lease_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(claimed.len());
        for event in claimed {
            let config: EventConfigRow =
                sqlx::query_as("SELECT * FROM event_configs WHERE app_id = $1")
                    .bind(&event.app_id)
                    .fetch_one(&mut *tx)
                    .await?;
            out.push(ClaimedEvent {
                event,
                config: config.into(),
            });
        }
        tx.commit().await?;
        out.sort_by_key(|c| c.event.seq);
        Ok(out)
    }

    async fn finish_event(
        &self,
        seq: i64,
        outcome: &DeliveryOutcome,
        attempt: &NewAttempt,
        now_ms: i64,
    ) -> Result<()> {
        // Each attempt counts twice: in the retry schedule (`attempts`,
        // which a redelivery starts again) and for ever (`attempts_total`,
        // the attempt's number).
        let query = match outcome {
            DeliveryOutcome::Delivered => sqlx::query_as(
                "UPDATE events SET delivered_at = $2, attempts = attempts + 1,
                                   attempts_total = attempts_total + 1, claimed_until = 0,
                                   last_error = NULL WHERE seq = $1
                 RETURNING event_id, attempts_total, ticket_id",
            )
            .bind(seq)
            .bind(now_ms),
            DeliveryOutcome::Retry { at_ms, error } => sqlx::query_as(
                "UPDATE events SET next_attempt_at = $2, attempts = attempts + 1,
                                   attempts_total = attempts_total + 1, claimed_until = 0,
                                   last_error = $3 WHERE seq = $1
                 RETURNING event_id, attempts_total, ticket_id",
            )
            .bind(seq)
            .bind(*at_ms)
            .bind(error),
            DeliveryOutcome::Failed { error } => sqlx::query_as(
                "UPDATE events SET failed_at = $2, attempts = attempts + 1,
                                   attempts_total = attempts_total + 1, claimed_until = 0,
                                   last_error = $3 WHERE seq = $1
                 RETURNING event_id, attempts_total, ticket_id",
            )
            .bind(seq)
            .bind(now_ms)
            .bind(error),
        };
        let mut tx = self.write().await?;
        // Gone (a reset) while it was being sent: nothing to record.
        let numbered: Option<(String, i64, String)> = query.fetch_optional(&mut *tx).await?;
        if let Some((event_id, number, ticket_id)) = numbered {
            let body = &attempt.body[..attempt.body.len().min(ATTEMPT_BODY_CAP)];
            let truncated = attempt.body_truncated || body.len() < attempt.body.len();
            sqlx::query(
                "INSERT INTO event_attempts (event_id, attempt, started_at, duration_ms,
                                             request_headers, status, response_headers,
                                             response_body, body_truncated, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(&event_id)
            .bind(number)
            .bind(attempt.started_at_ms)
            .bind(attempt.duration_ms)
            .bind(headers_json(&attempt.request_headers))
            .bind(attempt.status.map(i64::from))
            .bind(headers_json(&attempt.response_headers))
            .bind(body)
            .bind(truncated)
            .bind(attempt.error.as_deref().map(without_nul))
            .execute(&mut *tx)
            .await?;
            record_activity(
                &mut tx,
                ActivityKind::Attempt,
                &ticket_id,
                &event_id,
                number,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn event(&self, event_id: &str) -> Result<Option<EventRow>> {
        Ok(sqlx::query_as("SELECT * FROM events WHERE event_id = $1")
            .bind(crate::sql::id(event_id))
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn event_attempts(&self, event_id: &str) -> Result<Vec<EventAttemptRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM event_attempts WHERE event_id = $1 ORDER BY attempt")
                .bind(crate::sql::id(event_id))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn list_events(
        &self,
        app_id: &str,
        failed_only: bool,
        limit: u32,
    ) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM events WHERE app_id = $1 AND ($2 = 0 OR failed_at IS NOT NULL)
             ORDER BY seq DESC LIMIT $3",
        )
        .bind(app_id)
        .bind(i64::from(failed_only))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn redeliver_event(&self, event_id: &str, now_ms: i64) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE events SET delivered_at = NULL, failed_at = NULL, attempts = 0,
                               next_attempt_at = $2, claimed_until = 0, last_error = NULL
             WHERE event_id = $1",
        )
        .bind(event_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Event, event_id));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn prune_event_history(&self, before_ms: i64, limit: u32) -> Result<PrunedHistory> {
        let limit = i64::from(limit);
        let mut tx = self.write().await?;
        let attempts = sqlx::query(
            "DELETE FROM event_attempts WHERE (event_id, attempt) IN (
                 SELECT event_id, attempt FROM event_attempts WHERE started_at < $1 LIMIT $2)",
        )
        .bind(before_ms)
        .bind(limit)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // An event goes after its attempts: one delivered before the cutoff
        // was attempted before it, unless a lapsed claim's late attempt
        // came after, which keeps it until that one is old too.
        let events = sqlx::query(
            "DELETE FROM events WHERE seq IN (
                 SELECT e.seq FROM events e WHERE e.delivered_at < $1
                   AND NOT EXISTS (SELECT 1 FROM event_attempts a WHERE a.event_id = e.event_id)
                 LIMIT $2)",
        )
        .bind(before_ms)
        .bind(limit)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(PrunedHistory { attempts, events })
    }
}

/// What a receiver's error says, storable on every backend (PostgreSQL's
/// text holds no NUL).
fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}
