//! The scale-out metadata backend: PostgreSQL, shared by every replica.
//! Row locks (`FOR SHARE` / `FOR UPDATE`) carry the trait's blob rules; sqlx
//! serialises concurrent migrations with an advisory lock, so replicas can
//! start at once on an empty database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

// The shared SQL of `crate::sql`, compiled for this backend (see there).
type Db = sqlx::Postgres;
type Meta = PostgresMeta;
// Row locks carry the blob and outbox rules across replicas.
macro_rules! for_share {
    () => {
        "FOR SHARE"
    };
}
macro_rules! for_update {
    () => {
        "FOR UPDATE"
    };
}
macro_rules! strpos {
    () => {
        "strpos"
    };
}
// FAQ search: the opening of a match on `f` (an FAQ row) whose query
// (`fts_query`) the caller binds, then closes with `)`.
macro_rules! fts_match {
    () => {
        "to_tsvector('simple', f.search_grams) @@ plainto_tsquery('simple', "
    };
}
macro_rules! skip_locked {
    () => {
        "FOR UPDATE OF e SKIP LOCKED"
    };
}
/// `plainto_tsquery` ANDs the words of its text.
fn fts_query(tokens: &[String]) -> String {
    tokens.join(" ")
}
#[path = "../sql/activity.rs"]
mod activity;
#[path = "../sql/audit.rs"]
mod audit;
#[path = "../sql/console_tokens.rs"]
mod console_tokens;
#[path = "../sql/directory.rs"]
mod directory;
#[path = "../sql/events.rs"]
mod events;
#[path = "../sql/faqs.rs"]
mod faqs;
#[path = "../sql/fields.rs"]
mod fields;
#[path = "../sql/images.rs"]
mod images;
#[path = "../sql/import.rs"]
mod import;
#[path = "../sql/inspect.rs"]
mod inspect;
#[path = "../sql/keys.rs"]
mod keys;
#[path = "../sql/limits.rs"]
mod limits;
#[path = "../sql/messages.rs"]
mod messages;
#[path = "../sql/people.rs"]
mod people;
#[path = "../sql/retention.rs"]
mod retention;
#[path = "../sql/scans.rs"]
mod scans;
#[path = "../sql/tickets.rs"]
mod tickets;
#[path = "../sql/transfer.rs"]
mod transfer;
#[path = "../sql/upsert.rs"]
mod upsert;

pub struct PostgresMeta {
    pool: PgPool,
    /// How the pool connects, for the connection that listens for changes.
    options: PgConnectOptions,
}

impl PostgresMeta {
    /// Connects to a `postgres://` URL and migrates the database.
    pub async fn open_url(url: &str) -> crate::Result<PostgresMeta> {
        let options = PgConnectOptions::from_str(url)?.application_name("helpdesk");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresMeta { pool, options })
    }

    /// How the replicas on this database tell each other of a change:
    /// `LISTEN`/`NOTIFY`.
    pub fn changes(&self) -> std::sync::Arc<dyn crate::changes::Changes> {
        std::sync::Arc::new(crate::changes::Postgres::new(
            self.pool.clone(),
            self.options.clone(),
        ))
    }

    /// A query answering is all readiness needs here.
    fn still_there(&self) -> crate::Result<()> {
        Ok(())
    }

    async fn snapshot(&self, _path: &std::path::Path) -> crate::Result<()> {
        Err(crate::StoreError::Invalid(
            "backup takes the embedded store; back PostgreSQL up with pg_dump and the bucket with its own versioning, or copy both to an embedded data dir with `helpdesk migrate`".into(),
        ))
    }

    async fn write(&self) -> crate::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.pool.begin().await?)
    }

    async fn download_row(
        &self,
        sql: &'static str,
        text: [&str; 4],
        index: i64,
    ) -> crate::Result<Option<crate::records::DownloadRow>> {
        let [a, b, c, d] = text;
        Ok(sqlx::query_as(sql)
            .bind(a)
            .bind(b)
            .bind(c)
            .bind(d)
            .bind(index)
            .fetch_optional(&self.pool)
            .await?)
    }
}
