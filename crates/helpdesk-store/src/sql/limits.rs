//! A tenant's quota and retention, and what it uses (`LimitsRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::Meta;
use crate::*;

/// A tenant's policy and usage by key; no row when there is no tenant.
const POLICY: &str = "SELECT t.tenant_key, p.max_bytes, p.retain_secs,
                             COALESCE(u.used_bytes, 0) AS used_bytes
                      FROM tenants t
                      LEFT JOIN tenant_policies p ON p.tenant_key = t.tenant_key
                      LEFT JOIN tenant_usage u ON u.tenant_key = t.tenant_key";

fn policy_row(row: &<super::Db as sqlx::Database>::Row) -> Result<TenantPolicy> {
    let max: Option<i64> = row.try_get("max_bytes")?;
    let retain: Option<i64> = row.try_get("retain_secs")?;
    let used: i64 = row.try_get("used_bytes")?;
    Ok(TenantPolicy {
        tenant_key: row.try_get("tenant_key")?,
        used_bytes: used.max(0) as u64,
        max_bytes: max.map(|m| m.max(0) as u64),
        retain_secs: retain.map(|r| r.max(0) as u64),
    })
}

/// A count the database holds as a signed 64-bit integer.
fn stored(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("{n} is too large")))
}

#[async_trait]
impl LimitsRepo for Meta {
    async fn set_policy(&self, tenant_key: &str, change: &PolicyChange) -> Result<TenantPolicy> {
        let mut tx = self.write().await?;
        let sql = format!("{POLICY} WHERE t.tenant_key = $1");
        let current = sqlx::query(&sql)
            .bind(tenant_key)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Tenant, tenant_key))?;
        let mut max: Option<i64> = current.try_get("max_bytes")?;
        let mut retain: Option<i64> = current.try_get("retain_secs")?;
        if let Some(m) = change.max_bytes {
            max = m.map(stored).transpose()?;
        }
        if let Some(r) = change.retain_secs {
            retain = r.map(stored).transpose()?;
        }
        sqlx::query(
            "INSERT INTO tenant_policies (tenant_key, max_bytes, retain_secs, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_key) DO UPDATE
             SET max_bytes = excluded.max_bytes, retain_secs = excluded.retain_secs,
                 updated_at = excluded.updated_at",
        )
        .bind(tenant_key)
        .bind(max)
        .bind(retain)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.policy(tenant_key).await
    }

    async fn policy(&self, tenant_key: &str) -> Result<TenantPolicy> {
        let sql = format!("{POLICY} WHERE t.tenant_key = $1");
        let row = sqlx::query(&sql)
            .bind(tenant_key)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Tenant, tenant_key))?;
        policy_row(&row)
    }

    async fn policies(&self) -> Result<Vec<TenantPolicy>> {
        let sql = format!(
            "{POLICY} WHERE p.max_bytes IS NOT NULL OR p.retain_secs IS NOT NULL
             ORDER BY t.tenant_key"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(policy_row).collect()
    }
}

/// The quota check of an upload, in the transaction that adds its image
/// row: under the lock on the tenant's policy row (PostgreSQL's `FOR
/// UPDATE`; SQLite's single writer), so that two uploads cannot both pass.
pub(super) async fn check_quota(
    tx: &mut sqlx::Transaction<'static, super::Db>,
    tenant_key: &str,
    size: u64,
) -> Result<()> {
    let max: Option<Option<i64>> = sqlx::query_scalar(concat!(
        "SELECT max_bytes FROM tenant_policies WHERE tenant_key = $1 ",
        for_update!()
    ))
    .bind(tenant_key)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(Some(max)) = max else {
        return Ok(());
    };
    let used: Option<i64> =
        sqlx::query_scalar("SELECT used_bytes FROM tenant_usage WHERE tenant_key = $1")
            .bind(tenant_key)
            .fetch_optional(&mut **tx)
            .await?;
    let would_use = used.unwrap_or(0).max(0) as u64 + size;
    let max_bytes = max.max(0) as u64;
    if would_use > max_bytes {
        return Err(StoreError::QuotaExceeded {
            max_bytes,
            would_use,
        });
    }
    Ok(())
}
