//! `/healthz` and `/readyz` on a real server, while its storage breaks and
//! comes back. The embedded backend, whose files a test can take away; the
//! S3 case is in scale_out.rs's outage test.

use helpdesk_testkit::binary::*;
use helpdesk_testkit::Backend;
use serde_json::{json, Value};

async fn probe(base: &str, path: &str) -> (u16, Value) {
    let res = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = res.status().as_u16();
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    (status, res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_follows_the_database_and_the_blob_directory_and_liveness_stays() {
    let dir = tempfile::tempdir().unwrap();
    let storage = helpdesk_testkit::storage_on(&Backend::Embedded, dir.path());
    let server = serve(&storage, &[]);
    let base = server.base.as_str();
    let ready = (200, json!({"status": "ready"}));
    assert_eq!(
        probe(base, "/healthz").await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(probe(base, "/readyz").await, ready);

    // The blob directory stops taking files: a file stands in its place.
    let blobs = dir.path().join("blobs");
    let away = dir.path().join("blobs.away");
    std::fs::rename(&blobs, &away).unwrap();
    std::fs::write(&blobs, b"not a directory").unwrap();
    assert_eq!(
        probe(base, "/readyz").await,
        (503, json!({"status": "not ready", "failing": ["blobs"]}))
    );
    assert_eq!(probe(base, "/healthz").await.0, 200, "alive all the same");
    std::fs::remove_file(&blobs).unwrap();
    std::fs::rename(&away, &blobs).unwrap();
    assert_eq!(probe(base, "/readyz").await, ready);

    // The database file is gone (open connections would still read it).
    let db = dir.path().join("helpdesk.db");
    let db_away = dir.path().join("helpdesk.db.away");
    std::fs::rename(&db, &db_away).unwrap();
    assert_eq!(
        probe(base, "/readyz").await,
        (503, json!({"status": "not ready", "failing": ["database"]}))
    );
    std::fs::rename(&db_away, &db).unwrap();
    assert_eq!(probe(base, "/readyz").await, ready);

    // The reason is in the log, not in the answer.
    let (_, log) = server.terminate();
    assert!(
        log.contains("not ready: blobs") && log.contains("not ready: database"),
        "{log}"
    );
}
