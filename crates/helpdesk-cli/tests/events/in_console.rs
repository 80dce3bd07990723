//! An event in the inspector console: its attempts as the receiver
//! answered them, and Redeliver as one more, same event_id.

use helpdesk_testkit::binary::*;
use helpdesk_testkit::receiver::{Answer, Receiver};
use reqwest::header::{COOKIE, LOCATION, ORIGIN};

use super::{configure, subscribe, KEY, TOKEN, WAIT};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A session's Cookie header from a new `admin console-token create ARGS`
/// token, signed in at the console `url`.
async fn session_of(dir: &std::path::Path, url: &str, args: &[&str]) -> String {
    let token = admin(dir, &[&["console-token", "create"], args].concat())["token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = http()
        .get(format!("{url}/login?token={token}"))
        .send()
        .await
        .unwrap();
    res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The attempts an event's page lists: (number, status text).
fn attempts(html: &str) -> Vec<(String, String)> {
    html.match_indices("<li class=\"attempt\" data-attempt=\"")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            let n = rest.split('"').next().unwrap().to_string();
            let status = rest
                .split("<span class=\"status\">")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .unwrap_or("none")
                .to_string();
            (n, status)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_answered_500_500_200_shows_three_attempts_and_redeliver_adds_a_fourth() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[
            "--event-retry-schedule",
            "200ms,200ms",
            "--console-listen",
            "127.0.0.1:0",
        ],
    );
    let line = server.stdout_line("the console", |l| l.starts_with("helpdesk console on "));
    let url = line["helpdesk console on ".len()..].to_string();
    let party = provision(dir.path());
    let receiver = Receiver::start(KEY, TOKEN).await;
    configure(dir.path(), &party, &receiver, KEY, TOKEN);
    subscribe(&server.base, &party).await;
    receiver.script(&[
        Answer::Reply(500, "busy, try later"),
        Answer::Reply(500, "still busy"),
    ]);
    open_ticket(&party.client(&server.base)).await;
    let got = receiver.wait_for(3, WAIT).await;
    let event_id = got[0].event_id().to_string();

    let session = session_of(dir.path(), &url, &[]).await;
    let page = |session: String, url: String| async move {
        http()
            .get(url)
            .header(COOKIE, session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let event_url = format!("{url}/events/{event_id}");
    within(WAIT, "three attempts on the page", || {
        let (s, u) = (session.clone(), event_url.clone());
        async move { attempts(&page(s, u).await).len() >= 3 }
    })
    .await;
    let html = page(session.clone(), event_url.clone()).await;
    let seen = attempts(&html);
    assert_eq!(
        seen,
        [("1", "500"), ("2", "500"), ("3", "200")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
    for body in ["busy, try later", "still busy", "success"] {
        assert!(html.contains(body), "the page shows the body {body}");
    }
    assert!(
        html.contains("X-Lark-Signature"),
        "the signature header sent"
    );
    assert!(
        !html.contains(TOKEN) && !html.contains(KEY),
        "secrets are never shown"
    );
    let list = page(session.clone(), format!("{url}/events")).await;
    assert!(list.contains(&event_id));
    let found = http()
        .get(format!("{url}/go?id={event_id}"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        found.headers()[LOCATION],
        format!("/events/{event_id}").as_str()
    );

    // Redeliver from another site's page: refused.
    let redeliver = format!("{event_url}/redeliver");
    let foreign = http()
        .post(&redeliver)
        .header(COOKIE, &session)
        .header(ORIGIN, "http://attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let own_origin = url.clone();
    let res = http()
        .post(&redeliver)
        .header(COOKIE, &session)
        .header(ORIGIN, own_origin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let again = receiver.wait_for(4, WAIT).await;
    assert_eq!(again[3].event_id(), event_id, "the same event_id");
    within(WAIT, "a fourth attempt on the page", || {
        let (s, u) = (session.clone(), event_url.clone());
        async move { attempts(&page(s, u).await).len() == 4 }
    })
    .await;

    // A read-only token looks but does not act.
    let ro = session_of(dir.path(), &url, &["--read-only"]).await;
    assert!(!page(ro.clone(), event_url.clone())
        .await
        .contains("Redeliver</button>"));
    let refused = http()
        .post(&redeliver)
        .header(COOKIE, &ro)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // Another tenant's token: the event is a missing one, everywhere.
    let other = provision(dir.path());
    let b = session_of(dir.path(), &url, &["--tenant", &other.tenant_key]).await;
    for path in [format!("/events/{event_id}"), format!("/go?id={event_id}")] {
        let res = http()
            .get(format!("{url}{path}"))
            .header(COOKIE, &b)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let listed = page(b.clone(), format!("{url}/events")).await;
    assert!(!listed.contains(&event_id), "A's event listed to B");
    let res = http()
        .post(&redeliver)
        .header(COOKIE, &b)
        .header(ORIGIN, url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "B cannot redeliver A's event");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 4, "no fifth attempt");
    server.terminate();
}
