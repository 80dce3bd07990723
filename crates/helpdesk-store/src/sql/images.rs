//! Uploaded images, message images and the blob rows they share
//! (`ImageRepo`, whose rules on blob rows the locks here keep).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use helpdesk_core::ids::{self, MessageRef};
use sqlx::Row;

use super::{Db, Meta};
use crate::records::{ImageRow, MessageImageRow, MessageRow};
use crate::sql::{id, storable, BUMP};
use crate::*;

/// True when a live image or message image refers to blob `$1`, or it is
/// quarantined (kept until released or purged).
const BLOB_IN_USE: &str = "SELECT (EXISTS (SELECT 1 FROM message_images
                                           WHERE sha256 = $1 AND deleted_at IS NULL)
                                OR EXISTS (SELECT 1 FROM images
                                           WHERE sha256 = $1 AND deleted_at IS NULL)
                                OR EXISTS (SELECT 1 FROM quarantine WHERE sha256 = $1)) AS used";

/// The shared locks of `ImageRepo`'s rules for a write that adds live
/// references to `images` (a message, an FAQ): each image row still live
/// and its blob row there, both held until the caller commits;
/// `StoreError::Invalid` if one was deleted since the caller looked it up.
pub(super) async fn lock_live_images(
    tx: &mut sqlx::Transaction<'static, Db>,
    images: &[Image],
) -> Result<()> {
    for image in images {
        let live = sqlx::query(concat!(
            "SELECT 1 FROM images WHERE image_key = $1 AND deleted_at IS NULL ",
            for_share!()
        ))
        .bind(&image.image_key)
        .fetch_optional(&mut **tx)
        .await?;
        let blob = sqlx::query(concat!(
            "SELECT 1 FROM blobs WHERE sha256 = $1 ",
            for_share!()
        ))
        .bind(&image.sha256)
        .fetch_optional(&mut **tx)
        .await?;
        if live.is_none() || blob.is_none() {
            return Err(StoreError::Invalid(format!(
                "image {} was deleted",
                image.image_key
            )));
        }
    }
    Ok(())
}

/// Marks a message's live images (or the one at `index`) deleted in `tx`,
/// and each upload key they were posted with once no live message or FAQ
/// uses it; what it deleted (nothing when they were already). The caller
/// moves the change counter.
pub(super) async fn delete_live_images(
    tx: &mut sqlx::Transaction<'static, Db>,
    message: &MessageRow,
    index: Option<i64>,
    now: i64,
) -> Result<Vec<DeletedImage>> {
    let rows: Vec<MessageImageRow> = sqlx::query_as(
        "SELECT * FROM message_images
         WHERE message_pk = $1 AND deleted_at IS NULL AND ($2 IS NULL OR idx = $2)
         ORDER BY idx",
    )
    .bind(&message.id)
    .bind(index)
    .fetch_all(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query(
        "UPDATE message_images SET deleted_at = $1
         WHERE message_pk = $2 AND deleted_at IS NULL AND ($3 IS NULL OR idx = $3)",
    )
    .bind(now)
    .bind(&message.id)
    .bind(index)
    .execute(&mut **tx)
    .await?;
    for row in &rows {
        // The key that was posted names nothing once no live message
        // and no FAQ uses it.
        sqlx::query(
            "UPDATE images SET deleted_at = $1 WHERE image_key = $2 AND deleted_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM message_images
                             WHERE image_key = $2 AND deleted_at IS NULL)
             AND NOT EXISTS (SELECT 1 FROM faq_images WHERE image_key = $2)",
        )
        .bind(now)
        .bind(&row.image_key)
        .execute(&mut **tx)
        .await?;
    }
    Ok(rows
        .into_iter()
        .map(|row| DeletedImage {
            id: message.id.clone(),
            message_id: message.message_id.clone(),
            index: row.idx as u32,
            sha256: row.sha256,
            blob_removed: false,
        })
        .collect())
}

/// The write lock on an unreferenced blob row (see `BlobClaim`).
struct Claim {
    tx: sqlx::Transaction<'static, Db>,
    sha256: String,
}

#[async_trait]
impl BlobClaim for Claim {
    async fn forget(mut self: Box<Self>) -> Result<()> {
        sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
            .bind(&self.sha256)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl ImageRepo for Meta {
    async fn add_image(
        &self,
        tenant_key: &str,
        app_id: &str,
        blob: &Blob,
        file_name: &str,
    ) -> Result<Image> {
        storable(&[file_name])?;
        let image = Image {
            image_key: ids::image_key(),
            tenant_key: tenant_key.to_string(),
            sha256: blob.sha256.clone(),
            size: blob.size,
            content_type: blob.image_type.mime().to_string(),
            file_name: file_name.to_string(),
        };
        let now = now();
        let mut tx = self.write().await?;
        // The shared lock of the trait's rules: a claim on these bytes waits
        // for our commit, or we wait for it to forget the row, and then make
        // the row again.
        loop {
            sqlx::query(
                "INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&image.sha256)
            .bind(image.size as i64)
            .bind(&image.content_type)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let locked = sqlx::query(concat!(
                "SELECT 1 FROM blobs WHERE sha256 = $1 ",
                for_share!()
            ))
            .bind(&image.sha256)
            .fetch_optional(&mut *tx)
            .await?;
            if locked.is_some() {
                break;
            }
        }
        super::limits::check_quota(&mut tx, tenant_key, image.size).await?;
        sqlx::query(
            "INSERT INTO images (image_key, tenant_key, sha256, size, content_type, file_name,
                                 created_at, app_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&image.image_key)
        .bind(&image.tenant_key)
        .bind(&image.sha256)
        .bind(image.size as i64)
        .bind(&image.content_type)
        .bind(&image.file_name)
        .bind(now)
        .bind(app_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(image)
    }

    async fn upload(&self, image_key: &str) -> Result<Option<Upload>> {
        let row: Option<ImageRow> = sqlx::query_as(concat!(
            "SELECT i.image_key, i.tenant_key, i.sha256, i.size, i.content_type, i.file_name, ",
            quarantined_or_deleted!("i"),
            ", i.created_at, i.app_id FROM images i WHERE i.image_key = $1"
        ))
        .bind(id(image_key))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Upload {
            app_id: r.app_id.clone(),
            deleted: r.deleted_at.is_some(),
            image: Image::from(r),
        }))
    }

    async fn delete_upload(&self, image_key: &str) -> Result<String> {
        let mut tx = self.write().await?;
        let row: Option<ImageRow> = sqlx::query_as(
            "UPDATE images SET deleted_at = $1 WHERE image_key = $2 AND deleted_at IS NULL
             RETURNING *",
        )
        .bind(now())
        .bind(id(image_key))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::not_found(Entity::Image, image_key));
        };
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(row.sha256)
    }

    async fn images(&self, tenant_key: &str, keys: &[String]) -> Result<Vec<Image>> {
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let row: Option<ImageRow> = sqlx::query_as(
                "SELECT * FROM images
                 WHERE image_key = $1 AND tenant_key = $2 AND deleted_at IS NULL",
            )
            .bind(id(key))
            .bind(tenant_key)
            .fetch_optional(&self.pool)
            .await?;
            found.extend(row.map(Image::from));
        }
        Ok(found)
    }

    async fn delete_message_images(
        &self,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: Option<u32>,
    ) -> Result<Vec<DeletedImage>> {
        let (sql, value) = match msg {
            MessageRef::Id(v) => (
                concat!(
                    "SELECT * FROM messages WHERE id = $1 AND ticket_id = $2 ",
                    for_update!()
                ),
                v,
            ),
            MessageRef::MessageId(v) => (
                concat!(
                    "SELECT * FROM messages WHERE message_id = $1 AND ticket_id = $2 ",
                    for_update!()
                ),
                v,
            ),
        };
        let now = now();
        let mut tx = self.write().await?;
        let message: MessageRow = sqlx::query_as(sql)
            .bind(value)
            .bind(ticket_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Message, value))?;
        if message.image_count == 0 {
            return Err(StoreError::Invalid(format!(
                "message {value:?} holds no image"
            )));
        }
        if let Some(i) = index {
            if i64::from(i) >= message.image_count {
                return Err(StoreError::Invalid(format!(
                    "message {value:?} has {} image(s); --index {i} is out of range",
                    message.image_count
                )));
            }
        }
        let deleted = delete_live_images(&mut tx, &message, index.map(i64::from), now).await?;
        if deleted.is_empty() {
            return Err(StoreError::Invalid("already deleted".to_string()));
        }
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn claim_unreferenced_blob(&self, sha256: &str) -> Result<Option<Box<dyn BlobClaim>>> {
        let mut tx = self.write().await?;
        let row = sqlx::query(concat!(
            "SELECT 1 FROM blobs WHERE sha256 = $1 ",
            for_update!()
        ))
        .bind(sha256)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_none() {
            return Ok(None);
        }
        // Read after the lock is held, so every reference committed before
        // it is seen.
        let used: bool = sqlx::query(BLOB_IN_USE)
            .bind(sha256)
            .fetch_one(&mut *tx)
            .await?
            .try_get("used")?;
        if used {
            return Ok(None);
        }
        Ok(Some(Box::new(Claim {
            tx,
            sha256: sha256.to_string(),
        })))
    }

    async fn unreferenced_blobs(&self, limit: u32) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT sha256 FROM blobs b
             WHERE NOT EXISTS (SELECT 1 FROM message_images
                               WHERE sha256 = b.sha256 AND deleted_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM images WHERE sha256 = b.sha256 AND deleted_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM quarantine WHERE sha256 = b.sha256)
             LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("sha256")?)).collect()
    }
}
