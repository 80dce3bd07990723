//! The client against a scripted HTTP peer: what it sends (User-Agent, the
//! ticket, FAQ, category, image and bot-message calls' queries, tokens and
//! bodies) and how it waits when the
//! server says how long (Retry-After and Feishu's x-ogw-ratelimit-reset).
//! One test in this binary sets the environment.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use helpdesk_client::{Client, Error, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// Beside this file, not in tests/ (where Cargo would build each alone).
#[path = "wire/faqs.rs"]
mod faqs;
#[path = "wire/tickets.rs"]
mod tickets;

/// Answers each connection's request with the next of `answers` (status,
/// extra headers, body), and keeps every request (head and body).
async fn scripted(
    answers: Vec<(u16, &'static str, &'static str)>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let heads = seen.clone();
    tokio::spawn(async move {
        for (status, headers, body) in answers {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let mut got = Vec::new();
            // The head, then as much body as Content-Length says.
            loop {
                let n = conn.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        heads.lock().unwrap().push(text.clone());
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            // JSON unless the script gives its own type (an image's).
            let json = if headers.to_ascii_lowercase().contains("content-type:") {
                ""
            } else {
                "Content-Type: application/json\r\n"
            };
            let reply = format!(
                "HTTP/1.1 {status} X\r\n{json}Content-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
            conn.write_all(reply.as_bytes()).await.unwrap();
            conn.shutdown().await.ok();
        }
    });
    (base, seen)
}

const LIMITED: &str = r#"{"code":99991400,"msg":"request trigger frequency limit"}"#;
const TOKEN: &str = r#"{"code":0,"msg":"ok","tenant_access_token":"t-x","expire":7200}"#;

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        // Far shorter than the server's wait: only the header explains it.
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
        max_server_wait: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn waits_as_the_rate_limit_headers_say_and_sends_its_user_agent() {
    for header in ["x-ogw-ratelimit-reset: 1\r\n", "Retry-After: 1\r\n"] {
        let (base, seen) = scripted(vec![(429, header, LIMITED), (200, "", TOKEN)]).await;
        let client = Client::builder("cli_a", "secret")
            .base_url(&base)
            .retry_policy(policy())
            .build()
            .unwrap();
        let start = Instant::now();
        assert_eq!(client.tenant_access_token().await.unwrap(), "t-x");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(1),
            "{header}: retried after {waited:?}"
        );
        let heads = seen.lock().unwrap();
        assert_eq!(heads.len(), 2);
        let ua = format!("user-agent: helpdesk-client/{}", env!("CARGO_PKG_VERSION"));
        assert!(heads[0].to_ascii_lowercase().contains(&ua), "{}", heads[0]);
    }
}

#[tokio::test]
async fn a_wait_longer_than_the_policy_allows_returns_the_error_at_once() {
    let (base, seen) = scripted(vec![(429, "x-ogw-ratelimit-reset: 3600\r\n", LIMITED)]).await;
    let client = Client::builder("cli_a", "secret")
        .base_url(&base)
        .retry_policy(policy())
        .build()
        .unwrap();
    let start = Instant::now();
    match client.tenant_access_token().await {
        Err(Error::Api(e)) => assert_eq!((e.status, e.code), (429, 99991400)),
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn from_env_reads_the_cli_s_variables_and_debug_shows_no_secret() {
    for (k, v) in [
        ("HELPDESK_APP_ID", "cli_env"),
        ("HELPDESK_APP_SECRET", "app-secret-from-env"),
        ("HELPDESK_BASE_URL", "http://127.0.0.1:9/"),
        ("HELPDESK_HELPDESK_ID", "7000000000000000001"),
        ("HELPDESK_HELPDESK_TOKEN", "ht-from-env"),
    ] {
        std::env::set_var(k, v);
    }
    let client = Client::from_env().unwrap();
    let shown = format!("{client:?}");
    assert!(
        shown.contains("cli_env") && shown.contains("http://127.0.0.1:9"),
        "{shown}"
    );
    assert!(!shown.contains("app-secret-from-env") && !shown.contains("ht-from-env"));
    std::env::remove_var("HELPDESK_HELPDESK_TOKEN");
    match Client::from_env() {
        Err(Error::Config(msg)) => assert!(msg.contains("HELPDESK_HELPDESK_TOKEN"), "{msg}"),
        other => panic!("{other:?}"),
    }
    std::env::remove_var("HELPDESK_APP_SECRET");
    assert!(matches!(Client::from_env(), Err(Error::Config(_))));
}

// ---- What the cases in wire/ share ---------------------------------------

const OK: &str = r#"{"code":0,"msg":"success","data":{}}"#;
const INTERNAL: &str = r#"{"code":155000,"msg":"internal error"}"#;
const REFUSED: &str = r#"{"code":99991663,"msg":"Invalid access token for authorization"}"#;

fn helpdesk_client(base: &str) -> Client {
    Client::builder("cli_a", "secret")
        .base_url(base)
        .helpdesk("7000000000000000000", "ht-x")
        .retry_policy(policy())
        .build()
        .unwrap()
}

/// The request line, e.g. `GET /path?query HTTP/1.1`.
fn line(request: &str) -> &str {
    request.lines().next().unwrap()
}

/// The query's pairs, in the order sent, still percent-encoded.
fn query(request: &str) -> Vec<(String, String)> {
    let target = line(request).split(' ').nth(1).unwrap();
    let Some((_, q)) = target.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn header<'a>(request: &'a str, name: &str) -> Option<&'a str> {
    let head = request.split("\r\n\r\n").next().unwrap();
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn body(request: &str) -> serde_json::Value {
    serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap()
}

fn credential() -> String {
    helpdesk_core::auth::encode_helpdesk_credential("7000000000000000000", "ht-x")
}
