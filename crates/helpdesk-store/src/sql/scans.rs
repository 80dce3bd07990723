//! Malware verdicts and the quarantine (`ScanRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::{Db, Meta};
use crate::sql::BUMP;
use crate::*;

/// The images a quarantine of `$1` hides: upload keys and message images.
const IMAGES_WITH: &str = "SELECT tenant_key, image_key AS image FROM images
                             WHERE sha256 = $1 AND deleted_at IS NULL
                           UNION ALL
                           SELECT t.tenant_key, m.message_id || '#' || mi.idx AS image
                             FROM message_images mi
                             JOIN messages m ON m.id = mi.message_pk
                             JOIN tickets tk ON tk.ticket_id = m.ticket_id
                             JOIN helpdesks t ON t.helpdesk_id = tk.helpdesk_id
                             WHERE mi.sha256 = $1 AND mi.deleted_at IS NULL";

async fn images_with<'e, E>(executor: E, sha256: &str) -> Result<Vec<QuarantinedImage>>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let rows = sqlx::query(IMAGES_WITH)
        .bind(sha256)
        .fetch_all(executor)
        .await?;
    let mut images = rows
        .iter()
        .map(|r| {
            Ok(QuarantinedImage {
                tenant_key: r.try_get("tenant_key")?,
                image: r.try_get("image")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    images.sort_by(|a, b| (&a.tenant_key, &a.image).cmp(&(&b.tenant_key, &b.image)));
    Ok(images)
}

fn quarantined_row(row: &<Db as sqlx::Database>::Row) -> Result<Quarantined> {
    Ok(Quarantined {
        sha256: row.try_get("sha256")?,
        signature: row.try_get("signature")?,
        engine: row.try_get("engine")?,
        quarantined_at: row.try_get("quarantined_at")?,
        images: Vec::new(),
    })
}

impl Meta {
    /// Ends the quarantine of `sha256` in `tx`, returning it with the
    /// images it hid (read before `purge` deletes them).
    async fn end_quarantine(
        &self,
        tx: &mut sqlx::Transaction<'static, Db>,
        sha256: &str,
    ) -> Result<Quarantined> {
        let row = sqlx::query("DELETE FROM quarantine WHERE sha256 = $1 RETURNING *")
            .bind(sha256)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Quarantine, sha256))?;
        let mut q = quarantined_row(&row)?;
        q.images = images_with(&mut **tx, sha256).await?;
        Ok(q)
    }
}

#[async_trait]
impl ScanRepo for Meta {
    async fn verdict(&self, sha256: &str) -> Result<Option<StoredVerdict>> {
        let row = sqlx::query("SELECT * FROM scan_verdicts WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(StoredVerdict {
                engine: r.try_get("engine")?,
                infected_with: r.try_get("infected_with")?,
                scanned_at: r.try_get("scanned_at")?,
            })
        })
        .transpose()
    }

    async fn record_verdict(
        &self,
        sha256: &str,
        engine: &str,
        infected_with: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO scan_verdicts (sha256, engine, infected_with, scanned_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (sha256) DO UPDATE
             SET engine = excluded.engine, infected_with = excluded.infected_with,
                 scanned_at = excluded.scanned_at",
        )
        .bind(sha256)
        .bind(engine)
        .bind(infected_with)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn blobs_to_scan(
        &self,
        since: Option<i64>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<StoredBlob>> {
        let rows = sqlx::query(
            "SELECT sha256, size, created_at FROM blobs
             WHERE sha256 > $1 AND created_at >= $2
             ORDER BY sha256 LIMIT $3",
        )
        .bind(after)
        .bind(since.unwrap_or(i64::MIN))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let size: i64 = r.try_get("size")?;
                Ok(StoredBlob {
                    sha256: r.try_get("sha256")?,
                    size: size.max(0) as u64,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn quarantine(&self, sha256: &str, signature: &str, engine: &str) -> Result<Quarantined> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO quarantine (sha256, signature, engine, quarantined_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha256)
        .bind(signature)
        .bind(engine)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        let row = sqlx::query("SELECT * FROM quarantine WHERE sha256 = $1")
            .bind(sha256)
            .fetch_one(&mut *tx)
            .await?;
        let mut q = quarantined_row(&row)?;
        q.images = images_with(&mut *tx, sha256).await?;
        tx.commit().await?;
        Ok(q)
    }

    async fn quarantined(&self) -> Result<Vec<Quarantined>> {
        let rows = sqlx::query("SELECT * FROM quarantine ORDER BY quarantined_at, sha256")
            .fetch_all(&self.pool)
            .await?;
        let mut all = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut q = quarantined_row(row)?;
            q.images = images_with(&self.pool, &q.sha256).await?;
            all.push(q);
        }
        Ok(all)
    }

    async fn release(&self, sha256: &str) -> Result<Quarantined> {
        let mut tx = self.write().await?;
        let q = self.end_quarantine(&mut tx, sha256).await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(q)
    }

    async fn purge(&self, sha256: &str) -> Result<Quarantined> {
        let mut tx = self.write().await?;
        let q = self.end_quarantine(&mut tx, sha256).await?;
        let now = now();
        sqlx::query("UPDATE images SET deleted_at = $1 WHERE sha256 = $2 AND deleted_at IS NULL")
            .bind(now)
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE message_images SET deleted_at = $1 WHERE sha256 = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(sha256)
        .execute(&mut *tx)
        .await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(q)
    }
}
