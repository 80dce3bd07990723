//! Signing keys, the change counter and readiness (`KeyRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use rand::RngCore;
use sqlx::Row;

use super::Meta;
use crate::records::ServerKeyRow;
use crate::sql::BUMP;
use crate::tokens::{self, SigningKey};
use crate::{now, KeyRepo, Result};

/// The `server_keys` name of a signing key is this, a dot, and its id.
const SIGNING_KEY: &str = "token-signing";

fn new_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    key
}

/// Signing keys from their rows, oldest first, with when each was made.
fn signing_keys(rows: Vec<ServerKeyRow>) -> Vec<(SigningKey, i64)> {
    let mut keys: Vec<(SigningKey, i64)> = rows
        .into_iter()
        .filter_map(|r| {
            let id = r.name.strip_prefix("token-signing.")?.to_string();
            Some((SigningKey { id, key: r.value }, r.created_at))
        })
        .collect();
    keys.sort_by(|(a, _), (b, _)| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
    keys
}

#[async_trait]
impl KeyRepo for Meta {
    async fn signing_keys(&self) -> Result<Vec<SigningKey>> {
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

    async fn rotate_signing_key(&self, revoke: bool) -> Result<SigningKey> {
        let mut tx = self.write().await?;
        let rows: Vec<ServerKeyRow> = sqlx::query_as(concat!(
            "SELECT * FROM server_keys WHERE name LIKE 'token-signing.%' ",
            for_update!()
        ))
        .fetch_all(&mut *tx)
        .await?;
        let keys = signing_keys(rows);
        let next = keys
            .last()
            .and_then(|(k, _)| k.id.parse::<u64>().ok())
            .map_or(0, |n| n + 1);
        let key = SigningKey {
            id: format!("{next:04}"),
            key: new_key(),
        };
        let now = now();
        // Without --revoke, a key stays while a token it signed can be
        // alive: until its successor is older than a token's life.
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

    async fn generation(&self) -> Result<i64> {
        let row = sqlx::query("SELECT generation FROM changes WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("generation")?)
    }

    async fn check(&self) -> Result<()> {
        self.still_there()?;
        self.generation().await.map(|_| ())
    }
}
