//! The live feed (`ActivityRepo`): one row per change the console shows as
//! it happens, written by the change's own transaction through
//! [`record_activity`]. Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::{Db, Meta};
use crate::*;

/// Adds `kind` about `subject` (and its `number`: an attempt's, else 0) of
/// ticket `ticket_id` to the feed, in the caller's transaction, under the
/// ticket's tenant. A ticket that is not there (a reset raced the change)
/// adds nothing.
pub(super) async fn record_activity(
    tx: &mut sqlx::Transaction<'static, Db>,
    kind: ActivityKind,
    ticket_id: &str,
    subject: &str,
    number: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO activity (tenant_key, kind, ticket_id, subject, number, at)
         SELECT h.tenant_key, $1, t.ticket_id, $2, $3, $4
         FROM tickets t JOIN helpdesks h ON h.helpdesk_id = t.helpdesk_id
         WHERE t.ticket_id = $5",
    )
    .bind(kind.as_str())
    .bind(subject)
    .bind(number)
    .bind(now_ms())
    .bind(ticket_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn activity(row: &<Db as sqlx::Database>::Row) -> Result<Option<Activity>> {
    let kind: String = row.try_get("kind")?;
    // A kind this build does not know (a newer replica wrote it): skipped.
    let Some(kind) = ActivityKind::parse(&kind) else {
        return Ok(None);
    };
    Ok(Some(Activity {
        seq: row.try_get("seq")?,
        tenant_key: row.try_get("tenant_key")?,
        kind,
        ticket_id: row.try_get("ticket_id")?,
        subject: row.try_get("subject")?,
        number: row.try_get("number")?,
        at: row.try_get("at")?,
    }))
}

#[async_trait]
impl ActivityRepo for Meta {
    async fn activity_after(&self, after: i64, limit: u32) -> Result<Vec<Activity>> {
        let rows = sqlx::query(
            "SELECT seq, tenant_key, kind, ticket_id, subject, number, at FROM activity
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.extend(activity(row)?);
        }
        Ok(out)
    }

    async fn activity_head(&self) -> Result<i64> {
        let head: Option<i64> = sqlx::query("SELECT max(seq) AS head FROM activity")
            .fetch_one(&self.pool)
            .await?
            .try_get("head")?;
        Ok(head.unwrap_or(0))
    }

    async fn prune_activity(&self, before_ms: i64, limit: u32) -> Result<u64> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "DELETE FROM activity WHERE seq IN (
                 SELECT seq FROM activity WHERE at < $1 ORDER BY seq LIMIT $2)",
        )
        .bind(before_ms)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done)
    }
}
