//! Several replicas on one database and one bucket, migration between
//! backends, and storage outages: real processes over real HTTP. Most run
//! only in the postgres-s3 pass of `./scripts/test`.

use std::sync::Arc;
use std::time::Duration;

use helpdesk_store::records::Record;
use helpdesk_store::RecordKind;
use helpdesk_testkit::binary::*;
use helpdesk_testkit::{scale_out_pass, Backend};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_starting_at_once_on_an_empty_database_both_come_up() {
    // On every backend: SQLite used to fail with "table server_keys already exists".
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| serve(dir.path(), &[]));
            let b = s.spawn(|| serve(dir.path(), &[]));
            (a.join().unwrap(), b.join().unwrap())
        });
        // Both signed with the one key: a token from A is valid on B.
        let party = provision(dir.path());
        let caller = Caller::of(&party, &a.base).await;
        let (status, code, _, _) = caller.image(&b.base, "7000000000000000000", "om_x").await;
        assert_eq!((status, code), (404, 154004));
        a.terminate();
        b.terminate();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_share_tokens_images_deletes_and_revocations() {
    if !scale_out_pass("replicas_share_tokens_images_deletes_and_revocations") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let a = serve(data, &[]);
    let b = serve(data, &[]);
    let party = provision(data);

    // Upload and post through A; the token from A works on B.
    let via_a = party.client(&a.base);
    let ticket = open_ticket(&via_a).await;
    let bytes = png(3, 200_000);
    let msg = post_image(&via_a, &ticket, &bytes, "a.png").await;
    let caller = Caller::of(&party, &a.base).await;
    let (status, _, _, body) = caller.image(&b.base, &ticket, &msg).await;
    assert_eq!(status, 200);
    assert!(body == bytes, "B serves what A took, byte for byte");

    // A delete made by the admin command reaches both before it returns.
    admin(
        data,
        &["image", "delete", "--ticket", &ticket, "--msg", &msg],
    );
    for base in [&a.base, &b.base] {
        assert_eq!(
            caller.image(base, &ticket, &msg).await.1,
            154404,
            "on {base}"
        );
    }

    // So does a revocation: A's token stops working on both.
    let msg2 = post_image(&via_a, &ticket, &png(4, 1000), "b.png").await;
    assert_eq!(caller.image(&b.base, &ticket, &msg2).await.0, 200);
    admin(data, &["app", "revoke-tokens", "--app", &party.app_id]);
    for base in [&a.base, &b.base] {
        assert_eq!(
            caller.image(base, &ticket, &msg2).await.1,
            99991663,
            "on {base}"
        );
    }
    a.terminate();
    b.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_uploads_and_deletes_of_the_same_bytes_never_leave_an_image_without_its_object()
{
    if !scale_out_pass("concurrent_uploads_and_deletes_of_the_same_bytes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let replicas = [serve(data, &[]), serve(data, &[])];
    let party = provision(data);
    let clients: Vec<_> = replicas.iter().map(|r| party.client(&r.base)).collect();
    let ticket = open_ticket(&clients[0]).await;
    let caller = Arc::new(Caller::of(&party, &replicas[0].base).await);
    // Two contents, uploaded by every writer in turn and deleted as soon as
    // posted, so their last reference dies again and again while another
    // upload of the same bytes is under way.
    let contents: Arc<Vec<Vec<u8>>> = Arc::new((0..2).map(|i| png(100 + i, 30_000)).collect());
    let stores = Arc::new(helpdesk_testkit::open(data).await);

    let (posted_tx, mut posted_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut writers = Vec::new();
    for w in 0..6 {
        let c = clients[w % 2].clone();
        let other = replicas[(w + 1) % 2].base.clone();
        let ticket = ticket.clone();
        let contents = contents.clone();
        let posted = posted_tx.clone();
        let caller = caller.clone();
        writers.push(tokio::spawn(async move {
            let mut violations = Vec::new();
            for round in 0..15 {
                let bytes = &contents[round % contents.len()];
                // A deletion may retire the bytes between upload and post:
                // then the post is refused, which is fine; what matters is
                // that nothing accepted ever lacks its object.
                let Ok(image_key) = c.upload_image(bytes.clone(), "race.png").await else {
                    continue;
                };
                let Ok(msg) = c
                    .create_message(
                        &ticket,
                        &helpdesk_client::MessageContent::Image { image_key },
                    )
                    .await
                else {
                    continue;
                };
                let _ = posted.send(msg.clone());
                // Through the other replica: the image, or deleted; never a
                // row without its bytes (500).
                match caller.image(&other, &ticket, &msg).await {
                    (200, _, _, body) if &body == bytes => {}
                    (401, 154404, _, _) => {}
                    (status, code, log_id, _) => {
                        violations.push(format!("{msg}: {status}/{code} log id {log_id}"))
                    }
                }
            }
            violations
        }));
    }
    drop(posted_tx);
    // One deleter, as the admin command does it, deleting all that is posted.
    let deleter = {
        let stores = stores.clone();
        let ticket = ticket.clone();
        tokio::spawn(async move {
            let mut deleted = 0;
            while let Some(msg) = posted_rx.recv().await {
                helpdesk_store::cleanup::delete_images(
                    stores.meta.as_ref(),
                    stores.blobs.as_ref(),
                    &ticket,
                    helpdesk_core::ids::MessageRef::parse(&msg),
                    None,
                )
                .await
                .expect("delete");
                deleted += 1;
            }
            deleted
        })
    };
    let mut violations = Vec::new();
    for w in writers {
        violations.extend(w.await.unwrap());
    }
    let handled = deleter.await.unwrap();
    assert!(
        violations.is_empty(),
        "images served without their bytes: {violations:#?}"
    );
    assert!(handled > 20, "only {handled} messages were posted");
    // Uploads that were never posted are live rows too.
    for (i, bytes) in contents.iter().enumerate() {
        clients[i % 2]
            .upload_image(bytes.clone(), "last.png")
            .await
            .expect("upload");
    }

    // Every live row has its object with the right size.
    let mut live = 0;
    for kind in [RecordKind::Images, RecordKind::MessageImages] {
        for record in helpdesk_testkit::records(&stores, kind).await {
            let (sha256, size, deleted) = match &record {
                Record::Image(r) => (&r.sha256, r.size, r.deleted_at.is_some()),
                Record::MessageImage(r) => (&r.sha256, r.size, r.deleted_at.is_some()),
                _ => unreachable!(),
            };
            if !deleted {
                live += 1;
                assert_eq!(
                    stores.blobs.stat(sha256).await.unwrap(),
                    Some(size as u64),
                    "a live {kind:?} row lacks its object {sha256}"
                );
            }
        }
    }
    assert!(live > 0);
    eprintln!("race: {handled} messages posted, {live} live rows, every one with its object");
    for r in replicas {
        r.terminate();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_killed_midway_then_rerun_moves_everything_and_keeps_credentials() {
    if !scale_out_pass("a_migration_killed_midway_then_rerun") {
        return;
    }
    let Some(pg_s3) = helpdesk_testkit::postgres_s3() else {
        unreachable!()
    };
    let source_dir = tempfile::tempdir().unwrap();
    let source = helpdesk_testkit::storage_on(&Backend::Embedded, source_dir.path());
    let server = serve(&source, &[]);
    let party = provision(&source);
    let c = party.client(&server.base);
    let ticket = open_ticket(&c).await;
    let mut posted = Vec::new();
    for i in 0..120u32 {
        let bytes = png((i % 251) as u8, 2_000 + i as usize * 37);
        posted.push((post_image(&c, &ticket, &bytes, "m.png").await, bytes));
    }
    // One deleted image must stay deleted after the move.
    let (gone_msg, _) = posted.pop().unwrap();
    admin(
        &source,
        &["image", "delete", "--ticket", &ticket, "--msg", &gone_msg],
    );
    let caller = Caller::of(&party, &server.base).await;
    server.terminate();

    let dest_dir = tempfile::tempdir().unwrap();
    let dest = helpdesk_testkit::storage_on(&pg_s3, dest_dir.path());
    let migrate_args: Vec<String> = ["migrate".to_string()]
        .into_iter()
        .chain(helpdesk_testkit::config_args(&source))
        .chain([
            "--to-database-url".into(),
            dest.database_url.clone().unwrap(),
            "--to-blob-url".into(),
            dest.blob_url.clone().unwrap(),
        ])
        .collect();

    // Killed once midway, while it copies objects.
    let mut first = tokio::process::Command::new(bin())
        .args(&migrate_args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut progress = tokio::io::BufReader::new(first.stderr.take().unwrap()).lines();
    while let Some(line) = progress.next_line().await.unwrap() {
        if line.starts_with("migrate: objects:") {
            break;
        }
    }
    first.kill().await.unwrap();
    let dest_stores = helpdesk_testkit::open_config(&dest).await;
    let objects_after_kill = helpdesk_testkit::object_count(&dest_stores).await;
    eprintln!(
        "migration killed after {objects_after_kill} of {} objects",
        posted.len()
    );
    assert!(
        objects_after_kill < posted.len(),
        "killed before the end: {objects_after_kill} objects copied"
    );

    // Re-run: it finishes; again: it copies nothing.
    let run = |args: Vec<String>| async move {
        let out = tokio::process::Command::new(bin())
            .args(&args)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        serde_json::from_str::<Value>(stdout.lines().last().unwrap()).unwrap()
    };
    let second = run(migrate_args.clone()).await;
    // The deleted image's bytes left storage with it: one object fewer.
    assert_eq!(second["objects"]["source"], posted.len());
    let third = run(migrate_args.clone()).await;
    for (table, count) in third.as_object().unwrap() {
        assert_eq!(count["copied"], 0, "a re-run copied {table}: {third}");
    }

    // Equal counts, table by table.
    let source_stores = helpdesk_testkit::open_config(&source).await;
    assert_eq!(
        helpdesk_testkit::row_counts(&source_stores).await,
        helpdesk_testkit::row_counts(&dest_stores).await
    );

    // The old token and credential work on the new backends, and every
    // image is served byte for byte; the deleted one stays deleted.
    let moved = serve(&dest, &[]);
    for (msg, bytes) in &posted {
        let (status, _, _, body) = caller.image(&moved.base, &ticket, msg).await;
        assert_eq!(status, 200);
        assert!(&body == bytes, "{msg} byte for byte");
    }
    assert_eq!(
        caller.image(&moved.base, &ticket, &gone_msg).await.1,
        154404
    );
    // The source is untouched and still serves.
    let old = serve(&source, &[]);
    assert_eq!(caller.image(&old.base, &ticket, &posted[0].0).await.0, 200);
    old.terminate();
    moved.terminate();
}

/// A TCP relay to an upstream that can be switched off (every connection
/// cut, new ones refused) and on again on the same port.
struct Relay {
    addr: std::net::SocketAddr,
    upstream: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(upstream: &str) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut relay = Relay {
            addr: listener.local_addr().unwrap(),
            upstream: upstream.to_string(),
            task: None,
        };
        relay.run(listener);
        relay
    }

    fn run(&mut self, listener: tokio::net::TcpListener) {
        let upstream = self.upstream.clone();
        self.task = Some(tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                conns.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    /// Cuts every connection and stops listening.
    fn off(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn on(&mut self) {
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.run(listener);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storage_outage_answers_155000_with_a_log_id_and_recovers_without_a_restart() {
    if !scale_out_pass("a_storage_outage_answers_155000") {
        return;
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let mut relay = Relay::start(endpoint.trim_start_matches("http://")).await;
    let via_relay = format!("http://{}", relay.addr);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let server = serve_env(
        data,
        "127.0.0.1:0",
        &[],
        &[("AWS_ENDPOINT_URL", via_relay.as_str())],
    );
    let party = provision(data);
    let c = party.client(&server.base);
    let ticket = open_ticket(&c).await;
    let seen = png(7, 50_000);
    let seen_msg = post_image(&c, &ticket, &seen, "seen.png").await;
    let bytes = png(8, 50_000);
    let msg = post_image(&c, &ticket, &bytes, "outage.png").await;
    let caller = Caller::of(&party, &server.base).await;
    assert_eq!(caller.image(&server.base, &ticket, &seen_msg).await.0, 200);

    relay.off();
    // An image never downloaded must come from storage: 500/155000, with
    // the log id that names the failure in the server's log.
    let (status, code, log_id, _) = caller.image(&server.base, &ticket, &msg).await;
    assert_eq!((status, code), (500, 155000));
    assert!(!log_id.is_empty(), "the log id is the handle for support");
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains(&log_id), "the log line names {log_id}");
    // One downloaded before is still served, from the cache.
    assert_eq!(caller.image(&server.base, &ticket, &seen_msg).await.0, 200);
    let readyz = || async {
        let res = reqwest::get(format!("{}/readyz", server.base))
            .await
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    };
    assert_eq!(
        readyz().await,
        (
            503,
            serde_json::json!({"status": "not ready", "failing": ["blobs"]})
        )
    );

    relay.on().await;
    within(Duration::from_secs(15), "recovery", || async {
        caller.image(&server.base, &ticket, &msg).await.0 == 200
    })
    .await;
    let (_, _, _, body) = caller.image(&server.base, &ticket, &msg).await;
    assert!(body == bytes, "served byte for byte after the outage");
    assert_eq!(readyz().await.0, 200);
    server.terminate();
}
