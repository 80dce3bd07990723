//! Crash rounds: `kill -9` while writers upload and post, then a restart.
//! After every restart each write acknowledged in that round is served byte
//! for byte, no live row points at a missing object, and no upload spool is
//! older than the start-up sweep allows; at the end every write acknowledged
//! in any round is checked again. `CRASH_ROUNDS=N` runs N (default 50).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use helpdesk_testkit::binary::*;
use rand::{Rng, SeedableRng};

/// A write the server acknowledged.
#[derive(Clone)]
enum Acked {
    /// An upload's image_key and its bytes.
    Upload(String, Vec<u8>),
    /// A posted image message and its bytes.
    Post(String, Vec<u8>),
}

/// Writes until the server goes away; every acknowledged write is pushed.
async fn writer(
    base: String,
    party: Party,
    ticket: String,
    seed: u64,
    acked: Arc<Mutex<Vec<Acked>>>,
) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // No retries: a write the kill interrupted is simply not acknowledged.
    let c = party
        .builder(&base)
        .retry_policy(helpdesk_client::RetryPolicy::none())
        .build()
        .unwrap();
    loop {
        // Some contents repeat across writers: shared blobs.
        let bytes = png(rng.gen_range(0..40), rng.gen_range(100..60_000));
        let Ok(key) = c.upload_image(bytes.clone(), "crash.png").await else {
            return;
        };
        acked
            .lock()
            .unwrap()
            .push(Acked::Upload(key.clone(), bytes.clone()));
        let content = helpdesk_client::MessageContent::Image { image_key: key };
        let Ok(msg) = c.create_message(&ticket, &content).await else {
            return;
        };
        acked.lock().unwrap().push(Acked::Post(msg, bytes));
    }
}

/// Checks acknowledged writes; the losses. A posted image must download
/// byte for byte; an upload must still be recorded for its tenant with the
/// SHA-256 of its bytes (whose object `verify` then checks by its SHA-256).
async fn lost(
    base: &str,
    dir: &std::path::Path,
    party: &Party,
    ticket: &str,
    acked: &[Acked],
) -> Vec<String> {
    let caller = Caller::of(party, base).await;
    let stores = helpdesk_testkit::open(dir).await;
    let mut lost = Vec::new();
    let uploads: Vec<(&String, &Vec<u8>)> = acked
        .iter()
        .filter_map(|a| match a {
            Acked::Upload(key, bytes) => Some((key, bytes)),
            Acked::Post(..) => None,
        })
        .collect();
    let keys: Vec<String> = uploads.iter().map(|(k, _)| (*k).clone()).collect();
    let found = stores.meta.images(&party.tenant_key, &keys).await.unwrap();
    for (key, bytes) in uploads {
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        if !found
            .iter()
            .any(|i| &i.image_key == key && i.sha256 == sha256)
        {
            lost.push(format!("upload {key}"));
        }
    }
    for a in acked {
        if let Acked::Post(msg, bytes) = a {
            let (status, _, _, body) = caller.image(base, ticket, msg).await;
            if status != 200 || body != *bytes {
                lost.push(format!("message {msg}: HTTP {status}"));
            }
        }
    }
    lost
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_rounds_during_uploads_and_posts_lose_no_acknowledged_write() {
    let rounds: usize = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), &[]);
    let listen = server.base.trim_start_matches("http://").to_string();
    let base = server.base.clone();
    let party = provision(dir.path());
    let ticket = open_ticket(&party.client(&base)).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(50);
    let mut all: Vec<Acked> = Vec::new();
    let mut losses = Vec::new();
    for round in 0..rounds {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                tokio::spawn(writer(
                    base.clone(),
                    party.clone(),
                    ticket.clone(),
                    (round * 4 + w) as u64,
                    acked.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(50..300))).await;
        // Each round kills a server that has acknowledged a write in it, so
        // that no round is empty however slow the backend (PostgreSQL and
        // S3 on a busy 2-core machine acknowledged 47 writes in 50 rounds
        // of the plain delay); the writers go on meanwhile.
        let first_ack = tokio::time::timeout(Duration::from_secs(30), async {
            while acked.lock().unwrap().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(
            first_ack.is_ok(),
            "round {round}: no write acknowledged in 30 s"
        );
        server.kill();
        for w in writers {
            w.await.unwrap();
        }
        server = serve_at(dir.path(), &listen, &[]);
        let acked = acked.lock().unwrap().clone();
        losses.extend(
            lost(&base, dir.path(), &party, &ticket, &acked)
                .await
                .into_iter()
                .map(|l| format!("round {round}: {l}")),
        );
        // Every live row has its object, of its size (the bytes are checked at the end).
        let stores = helpdesk_testkit::open(dir.path()).await;
        let report = helpdesk_store::backup::verify(&stores, false, |_| {})
            .await
            .unwrap();
        assert!(report.ok(), "round {round}: {report:?}");
        // Spools a crash left are younger than the sweep's hour.
        for entry in std::fs::read_dir(dir.path().join("tmp")).unwrap().flatten() {
            let age = SystemTime::now()
                .duration_since(entry.metadata().unwrap().modified().unwrap())
                .unwrap_or_default();
            assert!(
                age < Duration::from_secs(3600),
                "a stale spool: {:?}",
                entry.path()
            );
        }
        all.extend(acked);
    }
    // Once more after the last restart, everything; and every object by
    // its SHA-256 (the uploads' among them).
    losses.extend(
        lost(&base, dir.path(), &party, &ticket, &all)
            .await
            .into_iter()
            .map(|l| format!("at the end: {l}")),
    );
    let stores = helpdesk_testkit::open(dir.path()).await;
    let report = helpdesk_store::backup::verify(&stores, true, |_| {})
        .await
        .unwrap();
    assert!(report.ok(), "at the end: {report:?}");
    let uploads = all
        .iter()
        .filter(|a| matches!(a, Acked::Upload(..)))
        .count();
    eprintln!(
        "crash rounds: {rounds} kill -9 rounds, {} acknowledged writes ({uploads} uploads, {} posts), {} lost",
        all.len(),
        all.len() - uploads,
        losses.len()
    );
    assert!(losses.is_empty(), "{losses:#?}");
    server.terminate();
}
