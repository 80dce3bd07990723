//! `admin events show`: each delivery attempt of an event as the receiver
//! answered it (status, headers, body) or why it could not, a redelivery
//! as one more attempt of the same event_id.

use std::time::Duration;

use helpdesk_testkit::binary::*;
use helpdesk_testkit::receiver::{Answer, Receiver};
use serde_json::Value;

use super::{configure, sibling, subscribe, KEY, TOKEN, WAIT};

/// `admin events show`, polled until the event has `n` attempts.
async fn shown_with<T: Target + ?Sized>(dir: &T, event_id: &str, n: usize) -> Value {
    let mut shown = Value::Null;
    within(WAIT, &format!("{n} attempts of {event_id}"), || {
        shown = admin(dir, &["events", "show", "--event-id", event_id]);
        let got = shown["attempts"].as_array().unwrap().len();
        async move { got >= n }
    })
    .await;
    shown
}

/// A header's value from `[[name, value], ...]`, by its exact spelling.
fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_array()
        .unwrap()
        .iter()
        .find_map(|pair| (pair[0] == name).then(|| pair[1].as_str().unwrap()))
}

#[tokio::test(flavor = "multi_thread")]
async fn each_attempt_is_shown_with_the_receivers_answer_and_a_redelivery_adds_one_more() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--event-retry-schedule", "200ms,200ms"]);
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    subscribe(&server.base, &party).await;
    receiver.script(&[
        Answer::Reply(500, "busy, try later"),
        Answer::Reply(500, "still busy"),
    ]);
    let ticket = open_ticket(&party.client(&server.base)).await;
    let got = receiver.wait_for(3, WAIT).await;
    let event_id = got[0].event_id().to_string();

    let shown = shown_with(dir.path(), &event_id, 3).await;
    let attempts = shown["attempts"].as_array().unwrap();
    let seen: Vec<(i64, i64, &str)> = attempts
        .iter()
        .map(|a| {
            (
                a["attempt"].as_i64().unwrap(),
                a["status"].as_i64().unwrap(),
                s(&a["body"]),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, 500, "busy, try later"),
            (2, 500, "still busy"),
            (3, 200, "{\"msg\":\"success\"}")
        ]
    );
    for a in attempts {
        assert_eq!(a["body_encoding"], "utf-8", "{a}");
        assert_eq!(a["body_truncated"], false, "{a}");
        assert!(a["error"].is_null(), "{a}");
        assert!(a["duration_ms"].as_i64().unwrap() >= 0);
        // What was sent: the signature headers, as spelt on the wire.
        let sent = &a["request_headers"];
        for name in [
            "X-Lark-Request-Timestamp",
            "X-Lark-Request-Nonce",
            "X-Lark-Signature",
        ] {
            assert!(header(sent, name).is_some(), "{name} in {sent}");
        }
        let ts: i64 = header(sent, "X-Lark-Request-Timestamp")
            .unwrap()
            .parse()
            .unwrap();
        assert!((ts * 1000 - a["started_at"].as_i64().unwrap()).abs() < 2000);
    }
    assert_eq!(
        header(&attempts[0]["response_headers"], "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        header(&attempts[2]["response_headers"], "content-type"),
        Some("application/json")
    );
    assert!(attempts[0]["started_at"].as_i64() < attempts[1]["started_at"].as_i64());
    let event = &shown["event"];
    assert_eq!(event["event_id"], event_id.as_str());
    assert_eq!(event["state"], "delivered");
    assert!(event["next_retry_at"].is_null());
    assert_eq!(event["payload"]["header"]["event_id"], event_id.as_str());
    assert_eq!(event["payload"]["event"]["ticket_id"], ticket.as_str());
    let printed = shown.to_string();
    assert!(
        !printed.contains(TOKEN) && !printed.contains(KEY),
        "{printed}"
    );

    // A redelivery: the same event_id once more, a fourth attempt.
    let out = admin(
        dir.path(),
        &["events", "redeliver", "--event-id", &event_id],
    );
    assert_eq!(out["redelivering"], true);
    let got = receiver.wait_for(4, WAIT).await;
    assert_eq!(got[3].event_id(), event_id);
    let shown = shown_with(dir.path(), &event_id, 4).await;
    let fourth = &shown["attempts"][3];
    assert_eq!(fourth["attempt"], 4);
    assert_eq!(fourth["status"], 200);
    assert_eq!(shown["event"]["state"], "delivered");

    let err = admin_fails(dir.path(), &["events", "show", "--event", "nope"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("not found") && err.contains("admin events list --app"),
        "{err}"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_answer_is_kept_cut_at_64_kib_and_a_refused_connection_is_an_attempt_with_its_error()
{
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--event-retry-schedule", "100ms"]);
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    subscribe(&server.base, &party).await;
    receiver.script(&[Answer::Large(200, 200 * 1024)]);
    // Another app, whose receiver is gone once its URL was verified.
    let gone = sibling(dir.path(), &party);
    let nobody = Receiver::start("", "").await;
    configure(dir.path(), &gone, &nobody, "", "");
    subscribe(&server.base, &gone).await;
    nobody.stop().await;
    open_ticket(&party.client(&server.base)).await;

    let got = receiver.wait_for(1, WAIT).await;
    let shown = shown_with(dir.path(), got[0].event_id(), 1).await;
    let huge = &shown["attempts"][0];
    assert_eq!(huge["status"], 200);
    assert_eq!(huge["body_bytes"], 64 * 1024);
    assert_eq!(huge["body_truncated"], true);
    assert_eq!(huge["body_encoding"], "utf-8");
    assert_eq!(s(&huge["body"]), "x".repeat(64 * 1024));
    assert_eq!(shown["event"]["state"], "delivered");

    let mut failed = Value::Null;
    within(
        Duration::from_secs(10),
        "the unreachable app's event failed",
        || {
            failed = admin(
                dir.path(),
                &["events", "list", "--app", &gone.app_id, "--failed"],
            );
            let n = failed["events"].as_array().unwrap().len();
            async move { n == 1 }
        },
    )
    .await;
    let event_id = s(&failed["events"][0]["event_id"]).to_string();
    let shown = admin(dir.path(), &["events", "show", "--event-id", &event_id]);
    assert_eq!(shown["event"]["state"], "failed");
    let attempts = shown["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "the first try and one retry: {shown}");
    for a in attempts {
        assert!(a["status"].is_null(), "{a}");
        let error = s(&a["error"]).to_lowercase();
        assert!(error.contains("refused"), "{error}");
        assert_eq!(a["body_bytes"], 0);
        assert!(header(&a["request_headers"], "Content-Type").is_some());
    }
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restored_backup_shows_the_attempts_an_operator_saw() {
    // Backup and restore are the embedded backend's, whatever the pass.
    let root = tempfile::tempdir().unwrap();
    let embedded = |name: &str| helpdesk_store::StorageConfig {
        data_dir: root.path().join(name),
        database_url: None,
        blob_url: None,
        durable: true,
    };
    let live = embedded("live");
    let server = serve(&live, &["--event-retry-schedule", "100ms"]);
    let party = provision(&live);
    let receiver = Receiver::start("", "").await;
    configure(&live, &party, &receiver, "", "");
    subscribe(&server.base, &party).await;
    receiver.script(&[Answer::Reply(503, "down for maintenance")]);
    open_ticket(&party.client(&server.base)).await;
    let got = receiver.wait_for(2, WAIT).await;
    let event_id = got[0].event_id().to_string();
    let before = shown_with(&live, &event_id, 2).await;
    assert_eq!(before["attempts"][0]["body"], "down for maintenance");
    server.terminate();

    let out = root.path().join("backup");
    let out = out.to_str().unwrap();
    admin(&live, &["backup", "--out", out]);
    let restored = embedded("restored");
    admin(&restored, &["restore", "--from", out]);
    let after = admin(&restored, &["events", "show", "--event-id", &event_id]);
    assert_eq!(after, before);
}

/// Moves an event's history `days` into the past, as if it were that old:
/// its attempts, and its delivery.
async fn age<T: Target + ?Sized>(target: &T, event_id: &str, days: i64) {
    use sqlx::Connection;
    let shift = days * 86_400_000;
    let statements = [
        "UPDATE event_attempts SET started_at = started_at - $1 WHERE event_id = $2",
        "UPDATE events SET delivered_at = delivered_at - $1 WHERE event_id = $2",
    ];
    let storage = target.storage();
    for sql in statements {
        match &storage.database_url {
            None => {
                let db = storage.data_dir.join("helpdesk.db");
                let url = format!("sqlite://{}", db.display());
                let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let query = sqlx::query(sql).bind(shift).bind(event_id);
                query.execute(&mut db).await.unwrap();
            }
            Some(url) => {
                let mut db = sqlx::PgConnection::connect(url).await.unwrap();
                let query = sqlx::query(sql).bind(shift).bind(event_id);
                query.execute(&mut db).await.unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn history_older_than_event_history_days_is_pruned_and_the_rest_stays() {
    let dir = tempfile::tempdir().unwrap();
    let refused = std::process::Command::new(bin())
        .args(["serve", "--event-history-days", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--event-history-days"));

    let flags = ["--event-history-days", "2", "--retention-sweep-every", "1s"];
    let server = serve(dir.path(), &flags);
    let party = provision(dir.path());
    let receiver = Receiver::start("", "").await;
    configure(dir.path(), &party, &receiver, "", "");
    subscribe(&server.base, &party).await;
    let c = party.client(&server.base);
    open_ticket(&c).await;
    open_ticket(&c).await;
    let got = receiver.wait_for(2, WAIT).await;
    let (old, recent) = (got[0].event_id(), got[1].event_id());
    shown_with(dir.path(), old, 1).await;
    shown_with(dir.path(), recent, 1).await;
    age(dir.path(), old, 3).await;
    age(dir.path(), recent, 1).await;

    let ids = || {
        let listed = admin(dir.path(), &["events", "list", "--app", &party.app_id]);
        let ids: Vec<String> = listed["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| s(&e["event_id"]).to_string())
            .collect();
        ids
    };
    within(WAIT, "the old event pruned by a sweep", || {
        let left = ids();
        async move { left.len() < 2 }
    })
    .await;
    assert_eq!(ids(), [recent]);
    let err = admin_fails(dir.path(), &["events", "show", "--event-id", old]);
    assert!(err.contains("not found"), "{err}");
    let kept = admin(dir.path(), &["events", "show", "--event-id", recent]);
    assert_eq!(kept["attempts"].as_array().unwrap().len(), 1, "{kept}");
    server.terminate();
}
