//! The audit trail (`AuditRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::Meta;
use crate::sql::storable;
use crate::*;

/// Records `entry` in `tx`, so that a change and its entry commit together.
pub(super) async fn insert_audit(
    tx: &mut sqlx::Transaction<'static, super::Db>,
    entry: &NewAudit<'_>,
) -> Result<()> {
    let detail = entry.detail.to_string();
    storable(&[
        entry.actor.as_str(),
        entry.action,
        entry.tenant_key.unwrap_or(""),
        entry.target.unwrap_or(""),
        &detail,
    ])?;
    sqlx::query(
        "INSERT INTO audit (id, at, actor, action, tenant_key, target, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(helpdesk_core::ids::audit_id())
    .bind(now_ms())
    .bind(entry.actor.as_str())
    .bind(entry.action)
    .bind(entry.tenant_key)
    .bind(entry.target)
    .bind(&detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl AuditRepo for Meta {
    async fn record_audit(&self, entry: &NewAudit<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        insert_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM audit
             WHERE seq > $1 AND at >= $2 AND ($3 IS NULL OR tenant_key = $3)
             ORDER BY seq LIMIT $4",
        )
        .bind(query.after_seq)
        .bind(query.since_ms.unwrap_or(i64::MIN))
        .bind(query.tenant_key.as_deref())
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let detail: String = r.try_get("detail")?;
                Ok(AuditEntry {
                    seq: r.try_get("seq")?,
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    tenant_key: r.try_get("tenant_key")?,
                    target: r.try_get("target")?,
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                })
            })
            .collect()
    }
}
