//! The statements both SQL backends run, and the one implementation of
//! `MetadataStore` over them. SQLite and PostgreSQL read the same SQL here
//! (`$N` parameters, `ON CONFLICT`, `EXISTS`); what differs stays in each
//! backend's module: connecting, migrations, how a write transaction begins,
//! and the row locks (PostgreSQL's `FOR SHARE` / `FOR UPDATE`; SQLite has one
//! writer at a time, so none), passed in as `for_share`, `for_update` and
//! `skip_locked` (how replicas claim events without waiting on each other).
//!
//! A backend type using it has `pool: sqlx::Pool<DB>` and inherent methods
//! `async fn write(&self) -> Result<sqlx::Transaction<'static, DB>>`,
//! `fn still_there(&self) -> Result<()>` (for readiness, beyond a query),
//! `async fn snapshot(&self, path) -> Result<()>` (see `snapshot_into`) and
//! `async fn download_row(&self, sql, [app_id, helpdesk_id, ticket_id, msg], index)
//! -> Result<Option<DownloadRow>>` (the hot path's one statement, which a
//! backend may run its own way).

/// Columns of `AppRow`, for statements that read an app.
macro_rules! app_columns {
    () => {
        "a.app_id, a.tenant_key, a.name, a.kind, a.scopes, a.secret_sha256, a.tokens_not_before, a.disabled_at, a.created_at"
    };
}

/// Columns of `CredentialsRow`: the app, and the helpdesk joined as `h`.
macro_rules! credential_columns {
    () => {
        concat!(
            app_columns!(),
            ", h.helpdesk_id AS h_id, h.tenant_key AS h_tenant_key, h.name AS h_name, h.token_sha256 AS h_token_sha256"
        )
    };
}

/// The download's one statement, by the message column `msg_id` names.
/// Every join is on a primary or unique key.
macro_rules! download_by {
    ($column:literal) => {
        concat!(
            "SELECT ",
            credential_columns!(),
            ", m.message_type, m.image_count,
                    mi.sha256, mi.size, mi.content_type, mi.file_name, mi.deleted_at
             FROM apps a
             LEFT JOIN helpdesks h ON h.helpdesk_id = $2
             LEFT JOIN tickets t ON t.ticket_id = $3 AND t.helpdesk_id = $2
             LEFT JOIN messages m ON m.ticket_id = t.ticket_id AND m.",
            $column,
            " = $4
             LEFT JOIN message_images mi ON mi.message_pk = m.id AND mi.idx = $5
             WHERE a.app_id = $1"
        )
    };
}

/// True when a live image or message image refers to blob `$1`.
macro_rules! blob_in_use {
    () => {
        "SELECT (EXISTS (SELECT 1 FROM message_images WHERE sha256 = $1 AND deleted_at IS NULL)
              OR EXISTS (SELECT 1 FROM images WHERE sha256 = $1 AND deleted_at IS NULL)) AS used"
    };
}

macro_rules! sql_metadata_store {
    ($store:ty, $db:ty, for_share = $for_share:literal, for_update = $for_update:literal, skip_locked = $skip_locked:literal) => {
        use async_trait::async_trait;
        use helpdesk_core::ids::{self, MessageRef};
        use rand::RngCore;
        use sqlx::Row;

        use crate::records::*;
        use crate::*;

        const SIGNING_KEY: &str = "token-signing";

        fn new_key() -> Vec<u8> {
            let mut key = vec![0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            key
        }

        /// Signing keys from their rows, oldest first, with when each was made.
        fn signing_keys(rows: Vec<ServerKeyRow>) -> Vec<(tokens::SigningKey, i64)> {
            let mut keys: Vec<(tokens::SigningKey, i64)> = rows
                .into_iter()
                .filter_map(|r| {
                    let id = r.name.strip_prefix("token-signing.")?.to_string();
                    Some((tokens::SigningKey { id, key: r.value }, r.created_at))
                })
                .collect();
            keys.sort_by(|(a, _), (b, _)| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
            keys
        }

        /// The write lock on an unreferenced blob row (see `BlobClaim`).
        struct Claim {
            tx: sqlx::Transaction<'static, $db>,
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

        /// What a lookup binds for an id a client sent: PostgreSQL cannot
        /// hold NUL in text (and answers an error), and no id has one, so
        /// such an id becomes the empty string, which matches nothing on
        /// every backend.
        fn id(s: &str) -> &str {
            if s.contains('\0') {
                ""
            } else {
                s
            }
        }

        /// Text to store must be storable on every backend.
        fn storable(fields: &[&str]) -> Result<()> {
            if fields.iter().any(|f| f.contains('\0')) {
                return Err(StoreError::Invalid(
                    "text may not contain NUL (\\u0000) characters".into(),
                ));
            }
            Ok(())
        }

        /// Moves the change counter (see `MetadataStore::generation`).
        const BUMP: &str = "UPDATE changes SET generation = generation + 1 WHERE id = 1";

        impl $store {
            /// Records `event_type` for every enabled app of the helpdesk's
            /// tenant that subscribed to it through the helpdesk and has an
            /// event URL, in the caller's transaction.
            async fn record_events(
                tx: &mut sqlx::Transaction<'static, $db>,
                helpdesk_id: &str,
                ticket_id: &str,
                event_type: &str,
                event: impl Fn(&str) -> serde_json::Value,
            ) -> Result<()> {
                let apps: Vec<(String, String)> = sqlx::query_as(
                    "SELECT s.app_id, a.tenant_key FROM event_subscriptions s
                     JOIN apps a ON a.app_id = s.app_id AND a.disabled_at IS NULL
                     JOIN helpdesks h ON h.helpdesk_id = s.helpdesk_id AND h.tenant_key = a.tenant_key
                     JOIN event_configs c ON c.app_id = s.app_id
                     WHERE s.helpdesk_id = $1 AND s.event_type = $2
                     ORDER BY s.app_id",
                )
                .bind(helpdesk_id)
                .bind(event_type)
                .fetch_all(&mut **tx)
                .await?;
                let now = now_ms();
                for (app_id, tenant_key) in apps {
                    let event_id = helpdesk_core::events::event_id();
                    let body = helpdesk_core::events::envelope(
                        &event_id, event_type, now, &app_id, &tenant_key, event(&event_id),
                    );
                    sqlx::query(
                        "INSERT INTO events (event_id, app_id, ticket_id, event_type, body, created_at, next_attempt_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $6)",
                    )
                    .bind(&event_id)
                    .bind(&app_id)
                    .bind(ticket_id)
                    .bind(event_type)
                    .bind(body.to_string())
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Inserts one row of any table unless it is there; 1 or 0.
            async fn import_one(
                tx: &mut sqlx::Transaction<'static, $db>,
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
                                             deleted_at, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    )
                    .bind(&r.image_key)
                    .bind(&r.tenant_key)
                    .bind(&r.sha256)
                    .bind(r.size)
                    .bind(&r.content_type)
                    .bind(&r.file_name)
                    .bind(r.deleted_at)
                    .bind(r.created_at),
                    Record::Ticket(r) => sqlx::query(
                        "INSERT INTO tickets (ticket_id, helpdesk_id, chat_id, guest_open_id, human_service,
                                              customized_info, status, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                    )
                    .bind(&r.ticket_id)
                    .bind(&r.helpdesk_id)
                    .bind(&r.chat_id)
                    .bind(&r.guest_open_id)
                    .bind(r.human_service)
                    .bind(&r.customized_info)
                    .bind(r.status)
                    .bind(r.created_at)
                    .bind(r.updated_at),
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
                    // A new sequence number, in export order: the order per
                    // ticket holds.
                    Record::Event(r) => sqlx::query(
                        "INSERT INTO events (event_id, app_id, ticket_id, event_type, body, created_at, attempts,
                                             next_attempt_at, delivered_at, failed_at, last_error)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
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
                    .bind(&r.last_error),
                }
                .execute(&mut **tx)
                .await?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait]
        impl MetadataStore for $store {
            async fn signing_keys(&self) -> Result<Vec<tokens::SigningKey>> {
                // Two processes starting at once both insert; one wins, both read it.
                let first = format!("{SIGNING_KEY}.{}", tokens::FIRST_KEY_ID);
                sqlx::query(
                    "INSERT INTO server_keys (name, value, created_at)
                     SELECT $1, $2, $3 WHERE NOT EXISTS
                       (SELECT 1 FROM server_keys WHERE name LIKE 'token-signing.%')
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(&first)
                .bind(new_key())
                .bind(now())
                .execute(&self.pool)
                .await?;
                let rows: Vec<ServerKeyRow> =
                    sqlx::query_as("SELECT * FROM server_keys WHERE name LIKE 'token-signing.%'")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(signing_keys(rows).into_iter().map(|(k, _)| k).collect())
            }

            async fn rotate_signing_key(&self, revoke: bool) -> Result<tokens::SigningKey> {
                let mut tx = self.write().await?;
                let rows: Vec<ServerKeyRow> = sqlx::query_as(concat!(
                    "SELECT * FROM server_keys WHERE name LIKE 'token-signing.%' ",
                    $for_update
                ))
                .fetch_all(&mut *tx)
                .await?;
                let keys = signing_keys(rows);
                let next = keys
                    .last()
                    .and_then(|(k, _)| k.id.parse::<u64>().ok())
                    .map_or(0, |n| n + 1);
                let key = tokens::SigningKey {
                    id: format!("{next:04}"),
                    key: new_key(),
                };
                let now = now();
                // Without --revoke, a key stays while a token it signed can
                // be alive: until its successor is older than a token's life.
                for (i, (old, _)) in keys.iter().enumerate() {
                    let superseded_at = keys.get(i + 1).map_or(now, |(_, at)| *at);
                    if revoke || superseded_at + tokens::TOKEN_LIFETIME < now {
                        sqlx::query("DELETE FROM server_keys WHERE name = $1")
                            .bind(format!("{SIGNING_KEY}.{}", old.id))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                sqlx::query("INSERT INTO server_keys (name, value, created_at) VALUES ($1, $2, $3)")
                    .bind(format!("{SIGNING_KEY}.{}", key.id))
                    .bind(&key.key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(BUMP).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(key)
            }

            async fn snapshot_into(&self, path: &std::path::Path) -> Result<()> {
                self.snapshot(path).await
            }

            async fn check(&self) -> Result<()> {
                self.still_there()?;
                self.generation().await.map(|_| ())
            }

            async fn generation(&self) -> Result<i64> {
                let row = sqlx::query("SELECT generation FROM changes WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(row.try_get("generation")?)
            }

            async fn create_tenant(&self, name: &str) -> Result<Tenant> {
                storable(&[name])?;
                let tenant = Tenant {
                    tenant_key: ids::tenant_key(),
                    name: name.to_string(),
                };
                sqlx::query("INSERT INTO tenants (tenant_key, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&tenant.tenant_key)
                    .bind(&tenant.name)
                    .bind(now())
                    .execute(&self.pool)
                    .await?;
                Ok(tenant)
            }

            async fn create_app(&self, new: NewApp<'_>) -> Result<App> {
                storable(&[new.name, new.tenant_key])?;
                let app = App {
                    app_id: ids::app_id(),
                    tenant_key: new.tenant_key.to_string(),
                    name: new.name.to_string(),
                    kind: new.kind,
                    scopes: new.scopes.to_vec(),
                    secret_sha256: new.secret_sha256.to_string(),
                    tokens_not_before: 0,
                    disabled: false,
                };
                // Inserted only if the tenant exists, in one statement.
                let done = sqlx::query(
                    "INSERT INTO apps (app_id, tenant_key, name, kind, scopes, secret_sha256, created_at)
                     SELECT $1, tenant_key, $3, $4, $5, $6, $7 FROM tenants WHERE tenant_key = $2",
                )
                .bind(&app.app_id)
                .bind(&app.tenant_key)
                .bind(&app.name)
                .bind(app.kind.as_str())
                .bind(app.scopes.join(" "))
                .bind(&app.secret_sha256)
                .bind(now())
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("tenant {:?}", new.tenant_key)));
                }
                Ok(app)
            }

            async fn app(&self, app_id: &str) -> Result<Option<App>> {
                let row: Option<AppRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_columns!(),
                    " FROM apps a WHERE a.app_id = $1"
                ))
                .bind(id(app_id))
                .fetch_optional(&self.pool)
                .await?;
                row.map(App::try_from).transpose()
            }

            async fn app_and_helpdesk(
                &self,
                app_id: &str,
                helpdesk_id: &str,
            ) -> Result<Option<(App, Option<Helpdesk>)>> {
                let row: Option<CredentialsRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    credential_columns!(),
                    " FROM apps a LEFT JOIN helpdesks h ON h.helpdesk_id = $2 WHERE a.app_id = $1"
                ))
                .bind(id(app_id))
                .bind(id(helpdesk_id))
                .fetch_optional(&self.pool)
                .await?;
                row.map(CredentialsRow::split).transpose()
            }

            async fn revoke_tokens(&self, app_id: &str) -> Result<()> {
                // Tokens carry whole seconds: one issued earlier in this very second
                // must go too, so new ones start from the next.
                let mut tx = self.write().await?;
                let done = sqlx::query("UPDATE apps SET tokens_not_before = $1 WHERE app_id = $2")
                    .bind(now() + 1)
                    .bind(app_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("app {app_id:?}")));
                }
                sqlx::query(BUMP).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn tenants(&self) -> Result<Vec<TenantRow>> {
                Ok(sqlx::query_as("SELECT * FROM tenants ORDER BY created_at, tenant_key")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn apps(&self, tenant_key: Option<&str>) -> Result<Vec<App>> {
                let rows: Vec<AppRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_columns!(),
                    " FROM apps a WHERE $1 IS NULL OR a.tenant_key = $1 ORDER BY a.created_at, a.app_id"
                ))
                .bind(tenant_key)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(App::try_from).collect()
            }

            async fn helpdesks(&self, tenant_key: Option<&str>) -> Result<Vec<Helpdesk>> {
                let rows: Vec<HelpdeskRow> = sqlx::query_as(
                    "SELECT * FROM helpdesks WHERE $1 IS NULL OR tenant_key = $1
                     ORDER BY created_at, helpdesk_id",
                )
                .bind(tenant_key)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Helpdesk::from).collect())
            }

            async fn update_app(&self, app_id: &str, change: AppChange<'_>) -> Result<()> {
                let mut tx = self.write().await?;
                let query = match change {
                    AppChange::Secret(sha256) => {
                        sqlx::query("UPDATE apps SET secret_sha256 = $2 WHERE app_id = $1").bind(app_id).bind(sha256)
                    }
                    AppChange::Disabled(true) => sqlx::query(
                        "UPDATE apps SET disabled_at = COALESCE(disabled_at, $2) WHERE app_id = $1",
                    )
                    .bind(app_id)
                    .bind(now()),
                    AppChange::Disabled(false) => {
                        sqlx::query("UPDATE apps SET disabled_at = NULL WHERE app_id = $1").bind(app_id)
                    }
                };
                let done = query.execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("app {app_id:?}")));
                }
                sqlx::query(BUMP).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_helpdesk_token(&self, helpdesk_id: &str, token_sha256: &str) -> Result<()> {
                let mut tx = self.write().await?;
                let done = sqlx::query("UPDATE helpdesks SET token_sha256 = $1 WHERE helpdesk_id = $2")
                    .bind(token_sha256)
                    .bind(helpdesk_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("helpdesk {helpdesk_id:?}")));
                }
                sqlx::query(BUMP).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_helpdesk(
                &self,
                tenant_key: &str,
                name: &str,
                token_sha256: &str,
            ) -> Result<Helpdesk> {
                storable(&[tenant_key, name])?;
                let helpdesk = Helpdesk {
                    helpdesk_id: ids::helpdesk_id(),
                    tenant_key: tenant_key.to_string(),
                    name: name.to_string(),
                    token_sha256: token_sha256.to_string(),
                };
                let done = sqlx::query(
                    "INSERT INTO helpdesks (helpdesk_id, tenant_key, name, token_sha256, created_at)
                     SELECT $1, tenant_key, $3, $4, $5 FROM tenants WHERE tenant_key = $2",
                )
                .bind(&helpdesk.helpdesk_id)
                .bind(&helpdesk.tenant_key)
                .bind(&helpdesk.name)
                .bind(&helpdesk.token_sha256)
                .bind(now())
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("tenant {tenant_key:?}")));
                }
                Ok(helpdesk)
            }

            async fn add_image(&self, tenant_key: &str, blob: &Blob, file_name: &str) -> Result<Image> {
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
                // The shared lock of the trait's rules: a claim on these bytes
                // waits for our commit, or we wait for it to forget the row,
                // and then make the row again.
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
                    let locked = sqlx::query(concat!("SELECT 1 FROM blobs WHERE sha256 = $1 ", $for_share))
                        .bind(&image.sha256)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if locked.is_some() {
                        break;
                    }
                }
                sqlx::query(
                    "INSERT INTO images (image_key, tenant_key, sha256, size, content_type, file_name, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
                    let row: Option<ImageRow> = sqlx::query_as(
                        "SELECT * FROM images WHERE image_key = $1 AND tenant_key = $2 AND deleted_at IS NULL",
                    )
                    .bind(id(key))
                    .bind(tenant_key)
                    .fetch_optional(&self.pool)
                    .await?;
                    found.extend(row.map(Image::from));
                }
                Ok(found)
            }

            async fn create_ticket(&self, new: NewTicket<'_>) -> Result<Ticket> {
                storable(&[new.guest_open_id, new.customized_info.unwrap_or("")])?;
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
                let mut tx = self.write().await?;
                sqlx::query(
                    "INSERT INTO tickets (ticket_id, helpdesk_id, chat_id, guest_open_id, human_service,
                                          customized_info, status, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
                .execute(&mut *tx)
                .await?;
                let facts = ticket.facts();
                Self::record_events(
                    &mut tx,
                    &ticket.helpdesk_id,
                    &ticket.ticket_id,
                    helpdesk_core::events::TICKET_CREATED,
                    |_| helpdesk_core::events::ticket_created(&facts),
                )
                .await?;
                tx.commit().await?;
                Ok(ticket)
            }

            async fn ticket(&self, helpdesk_id: &str, ticket_id: &str) -> Result<Option<Ticket>> {
                Ok(sqlx::query_as("SELECT * FROM tickets WHERE ticket_id = $1 AND helpdesk_id = $2")
                    .bind(id(ticket_id))
                    .bind(id(helpdesk_id))
                    .fetch_optional(&self.pool)
                    .await?)
            }

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
                // (the trait's rules).
                for image in new.images {
                    let live = sqlx::query(concat!(
                        "SELECT 1 FROM images WHERE image_key = $1 AND deleted_at IS NULL ",
                        $for_share
                    ))
                    .bind(&image.image_key)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let blob = sqlx::query(concat!("SELECT 1 FROM blobs WHERE sha256 = $1 ", $for_share))
                        .bind(&image.sha256)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if live.is_none() || blob.is_none() {
                        return Err(StoreError::Invalid(format!(
                            "image {} was deleted",
                            image.image_key
                        )));
                    }
                }
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
                        "INSERT INTO message_images (message_pk, idx, image_key, sha256, size, content_type, file_name)
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
                    let position: i64 = sqlx::query("SELECT count(*) AS n FROM messages WHERE ticket_id = $1")
                        .bind(&message.ticket_id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("n")?;
                    let image_keys: Vec<String> =
                        new.images.iter().map(|i| i.image_key.clone()).collect();
                    let facts = helpdesk_core::events::MessageFacts {
                        id: &message.id,
                        message_id: &message.message_id,
                        msg_type: &message.message_type,
                        content: &message.content,
                        image_keys: &image_keys,
                        sender_open_id: &message.user_id,
                        position,
                        ticket: ticket.facts(),
                    };
                    Self::record_events(
                        &mut tx,
                        &ticket.helpdesk_id,
                        &ticket.ticket_id,
                        helpdesk_core::events::TICKET_MESSAGE_CREATED,
                        |event_id| helpdesk_core::events::message_created(&facts, event_id),
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(message)
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

            async fn delete_message_images(
                &self,
                ticket_id: &str,
                msg: MessageRef<'_>,
                index: Option<u32>,
            ) -> Result<Vec<DeletedImage>> {
                let (sql, value) = match msg {
                    MessageRef::Id(v) => (
                        concat!("SELECT * FROM messages WHERE id = $1 AND ticket_id = $2 ", $for_update),
                        v,
                    ),
                    MessageRef::MessageId(v) => (
                        concat!("SELECT * FROM messages WHERE message_id = $1 AND ticket_id = $2 ", $for_update),
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
                    .ok_or_else(|| {
                        StoreError::NotFound(format!("message {value:?} in ticket {ticket_id:?}"))
                    })?;
                if message.image_count == 0 {
                    return Err(StoreError::Invalid(format!("message {value:?} holds no image")));
                }
                if let Some(i) = index {
                    if i64::from(i) >= message.image_count {
                        return Err(StoreError::Invalid(format!(
                            "message {value:?} has {} image(s); --index {i} is out of range",
                            message.image_count
                        )));
                    }
                }
                let rows: Vec<MessageImageRow> = sqlx::query_as(
                    "SELECT * FROM message_images
                     WHERE message_pk = $1 AND deleted_at IS NULL AND ($2 IS NULL OR idx = $2) ORDER BY idx",
                )
                .bind(&message.id)
                .bind(index.map(i64::from))
                .fetch_all(&mut *tx)
                .await?;
                if rows.is_empty() {
                    return Err(StoreError::Invalid("already deleted".to_string()));
                }
                sqlx::query(
                    "UPDATE message_images SET deleted_at = $1
                     WHERE message_pk = $2 AND deleted_at IS NULL AND ($3 IS NULL OR idx = $3)",
                )
                .bind(now)
                .bind(&message.id)
                .bind(index.map(i64::from))
                .execute(&mut *tx)
                .await?;
                for row in &rows {
                    // The key that was posted names nothing once no live message uses it.
                    sqlx::query(
                        "UPDATE images SET deleted_at = $1 WHERE image_key = $2 AND deleted_at IS NULL
                         AND NOT EXISTS (SELECT 1 FROM message_images WHERE image_key = $2 AND deleted_at IS NULL)",
                    )
                    .bind(now)
                    .bind(&row.image_key)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(BUMP).execute(&mut *tx).await?;
                tx.commit().await?;
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

            async fn claim_unreferenced_blob(&self, sha256: &str) -> Result<Option<Box<dyn BlobClaim>>> {
                let mut tx = self.write().await?;
                let row = sqlx::query(concat!("SELECT 1 FROM blobs WHERE sha256 = $1 ", $for_update))
                    .bind(sha256)
                    .fetch_optional(&mut *tx)
                    .await?;
                if row.is_none() {
                    return Ok(None);
                }
                // Read after the lock is held, so every reference committed
                // before it is seen.
                let used: bool = sqlx::query(blob_in_use!())
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
                     WHERE NOT EXISTS (SELECT 1 FROM message_images WHERE sha256 = b.sha256 AND deleted_at IS NULL)
                       AND NOT EXISTS (SELECT 1 FROM images WHERE sha256 = b.sha256 AND deleted_at IS NULL)
                     LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(|r| Ok(r.try_get("sha256")?)).collect()
            }

            async fn event_config(&self, app_id: &str) -> Result<Option<EventConfig>> {
                let row: Option<EventConfigRow> =
                    sqlx::query_as("SELECT * FROM event_configs WHERE app_id = $1")
                        .bind(app_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|r| EventConfig {
                    url: r.url,
                    encrypt_key: r.encrypt_key,
                    verification_token: r.verification_token,
                }))
            }

            async fn set_event_config(&self, app_id: &str, config: Option<&EventConfig>) -> Result<()> {
                if let Some(c) = config {
                    storable(&[&c.url, &c.encrypt_key, &c.verification_token])?;
                }
                let mut tx = self.write().await?;
                let exists = sqlx::query("SELECT 1 FROM apps WHERE app_id = $1")
                    .bind(app_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound(format!("app {app_id:?}")));
                }
                match config {
                    None => {
                        sqlx::query("DELETE FROM event_configs WHERE app_id = $1")
                            .bind(app_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Some(c) => {
                        sqlx::query(
                            "INSERT INTO event_configs (app_id, url, encrypt_key, verification_token, updated_at)
                             VALUES ($1, $2, $3, $4, $5)
                             ON CONFLICT (app_id) DO UPDATE SET url = excluded.url,
                                 encrypt_key = excluded.encrypt_key,
                                 verification_token = excluded.verification_token,
                                 updated_at = excluded.updated_at",
                        )
                        .bind(app_id)
                        .bind(&c.url)
                        .bind(&c.encrypt_key)
                        .bind(&c.verification_token)
                        .bind(now())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn subscribe_events(
                &self,
                app_id: &str,
                helpdesk_id: &str,
                event_types: &[&str],
                subscribe: bool,
            ) -> Result<()> {
                let mut tx = self.write().await?;
                for event_type in event_types {
                    let query = if subscribe {
                        sqlx::query(
                            "INSERT INTO event_subscriptions (app_id, helpdesk_id, event_type, created_at)
                             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        )
                        .bind(app_id)
                        .bind(helpdesk_id)
                        .bind(*event_type)
                        .bind(now())
                    } else {
                        sqlx::query(
                            "DELETE FROM event_subscriptions
                             WHERE app_id = $1 AND helpdesk_id = $2 AND event_type = $3",
                        )
                        .bind(app_id)
                        .bind(helpdesk_id)
                        .bind(*event_type)
                    };
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn claim_events(&self, now_ms: i64, lease_ms: i64, limit: u32) -> Result<Vec<ClaimedEvent>> {
                let mut tx = self.write().await?;
                // Due, not claimed, nothing earlier of its (app, ticket)
                // pending, and no delivery of its app in flight.
                let claimed: Vec<EventRow> = sqlx::query_as(concat!(
                    "UPDATE events SET claimed_until = $2 WHERE seq IN (
                       SELECT e.seq FROM events e
                       JOIN apps a ON a.app_id = e.app_id AND a.disabled_at IS NULL
                       JOIN event_configs c ON c.app_id = e.app_id
                       WHERE e.delivered_at IS NULL AND e.failed_at IS NULL
                         AND e.next_attempt_at <= $1 AND e.claimed_until <= $1
                         AND NOT EXISTS (SELECT 1 FROM events p
                               WHERE p.app_id = e.app_id AND p.ticket_id = e.ticket_id AND p.seq < e.seq
                                 AND p.delivered_at IS NULL AND p.failed_at IS NULL)
                         AND NOT EXISTS (SELECT 1 FROM events b
                               WHERE b.app_id = e.app_id AND b.claimed_until > $1
                                 AND b.delivered_at IS NULL AND b.failed_at IS NULL)
                       ORDER BY e.seq LIMIT $3 ",
                    $skip_locked,
                    ") RETURNING *"
                ))
                .bind(now_ms)
                .bind(now_ms + lease_ms)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                let mut out = Vec::with_capacity(claimed.len());
                for event in claimed {
                    let config: EventConfigRow =
                        sqlx::query_as("SELECT * FROM event_configs WHERE app_id = $1")
                            .bind(&event.app_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    out.push(ClaimedEvent {
                        event,
                        config: EventConfig {
                            url: config.url,
                            encrypt_key: config.encrypt_key,
                            verification_token: config.verification_token,
                        },
                    });
                }
                tx.commit().await?;
                out.sort_by_key(|c| c.event.seq);
                Ok(out)
            }

            async fn finish_event(&self, seq: i64, outcome: &DeliveryOutcome, now_ms: i64) -> Result<()> {
                let query = match outcome {
                    DeliveryOutcome::Delivered => sqlx::query(
                        "UPDATE events SET delivered_at = $2, attempts = attempts + 1, claimed_until = 0,
                                           last_error = NULL WHERE seq = $1",
                    )
                    .bind(seq)
                    .bind(now_ms),
                    DeliveryOutcome::Retry { at_ms, error } => sqlx::query(
                        "UPDATE events SET next_attempt_at = $2, attempts = attempts + 1, claimed_until = 0,
                                           last_error = $3 WHERE seq = $1",
                    )
                    .bind(seq)
                    .bind(*at_ms)
                    .bind(error),
                    DeliveryOutcome::Failed { error } => sqlx::query(
                        "UPDATE events SET failed_at = $2, attempts = attempts + 1, claimed_until = 0,
                                           last_error = $3 WHERE seq = $1",
                    )
                    .bind(seq)
                    .bind(now_ms)
                    .bind(error),
                };
                let mut tx = self.write().await?;
                query.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_events(&self, app_id: &str, failed_only: bool, limit: u32) -> Result<Vec<EventRow>> {
                Ok(sqlx::query_as(
                    "SELECT * FROM events WHERE app_id = $1 AND ($2 = 0 OR failed_at IS NOT NULL)
                     ORDER BY seq DESC LIMIT $3",
                )
                .bind(app_id)
                .bind(i64::from(failed_only))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn redeliver_event(&self, event_id: &str, now_ms: i64) -> Result<()> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "UPDATE events SET delivered_at = NULL, failed_at = NULL, attempts = 0,
                                       next_attempt_at = $2, claimed_until = 0, last_error = NULL
                     WHERE event_id = $1",
                )
                .bind(event_id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("event {event_id:?}")));
                }
                tx.commit().await?;
                Ok(())
            }

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
                // Every page binds (key, n, limit); a table ordered by its key
                // alone still names `$2` (as `$2 = $2`) so that all three bind.
                macro_rules! page {
                    ($row:ty, $variant:ident, $sql:literal) => {{
                        let rows: Vec<$row> = sqlx::query_as($sql)
                            .bind(&after.key)
                            .bind(after.n)
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?;
                        rows.into_iter().map(Record::$variant).collect()
                    }};
                }
                Ok(match kind {
                    RecordKind::ServerKeys => page!(ServerKeyRow, ServerKey,
                        "SELECT * FROM server_keys WHERE name > $1 AND $2 = $2 ORDER BY name LIMIT $3"),
                    RecordKind::Tenants => page!(TenantRow, Tenant,
                        "SELECT * FROM tenants WHERE tenant_key > $1 AND $2 = $2 ORDER BY tenant_key LIMIT $3"),
                    RecordKind::Apps => page!(AppRow, App,
                        "SELECT * FROM apps WHERE app_id > $1 AND $2 = $2 ORDER BY app_id LIMIT $3"),
                    RecordKind::Helpdesks => page!(HelpdeskRow, Helpdesk,
                        "SELECT * FROM helpdesks WHERE helpdesk_id > $1 AND $2 = $2 ORDER BY helpdesk_id LIMIT $3"),
                    RecordKind::Blobs => page!(BlobRow, Blob,
                        "SELECT * FROM blobs WHERE sha256 > $1 AND $2 = $2 ORDER BY sha256 LIMIT $3"),
                    RecordKind::Images => page!(ImageRow, Image,
                        "SELECT * FROM images WHERE image_key > $1 AND $2 = $2 ORDER BY image_key LIMIT $3"),
                    RecordKind::Tickets => page!(Ticket, Ticket,
                        "SELECT * FROM tickets WHERE ticket_id > $1 AND $2 = $2 ORDER BY ticket_id LIMIT $3"),
                    RecordKind::Messages => page!(MessageRow, Message,
                        "SELECT * FROM messages WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
                    RecordKind::MessageImages => page!(MessageImageRow, MessageImage,
                        "SELECT * FROM message_images WHERE message_pk > $1 OR (message_pk = $1 AND idx > $2)
                         ORDER BY message_pk, idx LIMIT $3"),
                    RecordKind::EventConfigs => page!(EventConfigRow, EventConfig,
                        "SELECT * FROM event_configs WHERE app_id > $1 AND $2 = $2 ORDER BY app_id LIMIT $3"),
                    RecordKind::EventSubscriptions => page!(EventSubscriptionRow, EventSubscription,
                        "SELECT * FROM event_subscriptions
                         WHERE (app_id || ' ' || helpdesk_id || ' ' || event_type) > $1 AND $2 = $2
                         ORDER BY (app_id || ' ' || helpdesk_id || ' ' || event_type) LIMIT $3"),
                    RecordKind::Events => page!(EventRow, Event,
                        "SELECT * FROM events WHERE $1 = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
                })
            }

            async fn import(&self, records: &[Record]) -> Result<u64> {
                let mut tx = self.write().await?;
                let mut inserted = 0;
                for record in records {
                    inserted += Self::import_one(&mut tx, record).await?;
                }
                tx.commit().await?;
                Ok(inserted)
            }
        }
    };
}
