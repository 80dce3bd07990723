//! Tenants, apps, helpdesks and the credentials they make
//! (`DirectoryRepo`). Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use helpdesk_core::ids;

use super::Meta;
use crate::records::{AppRow, CredentialsRow, HelpdeskRow, TenantRow};
use crate::sql::{id, storable, BUMP};
use crate::*;

#[async_trait]
impl DirectoryRepo for Meta {
    async fn create_tenant(&self, name: &str) -> Result<Tenant> {
        storable(&[name])?;
        let tenant = Tenant {
            tenant_key: ids::tenant_key(),
            name: name.to_string(),
        };
        sqlx::query("INSERT INTO tenants (tenant_key, name, created_at) VALUES ($1, $2, $3)")
            .bind(&tenant.tenant_key)
            .bind(&tenant.name)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(tenant)
    }

    async fn tenants(&self) -> Result<Vec<TenantRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM tenants ORDER BY created_at, tenant_key")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn create_app(&self, new: NewApp<'_>) -> Result<App> {
        storable(&[new.name, new.tenant_key])?;
        let app = App {
            app_id: ids::app_id(),
            tenant_key: new.tenant_key.to_string(),
            name: new.name.to_string(),
            kind: new.kind,
            scopes: new.scopes.to_vec(),
            secret_sha256: new.secret_sha256.to_string(),
            tokens_not_before: 0,
            disabled: false,
        };
        // Inserted only if the tenant exists, in one statement.
        let done = sqlx::query(
            "INSERT INTO apps (app_id, tenant_key, name, kind, scopes, secret_sha256, created_at)
             SELECT $1, tenant_key, $3, $4, $5, $6, $7 FROM tenants WHERE tenant_key = $2",
        )
        .bind(&app.app_id)
        .bind(&app.tenant_key)
        .bind(&app.name)
        .bind(app.kind.as_str())
        .bind(app.scopes.join(" "))
        .bind(&app.secret_sha256)
        .bind(now())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Tenant, new.tenant_key));
        }
        Ok(app)
    }

    async fn app(&self, app_id: &str) -> Result<Option<App>> {
        let row: Option<AppRow> = sqlx::query_as(concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps a WHERE a.app_id = $1"
        ))
        .bind(id(app_id))
        .fetch_optional(&self.pool)
        .await?;
        row.map(App::try_from).transpose()
    }

    async fn apps(&self, tenant_key: Option<&str>) -> Result<Vec<App>> {
        let rows: Vec<AppRow> = sqlx::query_as(concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps a WHERE $1 IS NULL OR a.tenant_key = $1 ORDER BY a.created_at, a.app_id"
        ))
        .bind(tenant_key)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(App::try_from).collect()
    }

    async fn update_app(&self, app_id: &str, change: AppChange<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        let query = match change {
            AppChange::Secret(sha256) => {
                sqlx::query("UPDATE apps SET secret_sha256 = $2 WHERE app_id = $1")
                    .bind(app_id)
                    .bind(sha256)
            }
            AppChange::Disabled(true) => sqlx::query(
                "UPDATE apps SET disabled_at = COALESCE(disabled_at, $2) WHERE app_id = $1",
            )
            .bind(app_id)
            .bind(now()),
            AppChange::Disabled(false) => {
                sqlx::query("UPDATE apps SET disabled_at = NULL WHERE app_id = $1").bind(app_id)
            }
        };
        let done = query.execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::App, app_id));
        }
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_tokens(&self, app_id: &str) -> Result<()> {
        // Tokens carry whole seconds: one issued earlier in this very second
        // must go too, so new ones start from the next.
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE apps SET tokens_not_before = $1 WHERE app_id = $2")
            .bind(now() + 1)
            .bind(app_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::App, app_id));
        }
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_helpdesk(
        &self,
        tenant_key: &str,
        name: &str,
        token_sha256: &str,
    ) -> Result<Helpdesk> {
        storable(&[tenant_key, name])?;
        let helpdesk = Helpdesk {
            helpdesk_id: ids::helpdesk_id(),
            tenant_key: tenant_key.to_string(),
            name: name.to_string(),
            token_sha256: token_sha256.to_string(),
        };
        let done = sqlx::query(
            "INSERT INTO helpdesks (helpdesk_id, tenant_key, name, token_sha256, created_at)
             SELECT $1, tenant_key, $3, $4, $5 FROM tenants WHERE tenant_key = $2",
        )
        .bind(&helpdesk.helpdesk_id)
        .bind(&helpdesk.tenant_key)
        .bind(&helpdesk.name)
        .bind(&helpdesk.token_sha256)
        .bind(now())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Tenant, tenant_key));
        }
        Ok(helpdesk)
    }

    async fn helpdesks(&self, tenant_key: Option<&str>) -> Result<Vec<Helpdesk>> {
        let rows: Vec<HelpdeskRow> = sqlx::query_as(
            "SELECT * FROM helpdesks WHERE $1 IS NULL OR tenant_key = $1
             ORDER BY created_at, helpdesk_id",
        )
        .bind(tenant_key)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Helpdesk::from).collect())
    }

    async fn set_helpdesk_token(&self, helpdesk_id: &str, token_sha256: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE helpdesks SET token_sha256 = $1 WHERE helpdesk_id = $2")
            .bind(token_sha256)
            .bind(helpdesk_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Helpdesk, helpdesk_id));
        }
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn app_and_helpdesk(
        &self,
        app_id: &str,
        helpdesk_id: &str,
    ) -> Result<Option<(App, Option<Helpdesk>)>> {
        let row: Option<CredentialsRow> = sqlx::query_as(concat!(
            "SELECT ",
            credential_columns!(),
            " FROM apps a LEFT JOIN helpdesks h ON h.helpdesk_id = $2 WHERE a.app_id = $1"
        ))
        .bind(id(app_id))
        .bind(id(helpdesk_id))
        .fetch_optional(&self.pool)
        .await?;
        row.map(CredentialsRow::split).transpose()
    }
}
