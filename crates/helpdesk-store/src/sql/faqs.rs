//! FAQs, their categories and images, and search (`FaqRepo`).
//! Compiled once per backend: see `sql/mod.rs`; the search's match is the
//! backend's `fts_match!()` and `fts_query`.

use async_trait::async_trait;
use sqlx::Row;

use super::images::lock_live_images;
use super::{Db, Meta};
use crate::records::{CredentialsRow, ImageRow};
use crate::sql::{id, storable};
use crate::*;

/// A faq_image download's credentials and image, in one row.
#[derive(sqlx::FromRow)]
struct FaqImageRow {
    #[sqlx(flatten)]
    credentials: CredentialsRow,
    sha256: Option<String>,
    size: Option<i64>,
    content_type: Option<String>,
    file_name: Option<String>,
    deleted_at: Option<i64>,
}

/// Records that the FAQ holds `images`, under the shared locks of
/// `ImageRepo`'s rules (as `add_message` takes them).
async fn attach(
    tx: &mut sqlx::Transaction<'static, Db>,
    faq_id: &str,
    images: &[Image],
) -> Result<()> {
    lock_live_images(tx, images).await?;
    for (idx, image) in images.iter().enumerate() {
        sqlx::query(
            "INSERT INTO faq_images (faq_id, image_key, idx) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(faq_id)
        .bind(&image.image_key)
        .bind(idx as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Stops an FAQ holding `keys`; a key that no live message and no FAQ holds
/// any more is deleted (the image was the FAQ's). The blobs of the keys
/// deleted, for `cleanup`.
async fn release(
    tx: &mut sqlx::Transaction<'static, Db>,
    faq_id: &str,
    keys: &[String],
) -> Result<Vec<String>> {
    let now = now();
    let mut released = Vec::new();
    for key in keys {
        sqlx::query("DELETE FROM faq_images WHERE faq_id = $1 AND image_key = $2")
            .bind(faq_id)
            .bind(key)
            .execute(&mut **tx)
            .await?;
        let gone: Option<ImageRow> = sqlx::query_as(
            "UPDATE images SET deleted_at = $1 WHERE image_key = $2 AND deleted_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM message_images
                             WHERE image_key = $2 AND deleted_at IS NULL)
             AND NOT EXISTS (SELECT 1 FROM faq_images WHERE image_key = $2)
             RETURNING *",
        )
        .bind(now)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
        released.extend(gone.map(|g| g.sha256));
    }
    Ok(released)
}

async fn keys_of(tx: &mut sqlx::Transaction<'static, Db>, faq_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT image_key FROM faq_images WHERE faq_id = $1 ORDER BY idx")
        .bind(faq_id)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("image_key")?)).collect()
}

fn check_faq(f: &Faq) -> Result<()> {
    storable(&[
        &f.question,
        &f.answer,
        &f.answer_richtext,
        &f.category_ids,
        &f.tags,
        &f.create_user,
        &f.update_user,
    ])
}

/// The `WHERE` of an FAQ list, after `WHERE `.
fn push_filters<'a>(q: &mut sqlx::QueryBuilder<'a, Db>, helpdesk_id: &'a str, f: &'a FaqQuery) {
    q.push("f.helpdesk_id = ")
        .push_bind(id(helpdesk_id))
        .push(" AND f.status = ")
        .push_bind(f.status.unwrap_or(FAQ_ONLINE));
    if let Some(c) = &f.category_id {
        q.push(concat!(" AND ", strpos!(), "(f.category_ids, "))
            .push_bind(serde_json::Value::String(id(c).to_string()).to_string())
            .push(") > 0");
    }
    if !f.search.is_empty() {
        q.push(concat!(" AND ", fts_match!()))
            .push_bind(super::fts_query(&f.search))
            .push(")");
    }
}

#[async_trait]
impl FaqRepo for Meta {
    async fn create_category(&self, c: &Category) -> Result<()> {
        storable(&[&c.name, &c.parent_id, &c.language])?;
        sqlx::query(
            "INSERT INTO categories (category_id, helpdesk_id, name, parent_id, language,
                                     created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.category_id)
        .bind(&c.helpdesk_id)
        .bind(&c.name)
        .bind(&c.parent_id)
        .bind(&c.language)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn category(&self, helpdesk_id: &str, category_id: &str) -> Result<Option<Category>> {
        Ok(
            sqlx::query_as("SELECT * FROM categories WHERE category_id = $1 AND helpdesk_id = $2")
                .bind(id(category_id))
                .bind(id(helpdesk_id))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn categories(&self, helpdesk_id: &str) -> Result<Vec<Category>> {
        Ok(
            sqlx::query_as("SELECT * FROM categories WHERE helpdesk_id = $1 ORDER BY seq")
                .bind(id(helpdesk_id))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn update_category(&self, c: &Category) -> Result<bool> {
        storable(&[&c.name, &c.parent_id, &c.language])?;
        let done = sqlx::query(
            "UPDATE categories SET name = $3, parent_id = $4, language = $5, updated_at = $6
             WHERE category_id = $1 AND helpdesk_id = $2",
        )
        .bind(&c.category_id)
        .bind(&c.helpdesk_id)
        .bind(&c.name)
        .bind(&c.parent_id)
        .bind(&c.language)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_category(&self, helpdesk_id: &str, category_id: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let children = sqlx::query("SELECT 1 FROM categories WHERE parent_id = $1 LIMIT 1")
            .bind(id(category_id))
            .fetch_optional(&mut *tx)
            .await?;
        if children.is_some() {
            return Err(StoreError::Invalid(format!(
                "category {category_id} has sub-categories: delete them first"
            )));
        }
        let done =
            sqlx::query("DELETE FROM categories WHERE category_id = $1 AND helpdesk_id = $2")
                .bind(id(category_id))
                .bind(id(helpdesk_id))
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_faq(&self, f: &Faq, images: &[Image]) -> Result<()> {
        check_faq(f)?;
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO faqs (faq_id, helpdesk_id, question, answer, answer_richtext,
                               category_ids, tags, status, create_user, update_user,
                               create_time, update_time, search_grams)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
        .bind(&f.search_grams)
        .execute(&mut *tx)
        .await?;
        attach(&mut tx, &f.faq_id, images).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn faq(&self, helpdesk_id: &str, faq_id: &str) -> Result<Option<Faq>> {
        Ok(sqlx::query_as(
            "SELECT * FROM faqs WHERE faq_id = $1 AND helpdesk_id = $2 AND status <> $3",
        )
        .bind(id(faq_id))
        .bind(id(helpdesk_id))
        .bind(FAQ_GONE)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn faq_image_keys(&self, faq_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT image_key FROM faq_images WHERE faq_id = $1 ORDER BY idx")
            .bind(id(faq_id))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("image_key")?)).collect()
    }

    async fn faqs(&self, helpdesk_id: &str, query: &FaqQuery) -> Result<FaqPage> {
        let mut count = sqlx::QueryBuilder::<Db>::new("SELECT count(*) AS n FROM faqs f WHERE ");
        push_filters(&mut count, helpdesk_id, query);
        let total: i64 = count.build().fetch_one(&self.pool).await?.try_get("n")?;
        let mut page = sqlx::QueryBuilder::<Db>::new("SELECT f.* FROM faqs f WHERE ");
        push_filters(&mut page, helpdesk_id, query);
        page.push(" AND f.seq > ")
            .push_bind(query.after.unwrap_or(0))
            .push(" ORDER BY f.seq LIMIT ")
            .push_bind(i64::from(query.limit) + 1);
        let mut faqs: Vec<Faq> = page.build_query_as().fetch_all(&self.pool).await?;
        let more = faqs.len() > query.limit as usize;
        faqs.truncate(query.limit as usize);
        Ok(FaqPage {
            faqs,
            total: total as u64,
            more,
        })
    }

    async fn update_faq(&self, f: &Faq, images: Option<&[Image]>) -> Result<bool> {
        check_faq(f)?;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE faqs SET question = $3, answer = $4, answer_richtext = $5, category_ids = $6,
                             tags = $7, status = $8, update_user = $9, update_time = $10,
                             search_grams = $11
             WHERE faq_id = $1 AND helpdesk_id = $2 AND status <> $12",
        )
        .bind(&f.faq_id)
        .bind(&f.helpdesk_id)
        .bind(&f.question)
        .bind(&f.answer)
        .bind(&f.answer_richtext)
        .bind(&f.category_ids)
        .bind(&f.tags)
        .bind(f.status)
        .bind(&f.update_user)
        .bind(f.update_time)
        .bind(&f.search_grams)
        .bind(FAQ_GONE)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(images) = images {
            // A key the answer no longer names stays its uploader's (an
            // edit can be undone); only a final delete releases images.
            sqlx::query("DELETE FROM faq_images WHERE faq_id = $1")
                .bind(&f.faq_id)
                .execute(&mut *tx)
                .await?;
            attach(&mut tx, &f.faq_id, images).await?;
            // A download cached from the images it held is no longer true.
            sqlx::query(crate::sql::BUMP).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_faq(
        &self,
        helpdesk_id: &str,
        faq_id: &str,
    ) -> Result<Option<(i64, Vec<String>)>> {
        let mut tx = self.write().await?;
        let status: Option<i64> = sqlx::query(concat!(
            "SELECT status FROM faqs WHERE faq_id = $1 AND helpdesk_id = $2 AND status <> $3 ",
            for_update!()
        ))
        .bind(id(faq_id))
        .bind(id(helpdesk_id))
        .bind(FAQ_GONE)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("status"))
        .transpose()?;
        let Some(status) = status else {
            return Ok(None);
        };
        let next = if status == FAQ_ONLINE {
            FAQ_DELETED
        } else {
            FAQ_GONE
        };
        sqlx::query("UPDATE faqs SET status = $1, update_time = $2 WHERE faq_id = $3")
            .bind(next)
            .bind(now_ms())
            .bind(faq_id)
            .execute(&mut *tx)
            .await?;
        let mut released = Vec::new();
        if next == FAQ_GONE {
            let held = keys_of(&mut tx, faq_id).await?;
            released = release(&mut tx, faq_id, &held).await?;
            sqlx::query(crate::sql::BUMP).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some((next, released)))
    }

    async fn faq_image_with_credentials(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        faq_id: &str,
        image_key: &str,
    ) -> Result<Option<(App, Option<Helpdesk>, Option<StoredImage>)>> {
        let row: Option<FaqImageRow> = sqlx::query_as(concat!(
            "SELECT ",
            credential_columns!(),
            ", i.sha256, i.size, i.content_type, i.file_name, ",
            quarantined_or_deleted!("i"),
            "
             FROM apps a
             LEFT JOIN helpdesks h ON h.helpdesk_id = $2
             LEFT JOIN faqs f ON f.faq_id = $3 AND f.helpdesk_id = $2 AND f.status <> $5
             LEFT JOIN faq_images fi ON fi.faq_id = f.faq_id AND fi.image_key = $4
             LEFT JOIN images i ON i.image_key = fi.image_key
             WHERE a.app_id = $1"
        ))
        .bind(id(app_id))
        .bind(id(helpdesk_id))
        .bind(id(faq_id))
        .bind(id(image_key))
        .bind(FAQ_GONE)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (app, helpdesk) = row.credentials.split()?;
        let image = match (row.sha256, row.size, row.content_type, row.file_name) {
            (Some(sha256), Some(size), Some(content_type), Some(file_name)) => Some(StoredImage {
                sha256,
                size: size as u64,
                content_type,
                file_name,
                deleted: row.deleted_at.is_some(),
            }),
            _ => None,
        };
        Ok(Some((app, helpdesk, image)))
    }
}
