//! Whole tables for `migrate` and `backup` (`TransferRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use std::path::Path;

use async_trait::async_trait;

use super::import::import_one;
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
