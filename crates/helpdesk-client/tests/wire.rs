//! The client against a scripted HTTP peer: what it sends (User-Agent, the
//! ticket calls' queries, tokens and bodies) and how it waits when the
//! server says how long (Retry-After and Feishu's x-ogw-ratelimit-reset).
//! One test in this binary sets the environment.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use helpdesk_client::{Client, Error, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
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

// ---- Tickets -------------------------------------------------------------

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

/// A `ticket.list` answer of tickets `ids`, of `total` in all.
fn tickets_page(total: u64, ids: &[&str]) -> &'static str {
    let tickets: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"ticket_id": id, "status": 2}))
        .collect();
    let body = serde_json::json!({"code": 0, "msg": "success",
                                  "data": {"total": total, "tickets": tickets}});
    Box::leak(body.to_string().into_boxed_str())
}

#[tokio::test]
async fn the_ticket_list_sends_repeated_status_keys_and_millisecond_times() {
    let (base, seen) = scripted(vec![(200, "", TOKEN), (200, "", tickets_page(9, &["61"]))]).await;
    let page = helpdesk_client(&base)
        .tickets()
        .status(2)
        .status(3)
        .tag("vpn")
        .tag("mail")
        .ticket_type(2)
        .guest_name("Ann Lee")
        .created_between(1_714_521_600_000, 1_714_608_000_000)
        .page(3)
        .page_size(50)
        .send()
        .await
        .unwrap();
    assert_eq!((page.total, page.tickets[0].ticket_id.as_str()), (9, "61"));
    let seen = seen.lock().unwrap();
    let list = &seen[1];
    assert!(
        line(list).starts_with("GET /open-apis/helpdesk/v1/tickets?"),
        "{list}"
    );
    let pairs: Vec<(&str, &str)> = vec![
        ("guest_name", "Ann+Lee"),
        ("type", "2"),
        ("status_list", "2"),
        ("status_list", "3"),
        ("tags", "vpn"),
        ("tags", "mail"),
        ("create_time_start", "1714521600000"),
        ("create_time_end", "1714608000000"),
        ("page", "3"),
        ("page_size", "50"),
    ];
    let want: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(query(list), want);
    assert_eq!(header(list, "authorization"), Some("Bearer t-x"));
    assert_eq!(
        header(list, "x-lark-helpdesk-authorization"),
        Some(credential().as_str())
    );
}

#[tokio::test]
async fn the_ticket_stream_asks_for_page_two_after_a_full_page_and_stops_after_a_short_one() {
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (200, "", tickets_page(5, &["1", "2"])),
        (200, "", tickets_page(5, &["3"])),
    ])
    .await;
    let client = helpdesk_client(&base);
    let ids: Vec<String> = futures::TryStreamExt::try_collect::<Vec<_>>(
        client.tickets().status(2).page_size(2).stream(),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|t| t.ticket_id)
    .collect();
    // Short of `total`, but a short page is the last: no third page asked.
    assert_eq!(ids, ["1", "2", "3"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let page_of = |r: &str| {
        query(r)
            .into_iter()
            .filter(|(k, _)| k == "page" || k == "page_size" || k == "status_list")
            .collect::<Vec<_>>()
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        page_of(&seen[1]),
        [
            pair("status_list", "2"),
            pair("page", "1"),
            pair("page_size", "2")
        ]
    );
    assert_eq!(
        page_of(&seen[2]),
        [
            pair("status_list", "2"),
            pair("page", "2"),
            pair("page_size", "2")
        ]
    );
}

#[tokio::test]
async fn the_ticket_stream_stops_once_total_came_even_after_a_full_page() {
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (200, "", tickets_page(2, &["1", "2"])),
    ])
    .await;
    let client = helpdesk_client(&base);
    let all: Vec<_> =
        futures::TryStreamExt::try_collect::<Vec<_>>(client.tickets().page_size(2).stream())
            .await
            .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_update_sends_the_agent_s_token_and_only_the_fields_it_sets() {
    let (base, seen) = scripted(vec![(200, "", OK)]).await;
    let update = helpdesk_client::TicketUpdate {
        status: Some(helpdesk_client::ticket_status::CLOSED_BY_AGENT),
        tag_names: Some(vec!["vpn".into()]),
        comment: Some("called back".into()),
        customized_fields: vec![helpdesk_client::FieldValue {
            id: "7001".into(),
            value: "urgent".into(),
            key_name: None,
        }],
        ..Default::default()
    };
    helpdesk_client(&base)
        .as_user("u-agent")
        .update_ticket("6626871355780366331", &update)
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    // No tenant token was fetched: the user's token is the only one.
    assert_eq!(seen.len(), 1);
    let put = &seen[0];
    assert_eq!(
        line(put),
        "PUT /open-apis/helpdesk/v1/tickets/6626871355780366331 HTTP/1.1"
    );
    assert_eq!(header(put, "authorization"), Some("Bearer u-agent"));
    assert_eq!(
        header(put, "x-lark-helpdesk-authorization"),
        Some(credential().as_str())
    );
    assert_eq!(
        body(put),
        serde_json::json!({"status": 51, "tag_names": ["vpn"], "comment": "called back",
                           "customized_fields": [{"id": "7001", "value": "urgent"}]})
    );
}

#[tokio::test]
async fn an_update_is_not_retried_after_a_5xx_nor_a_refused_user_token_but_a_list_is() {
    let update = helpdesk_client::TicketUpdate {
        comment: Some("once".into()),
        ..Default::default()
    };
    for (status, answer, code) in [(500, INTERNAL, 155000), (400, REFUSED, 99991663)] {
        let (base, seen) = scripted(vec![(status, "", answer), (200, "", OK)]).await;
        let got = helpdesk_client(&base)
            .as_user("u-agent")
            .update_ticket("1", &update)
            .await;
        match got {
            Err(Error::Api(e)) => assert_eq!((e.status, e.code), (status, code)),
            other => panic!("{other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 1, "{answer}");
    }
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (500, "", INTERNAL),
        (200, "", tickets_page(0, &[])),
    ])
    .await;
    assert_eq!(
        helpdesk_client(&base).tickets().send().await.unwrap().total,
        0
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert!(matches!(
        helpdesk_client(&base)
            .as_user("")
            .update_ticket("1", &update)
            .await,
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn answer_user_query_posts_the_event_and_faqs_with_the_tenant_token() {
    let (base, seen) = scripted(vec![(200, "", TOKEN), (200, "", OK)]).await;
    let faqs = [helpdesk_client::FaqAnswer {
        id: "faq_1".into(),
        score: 0.75,
    }];
    helpdesk_client(&base)
        .answer_user_query("61", "ev_1", &faqs)
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    let post = &seen[1];
    assert_eq!(
        line(post),
        "POST /open-apis/helpdesk/v1/tickets/61/answer_user_query HTTP/1.1"
    );
    assert_eq!(header(post, "authorization"), Some("Bearer t-x"));
    assert_eq!(
        body(post),
        serde_json::json!({"event_id": "ev_1", "faqs": [{"id": "faq_1", "score": 0.75}]})
    );
}

#[tokio::test]
async fn customized_fields_list_by_page_token_and_create_as_the_agent() {
    let first = r#"{"code":0,"msg":"success","data":{"has_more":true,"next_page_token":"p2","items":[{"ticket_customized_field_id":"1"}]}}"#;
    let last = r#"{"code":0,"msg":"success","data":{"has_more":false,"items":[{"ticket_customized_field_id":"2","position":"3"}]}}"#;
    let get = r#"{"code":0,"msg":"success","data":{"ticket_customized_field_id":"2","key_name":"k","field_type":"dropdown"}}"#;
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (200, "", first),
        (200, "", last),
        (200, "", get),
        (200, "", OK),
    ])
    .await;
    let client = helpdesk_client(&base);
    let fields: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(
        client
            .ticket_customized_fields()
            .visible(true)
            .page_size(1)
            .stream(),
    )
    .await
    .unwrap();
    let ids: Vec<_> = fields
        .iter()
        .map(|f| f.ticket_customized_field_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2"]);
    let field = client.ticket_customized_field("2").await.unwrap();
    assert_eq!(field.field_type.as_deref(), Some("dropdown"));
    let new = helpdesk_client::NewTicketCustomizedField {
        key_name: "k".into(),
        display_name: "K".into(),
        position: "1".into(),
        ..Default::default()
    };
    let created = client
        .as_user("u-agent")
        .create_ticket_customized_field(&new)
        .await
        .unwrap();
    assert_eq!(created, None, "Feishu answers no data");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 5);
    assert!(line(&seen[1]).starts_with("GET /open-apis/helpdesk/v1/ticket_customized_fields?"));
    assert_eq!(body(&seen[1]), serde_json::json!({"visible": true}));
    assert_eq!(
        query(&seen[2]),
        [
            ("page_token".to_string(), "p2".to_string()),
            ("page_size".to_string(), "1".to_string())
        ]
    );
    assert_eq!(
        line(&seen[3]),
        "GET /open-apis/helpdesk/v1/ticket_customized_fields/2 HTTP/1.1"
    );
    let create = &seen[4];
    assert_eq!(
        line(create),
        "POST /open-apis/helpdesk/v1/ticket_customized_fields HTTP/1.1"
    );
    assert_eq!(header(create, "authorization"), Some("Bearer u-agent"));
    // The helpdesk left empty is the client's own.
    assert_eq!(body(create)["helpdesk_id"], "7000000000000000000");
    assert_eq!(body(create)["field_type"], "string");
}
