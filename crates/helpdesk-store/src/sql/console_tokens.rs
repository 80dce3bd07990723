//! The console's sign-in tokens (`ConsoleTokenRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::Meta;
use crate::*;

const COLUMNS: &str =
    "SELECT token_id, tenant_key, read_only, created_at, revoked_at FROM console_tokens";

fn token_row(row: &<super::Db as sqlx::Database>::Row) -> Result<ConsoleToken> {
    Ok(ConsoleToken {
        token_id: row.try_get("token_id")?,
        tenant_key: row.try_get("tenant_key")?,
        read_only: row.try_get::<i64, _>("read_only")? != 0,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl ConsoleTokenRepo for Meta {
    async fn create_console_token(&self, new: &NewConsoleToken<'_>) -> Result<ConsoleToken> {
        let mut tx = self.write().await?;
        if let Some(tenant) = new.tenant_key {
            let found = sqlx::query("SELECT 1 FROM tenants WHERE tenant_key = $1")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::not_found(Entity::Tenant, tenant));
            }
        }
        sqlx::query(
            "INSERT INTO console_tokens (token_id, token_sha256, tenant_key, read_only, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new.token_id)
        .bind(new.token_sha256)
        .bind(new.tenant_key)
        .bind(i64::from(new.read_only))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.console_tokens()
            .await?
            .into_iter()
            .find(|t| t.token_id == new.token_id)
            .ok_or_else(|| StoreError::not_found(Entity::ConsoleToken, new.token_id))
    }

    async fn console_tokens(&self) -> Result<Vec<ConsoleToken>> {
        let sql = format!("{COLUMNS} ORDER BY created_at, token_id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(token_row).collect()
    }

    async fn live_console_token(&self, token_sha256: &str) -> Result<Option<ConsoleToken>> {
        let sql = format!("{COLUMNS} WHERE token_sha256 = $1 AND revoked_at IS NULL");
        let row = sqlx::query(&sql)
            .bind(token_sha256)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_row).transpose()
    }

    async fn console_token_live(&self, token_id: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM console_tokens WHERE token_id = $1 AND revoked_at IS NULL")
                .bind(token_id)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    async fn revoke_console_token(&self, token_id: &str) -> Result<ConsoleToken> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE console_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE token_id = $1",
        )
        .bind(token_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::ConsoleToken, token_id));
        }
        tx.commit().await?;
        self.console_tokens()
            .await?
            .into_iter()
            .find(|t| t.token_id == token_id)
            .ok_or_else(|| StoreError::not_found(Entity::ConsoleToken, token_id))
    }
}
