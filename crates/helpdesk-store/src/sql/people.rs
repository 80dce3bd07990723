//! A tenant's users and a helpdesk's agents (`PeopleRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use helpdesk_core::ids;

use super::{Db, Meta};
use crate::sql::{id, storable};
use crate::*;

/// An agent row with its user's name and email.
#[derive(sqlx::FromRow)]
struct AgentRow {
    agent_id: String,
    helpdesk_id: String,
    name: String,
    email: String,
    disabled_at: Option<i64>,
}

impl From<AgentRow> for Agent {
    fn from(r: AgentRow) -> Agent {
        Agent {
            agent_id: r.agent_id,
            helpdesk_id: r.helpdesk_id,
            name: r.name,
            email: r.email,
            disabled: r.disabled_at.is_some(),
        }
    }
}

fn users_query<'a>(tenant_key: &'a str, open_ids: &'a [String]) -> sqlx::QueryBuilder<'a, Db> {
    let mut q = sqlx::QueryBuilder::<Db>::new("SELECT * FROM users WHERE tenant_key = ");
    q.push_bind(id(tenant_key)).push(" AND open_id IN (");
    let mut list = q.separated(", ");
    for open_id in open_ids {
        list.push_bind(id(open_id));
    }
    q.push(")");
    q
}

/// `PeopleRepo::users`, inside a write.
pub(super) async fn users_in(
    tx: &mut sqlx::Transaction<'static, Db>,
    tenant_key: &str,
    open_ids: &[String],
) -> Result<Vec<User>> {
    if open_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users_query(tenant_key, open_ids)
        .build_query_as()
        .fetch_all(&mut **tx)
        .await?)
}

const AGENT_COLUMNS: &str = "SELECT g.agent_id, g.helpdesk_id, u.name, u.email, g.disabled_at
     FROM agents g
     JOIN helpdesks h ON h.helpdesk_id = g.helpdesk_id
     JOIN users u ON u.tenant_key = h.tenant_key AND u.open_id = g.agent_id";

#[async_trait]
impl PeopleRepo for Meta {
    async fn create_user(&self, tenant_key: &str, name: &str, email: &str) -> Result<User> {
        storable(&[tenant_key, name, email])?;
        let user = User {
            tenant_key: tenant_key.to_string(),
            open_id: ids::open_id(),
            name: name.to_string(),
            email: email.to_string(),
            avatar_url: String::new(),
            department: String::new(),
            city: String::new(),
            country: String::new(),
            created_at: now(),
        };
        let done = sqlx::query(
            "INSERT INTO users (tenant_key, open_id, name, email, created_at)
             SELECT tenant_key, $2, $3, $4, $5 FROM tenants WHERE tenant_key = $1",
        )
        .bind(&user.tenant_key)
        .bind(&user.open_id)
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.created_at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Tenant, tenant_key));
        }
        Ok(user)
    }

    async fn users(&self, tenant_key: &str, open_ids: &[String]) -> Result<Vec<User>> {
        if open_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(users_query(tenant_key, open_ids)
            .build_query_as()
            .fetch_all(&self.pool)
            .await?)
    }

    async fn create_agent(&self, helpdesk_id: &str, name: &str, email: &str) -> Result<Agent> {
        storable(&[helpdesk_id, name, email])?;
        let agent_id = ids::open_id();
        let now = now();
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "INSERT INTO users (tenant_key, open_id, name, email, created_at)
             SELECT tenant_key, $2, $3, $4, $5 FROM helpdesks WHERE helpdesk_id = $1",
        )
        .bind(id(helpdesk_id))
        .bind(&agent_id)
        .bind(name)
        .bind(email)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Helpdesk, helpdesk_id));
        }
        sqlx::query("INSERT INTO agents (agent_id, helpdesk_id, created_at) VALUES ($1, $2, $3)")
            .bind(&agent_id)
            .bind(helpdesk_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Agent {
            agent_id,
            helpdesk_id: helpdesk_id.to_string(),
            name: name.to_string(),
            email: email.to_string(),
            disabled: false,
        })
    }

    async fn agent(&self, agent_id: &str) -> Result<Option<Agent>> {
        let row: Option<AgentRow> =
            sqlx::query_as(&format!("{AGENT_COLUMNS} WHERE g.agent_id = $1"))
                .bind(id(agent_id))
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Agent::from))
    }

    async fn agents(&self, helpdesk_id: &str) -> Result<Vec<Agent>> {
        let rows: Vec<AgentRow> = sqlx::query_as(&format!(
            "{AGENT_COLUMNS} WHERE g.helpdesk_id = $1 ORDER BY g.seq"
        ))
        .bind(id(helpdesk_id))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Agent::from).collect())
    }

    async fn set_agent_disabled(&self, agent_id: &str, disabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE agents SET disabled_at = $1 WHERE agent_id = $2")
            .bind(disabled.then(now))
            .bind(id(agent_id))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Agent, agent_id));
        }
        Ok(())
    }
}
