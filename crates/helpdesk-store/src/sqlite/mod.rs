//! The embedded metadata backend: one SQLite file, WAL, synchronous=FULL so
//! that a committed row survives a crash. SQLite lets one writer in at a
//! time (`BEGIN IMMEDIATE`), which is all the locking the trait's rules need.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

// The shared SQL of `crate::sql`, compiled for this backend (see there).
type Db = sqlx::Sqlite;
type Meta = SqliteMeta;
// One writer at a time (`BEGIN IMMEDIATE`) is all the locking needed.
macro_rules! for_share {
    () => {
        ""
    };
}
macro_rules! for_update {
    () => {
        ""
    };
}
macro_rules! strpos {
    () => {
        "instr"
    };
}
// FAQ search: the opening of a match on `f` (an FAQ row) whose query
// (`fts_query`) the caller binds, then closes with `)`.
macro_rules! fts_match {
    () => {
        "f.seq IN (SELECT rowid FROM faqs_fts WHERE faqs_fts MATCH "
    };
}
macro_rules! skip_locked {
    () => {
        ""
    };
}
/// An FTS5 query holding every token (each quoted: none holds a quote).
fn fts_query(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" ")
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

pub struct SqliteMeta {
    pool: SqlitePool,
    readers: Readers,
}

impl SqliteMeta {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub async fn open_file(path: &Path) -> crate::Result<SqliteMeta> {
        Self::open_options(
            SqliteConnectOptions::new().filename(path),
            SqliteSynchronous::Full,
        )
        .await
    }

    /// A database thrown away at exit (`StorageConfig::durable` false):
    /// commits skip the fsync, and a crash may lose the last of them.
    pub async fn open_scratch(path: &Path) -> crate::Result<SqliteMeta> {
        Self::open_options(
            SqliteConnectOptions::new().filename(path),
            SqliteSynchronous::Off,
        )
        .await
    }

    /// Opens a `sqlite://` URL and migrates it.
    pub async fn open_url(url: &str) -> crate::Result<SqliteMeta> {
        Self::open_options(
            SqliteConnectOptions::from_str(url)?,
            SqliteSynchronous::Full,
        )
        .await
    }

    async fn open_options(
        options: SqliteConnectOptions,
        synchronous: SqliteSynchronous,
    ) -> crate::Result<SqliteMeta> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Two processes starting at once on a new file would both switch it
        // to WAL (which fails with SQLITE_BUSY) and both create the tables
        // (sqlx takes no lock around SQLite migrations): hold a file lock
        // beside the database until both are done.
        let _lock = migration_lock(options.get_filename()).await?;
        let readers = Readers::new(options.get_filename());
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteMeta { pool, readers })
    }

    /// A write transaction that takes the write lock at once, so that two
    /// writers queue on busy_timeout instead of failing on an upgrade.
    async fn write(&self) -> crate::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

impl SqliteMeta {
    /// Open connections keep reading a database file that was deleted or
    /// moved away; readiness must not.
    fn still_there(&self) -> crate::Result<()> {
        std::fs::metadata(&self.readers.path)?;
        Ok(())
    }

    /// A consistent copy of the database in a new file, while writers go on:
    /// `VACUUM INTO` reads one snapshot and writes a file with no WAL.
    async fn snapshot(&self, path: &Path) -> crate::Result<()> {
        let path = path.to_str().ok_or_else(|| {
            crate::StoreError::Invalid(format!("{} is not UTF-8", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn download_row(
        &self,
        sql: &'static str,
        text: [&str; 4],
        index: i64,
    ) -> crate::Result<Option<crate::records::DownloadRow>> {
        self.readers.download_row(sql, text, index)
    }

    /// How the processes sharing this database file tell each other of a
    /// change: sockets beside it (nothing for an in-memory database).
    pub fn changes(&self) -> std::sync::Arc<dyn crate::changes::Changes> {
        let path = &self.readers.path;
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return std::sync::Arc::new(crate::changes::Alone);
        }
        std::sync::Arc::new(crate::changes::Embedded::beside(path))
    }
}

/// Read-only connections for the download's one statement, which runs on
/// the calling thread. sqlx runs every SQLite statement on a worker thread
/// of its own, and the two thread switches that costs were the largest
/// share of an uncached download in perf; an indexed read of a few pages in
/// WAL mode, which never waits for writers, costs less than the switches.
struct Readers {
    path: PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

/// Idle reader connections kept at most.
const READERS: usize = 8;

impl Readers {
    fn new(path: &Path) -> Readers {
        Readers {
            path: path.to_path_buf(),
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn connection(&self) -> rusqlite::Result<rusqlite::Connection> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(1))?;
        Ok(conn)
    }

    fn download_row(
        &self,
        sql: &str,
        text: [&str; 4],
        index: i64,
    ) -> crate::Result<Option<crate::records::DownloadRow>> {
        use rusqlite::OptionalExtension;
        let conn = self.connection()?;
        let row = {
            let mut statement = conn.prepare_cached(sql)?;
            // By name: SQLite numbers `$N` parameters in order of appearance.
            let [a, b, c, d] = text;
            statement
                .query_row(
                    rusqlite::named_params! {"$1": a, "$2": b, "$3": c, "$4": d, "$5": index},
                    download_row,
                )
                .optional()?
        };
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < READERS {
                idle.push(conn);
            }
        }
        Ok(row)
    }
}

/// The download statement's columns, in order (`download_by!`): read by
/// position, since finding a column by name was a tenth of an uncached
/// download (scripts/count-instructions -- --cache-bytes 0).
const DOWNLOAD_COLUMNS: [&str; 20] = [
    "app_id",
    "tenant_key",
    "name",
    "kind",
    "scopes",
    "secret_sha256",
    "tokens_not_before",
    "disabled_at",
    "created_at",
    "h_id",
    "h_tenant_key",
    "h_name",
    "h_token_sha256",
    "message_type",
    "image_count",
    "sha256",
    "size",
    "content_type",
    "file_name",
    "deleted_at",
];

fn download_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<crate::records::DownloadRow> {
    use crate::records::{AppRow, CredentialsRow, DownloadRow};
    // Every test build checks that the statement still has these columns.
    debug_assert_eq!(row.as_ref().column_names(), DOWNLOAD_COLUMNS);
    Ok(DownloadRow {
        credentials: CredentialsRow {
            app: AppRow {
                app_id: row.get(0)?,
                tenant_key: row.get(1)?,
                name: row.get(2)?,
                kind: row.get(3)?,
                scopes: row.get(4)?,
                secret_sha256: row.get(5)?,
                tokens_not_before: row.get(6)?,
                disabled_at: row.get(7)?,
                created_at: row.get(8)?,
            },
            h_id: row.get(9)?,
            h_tenant_key: row.get(10)?,
            h_name: row.get(11)?,
            h_token_sha256: row.get(12)?,
        },
        message_type: row.get(13)?,
        image_count: row.get(14)?,
        sha256: row.get(15)?,
        size: row.get(16)?,
        content_type: row.get(17)?,
        file_name: row.get(18)?,
        deleted_at: row.get(19)?,
    })
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
