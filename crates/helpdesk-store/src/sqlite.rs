//! The embedded metadata backend: one SQLite file, WAL, synchronous=FULL so
//! that a committed row survives a crash.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::content::MessageType;
use helpdesk_core::ids::{self, MessageRef};
use rand::RngCore;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

use crate::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const SIGNING_KEY: &str = "token-signing";

pub struct SqliteMeta {
    pool: SqlitePool,
}

impl SqliteMeta {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub async fn open_file(path: &Path) -> Result<SqliteMeta> {
        Self::open_options(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens a `sqlite://` URL and migrates it.
    pub async fn open_url(url: &str) -> Result<SqliteMeta> {
        Self::open_options(SqliteConnectOptions::from_str(url)?).await
    }

    async fn open_options(options: SqliteConnectOptions) -> Result<SqliteMeta> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteMeta { pool })
    }

    /// A write transaction that takes the write lock at once, so that two
    /// writers queue on busy_timeout instead of failing on an upgrade.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

fn app_from(row: &SqliteRow) -> Result<App> {
    let kind: String = row.try_get("kind")?;
    let scopes: String = row.try_get("scopes")?;
    Ok(App {
        app_id: row.try_get("app_id")?,
        tenant_key: row.try_get("tenant_key")?,
        name: row.try_get("name")?,
        kind: AppKind::parse(&kind)
            .ok_or_else(|| StoreError::Invalid(format!("unknown app kind {kind:?}")))?,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        secret_sha256: row.try_get("secret_sha256")?,
        tokens_not_before: row.try_get("tokens_not_before")?,
    })
}

fn ticket_from(row: &SqliteRow) -> Result<Ticket> {
    Ok(Ticket {
        ticket_id: row.try_get("ticket_id")?,
        helpdesk_id: row.try_get("helpdesk_id")?,
        chat_id: row.try_get("chat_id")?,
        guest_open_id: row.try_get("guest_open_id")?,
        human_service: row.try_get("human_service")?,
        customized_info: row.try_get("customized_info")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn message_from(row: &SqliteRow) -> Result<Message> {
    Ok(Message {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        ticket_id: row.try_get("ticket_id")?,
        message_type: row.try_get("message_type")?,
        content: row.try_get("content")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("user_name")?,
        avatar_url: row.try_get("avatar_url")?,
        created_at: row.try_get("created_at")?,
    })
}

fn image_from(row: &SqliteRow) -> Result<Image> {
    Ok(Image {
        image_key: row.try_get("image_key")?,
        tenant_key: row.try_get("tenant_key")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get::<i64, _>("size")? as u64,
        content_type: row.try_get("content_type")?,
        file_name: row.try_get("file_name")?,
    })
}

/// The helpdesk of a row that LEFT JOINed it as `h_*` columns.
fn joined_helpdesk(row: &SqliteRow) -> Result<Option<Helpdesk>> {
    let Some(helpdesk_id) = row.try_get::<Option<String>, _>("h_id")? else {
        return Ok(None);
    };
    Ok(Some(Helpdesk {
        helpdesk_id,
        tenant_key: row.try_get("h_tenant_key")?,
        name: row.try_get("h_name")?,
        token_sha256: row.try_get("h_token_sha256")?,
    }))
}

/// The message and image of a row that LEFT JOINed them; `None` when no
/// message matched.
fn joined_image(row: &SqliteRow) -> Result<Option<ImageLookup>> {
    let Some(message_type) = row.try_get::<Option<String>, _>("message_type")? else {
        return Ok(None);
    };
    let message_type = MessageType::parse(&message_type)
        .ok_or_else(|| StoreError::Invalid(format!("unknown message type {message_type:?}")))?;
    let image = match row.try_get::<Option<String>, _>("sha256")? {
        None => None,
        Some(sha256) => Some(StoredImage {
            sha256,
            size: row.try_get::<i64, _>("size")? as u64,
            content_type: row.try_get("content_type")?,
            file_name: row.try_get("file_name")?,
            deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        }),
    };
    Ok(Some(ImageLookup {
        message_type,
        image_count: row.try_get::<i64, _>("image_count")? as u32,
        image,
    }))
}

fn message_column(msg: MessageRef<'_>) -> (&'static str, &str) {
    match msg {
        MessageRef::Id(id) => ("id", id),
        MessageRef::MessageId(id) => ("message_id", id),
    }
}

#[async_trait]
impl MetadataStore for SqliteMeta {
    async fn signing_key(&self) -> Result<Vec<u8>> {
        let mut key = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        sqlx::query("INSERT OR IGNORE INTO server_keys (name, value, created_at) VALUES (?, ?, ?)")
            .bind(SIGNING_KEY)
            .bind(&key)
            .bind(now())
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM server_keys WHERE name = ?")
            .bind(SIGNING_KEY)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }

    async fn rotate_signing_key(&self) -> Result<()> {
        let mut key = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        sqlx::query(
            "INSERT OR REPLACE INTO server_keys (name, value, created_at) VALUES (?, ?, ?)",
        )
        .bind(SIGNING_KEY)
        .bind(&key)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant> {
        let tenant = Tenant {
            tenant_key: ids::tenant_key(),
            name: name.to_string(),
        };
        sqlx::query("INSERT INTO tenants (tenant_key, name, created_at) VALUES (?, ?, ?)")
            .bind(&tenant.tenant_key)
            .bind(&tenant.name)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(tenant)
    }

    async fn create_app(&self, new: NewApp<'_>) -> Result<App> {
        let mut tx = self.write().await?;
        let tenant = sqlx::query("SELECT 1 FROM tenants WHERE tenant_key = ?")
            .bind(new.tenant_key)
            .fetch_optional(&mut *tx)
            .await?;
        if tenant.is_none() {
            return Err(StoreError::NotFound(format!("tenant {:?}", new.tenant_key)));
        }
        let app = App {
            app_id: ids::app_id(),
            tenant_key: new.tenant_key.to_string(),
            name: new.name.to_string(),
            kind: new.kind,
            scopes: new.scopes.to_vec(),
            secret_sha256: new.secret_sha256.to_string(),
            tokens_not_before: 0,
        };
        sqlx::query(
            "INSERT INTO apps (app_id, tenant_key, name, kind, scopes, secret_sha256, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&app.app_id)
        .bind(&app.tenant_key)
        .bind(&app.name)
        .bind(app.kind.as_str())
        .bind(app.scopes.join(" "))
        .bind(&app.secret_sha256)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(app)
    }

    async fn app(&self, app_id: &str) -> Result<Option<App>> {
        let row = sqlx::query(
            "SELECT app_id, tenant_key, name, kind, scopes, secret_sha256, tokens_not_before FROM apps WHERE app_id = ?",
        )
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(app_from).transpose()
    }

    async fn app_and_helpdesk(
        &self,
        app_id: &str,
        helpdesk_id: &str,
    ) -> Result<Option<(App, Option<Helpdesk>)>> {
        let row = sqlx::query(
            "SELECT a.app_id, a.tenant_key, a.name, a.kind, a.scopes, a.secret_sha256, a.tokens_not_before,
                    h.helpdesk_id AS h_id, h.tenant_key AS h_tenant_key, h.name AS h_name, h.token_sha256 AS h_token_sha256
             FROM apps a LEFT JOIN helpdesks h ON h.helpdesk_id = ?2
             WHERE a.app_id = ?1",
        )
        .bind(app_id)
        .bind(helpdesk_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let helpdesk = joined_helpdesk(&row)?;
        Ok(Some((app_from(&row)?, helpdesk)))
    }

    async fn revoke_tokens(&self, app_id: &str) -> Result<()> {
        // Tokens carry whole seconds: one issued earlier in this very second
        // must go too, so new ones start from the next.
        let done = sqlx::query("UPDATE apps SET tokens_not_before = ? WHERE app_id = ?")
            .bind(now() + 1)
            .bind(app_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("app {app_id:?}")));
        }
        Ok(())
    }

    async fn create_helpdesk(
        &self,
        tenant_key: &str,
        name: &str,
        token_sha256: &str,
    ) -> Result<Helpdesk> {
        let mut tx = self.write().await?;
        let tenant = sqlx::query("SELECT 1 FROM tenants WHERE tenant_key = ?")
            .bind(tenant_key)
            .fetch_optional(&mut *tx)
            .await?;
        if tenant.is_none() {
            return Err(StoreError::NotFound(format!("tenant {tenant_key:?}")));
        }
        let helpdesk = Helpdesk {
            helpdesk_id: ids::helpdesk_id(),
            tenant_key: tenant_key.to_string(),
            name: name.to_string(),
            token_sha256: token_sha256.to_string(),
        };
        sqlx::query("INSERT INTO helpdesks (helpdesk_id, tenant_key, name, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&helpdesk.helpdesk_id)
            .bind(&helpdesk.tenant_key)
            .bind(&helpdesk.name)
            .bind(&helpdesk.token_sha256)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(helpdesk)
    }

    async fn add_image(&self, tenant_key: &str, blob: &Blob, file_name: &str) -> Result<Image> {
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
        sqlx::query("INSERT OR IGNORE INTO blobs (sha256, size, content_type, created_at) VALUES (?, ?, ?, ?)")
            .bind(&image.sha256)
            .bind(image.size as i64)
            .bind(&image.content_type)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO images (image_key, tenant_key, sha256, size, content_type, file_name, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&image.image_key)
        .bind(&image.tenant_key)
        .bind(&image.sha256)
        .bind(image.size as i64)
        .bind(&image.content_type)
        .bind(&image.file_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(image)
    }

    async fn images(&self, tenant_key: &str, keys: &[String]) -> Result<Vec<Image>> {
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let row = sqlx::query(
                "SELECT image_key, tenant_key, sha256, size, content_type, file_name FROM images
                 WHERE image_key = ? AND tenant_key = ? AND deleted_at IS NULL",
            )
            .bind(key)
            .bind(tenant_key)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                found.push(image_from(&row)?);
            }
        }
        Ok(found)
    }

    async fn create_ticket(&self, new: NewTicket<'_>) -> Result<Ticket> {
        let now = now();
        let ticket = Ticket {
            ticket_id: ids::ticket_id(),
            helpdesk_id: new.helpdesk_id.to_string(),
            chat_id: ids::chat_id(),
            guest_open_id: new.guest_open_id.to_string(),
            human_service: new.human_service,
            customized_info: new.customized_info.map(str::to_string),
            status: 1,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "INSERT INTO tickets (ticket_id, helpdesk_id, chat_id, guest_open_id, human_service, customized_info,
                                  status, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&ticket.ticket_id)
        .bind(&ticket.helpdesk_id)
        .bind(&ticket.chat_id)
        .bind(&ticket.guest_open_id)
        .bind(ticket.human_service)
        .bind(&ticket.customized_info)
        .bind(ticket.status)
        .bind(ticket.created_at)
        .bind(ticket.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(ticket)
    }

    async fn ticket(&self, helpdesk_id: &str, ticket_id: &str) -> Result<Option<Ticket>> {
        let row = sqlx::query("SELECT * FROM tickets WHERE ticket_id = ? AND helpdesk_id = ?")
            .bind(ticket_id)
            .bind(helpdesk_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ticket_from).transpose()
    }

    async fn add_message(&self, new: NewMessage<'_>) -> Result<Message> {
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
        // An image deleted since the caller looked it up must not be attached:
        // its bytes may be gone.
        for image in new.images {
            let live =
                sqlx::query("SELECT 1 FROM images WHERE image_key = ? AND deleted_at IS NULL")
                    .bind(&image.image_key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if live.is_none() {
                return Err(StoreError::Invalid(format!(
                    "image {} was deleted",
                    image.image_key
                )));
            }
        }
        sqlx::query(
            "INSERT INTO messages (id, message_id, ticket_id, message_type, content, image_count,
                                   user_id, user_name, avatar_url, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                "INSERT INTO message_images (message_pk, idx, image_key, sha256, size, content_type, file_name)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        sqlx::query("UPDATE tickets SET updated_at = ? WHERE ticket_id = ?")
            .bind(message.created_at)
            .bind(&message.ticket_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(message)
    }

    async fn messages(
        &self,
        ticket_id: &str,
        filter: &MessageFilter,
    ) -> Result<(Vec<Message>, u64)> {
        const WHERE: &str = "WHERE ticket_id = ?1 AND (?2 IS NULL OR created_at >= ?2) AND (?3 IS NULL OR created_at <= ?3)";
        let total: i64 = sqlx::query(&format!("SELECT count(*) AS n FROM messages {WHERE}"))
            .bind(ticket_id)
            .bind(filter.time_start)
            .bind(filter.time_end)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let rows = sqlx::query(&format!(
            "SELECT * FROM messages {WHERE} ORDER BY created_at, seq LIMIT ?4 OFFSET ?5"
        ))
        .bind(ticket_id)
        .bind(filter.time_start)
        .bind(filter.time_end)
        .bind(filter.limit as i64)
        .bind(filter.offset.min(i64::MAX as u64) as i64)
        .fetch_all(&self.pool)
        .await?;
        let messages = rows.iter().map(message_from).collect::<Result<Vec<_>>>()?;
        Ok((messages, total as u64))
    }

    async fn image_with_credentials(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: u32,
    ) -> Result<Option<(App, Option<Helpdesk>, Option<ImageLookup>)>> {
        // The hot path: one statement per id kind, fixed, so the prepared
        // statement cache always hits and nothing is formatted per request.
        // Every join is on a primary or unique key.
        macro_rules! by {
            ($column:literal) => {
                concat!(
                    "SELECT a.app_id, a.tenant_key, a.name, a.kind, a.scopes, a.secret_sha256, a.tokens_not_before,
                            h.helpdesk_id AS h_id, h.tenant_key AS h_tenant_key, h.name AS h_name,
                            h.token_sha256 AS h_token_sha256,
                            m.message_type, m.image_count,
                            mi.sha256, mi.size, mi.content_type, mi.file_name, mi.deleted_at
                     FROM apps a
                     LEFT JOIN helpdesks h ON h.helpdesk_id = ?2
                     LEFT JOIN tickets t ON t.ticket_id = ?3 AND t.helpdesk_id = ?2
                     LEFT JOIN messages m ON m.ticket_id = t.ticket_id AND m.",
                    $column,
                    " = ?4
                     LEFT JOIN message_images mi ON mi.message_pk = m.id AND mi.idx = ?5
                     WHERE a.app_id = ?1"
                )
            };
        }
        let (sql, value) = match msg {
            MessageRef::Id(v) => (by!("id"), v),
            MessageRef::MessageId(v) => (by!("message_id"), v),
        };
        let row = sqlx::query(sql)
            .bind(app_id)
            .bind(helpdesk_id)
            .bind(ticket_id)
            .bind(value)
            .bind(index as i64)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((
            app_from(&row)?,
            joined_helpdesk(&row)?,
            joined_image(&row)?,
        )))
    }

    async fn delete_message_images(
        &self,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: Option<u32>,
        blobs: &dyn BlobStore,
    ) -> Result<Vec<DeletedImage>> {
        let (column, value) = message_column(msg);
        let now = now();
        let mut tx = self.write().await?;
        let message = sqlx::query(&format!(
            "SELECT id, message_id, image_count FROM messages WHERE {column} = ? AND ticket_id = ?"
        ))
        .bind(value)
        .bind(ticket_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::NotFound(format!("message {value:?} in ticket {ticket_id:?}"))
        })?;
        let id: String = message.try_get("id")?;
        let message_id: String = message.try_get("message_id")?;
        let image_count: i64 = message.try_get("image_count")?;
        if image_count == 0 {
            return Err(StoreError::Invalid(format!(
                "message {value:?} holds no image"
            )));
        }
        if let Some(i) = index {
            if i64::from(i) >= image_count {
                return Err(StoreError::Invalid(format!(
                    "message {value:?} has {image_count} image(s); --index {i} is out of range"
                )));
            }
        }
        let rows = sqlx::query(
            "SELECT idx, image_key, sha256 FROM message_images
             WHERE message_pk = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR idx = ?2) ORDER BY idx",
        )
        .bind(&id)
        .bind(index.map(i64::from))
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::Invalid("already deleted".to_string()));
        }
        sqlx::query(
            "UPDATE message_images SET deleted_at = ?1
             WHERE message_pk = ?2 AND deleted_at IS NULL AND (?3 IS NULL OR idx = ?3)",
        )
        .bind(now)
        .bind(&id)
        .bind(index.map(i64::from))
        .execute(&mut *tx)
        .await?;

        let mut deleted = Vec::with_capacity(rows.len());
        let mut removed: Vec<String> = Vec::new();
        for row in rows {
            let image_key: String = row.try_get("image_key")?;
            let sha256: String = row.try_get("sha256")?;
            // The key that was posted names nothing once no live message uses it.
            sqlx::query(
                "UPDATE images SET deleted_at = ?1 WHERE image_key = ?2 AND deleted_at IS NULL
                 AND NOT EXISTS (SELECT 1 FROM message_images WHERE image_key = ?2 AND deleted_at IS NULL)",
            )
            .bind(now)
            .bind(&image_key)
            .execute(&mut *tx)
            .await?;
            // The bytes go once no live message image and no live upload key,
            // of any tenant, uses them: another tenant's identical upload is
            // never broken by this one's deletion.
            let still_used: bool = sqlx::query(
                "SELECT EXISTS (SELECT 1 FROM message_images WHERE sha256 = ?1 AND deleted_at IS NULL)
                     OR EXISTS (SELECT 1 FROM images WHERE sha256 = ?1 AND deleted_at IS NULL) AS used",
            )
            .bind(&sha256)
            .fetch_one(&mut *tx)
            .await?
            .try_get("used")?;
            if !still_used && !removed.contains(&sha256) {
                // The object goes before the commit, while we hold the write
                // lock (see ingest).
                sqlx::query("DELETE FROM blobs WHERE sha256 = ?")
                    .bind(&sha256)
                    .execute(&mut *tx)
                    .await?;
                blobs.delete(&sha256).await?;
                removed.push(sha256.clone());
            }
            deleted.push(DeletedImage {
                id: id.clone(),
                message_id: message_id.clone(),
                index: row.try_get::<i64, _>("idx")? as u32,
                blob_removed: removed.contains(&sha256),
                sha256,
            });
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
