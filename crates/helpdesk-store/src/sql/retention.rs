//! Retention, a guest's erasure, and leases (`RetentionRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::audit::insert_audit;
use super::images::delete_live_images;
use super::Meta;
use crate::records::MessageRow;
use crate::sql::{id, BUMP};
use crate::*;

/// What an erased message's content becomes, by its type: no text, no
/// title. An image message keeps its (deleted) image's key.
fn erased_content(message_type: &str) -> Option<&'static str> {
    match message_type {
        "text" => Some(r#"{"text":""}"#),
        "post" => Some(r#"{"title":"","content":[]}"#),
        _ => None,
    }
}

#[async_trait]
impl RetentionRepo for Meta {
    async fn expire_images(
        &self,
        now: i64,
        default_retain_secs: Option<u64>,
        limit: u32,
    ) -> Result<Expired> {
        let default = default_retain_secs.map(|s| s.min(i64::MAX as u64) as i64);
        let mut tx = self.write().await?;
        // From the live images only (message_images_live), so a sweep costs
        // what is kept, not what was ever posted.
        let rows = sqlx::query(
            "SELECT DISTINCT m.seq, h.tenant_key
             FROM message_images mi
             JOIN messages m ON m.id = mi.message_pk
             JOIN tickets t ON t.ticket_id = m.ticket_id
             JOIN helpdesks h ON h.helpdesk_id = t.helpdesk_id
             LEFT JOIN tenant_policies p ON p.tenant_key = h.tenant_key
             WHERE mi.deleted_at IS NULL
               AND m.created_at < $1 - COALESCE(p.retain_secs, $2)
             ORDER BY m.seq
             LIMIT $3",
        )
        .bind(now)
        .bind(default)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut expired = Expired::default();
        let mut per_tenant: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let tenant: String = row.try_get("tenant_key")?;
            let message: MessageRow = sqlx::query_as("SELECT * FROM messages WHERE seq = $1")
                .bind(seq)
                .fetch_one(&mut *tx)
                .await?;
            let deleted = delete_live_images(&mut tx, &message, None, now).await?;
            let counts = per_tenant.entry(tenant.clone()).or_default();
            counts.0 += 1;
            counts.1 += deleted.len() as u64;
            expired.messages += 1;
            expired
                .images
                .extend(deleted.into_iter().map(|d| (tenant.clone(), d)));
        }
        if expired.messages == 0 {
            return Ok(expired);
        }
        for (tenant, (messages, images)) in &per_tenant {
            insert_audit(
                &mut tx,
                &NewAudit {
                    actor: &Actor::Retention,
                    action: "retention.expire",
                    tenant_key: Some(tenant),
                    target: None,
                    detail: serde_json::json!({"messages": messages, "images": images}),
                },
            )
            .await?;
        }
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(expired)
    }

    async fn erase_guest(
        &self,
        tenant_key: &str,
        open_id: &str,
        messages: bool,
        dry_run: bool,
    ) -> Result<Erasure> {
        let mut tx = self.write().await?;
        let tickets: Vec<String> = sqlx::query_scalar(
            "SELECT t.ticket_id FROM tickets t
             JOIN helpdesks h ON h.helpdesk_id = t.helpdesk_id
             WHERE t.guest_open_id = $1 AND h.tenant_key = $2
             ORDER BY t.created_at, t.ticket_id",
        )
        .bind(id(open_id))
        .bind(tenant_key)
        .fetch_all(&mut *tx)
        .await?;
        let mut erasure = Erasure {
            tickets,
            ..Erasure::default()
        };
        let now = now();
        for ticket in &erasure.tickets {
            let rows: Vec<MessageRow> =
                sqlx::query_as("SELECT * FROM messages WHERE ticket_id = $1 ORDER BY seq")
                    .bind(ticket)
                    .fetch_all(&mut *tx)
                    .await?;
            for message in &rows {
                erasure
                    .images
                    .extend(delete_live_images(&mut tx, message, None, now).await?);
                if !messages {
                    continue;
                }
                if let Some(content) = erased_content(&message.message_type) {
                    if message.content != content {
                        sqlx::query("UPDATE messages SET content = $1 WHERE id = $2")
                            .bind(content)
                            .bind(&message.id)
                            .execute(&mut *tx)
                            .await?;
                        erasure.messages_erased += 1;
                    }
                }
            }
        }
        let changed = !erasure.images.is_empty() || erasure.messages_erased > 0;
        if dry_run || !changed {
            // Dropping the transaction rolls back what a dry run did.
            return Ok(erasure);
        }
        insert_audit(
            &mut tx,
            &NewAudit {
                actor: &Actor::Admin,
                action: "guest.erase",
                tenant_key: Some(tenant_key),
                target: Some(open_id),
                detail: serde_json::json!({
                    "tickets": erasure.tickets,
                    "images": erasure.images.len(),
                    "messages_erased": erasure.messages_erased,
                }),
            },
        )
        .await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(erasure)
    }

    async fn take_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
             WHERE leases.until_ms < $4 OR leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now_ms.saturating_add(ttl_ms))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(taken == 1)
    }
}
