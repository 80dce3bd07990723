//! A ticket's messages, the bot's messages, and the download's one lookup
//! (`MessageRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use helpdesk_core::events as wire_events;
use helpdesk_core::ids::{self, MessageRef};
use sqlx::Row;

use super::activity::record_activity;
use super::events::record_events;
use super::images::lock_live_images;
use super::Meta;
use crate::records::{DownloadRow, MessageRow};
use crate::sql::{id, storable};
use crate::*;

#[async_trait]
impl MessageRepo for Meta {
    async fn add_message(&self, new: NewMessage<'_>) -> Result<Message> {
        storable(&[new.content, new.user_id, new.user_name, new.avatar_url])?;
        let message = Message {
            id: ids::message_pk(),
            message_id: ids::message_id(),
            ticket_id: new.ticket_id.to_string(),
            message_type: new.message_type.as_str().to_string(),
            content: new.content.to_string(),
            user_id: new.user_id.to_string(),
            user_name: new.user_name.to_string(),
            avatar_url: new.avatar_url.to_string(),
            created_at: now(),
        };
        let mut tx = self.write().await?;
        // An image deleted since the caller looked it up must not be
        // attached: its bytes may be gone. Both locks hold until commit
        // (`ImageRepo`'s rules).
        lock_live_images(&mut tx, new.images).await?;
        sqlx::query(
            "INSERT INTO messages (id, message_id, ticket_id, message_type, content, image_count,
                                   user_id, user_name, avatar_url, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&message.id)
        .bind(&message.message_id)
        .bind(&message.ticket_id)
        .bind(&message.message_type)
        .bind(&message.content)
        .bind(new.images.len() as i64)
        .bind(&message.user_id)
        .bind(&message.user_name)
        .bind(&message.avatar_url)
        .bind(message.created_at)
        .execute(&mut *tx)
        .await?;
        for (idx, image) in new.images.iter().enumerate() {
            sqlx::query(
                "INSERT INTO message_images (message_pk, idx, image_key, sha256, size,
                                             content_type, file_name)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&message.id)
            .bind(idx as i64)
            .bind(&image.image_key)
            .bind(&image.sha256)
            .bind(image.size as i64)
            .bind(&image.content_type)
            .bind(&image.file_name)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE tickets SET updated_at = $1 WHERE ticket_id = $2")
            .bind(message.created_at)
            .bind(&message.ticket_id)
            .execute(&mut *tx)
            .await?;
        let ticket: Option<Ticket> = sqlx::query_as("SELECT * FROM tickets WHERE ticket_id = $1")
            .bind(&message.ticket_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(ticket) = ticket {
            let position: i64 =
                sqlx::query("SELECT count(*) AS n FROM messages WHERE ticket_id = $1")
                    .bind(&message.ticket_id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            let image_keys: Vec<String> = new.images.iter().map(|i| i.image_key.clone()).collect();
            let facts = wire_events::MessageFacts {
                id: &message.id,
                message_id: &message.message_id,
                msg_type: &message.message_type,
                content: &message.content,
                image_keys: &image_keys,
                sender_open_id: &message.user_id,
                position,
                ticket: ticket.facts(),
            };
            record_events(
                &mut tx,
                &ticket.helpdesk_id,
                &ticket.ticket_id,
                wire_events::TICKET_MESSAGE_CREATED,
                |event_id| wire_events::message_created(&facts, event_id),
            )
            .await?;
        }
        record_activity(
            &mut tx,
            ActivityKind::Message,
            &message.ticket_id,
            &message.message_id,
            0,
        )
        .await?;
        tx.commit().await?;
        Ok(message)
    }

    async fn add_bot_message(&self, m: &BotMessage) -> Result<()> {
        storable(&[&m.receiver_id, &m.msg_type, &m.content])?;
        sqlx::query(
            "INSERT INTO bot_messages (message_id, app_id, tenant_key, receiver_id, msg_type,
                                       content, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&m.message_id)
        .bind(&m.app_id)
        .bind(&m.tenant_key)
        .bind(&m.receiver_id)
        .bind(&m.msg_type)
        .bind(&m.content)
        .bind(m.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn messages(&self, ticket_id: &str, filter: &MessageFilter) -> Result<MessagePage> {
        const WHERE: &str = "WHERE ticket_id = $1 AND ($2 IS NULL OR created_at >= $2)
                             AND ($3 IS NULL OR created_at <= $3)";
        let total: i64 = sqlx::query(&format!("SELECT count(*) AS n FROM messages {WHERE}"))
            .bind(id(ticket_id))
            .bind(filter.time_start)
            .bind(filter.time_end)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "SELECT * FROM messages {WHERE} ORDER BY created_at, seq LIMIT $4 OFFSET $5"
        ))
        .bind(id(ticket_id))
        .bind(filter.time_start)
        .bind(filter.time_end)
        .bind(filter.limit.min(i64::MAX as u64) as i64)
        .bind(filter.offset.min(i64::MAX as u64) as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(MessagePage {
            messages: rows.into_iter().map(Message::from).collect(),
            total: total as u64,
        })
    }

    async fn image_with_credentials(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: u32,
    ) -> Result<Option<(App, Option<Helpdesk>, Option<ImageLookup>)>> {
        // The hot path: one fixed statement per id kind, so the prepared
        // statement cache always hits and nothing is formatted per request.
        let (sql, value) = match msg {
            MessageRef::Id(v) => (download_by!("id"), v),
            MessageRef::MessageId(v) => (download_by!("message_id"), v),
        };
        let row = self
            .download_row(
                sql,
                [id(app_id), id(helpdesk_id), id(ticket_id), id(value)],
                index as i64,
            )
            .await?;
        row.map(DownloadRow::split).transpose()
    }
}
