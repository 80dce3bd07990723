//! The embedded metadata backend: one SQLite file, WAL, synchronous=FULL so
//! that a committed row survives a crash. SQLite lets one writer in at a
//! time (`BEGIN IMMEDIATE`), which is all the locking the trait's rules need.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteMeta {
    pool: SqlitePool,
}

impl SqliteMeta {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub async fn open_file(path: &Path) -> crate::Result<SqliteMeta> {
        Self::open_options(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens a `sqlite://` URL and migrates it.
    pub async fn open_url(url: &str) -> crate::Result<SqliteMeta> {
        Self::open_options(SqliteConnectOptions::from_str(url)?).await
    }

    async fn open_options(options: SqliteConnectOptions) -> crate::Result<SqliteMeta> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Two processes starting at once on a new file would both switch it
        // to WAL (which fails with SQLITE_BUSY) and both create the tables
        // (sqlx takes no lock around SQLite migrations): hold a file lock
        // beside the database until both are done.
        let _lock = migration_lock(options.get_filename()).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteMeta { pool })
    }

    /// A write transaction that takes the write lock at once, so that two
    /// writers queue on busy_timeout instead of failing on an upgrade.
    async fn write(&self) -> crate::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// An exclusive lock on `<database>-migrate.lock`, held until dropped.
async fn migration_lock(database: &Path) -> crate::Result<std::fs::File> {
    let mut name = database.as_os_str().to_owned();
    name.push("-migrate.lock");
    let path = PathBuf::from(name);
    let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(file)
}

sql_metadata_store!(SqliteMeta, sqlx::Sqlite, for_share = "", for_update = "");
