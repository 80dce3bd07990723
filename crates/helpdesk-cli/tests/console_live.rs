//! The console's live stream (`GET /live`) over real HTTP: a tenant's
//! session hears its own tenant only, a foreign ticket's stream is 404, a
//! foreign Origin is 403, and `Last-Event-ID` resumes after what was seen.
//! (The browser suite checks that the pages swap the fragments in.)

use std::time::{Duration, Instant};

use helpdesk_testkit::binary::*;
use helpdesk_testkit::images::png;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(link: &str) -> String {
    let res = http().get(link).send().await.unwrap();
    assert_eq!(res.status(), 303, "a sign-in redirects");
    assert_eq!(res.headers()[LOCATION], "/");
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// An open stream and what it has carried so far.
struct Stream {
    res: reqwest::Response,
    text: String,
}

impl Stream {
    async fn open(url: &str, session: &str, last_event_id: Option<&str>) -> Stream {
        let mut req = http().get(url).header(COOKIE, session);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Stream {
            res,
            text: String::new(),
        }
    }

    /// Reads until the stream has carried `needle`, at most 10 s.
    async fn until(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.text.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {needle} in: {}", self.text);
            if let Ok(chunk) = tokio::time::timeout(left, self.res.chunk()).await {
                let chunk = chunk.unwrap().expect("the stream stays open");
                self.text.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
    }

    /// Every `id:` the stream has carried, in order.
    fn ids(&self) -> Vec<i64> {
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix("id: "))
            .map(|id| id.trim().parse().unwrap())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_stream_carries_its_own_tenant_only_and_resumes_after_the_last_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--console-listen", "127.0.0.1:0"]);
    let (url, link) = server.console_link();
    let a = provision(dir.path());
    let b = provision(dir.path());
    let operator = sign_in(&link).await;
    let token = admin(
        dir.path(),
        &["console-token", "create", "--tenant", &b.tenant_key],
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    let tenant_b = sign_in(&format!("{url}/login?token={token}")).await;

    let mut everything = Stream::open(&format!("{url}/live"), &operator, None).await;
    let mut b_only = Stream::open(&format!("{url}/live"), &tenant_b, None).await;
    let images = vec![png(1, 2000), png(2, 2000)];
    let ta = ticket_with_images(&a.client(&server.base), &images).await;
    let tb = ticket_with_images(&b.client(&server.base), &images).await;

    everything.until(&tb.post_msg).await;
    assert!(
        everything.text.contains(&ta.post_msg),
        "the operator hears A"
    );
    b_only.until(&tb.post_msg).await;
    for a_id in [&ta.ticket, &ta.image_msg, &ta.post_msg, &a.tenant_key] {
        assert!(!b_only.text.contains(a_id.as_str()), "B heard {a_id}");
    }
    let ids = b_only.ids();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    assert!(ids.len() >= 3, "B's ticket and its messages: {ids:?}");

    // A ticket's stream: its messages as the timeline's fragments.
    let mut ticket = Stream::open(
        &format!("{url}/live?ticket={}&after=0", tb.ticket),
        &tenant_b,
        None,
    )
    .await;
    // A thumbnail is addressed by ticket, message and index.
    let thumb = format!(
        "/tickets/{}/messages/{}/images/0/thumb?w=200",
        tb.ticket, tb.post_msg
    );
    ticket.until(&thumb).await;
    assert!(ticket.text.contains("event: message"));
    assert!(ticket
        .text
        .contains(&format!("<li id=\"m-{}\">", tb.post_msg)));

    // A's ticket, from B: 404, as on every page.
    for path in [
        format!("/live?ticket={}", ta.ticket),
        "/live?ticket=7000000000000000000".to_string(),
    ] {
        let res = http()
            .get(format!("{url}{path}"))
            .header(COOKIE, &tenant_b)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    // Another site's page may not listen in.
    let res = http()
        .get(format!("{url}/live"))
        .header(COOKIE, &operator)
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // No session: no stream.
    let res = http().get(format!("{url}/live")).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // The browser's reconnect: what came after the last id it saw, once.
    let first = ids[0];
    let mut resumed =
        Stream::open(&format!("{url}/live"), &tenant_b, Some(&first.to_string())).await;
    resumed.until(&tb.post_msg).await;
    assert_eq!(resumed.ids(), ids[1..].to_vec(), "the rest, in order");
    server.terminate();
}
