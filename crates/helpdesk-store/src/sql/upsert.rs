//! The writes of fixtures (`TransferRepo::upsert`: a row inserted, or
//! updated where its declared columns differ) and the tables `reset`
//! empties. Compiled once per backend: see `sql/mod.rs`.

use super::import::import_one;
use super::Db;
use crate::records::*;
use crate::*;

/// Inserts one row, or updates the columns a fixture declares where they
/// differ; 1 when it changed anything, else 0. Kinds a fixture only ever
/// creates go to `import_one`.
pub(super) async fn upsert_one(
    tx: &mut sqlx::Transaction<'static, Db>,
    record: &Record,
) -> Result<u64> {
    let done = match record {
        Record::Tenant(r) => sqlx::query(
            "INSERT INTO tenants (tenant_key, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_key) DO UPDATE SET name = excluded.name
             WHERE tenants.name <> excluded.name",
        )
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(r.created_at),
        Record::App(r) => sqlx::query(
            "INSERT INTO apps (app_id, tenant_key, name, kind, scopes, secret_sha256,
                               tokens_not_before, disabled_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (app_id) DO UPDATE SET
                 tenant_key = excluded.tenant_key, name = excluded.name, kind = excluded.kind,
                 scopes = excluded.scopes, secret_sha256 = excluded.secret_sha256,
                 disabled_at = excluded.disabled_at
             WHERE apps.tenant_key <> excluded.tenant_key OR apps.name <> excluded.name
                OR apps.kind <> excluded.kind OR apps.scopes <> excluded.scopes
                OR apps.secret_sha256 <> excluded.secret_sha256
                OR apps.disabled_at IS DISTINCT FROM excluded.disabled_at",
        )
        .bind(&r.app_id)
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(&r.kind)
        .bind(&r.scopes)
        .bind(&r.secret_sha256)
        .bind(r.tokens_not_before)
        .bind(r.disabled_at)
        .bind(r.created_at),
        Record::Helpdesk(r) => sqlx::query(
            "INSERT INTO helpdesks (helpdesk_id, tenant_key, name, token_sha256, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (helpdesk_id) DO UPDATE SET
                 tenant_key = excluded.tenant_key, name = excluded.name,
                 token_sha256 = excluded.token_sha256
             WHERE helpdesks.tenant_key <> excluded.tenant_key
                OR helpdesks.name <> excluded.name
                OR helpdesks.token_sha256 <> excluded.token_sha256",
        )
        .bind(&r.helpdesk_id)
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(&r.token_sha256)
        .bind(r.created_at),
        Record::User(r) => sqlx::query(
            "INSERT INTO users (tenant_key, open_id, name, email, avatar_url, department, city,
                                country, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (tenant_key, open_id) DO UPDATE SET
                 name = excluded.name, email = excluded.email
             WHERE users.name <> excluded.name OR users.email <> excluded.email",
        )
        .bind(&r.tenant_key)
        .bind(&r.open_id)
        .bind(&r.name)
        .bind(&r.email)
        .bind(&r.avatar_url)
        .bind(&r.department)
        .bind(&r.city)
        .bind(&r.country)
        .bind(r.created_at),
        Record::Agent(r) => sqlx::query(
            "INSERT INTO agents (agent_id, helpdesk_id, disabled_at, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (agent_id) DO UPDATE SET
                 helpdesk_id = excluded.helpdesk_id, disabled_at = excluded.disabled_at
             WHERE agents.helpdesk_id <> excluded.helpdesk_id
                OR agents.disabled_at IS DISTINCT FROM excluded.disabled_at",
        )
        .bind(&r.agent_id)
        .bind(&r.helpdesk_id)
        .bind(r.disabled_at)
        .bind(r.created_at),
        Record::EventConfig(r) => sqlx::query(
            "INSERT INTO event_configs (app_id, url, encrypt_key, verification_token, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (app_id) DO UPDATE SET
                 url = excluded.url, encrypt_key = excluded.encrypt_key,
                 verification_token = excluded.verification_token,
                 updated_at = excluded.updated_at
             WHERE event_configs.url <> excluded.url
                OR event_configs.encrypt_key <> excluded.encrypt_key
                OR event_configs.verification_token <> excluded.verification_token",
        )
        .bind(&r.app_id)
        .bind(&r.url)
        .bind(&r.encrypt_key)
        .bind(&r.verification_token)
        .bind(r.updated_at),
        other => return import_one(tx, other).await,
    }
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// What `reset` removes, children first; each binds the tenant as `$1`,
/// NULL for every tenant.
pub(super) const RESET: [&str; 12] = [
    "DELETE FROM message_images WHERE message_pk IN (
         SELECT m.id FROM messages m JOIN tickets t ON t.ticket_id = m.ticket_id
         JOIN helpdesks h ON h.helpdesk_id = t.helpdesk_id
         WHERE $1 IS NULL OR h.tenant_key = $1)",
    "DELETE FROM messages WHERE ticket_id IN (
         SELECT t.ticket_id FROM tickets t JOIN helpdesks h ON h.helpdesk_id = t.helpdesk_id
         WHERE $1 IS NULL OR h.tenant_key = $1)",
    "DELETE FROM tickets WHERE helpdesk_id IN (
         SELECT helpdesk_id FROM helpdesks WHERE $1 IS NULL OR tenant_key = $1)",
    "DELETE FROM faq_images WHERE faq_id IN (
         SELECT f.faq_id FROM faqs f JOIN helpdesks h ON h.helpdesk_id = f.helpdesk_id
         WHERE $1 IS NULL OR h.tenant_key = $1)",
    "DELETE FROM faqs WHERE helpdesk_id IN (
         SELECT helpdesk_id FROM helpdesks WHERE $1 IS NULL OR tenant_key = $1)",
    "DELETE FROM categories WHERE helpdesk_id IN (
         SELECT helpdesk_id FROM helpdesks WHERE $1 IS NULL OR tenant_key = $1)",
    "DELETE FROM bot_messages WHERE $1 IS NULL OR tenant_key = $1",
    "DELETE FROM images WHERE $1 IS NULL OR tenant_key = $1",
    "DELETE FROM event_attempts WHERE event_id IN (
         SELECT e.event_id FROM events e JOIN apps a ON a.app_id = e.app_id
         WHERE $1 IS NULL OR a.tenant_key = $1)",
    "DELETE FROM events WHERE app_id IN (
         SELECT app_id FROM apps WHERE $1 IS NULL OR tenant_key = $1)",
    "DELETE FROM activity WHERE $1 IS NULL OR tenant_key = $1",
    crate::sql::BUMP,
];
