//! Helpdesk events, from the subscription to the receiver: what is sent to
//! whom, sealed and signed as Feishu does, at least once, with the same
//! event_id on every attempt, in order per ticket, across a kill -9.

use std::time::Duration;

use helpdesk_testkit::binary::*;
use helpdesk_testkit::receiver::{Answer, Receiver};
use serde_json::{json, Value};

// Beside this file, not in tests/ (where Cargo would build it alone).
#[path = "events/history.rs"]
mod history;
#[path = "events/in_console.rs"]
mod in_console;

const KEY: &str = "an encrypt key";
const TOKEN: &str = "a verification token";
const WAIT: Duration = Duration::from_secs(10);

/// Every event, both kinds.
const BOTH: &[(&str, &str)] = &[
    ("helpdesk.ticket", "ticket.created_v1"),
    ("helpdesk.ticket_message", "ticket_message.created_v1"),
];

/// POSTs `events/{subscribe|unsubscribe}` as the party; (status, code).
async fn subscription(
    base: &str,
    party: &Party,
    verb: &str,
    events: &[(&str, &str)],
) -> (u16, i64) {
    let caller = Caller::of(party, base).await;
    let events: Vec<Value> = events
        .iter()
        .map(|(t, s)| json!({"type": t, "subtype": s}))
        .collect();
    let res = reqwest::Client::new()
        .post(format!("{base}/open-apis/helpdesk/v1/events/{verb}"))
        .bearer_auth(&caller.token)
        .header("X-Lark-Helpdesk-Authorization", &caller.credential)
        .json(&json!({ "events": events }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (status, body["code"].as_i64().unwrap())
}

async fn subscribe(base: &str, party: &Party) {
    assert_eq!(subscription(base, party, "subscribe", BOTH).await, (200, 0));
}

/// Points the app's events at the receiver (which must pass URL verification).
fn configure<T: Target + ?Sized>(target: &T, party: &Party, to: &Receiver, key: &str, token: &str) {
    let out = admin(
        target,
        &[
            "app",
            "events",
            "--app",
            &party.app_id,
            "--url",
            &to.url,
            "--encrypt-key",
            key,
            "--verification-token",
            token,
        ],
    );
    assert_eq!(out["url"], to.url.as_str());
    assert!(
        key.is_empty() || !out.to_string().contains(key),
        "the key is never printed"
    );
}

/// Another app of the party's tenant, using the same helpdesk.
fn sibling<T: Target + ?Sized>(target: &T, party: &Party) -> Party {
    let app = admin(
        target,
        &[
            "app",
            "create",
            "--tenant",
            &party.tenant_key,
            "--name",
            "sibling",
        ],
    );
    Party {
        app_id: s(&app["app_id"]).into(),
        app_secret: s(&app["app_secret"]).into(),
        ..party.clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribed_apps_get_both_events_sealed_signed_and_in_order_and_nobody_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    subscribe(&base, &party).await;
    // Same tenant, an event URL, but no subscription: nothing.
    let unsubscribed = sibling(dir.path(), &party);
    let quiet = Receiver::start("", "t").await;
    configure(dir.path(), &unsubscribed, &quiet, "", "t");
    // Another tenant, subscribed to its own helpdesk: nothing of ours; and
    // it cannot subscribe through ours.
    let other = provision(dir.path());
    let theirs = Receiver::start("", "").await;
    configure(dir.path(), &other, &theirs, "", "");
    subscribe(&base, &other).await;
    let mut foreign = other.clone();
    foreign.helpdesk_id = party.helpdesk_id.clone();
    foreign.helpdesk_token = party.helpdesk_token.clone();
    assert_eq!(
        subscription(&base, &foreign, "subscribe", BOTH).await,
        (403, 154003)
    );
    // Malformed and unknown events are the API's 400.
    assert_eq!(
        subscription(&base, &party, "subscribe", &[]).await,
        (400, 154000)
    );
    assert_eq!(
        subscription(
            &base,
            &party,
            "subscribe",
            &[("helpdesk.notification", "notification.approve_v1")]
        )
        .await,
        (400, 154000)
    );

    let c = party.client(&base);
    let images = [png(1, 900), png(2, 1200), png(3, 1500)];
    let ImageTicket {
        ticket,
        image_msg,
        post_msg,
        keys,
    } = ticket_with_images(&c, &images).await;
    use helpdesk_client::MessageContent;

    let got = receiver.wait_for(4, WAIT).await;
    assert!(receiver.faults().is_empty(), "{:?}", receiver.faults());
    let types: Vec<&str> = got.iter().map(|r| r.event_type()).collect();
    assert_eq!(
        types,
        [
            "helpdesk.ticket.created_v1",
            "helpdesk.ticket_message.created_v1",
            "helpdesk.ticket_message.created_v1",
            "helpdesk.ticket_message.created_v1"
        ]
    );
    for r in &got {
        let h = &r.document["header"];
        assert_eq!(r.document["schema"], "2.0");
        assert_eq!(h["token"], TOKEN);
        assert_eq!(h["app_id"], party.app_id.as_str());
        assert_eq!(h["tenant_key"], party.tenant_key.as_str());
        assert_eq!(r.event_id().len(), 32);
        assert!(h["create_time"].as_str().unwrap().parse::<i64>().unwrap() > 1_600_000_000_000);
        for name in [
            "X-Lark-Request-Timestamp",
            "X-Lark-Request-Nonce",
            "X-Lark-Signature",
        ] {
            assert!(
                r.header_names.iter().any(|n| n == name),
                "{name} spelt as Feishu does: {:?}",
                r.header_names
            );
        }
    }
    let created = &got[0].document["event"];
    assert_eq!(created["ticket_id"], ticket.as_str());
    assert_eq!(created["helpdesk_id"], party.helpdesk_id.as_str());
    assert_eq!(created["guest"]["id"]["open_id"], GUEST);
    // The image and post events name their images; fetching them through
    // ticket_images gives the uploads back.
    let caller = Caller::of(&party, &base).await;
    let image_event = &got[2].document["event"];
    assert_eq!(image_event["message_id"], image_msg.as_str());
    assert_eq!(image_event["msg_type"], "image");
    assert_eq!(image_event["content"]["image_key"], keys[0].as_str());
    assert_eq!(image_event["ticket"]["ticket_id"], ticket.as_str());
    let (status, _, _, body) = caller.image(&base, &ticket, &image_msg).await;
    assert_eq!(status, 200);
    assert!(body == images[0]);
    let post_event = &got[3].document["event"];
    assert_eq!(post_event["message_id"], post_msg.as_str());
    assert_eq!(
        post_event["content"]["image_keys"],
        json!([keys[1], keys[2]])
    );
    assert_eq!(got[1].document["event"]["text"], "hello");

    // Unsubscribed: a new message makes no event.
    assert_eq!(
        subscription(&base, &party, "unsubscribe", BOTH).await,
        (200, 0)
    );
    c.create_message(&ticket, &MessageContent::Text("after".into()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(receiver.received().len(), 4);
    assert!(
        quiet.received().is_empty(),
        "an app that did not subscribe got events"
    );
    assert!(
        theirs.received().is_empty(),
        "another tenant's app got our events"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_update_is_an_event_after_the_tickets_earlier_ones_with_its_old_status() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    let mut all = BOTH.to_vec();
    all.push(("helpdesk.ticket", "ticket.updated_v1"));
    assert_eq!(
        subscription(&base, &party, "subscribe", &all).await,
        (200, 0)
    );
    let (agent_id, token) = agent_with_token(dir.path(), &party, "Ada Agent");
    let c = party.client(&base);
    let ticket = open_ticket(&c).await;
    c.create_message(&ticket, &helpdesk_client::MessageContent::Text("hi".into()))
        .await
        .unwrap();
    let put = |status: i64| {
        reqwest::Client::new()
            .put(format!("{base}/open-apis/helpdesk/v1/tickets/{ticket}"))
            .bearer_auth(&token)
            .json(&json!({"status": status}))
            .send()
    };
    for status in [2, 50] {
        let res: Value = put(status).await.unwrap().json().await.unwrap();
        assert_eq!(res["code"], 0, "{res}");
    }

    let got = receiver.wait_for(4, WAIT).await;
    let types: Vec<&str> = got.iter().map(|r| r.event_type()).collect();
    assert_eq!(
        types,
        [
            "helpdesk.ticket.created_v1",
            "helpdesk.ticket_message.created_v1",
            "helpdesk.ticket.updated_v1",
            "helpdesk.ticket.updated_v1"
        ]
    );
    let taken = &got[2].document["event"];
    assert_eq!(taken["old_object"]["status"], 1);
    assert_eq!(taken["object"]["status"], 2);
    assert_eq!(
        taken["object"]["agents"][0]["id"]["open_id"],
        agent_id.as_str()
    );
    assert_eq!(taken["object"]["agents"][0]["name"], "Ada Agent");
    assert!(taken["object"]["closed_by"].is_null());
    let closed = &got[3].document["event"];
    assert_eq!(closed["old_object"]["status"], 2);
    assert_eq!(closed["object"]["status"], 50);
    assert_eq!(closed["object"]["ticket_id"], ticket.as_str());
    assert_eq!(closed["object"]["guest"]["id"]["open_id"], GUEST);
    assert_eq!(closed["object"]["guest"]["name"], "Guest _guest");
    assert_eq!(
        closed["object"]["closed_by"]["id"]["open_id"],
        agent_id.as_str()
    );
    assert!(
        closed["object"]["closed_at"].as_i64().unwrap()
            >= closed["object"]["created_at"].as_i64().unwrap()
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_receiver_gets_the_same_event_id_again_and_later_events_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--event-retry-schedule", "200ms,200ms,200ms"]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    subscribe(&base, &party).await;
    // The ticket's event fails twice, then everything is accepted.
    receiver.script(&[Answer::Status(500), Answer::Status(503)]);
    let c = party.client(&base);
    let ticket = open_ticket(&c).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        let text = format!("message {i}");
        c.create_message(
            &ticket,
            &helpdesk_client::MessageContent::Text(text.clone()),
        )
        .await
        .unwrap();
        sent.push(text);
    }
    let got = receiver.wait_for(8, WAIT).await;
    assert_eq!(got.len(), 8, "no event twice once accepted");
    // Three attempts of the first event, one id.
    assert_eq!(got[0].event_id(), got[1].event_id());
    assert_eq!(got[1].event_id(), got[2].event_id());
    assert_eq!(got[0].event_type(), "helpdesk.ticket.created_v1");
    // Then the messages, in the order they were posted.
    let texts: Vec<&str> = got[3..]
        .iter()
        .map(|r| r.document["event"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, sent);

    let listed = admin(dir.path(), &["events", "list", "--app", &party.app_id]);
    let events = listed["events"].as_array().unwrap();
    assert_eq!(events.len(), 6);
    let first = events.last().unwrap();
    assert_eq!(first["attempts"], 3);
    assert!(first["delivered_at"].is_i64());
    assert!(!listed.to_string().contains(TOKEN));
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spent_schedule_is_listed_as_failed_and_redelivered_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--event-retry-schedule", "100ms"]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let receiver = Receiver::start("", "").await;
    configure(dir.path(), &party, &receiver, "", "");
    subscribe(&base, &party).await;
    receiver.script(&[Answer::Status(500), Answer::Status(500)]);
    let ticket = open_ticket(&party.client(&base)).await;
    receiver.wait_for(2, WAIT).await;
    let mut failed = Value::Null;
    within(Duration::from_secs(5), "listed as failed", || {
        failed = admin(
            dir.path(),
            &["events", "list", "--app", &party.app_id, "--failed"],
        );
        let n = failed["events"].as_array().unwrap().len();
        async move { n == 1 }
    })
    .await;
    let event = &failed["events"][0];
    assert!(
        event["last_error"].as_str().unwrap().contains("500"),
        "{event}"
    );
    let id = s(&event["event_id"]).to_string();
    admin(dir.path(), &["events", "redeliver", "--event", &id]);
    let got = receiver.wait_for(3, WAIT).await;
    assert_eq!(got[2].event_id(), id);
    assert_eq!(got[2].document["event"]["ticket_id"], ticket.as_str());
    let err = admin_fails(dir.path(), &["events", "redeliver", "--event", "nope"]);
    assert!(err.contains("not found"), "{err}");
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_receiver_holds_up_only_its_own_app() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--event-timeout", "30s"]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let stuck = Receiver::start("", "").await;
    stuck.script(&[Answer::Hang, Answer::Hang, Answer::Hang]);
    configure(dir.path(), &party, &stuck, "", "");
    subscribe(&base, &party).await;
    let healthy = sibling(dir.path(), &party);
    let fine = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &healthy, &fine, KEY, TOKEN);
    subscribe(&base, &healthy).await;
    let c = party.client(&base);
    for _ in 0..3 {
        let ticket = open_ticket(&c).await;
        c.create_message(&ticket, &helpdesk_client::MessageContent::Text("x".into()))
            .await
            .unwrap();
    }
    // Six events for the healthy app, while the other's receiver hangs.
    fine.wait_for(6, WAIT).await;
    assert!(stuck.received().len() <= 3);
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_in_flight_when_the_server_is_killed_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--event-timeout", "2s", "--event-retry-schedule", "200ms"];
    let server = serve(dir.path(), &flags);
    let listen = server.base.trim_start_matches("http://").to_string();
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    subscribe(&server.base, &party).await;
    receiver.script(&[Answer::Hang]);
    let ticket = open_ticket(&party.client(&server.base)).await;
    // Committed, and its delivery under way: the receiver holds it.
    let first = receiver.wait_for(1, WAIT).await;
    server.kill();
    let server = serve_at(dir.path(), &listen, &flags);
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(
        got[1].event_id(),
        first[0].event_id(),
        "the same event, again"
    );
    assert_eq!(got[1].document["event"]["ticket_id"], ticket.as_str());
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_deliver_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = serve(dir.path(), &[]);
    let b = serve(dir.path(), &[]);
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    subscribe(&a.base, &party).await;
    // Tickets opened through both replicas; both deliver.
    for i in 0..12 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        open_ticket(&party.client(base)).await;
    }
    let got = receiver.wait_for(12, WAIT).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.event_id().to_string())
        .collect();
    assert_eq!(got.len(), 12);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "each event once");
    a.terminate();
    b.terminate();
}
