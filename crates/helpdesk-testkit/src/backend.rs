//! The backend the tests run on, chosen by the environment that
//! `scripts/test` sets for each pass of its backend matrix:
//!
//! - `HELPDESK_TEST_BACKEND`: `embedded` (the default: SQLite and files in the
//!   data dir) or `postgres-s3`;
//! - `HELPDESK_TEST_POSTGRES_URL`: a PostgreSQL server (`postgres://USER@HOST:PORT`)
//!   where each data dir gets a database of its own;
//! - `HELPDESK_TEST_S3_URL`: a bucket (`s3://BUCKET`) where each data dir gets
//!   a prefix of its own; the `AWS_*` variables say how to reach it.
//!
//! A test names its data dir as before; every process started on that dir
//! (server, admin, a restart) finds the same database and prefix.

use std::path::Path;

use futures::TryStreamExt;
use helpdesk_store::{Record, RecordKind, StorageConfig, Stores};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    PostgresS3 { postgres: String, s3: String },
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The backend of this pass.
pub fn backend() -> Backend {
    match var("HELPDESK_TEST_BACKEND").as_deref() {
        None | Some("embedded") => Backend::Embedded,
        Some("postgres-s3") => match postgres_s3() {
            Some(b) => b,
            None => panic!(
                "HELPDESK_TEST_BACKEND=postgres-s3 needs HELPDESK_TEST_POSTGRES_URL and HELPDESK_TEST_S3_URL: run ./scripts/test, which starts both"
            ),
        },
        Some(other) => panic!("HELPDESK_TEST_BACKEND is embedded or postgres-s3, not {other:?}"),
    }
}

/// PostgreSQL and S3, when `scripts/test` started them, whatever the pass.
pub fn postgres_s3() -> Option<Backend> {
    Some(Backend::PostgresS3 {
        postgres: var("HELPDESK_TEST_POSTGRES_URL")?,
        s3: var("HELPDESK_TEST_S3_URL")?,
    })
}

/// True when this pass runs on PostgreSQL and S3. Tests of scale-out alone
/// run only then; elsewhere they say why they did not run, and under
/// `CI=true` a missing service fails them.
pub fn scale_out_pass(test: &str) -> bool {
    if backend() != Backend::Embedded {
        return true;
    }
    if postgres_s3().is_none() && var("CI").as_deref() == Some("true") {
        panic!("{test}: PostgreSQL and S3 are not running; ./scripts/test starts them");
    }
    eprintln!(
        "SKIPPED {test}: it runs in the postgres-s3 pass of ./scripts/test (HELPDESK_TEST_BACKEND=postgres-s3)"
    );
    false
}

/// A name for what a data dir stands for, the same in every process.
fn name_of(data_dir: &Path) -> String {
    let path = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(path.to_string_lossy().as_bytes());
    format!("t_{}", &hex::encode(digest)[..20])
}

/// The storage of `data_dir` on this pass's backend.
pub fn storage(data_dir: &Path) -> StorageConfig {
    storage_on(&backend(), data_dir)
}

/// The storage of `data_dir` on `backend`, creating its database if needed.
pub fn storage_on(backend: &Backend, data_dir: &Path) -> StorageConfig {
    std::fs::create_dir_all(data_dir).expect("data dir");
    match backend {
        Backend::Embedded => StorageConfig {
            data_dir: data_dir.to_path_buf(),
            database_url: None,
            blob_url: None,
            durable: true,
        },
        Backend::PostgresS3 { postgres, s3 } => {
            let name = name_of(data_dir);
            create_database(postgres, &name);
            StorageConfig {
                data_dir: data_dir.to_path_buf(),
                database_url: Some(format!("{}/{name}", postgres.trim_end_matches('/'))),
                blob_url: Some(format!("{}/{name}", s3.trim_end_matches('/'))),
                durable: true,
            }
        }
    }
}

/// A storage config as flags of the `helpdesk` binary.
pub fn config_args(config: &StorageConfig) -> Vec<String> {
    let mut args = vec![
        "--data-dir".to_string(),
        config.data_dir.to_string_lossy().into_owned(),
    ];
    if let Some(url) = &config.database_url {
        args.extend(["--database-url".to_string(), url.clone()]);
    }
    if let Some(url) = &config.blob_url {
        args.extend(["--blob-url".to_string(), url.clone()]);
    }
    args
}

/// Creates database `name` unless it exists. Runs on a thread of its own, so
/// that sync and async tests alike can call it.
fn create_database(server: &str, name: &str) {
    let server = server.to_string();
    let name = name.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Connection;
            let url = format!("{}/postgres", server.trim_end_matches('/'));
            let mut conn = sqlx::PgConnection::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url}: {e}"));
            match sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .await
            {
                Ok(_) => {}
                Err(sqlx::Error::Database(e))
                    if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
                Err(e) => panic!("CREATE DATABASE {name}: {e}"),
            }
        })
    })
    .join()
    .expect("create database");
}

/// Opens the storage of `data_dir` on this pass's backend.
pub async fn open(data_dir: &Path) -> Stores {
    open_config(&storage(data_dir)).await
}

pub async fn open_config(config: &StorageConfig) -> Stores {
    helpdesk_store::open(config).await.expect("open storage")
}

/// How many objects blob storage holds.
pub async fn object_count(stores: &Stores) -> usize {
    let all: Vec<String> = stores.blobs.list().try_collect().await.expect("list blobs");
    all.len()
}

/// Every row of one table.
pub async fn records(stores: &Stores, kind: RecordKind) -> Vec<Record> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = stores
            .meta
            .export(kind, after.as_ref(), 1000)
            .await
            .expect("export");
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        all.extend(page);
    }
    all
}

/// How many rows of each table the metadata store holds.
pub async fn row_counts(stores: &Stores) -> Vec<(RecordKind, usize)> {
    let mut counts = Vec::new();
    for kind in RecordKind::ALL {
        counts.push((kind, records(stores, kind).await.len()));
    }
    counts
}

/// Everything the metadata store holds, as text: on the embedded backend the
/// database files themselves (free pages and the WAL included), elsewhere
/// every row of every table.
pub async fn stored_metadata(data_dir: &Path) -> Vec<u8> {
    if backend() == Backend::Embedded {
        let mut db = Vec::new();
        for name in ["helpdesk.db", "helpdesk.db-wal"] {
            if let Ok(bytes) = std::fs::read(data_dir.join(name)) {
                db.extend(bytes);
            }
        }
        return db;
    }
    let stores = open(data_dir).await;
    let mut text = Vec::new();
    for kind in RecordKind::ALL {
        for record in records(&stores, kind).await {
            text.extend(format!("{record:?}\n").into_bytes());
        }
    }
    text
}
