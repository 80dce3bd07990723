//! Rate limits as Feishu's gateway applies them, and the SDK that waits as
//! they say.

use std::time::{Duration, Instant};

use helpdesk_testkit::binary::*;
use serde_json::Value;

/// GET a ticket with the caller's credentials: status, code and the two
/// rate-limit headers.
async fn get_ticket(base: &str, caller: &Caller) -> (u16, i64, Option<String>, Option<String>) {
    let res = reqwest::Client::new()
        .get(format!(
            "{base}/open-apis/helpdesk/v1/tickets/7000000000000000000"
        ))
        .bearer_auth(&caller.token)
        .header("X-Lark-Helpdesk-Authorization", &caller.credential)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let header = |n: &str| {
        res.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (limit, reset) = (
        header("x-ogw-ratelimit-limit"),
        header("x-ogw-ratelimit-reset"),
    );
    let body: Value = res.json().await.unwrap();
    (status, body["code"].as_i64().unwrap(), limit, reset)
}

#[tokio::test(flavor = "multi_thread")]
async fn beyond_the_per_app_limit_calls_get_429_99991400_and_the_sdk_waits_as_told() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--rate-limit-per-app", "2"]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let caller = Caller::of(&party, &base).await;
    let mut limited = None;
    for _ in 0..5 {
        let got = get_ticket(&base, &caller).await;
        if got.0 == 429 {
            limited = Some(got);
        } else {
            assert_eq!((got.0, got.1), (404, 154004));
        }
    }
    let (_, code, limit, reset) = limited.expect("a call over the limit");
    assert_eq!(code, 99991400);
    assert_eq!(limit.as_deref(), Some("2"));
    assert_eq!(reset.as_deref(), Some("1"));
    // Another app has its own budget.
    let other = provision(dir.path());
    let other_caller = Caller::of(&other, &base).await;
    assert_eq!(get_ticket(&base, &other_caller).await.0, 404);

    // The SDK, told to wait, waits and then succeeds: six calls at 2 a
    // second take at least two seconds and none fails.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let c = party.client(&base);
    let ticket = open_ticket(&c).await;
    let start = Instant::now();
    for _ in 0..6 {
        c.ticket(&ticket)
            .await
            .expect("the SDK retries after the reset");
    }
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    let (_, log) = server.terminate();
    assert!(
        log.contains("code=99991400"),
        "some calls were refused on the way"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_requests_are_limited_per_client_ip() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--token-rate-limit", "3"]);
    let party = provision(dir.path());
    let http = reqwest::Client::new();
    let mut codes = Vec::new();
    for _ in 0..6 {
        let res = http
            .post(format!(
                "{}/open-apis/auth/v3/tenant_access_token/internal",
                server.base
            ))
            .json(&serde_json::json!({"app_id": party.app_id, "app_secret": "guess"}))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let limit = res.headers().get("x-ogw-ratelimit-limit").cloned();
        let body: Value = res.json().await.unwrap();
        if status == 429 {
            assert_eq!(limit.unwrap(), "3");
            assert_eq!(body["msg"], "request trigger frequency limit");
        }
        codes.push((status, body["code"].as_i64().unwrap()));
    }
    assert_eq!(&codes[..3], &[(200, 10014); 3]);
    assert!(
        codes[3..].iter().all(|c| *c == (429, 99991400)),
        "{codes:?}"
    );
    server.terminate();
}
