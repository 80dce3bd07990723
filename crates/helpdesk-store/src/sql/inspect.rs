//! What the inspector console reads across concerns (`InspectRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::{Db, Meta};
use crate::sql::id;
use crate::*;

#[async_trait]
impl InspectRepo for Meta {
    async fn tenant_counts(&self) -> Result<Vec<TenantCounts>> {
        let rows = sqlx::query(
            "SELECT t.tenant_key, t.name,
                    (SELECT count(*) FROM apps a WHERE a.tenant_key = t.tenant_key) AS apps,
                    (SELECT count(*) FROM helpdesks h WHERE h.tenant_key = t.tenant_key)
                        AS helpdesks,
                    (SELECT count(*) FROM tickets k JOIN helpdesks h ON h.helpdesk_id = k.helpdesk_id
                     WHERE h.tenant_key = t.tenant_key) AS tickets,
                    (SELECT count(*) FROM messages m JOIN tickets k ON k.ticket_id = m.ticket_id
                     JOIN helpdesks h ON h.helpdesk_id = k.helpdesk_id
                     WHERE h.tenant_key = t.tenant_key) AS messages,
                    (SELECT count(*) FROM images i
                     WHERE i.tenant_key = t.tenant_key AND i.deleted_at IS NULL) AS images
             FROM tenants t ORDER BY t.created_at, t.tenant_key",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let count =
                    |name: &str| -> Result<u64> { Ok(r.try_get::<i64, _>(name)?.max(0) as u64) };
                Ok(TenantCounts {
                    tenant_key: r.try_get("tenant_key")?,
                    name: r.try_get("name")?,
                    apps: count("apps")?,
                    helpdesks: count("helpdesks")?,
                    tickets: count("tickets")?,
                    messages: count("messages")?,
                    images: count("images")?,
                })
            })
            .collect()
    }

    async fn ticket_anywhere(&self, ticket_id: &str) -> Result<Option<(String, Ticket)>> {
        let Some(row) = sqlx::query(
            "SELECT h.tenant_key, k.helpdesk_id FROM tickets k
             JOIN helpdesks h ON h.helpdesk_id = k.helpdesk_id WHERE k.ticket_id = $1",
        )
        .bind(id(ticket_id))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let tenant_key: String = row.try_get("tenant_key")?;
        let helpdesk_id: String = row.try_get("helpdesk_id")?;
        Ok(self
            .ticket(&helpdesk_id, ticket_id)
            .await?
            .map(|t| (tenant_key, t)))
    }

    async fn ticket_images(&self, ticket_id: &str) -> Result<Vec<TicketImage>> {
        let rows = sqlx::query(concat!(
            "SELECT m.message_id, mi.idx, mi.image_key, mi.sha256, mi.size, mi.content_type,
                    mi.file_name, ",
            quarantined_or_deleted!("mi"),
            " FROM messages m JOIN message_images mi ON mi.message_pk = m.id
             WHERE m.ticket_id = $1 ORDER BY m.created_at, m.seq, mi.idx"
        ))
        .bind(id(ticket_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ticket_image).collect()
    }

    async fn ticket_image_at(
        &self,
        ticket_id: &str,
        message_id: &str,
        index: u32,
    ) -> Result<Option<(String, TicketImage)>> {
        let row = sqlx::query(concat!(
            "SELECT h.tenant_key, m.message_id, mi.idx, mi.image_key, mi.sha256, mi.size,
                    mi.content_type, mi.file_name, ",
            quarantined_or_deleted!("mi"),
            " FROM messages m JOIN message_images mi ON mi.message_pk = m.id AND mi.idx = $3
             JOIN tickets k ON k.ticket_id = m.ticket_id
             JOIN helpdesks h ON h.helpdesk_id = k.helpdesk_id
             WHERE m.message_id = $2 AND m.ticket_id = $1"
        ))
        .bind(id(ticket_id))
        .bind(id(message_id))
        .bind(i64::from(index))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("tenant_key")?, ticket_image(&r)?)))
            .transpose()
    }

    async fn faq_image_at(
        &self,
        faq_id: &str,
        image_key: &str,
    ) -> Result<Option<(String, FaqImage)>> {
        let row = sqlx::query(concat!(
            "SELECT h.tenant_key, fi.idx, fi.image_key, i.sha256, i.size, i.content_type,
                    i.file_name, ",
            quarantined_or_deleted!("i"),
            " FROM faq_images fi JOIN images i ON i.image_key = fi.image_key
             JOIN faqs f ON f.faq_id = fi.faq_id
             JOIN helpdesks h ON h.helpdesk_id = f.helpdesk_id
             WHERE fi.faq_id = $1 AND fi.image_key = $2 AND f.status <> $3"
        ))
        .bind(id(faq_id))
        .bind(id(image_key))
        .bind(FAQ_GONE)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("tenant_key")?, faq_image(&r)?)))
            .transpose()
    }

    async fn faq_anywhere(&self, faq_id: &str) -> Result<Option<(String, Faq)>> {
        let Some(row) = sqlx::query(
            "SELECT h.tenant_key, f.helpdesk_id FROM faqs f
             JOIN helpdesks h ON h.helpdesk_id = f.helpdesk_id
             WHERE f.faq_id = $1 AND f.status <> $2",
        )
        .bind(id(faq_id))
        .bind(FAQ_GONE)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let tenant_key: String = row.try_get("tenant_key")?;
        let helpdesk_id: String = row.try_get("helpdesk_id")?;
        Ok(self
            .faq(&helpdesk_id, faq_id)
            .await?
            .map(|f| (tenant_key, f)))
    }

    async fn faq_images(&self, faq_id: &str) -> Result<Vec<FaqImage>> {
        let rows = sqlx::query(concat!(
            "SELECT fi.idx, fi.image_key, i.sha256, i.size, i.content_type, i.file_name, ",
            quarantined_or_deleted!("i"),
            " FROM faq_images fi JOIN images i ON i.image_key = fi.image_key
             WHERE fi.faq_id = $1 ORDER BY fi.idx"
        ))
        .bind(id(faq_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(faq_image).collect()
    }

    async fn locate(&self, any_id: &str) -> Result<Option<Located>> {
        // Each kind of id has a table of its own; ids never collide across
        // them (their prefixes and lengths differ), so the first hit is it.
        let probes: [(&str, fn(String, String) -> Located); 3] = [
            (
                "SELECT h.tenant_key, k.ticket_id AS target FROM tickets k
                 JOIN helpdesks h ON h.helpdesk_id = k.helpdesk_id WHERE k.ticket_id = $1",
                |tenant_key, target| Located::Ticket {
                    tenant_key,
                    ticket_id: target,
                },
            ),
            (
                "SELECT h.tenant_key, m.ticket_id AS target FROM messages m
                 JOIN tickets k ON k.ticket_id = m.ticket_id
                 JOIN helpdesks h ON h.helpdesk_id = k.helpdesk_id WHERE m.message_id = $1",
                |tenant_key, target| Located::Ticket {
                    tenant_key,
                    ticket_id: target,
                },
            ),
            (
                "SELECT h.tenant_key, m.ticket_id AS target FROM message_images mi
                 JOIN messages m ON m.id = mi.message_pk
                 JOIN tickets k ON k.ticket_id = m.ticket_id
                 JOIN helpdesks h ON h.helpdesk_id = k.helpdesk_id WHERE mi.image_key = $1",
                |tenant_key, target| Located::Ticket {
                    tenant_key,
                    ticket_id: target,
                },
            ),
        ];
        for (sql, found) in probes {
            if let Some(row) = sqlx::query(sql)
                .bind(id(any_id))
                .fetch_optional(&self.pool)
                .await?
            {
                return Ok(Some(found(
                    row.try_get("tenant_key")?,
                    row.try_get("target")?,
                )));
            }
        }
        if let Some((tenant_key, faq)) = self.faq_anywhere(any_id).await? {
            return Ok(Some(Located::Faq {
                tenant_key,
                faq_id: faq.faq_id,
            }));
        }
        let event = sqlx::query(
            "SELECT a.tenant_key, e.event_id FROM events e JOIN apps a ON a.app_id = e.app_id
             WHERE e.event_id = $1",
        )
        .bind(id(any_id))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match event {
            Some(row) => Some(Located::Event {
                tenant_key: row.try_get("tenant_key")?,
                event_id: row.try_get("event_id")?,
            }),
            None => None,
        })
    }
}

fn ticket_image(r: &<Db as sqlx::Database>::Row) -> Result<TicketImage> {
    Ok(TicketImage {
        message_id: r.try_get("message_id")?,
        index: r.try_get::<i64, _>("idx")?.max(0) as u32,
        image_key: r.try_get("image_key")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get::<i64, _>("size")?.max(0) as u64,
        content_type: r.try_get("content_type")?,
        file_name: r.try_get("file_name")?,
        deleted: r.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
    })
}

fn faq_image(r: &<Db as sqlx::Database>::Row) -> Result<FaqImage> {
    Ok(FaqImage {
        index: r.try_get::<i64, _>("idx")?.max(0) as u32,
        image_key: r.try_get("image_key")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get::<i64, _>("size")?.max(0) as u64,
        content_type: r.try_get("content_type")?,
        file_name: r.try_get("file_name")?,
        deleted: r.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
    })
}
