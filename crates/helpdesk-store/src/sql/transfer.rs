//! Whole tables for `migrate` and `backup` (`TransferRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use std::path::Path;

use async_trait::async_trait;

use super::upsert::{upsert_one, RESET};
use super::{Db, Meta};
use crate::records::*;
use crate::*;

/// One page of rows after `after`, each made a `Record` by `wrap`. Every
/// page binds (key, n, limit); a table ordered by its key alone still names
/// `$2` (as `$2 = $2`) so that all three bind.
async fn page<R>(
    meta: &Meta,
    sql: &'static str,
    after: &Cursor,
    limit: i64,
    wrap: fn(R) -> Record,
) -> Result<Vec<Record>>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let rows: Vec<R> = sqlx::query_as(sql)
        .bind(&after.key)
        .bind(after.n)
        .bind(limit)
        .fetch_all(&meta.pool)
        .await?;
    Ok(rows.into_iter().map(wrap).collect())
}

/// Inserts one row of any table unless it is there; 1 or 0.
pub(super) async fn import_one(
    tx: &mut sqlx::Transaction<'static, Db>,
    record: &Record,
) -> Result<u64> {
    let done = match record {
        Record::ServerKey(r) => sqlx::query(
            "INSERT INTO server_keys (name, value, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.name)
        .bind(&r.value)
        .bind(r.created_at),
        Record::Tenant(r) => sqlx::query(
            "INSERT INTO tenants (tenant_key, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(r.created_at),
        Record::App(r) => sqlx::query(
            "INSERT INTO apps (app_id, tenant_key, name, kind, scopes, secret_sha256,
                               tokens_not_before, disabled_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
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
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&r.helpdesk_id)
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(&r.token_sha256)
        .bind(r.created_at),
        Record::Blob(r) => sqlx::query(
            "INSERT INTO blobs (sha256, size, content_type, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.sha256)
        .bind(r.size)
        .bind(&r.content_type)
        .bind(r.created_at),
        Record::Image(r) => sqlx::query(
            "INSERT INTO images (image_key, tenant_key, sha256, size, content_type, file_name,
                                 deleted_at, created_at, app_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&r.image_key)
        .bind(&r.tenant_key)
        .bind(&r.sha256)
        .bind(r.size)
        .bind(&r.content_type)
        .bind(&r.file_name)
        .bind(r.deleted_at)
        .bind(r.created_at)
        .bind(&r.app_id),
        Record::Category(c) => sqlx::query(
            "INSERT INTO categories (category_id, helpdesk_id, name, parent_id, language,
                                     created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&c.category_id)
        .bind(&c.helpdesk_id)
        .bind(&c.name)
        .bind(&c.parent_id)
        .bind(&c.language)
        .bind(c.created_at)
        .bind(c.updated_at),
        Record::Faq(f) => sqlx::query(
            "INSERT INTO faqs (faq_id, helpdesk_id, question, answer, answer_richtext,
                               category_ids, tags, status, create_user, update_user,
                               create_time, update_time, search_grams)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT DO NOTHING",
        )
        .bind(&f.faq_id)
        .bind(&f.helpdesk_id)
        .bind(&f.question)
        .bind(&f.answer)
        .bind(&f.answer_richtext)
        .bind(&f.category_ids)
        .bind(&f.tags)
        .bind(f.status)
        .bind(&f.create_user)
        .bind(&f.update_user)
        .bind(f.create_time)
        .bind(f.update_time)
        .bind(&f.search_grams),
        Record::FaqImage(r) => sqlx::query(
            "INSERT INTO faq_images (faq_id, image_key, idx) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.faq_id)
        .bind(&r.image_key)
        .bind(r.idx),
        Record::BotMessage(m) => sqlx::query(
            "INSERT INTO bot_messages (message_id, app_id, tenant_key, receiver_id, msg_type,
                                       content, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&m.message_id)
        .bind(&m.app_id)
        .bind(&m.tenant_key)
        .bind(&m.receiver_id)
        .bind(&m.msg_type)
        .bind(&m.content)
        .bind(m.created_at),
        Record::TenantPolicy(r) => sqlx::query(
            "INSERT INTO tenant_policies (tenant_key, max_bytes, retain_secs, updated_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.tenant_key)
        .bind(r.max_bytes)
        .bind(r.retain_secs)
        .bind(r.updated_at),
        Record::Quarantine(r) => sqlx::query(
            "INSERT INTO quarantine (sha256, signature, engine, quarantined_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.sha256)
        .bind(&r.signature)
        .bind(&r.engine)
        .bind(r.quarantined_at),
        Record::Audit(r) => sqlx::query(
            "INSERT INTO audit (id, at, actor, action, tenant_key, target, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&r.id)
        .bind(r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.tenant_key)
        .bind(&r.target)
        .bind(&r.detail),
        Record::User(r) => sqlx::query(
            "INSERT INTO users (tenant_key, open_id, name, email, avatar_url, department, city,
                                country, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
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
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.agent_id)
        .bind(&r.helpdesk_id)
        .bind(r.disabled_at)
        .bind(r.created_at),
        Record::Field(f) => sqlx::query(
            "INSERT INTO ticket_customized_fields
                 (field_id, helpdesk_id, key_name, display_name, position, field_type,
                  description, visible, editable, required, dropdown_allow_multiple,
                  dropdown_options, created_by, updated_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT DO NOTHING",
        )
        .bind(&f.field_id)
        .bind(&f.helpdesk_id)
        .bind(&f.key_name)
        .bind(&f.display_name)
        .bind(&f.position)
        .bind(&f.field_type)
        .bind(&f.description)
        .bind(f.visible)
        .bind(f.editable)
        .bind(f.required)
        .bind(f.dropdown_allow_multiple)
        .bind(&f.dropdown_options)
        .bind(&f.created_by)
        .bind(&f.updated_by)
        .bind(f.created_at)
        .bind(f.updated_at),
        Record::Ticket(r) => sqlx::query(
            "INSERT INTO tickets (ticket_id, helpdesk_id, chat_id, guest_open_id, human_service,
                                  customized_info, status, created_at, updated_at, closed_at,
                                  closed_by, solved, channel, score, agent_ids, tags, comment,
                                  field_values, agent_entry_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.ticket_id)
        .bind(&r.helpdesk_id)
        .bind(&r.chat_id)
        .bind(&r.guest_open_id)
        .bind(r.human_service)
        .bind(&r.customized_info)
        .bind(r.status)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.closed_at)
        .bind(&r.closed_by)
        .bind(r.solved)
        .bind(r.channel)
        .bind(r.score)
        .bind(&r.agent_ids)
        .bind(&r.tags)
        .bind(&r.comment)
        .bind(&r.field_values)
        .bind(r.agent_entry_at),
        Record::Message(r) => sqlx::query(
            "INSERT INTO messages (id, message_id, ticket_id, message_type, content, image_count,
                                   user_id, user_name, avatar_url, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(&r.id)
        .bind(&r.message_id)
        .bind(&r.ticket_id)
        .bind(&r.message_type)
        .bind(&r.content)
        .bind(r.image_count)
        .bind(&r.user_id)
        .bind(&r.user_name)
        .bind(&r.avatar_url)
        .bind(r.created_at),
        Record::MessageImage(r) => sqlx::query(
            "INSERT INTO message_images (message_pk, idx, image_key, sha256, size, content_type,
                                         file_name, deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&r.message_pk)
        .bind(r.idx)
        .bind(&r.image_key)
        .bind(&r.sha256)
        .bind(r.size)
        .bind(&r.content_type)
        .bind(&r.file_name)
        .bind(r.deleted_at),
        Record::EventConfig(r) => sqlx::query(
            "INSERT INTO event_configs (app_id, url, encrypt_key, verification_token, updated_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&r.app_id)
        .bind(&r.url)
        .bind(&r.encrypt_key)
        .bind(&r.verification_token)
        .bind(r.updated_at),
        Record::EventSubscription(r) => sqlx::query(
            "INSERT INTO event_subscriptions (app_id, helpdesk_id, event_type, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.app_id)
        .bind(&r.helpdesk_id)
        .bind(&r.event_type)
        .bind(r.created_at),
        // A new sequence number, in export order: the order per ticket holds.
        Record::Event(r) => sqlx::query(
            "INSERT INTO events (event_id, app_id, ticket_id, event_type, body, created_at,
                                 attempts, next_attempt_at, delivered_at, failed_at, last_error,
                                 attempts_total)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
        )
        .bind(&r.event_id)
        .bind(&r.app_id)
        .bind(&r.ticket_id)
        .bind(&r.event_type)
        .bind(&r.body)
        .bind(r.created_at)
        .bind(r.attempts)
        .bind(r.next_attempt_at)
        .bind(r.delivered_at)
        .bind(r.failed_at)
        .bind(&r.last_error)
        .bind(r.attempts_total),
        Record::EventAttempt(r) => sqlx::query(
            "INSERT INTO event_attempts (event_id, attempt, started_at, duration_ms,
                                         request_headers, status, response_headers,
                                         response_body, body_truncated, error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(&r.event_id)
        .bind(r.attempt)
        .bind(r.started_at)
        .bind(r.duration_ms)
        .bind(&r.request_headers)
        .bind(r.status)
        .bind(&r.response_headers)
        .bind(&r.response_body)
        .bind(r.body_truncated)
        .bind(&r.error),
    }
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl TransferRepo for Meta {
    async fn export(
        &self,
        kind: RecordKind,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<Record>> {
        let start = Cursor {
            key: String::new(),
            n: i64::MIN,
        };
        let after = after.unwrap_or(&start);
        let limit = i64::from(limit);
        match kind {
            RecordKind::ServerKeys => {
                let sql = "SELECT * FROM server_keys WHERE name > $1 AND $2 = $2
                           ORDER BY name LIMIT $3";
                page::<ServerKeyRow>(self, sql, after, limit, Record::ServerKey).await
            }
            RecordKind::Tenants => {
                let sql = "SELECT * FROM tenants WHERE tenant_key > $1 AND $2 = $2
                           ORDER BY tenant_key LIMIT $3";
                page::<TenantRow>(self, sql, after, limit, Record::Tenant).await
            }
            RecordKind::Apps => {
                let sql = "SELECT * FROM apps WHERE app_id > $1 AND $2 = $2
                           ORDER BY app_id LIMIT $3";
                page::<AppRow>(self, sql, after, limit, Record::App).await
            }
            RecordKind::Helpdesks => {
                let sql = "SELECT * FROM helpdesks WHERE helpdesk_id > $1 AND $2 = $2
                           ORDER BY helpdesk_id LIMIT $3";
                page::<HelpdeskRow>(self, sql, after, limit, Record::Helpdesk).await
            }
            RecordKind::Users => {
                let sql = "SELECT * FROM users WHERE (tenant_key || ' ' || open_id) > $1
                             AND $2 = $2
                           ORDER BY (tenant_key || ' ' || open_id) LIMIT $3";
                page::<User>(self, sql, after, limit, Record::User).await
            }
            RecordKind::Agents => {
                let sql = "SELECT * FROM agents WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3";
                page::<AgentRow>(self, sql, after, limit, Record::Agent).await
            }
            RecordKind::TicketCustomizedFields => {
                let sql = "SELECT * FROM ticket_customized_fields WHERE $1 = $1 AND seq > $2
                           ORDER BY seq LIMIT $3";
                page::<Field>(self, sql, after, limit, Record::Field).await
            }
            RecordKind::Categories => {
                let sql =
                    "SELECT * FROM categories WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3";
                page::<Category>(self, sql, after, limit, Record::Category).await
            }
            RecordKind::Faqs => {
                let sql = "SELECT * FROM faqs WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3";
                page::<Faq>(self, sql, after, limit, Record::Faq).await
            }
            RecordKind::FaqImages => {
                let sql = "SELECT * FROM faq_images WHERE (faq_id || ' ' || image_key) > $1
                             AND $2 = $2
                           ORDER BY (faq_id || ' ' || image_key) LIMIT $3";
                page::<FaqImageRow>(self, sql, after, limit, Record::FaqImage).await
            }
            RecordKind::TenantPolicies => {
                let sql = "SELECT * FROM tenant_policies WHERE tenant_key > $1 AND $2 = $2
                           ORDER BY tenant_key LIMIT $3";
                page::<TenantPolicyRow>(self, sql, after, limit, Record::TenantPolicy).await
            }
            RecordKind::Quarantine => {
                let sql = "SELECT * FROM quarantine WHERE sha256 > $1 AND $2 = $2
                           ORDER BY sha256 LIMIT $3";
                page::<QuarantineRow>(self, sql, after, limit, Record::Quarantine).await
            }
            RecordKind::Audit => {
                let sql = "SELECT * FROM audit WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3";
                page::<AuditRow>(self, sql, after, limit, Record::Audit).await
            }
            RecordKind::BotMessages => {
                let sql =
                    "SELECT * FROM bot_messages WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3";
                page::<BotMessage>(self, sql, after, limit, Record::BotMessage).await
            }
            RecordKind::Blobs => {
                let sql = "SELECT * FROM blobs WHERE sha256 > $1 AND $2 = $2
                           ORDER BY sha256 LIMIT $3";
                page::<BlobRow>(self, sql, after, limit, Record::Blob).await
            }
            RecordKind::Images => {
                let sql = "SELECT * FROM images WHERE image_key > $1 AND $2 = $2
                           ORDER BY image_key LIMIT $3";
                page::<ImageRow>(self, sql, after, limit, Record::Image).await
            }
            RecordKind::Tickets => {
                let sql = "SELECT * FROM tickets WHERE ticket_id > $1 AND $2 = $2
                           ORDER BY ticket_id LIMIT $3";
                page::<Ticket>(self, sql, after, limit, Record::Ticket).await
            }
            RecordKind::Messages => {
                let sql = "SELECT * FROM messages WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3";
                page::<MessageRow>(self, sql, after, limit, Record::Message).await
            }
            RecordKind::MessageImages => {
                let sql = "SELECT * FROM message_images
                           WHERE message_pk > $1 OR (message_pk = $1 AND idx > $2)
                           ORDER BY message_pk, idx LIMIT $3";
                page::<MessageImageRow>(self, sql, after, limit, Record::MessageImage).await
            }
            RecordKind::EventConfigs => {
                let sql = "SELECT * FROM event_configs WHERE app_id > $1 AND $2 = $2
                           ORDER BY app_id LIMIT $3";
                page::<EventConfigRow>(self, sql, after, limit, Record::EventConfig).await
            }
            RecordKind::EventSubscriptions => {
                let sql = "SELECT * FROM event_subscriptions
                           WHERE (app_id || ' ' || helpdesk_id || ' ' || event_type) > $1
                             AND $2 = $2
                           ORDER BY (app_id || ' ' || helpdesk_id || ' ' || event_type) LIMIT $3";
                page::<EventSubscriptionRow>(self, sql, after, limit, Record::EventSubscription)
                    .await
            }
            RecordKind::Events => {
                let sql = "SELECT * FROM events WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3";
                page::<EventRow>(self, sql, after, limit, Record::Event).await
            }
            RecordKind::EventAttempts => {
                let sql = "SELECT * FROM event_attempts
                           WHERE event_id > $1 OR (event_id = $1 AND attempt > $2)
                           ORDER BY event_id, attempt LIMIT $3";
                page::<EventAttemptRow>(self, sql, after, limit, Record::EventAttempt).await
            }
        }
    }

    async fn import(&self, records: &[Record]) -> Result<u64> {
        let mut tx = self.write().await?;
        let mut inserted = 0;
        for record in records {
            inserted += import_one(&mut tx, record).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn upsert(&self, records: &[Record]) -> Result<u64> {
        let mut tx = self.write().await?;
        let mut changed = 0;
        for record in records {
            changed += upsert_one(&mut tx, record).await?;
        }
        if changed > 0 {
            sqlx::query(crate::sql::BUMP).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn reset(&self, tenant_key: Option<&str>) -> Result<u64> {
        let mut tx = self.write().await?;
        let mut removed = 0;
        for (i, sql) in RESET.iter().enumerate() {
            let q = sqlx::query(sql);
            let q = if i + 1 < RESET.len() {
                q.bind(tenant_key)
            } else {
                q
            };
            removed += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(removed.saturating_sub(1))
    }

    async fn snapshot_into(&self, path: &Path) -> Result<()> {
        self.snapshot(path).await
    }
}
