//! The client against a scripted HTTP peer: what it sends (User-Agent, the
//! ticket, FAQ, category, image and bot-message calls' queries, tokens and
//! bodies) and how it waits when the
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

// ---- FAQs, categories, images, bot messages -------------------------------

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// An FAQ page answer of FAQs `ids`, with `next` as its page_token.
fn faq_page(ids: &[&str], next: Option<&str>) -> &'static str {
    let items: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"faq_id": id, "question": "q"}))
        .collect();
    let mut data = serde_json::json!({"has_more": next.is_some(), "items": items,
                                      "page_size": 2, "total": 3});
    if let Some(t) = next {
        data["page_token"] = t.into();
    }
    let body = serde_json::json!({"code": 0, "msg": "success", "data": data});
    Box::leak(body.to_string().into_boxed_str())
}

fn faq_ids(faqs: &[helpdesk_client::Faq]) -> Vec<&str> {
    faqs.iter().map(|f| f.faq_id.as_deref().unwrap()).collect()
}

#[tokio::test]
async fn the_faq_search_sends_the_query_base64_and_the_stream_follows_page_token() {
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (200, "", faq_page(&["1", "2"], Some("pt_2"))),
        (200, "", faq_page(&["3"], None)),
    ])
    .await;
    let client = helpdesk_client(&base);
    let faqs: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(
        client.search_faqs("无法登录 vpn").page_size(2).stream(),
    )
    .await
    .unwrap();
    assert_eq!(faq_ids(&faqs), ["1", "2", "3"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "no page after one without has_more");
    assert!(line(&seen[1]).starts_with("GET /open-apis/helpdesk/v1/faqs/search?"));
    // Standard base64 of the UTF-8 text, percent-encoded in the query.
    let first = [
        pair("query", "5peg5rOV55m75b2VIHZwbg%3D%3D"),
        pair("base64", "true"),
        pair("page_size", "2"),
    ];
    assert_eq!(query(&seen[1]), first);
    let second = [
        pair("query", "5peg5rOV55m75b2VIHZwbg%3D%3D"),
        pair("base64", "true"),
        pair("page_token", "pt_2"),
        pair("page_size", "2"),
    ];
    assert_eq!(query(&seen[2]), second);
    for r in &seen[1..] {
        assert_eq!(header(r, "authorization"), Some("Bearer t-x"));
        assert_eq!(
            header(r, "x-lark-helpdesk-authorization"),
            Some(credential().as_str())
        );
    }
}

#[tokio::test]
async fn the_faq_list_sends_its_filters_and_streams_until_has_more_is_false() {
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (200, "", faq_page(&["1"], Some("a"))),
        (200, "", faq_page(&["2"], Some("b"))),
        // has_more with the token it was asked with: it would loop forever.
        (200, "", faq_page(&["3"], Some("b"))),
    ])
    .await;
    let client = helpdesk_client(&base);
    let faqs: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(
        client
            .faqs()
            .category_id("61")
            .status(helpdesk_client::faq_status::DELETED)
            .search("vpn")
            .stream(),
    )
    .await
    .unwrap();
    assert_eq!(faq_ids(&faqs), ["1", "2", "3"]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    let filters = [
        pair("category_id", "61"),
        pair("status", "0"),
        pair("search", "vpn"),
    ];
    let mut want = filters.to_vec();
    want.push(pair("page_size", "100"));
    assert_eq!(query(&seen[1]), want);
    want.insert(3, pair("page_token", "a"));
    assert_eq!(query(&seen[2]), want);
    want[3] = pair("page_token", "b");
    assert_eq!(query(&seen[3]), want);

    // One page: what it said, as it said it.
    let (base, _) = scripted(vec![
        (200, "", TOKEN),
        (200, "", faq_page(&["9"], Some("n"))),
    ])
    .await;
    let page = helpdesk_client(&base).faqs().send().await.unwrap();
    assert_eq!(
        (page.has_more, page.page_token.as_deref(), page.total),
        (true, Some("n"), Some(3))
    );
}

#[tokio::test]
async fn faq_writes_send_the_agent_s_token_and_the_rich_text_as_the_sdks_do() {
    let created = r#"{"code":0,"msg":"success","data":{"faq":{"faq_id":"7001","answer_richtext":[{"content":"img_1","type":"image"}],"create_user":{"id":"ou_a","name":"Ann"}}}}"#;
    let (base, seen) = scripted(vec![(200, "", created), (200, "", OK), (200, "", OK)]).await;
    let user = helpdesk_client(&base).as_user("u-agent");
    let rich = vec![
        helpdesk_client::Richtext::text("see"),
        helpdesk_client::Richtext::image("img_1"),
    ];
    let faq = user
        .create_faq(&helpdesk_client::NewFaq {
            category_id: Some("61".into()),
            question: "VPN?".into(),
            answer_richtext: rich.clone(),
            tags: vec!["vpn".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(faq.faq_id.as_deref(), Some("7001"));
    assert_eq!(faq.image_keys(), ["img_1"]);
    user.patch_faq(
        "7001",
        &helpdesk_client::FaqPatch {
            answer_richtext: Some(rich),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    user.delete_faq("7001").await.unwrap();

    let seen = seen.lock().unwrap();
    // No tenant token was fetched: the user's token is the only one.
    assert_eq!(seen.len(), 3);
    let elements = serde_json::json!([{"content": "see", "type": "text"},
                                      {"content": "img_1", "type": "image"}]);
    let create = &seen[0];
    assert_eq!(line(create), "POST /open-apis/helpdesk/v1/faqs HTTP/1.1");
    let sent = body(create);
    let as_string = sent["faq"]["answer_richtext"]
        .as_str()
        .expect("a create's answer_richtext is a JSON string");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(as_string).unwrap(),
        elements
    );
    assert_eq!(sent["faq"]["question"], "VPN?");
    assert_eq!(sent["faq"]["tags"], serde_json::json!(["vpn"]));
    let patch = &seen[1];
    assert_eq!(
        line(patch),
        "PATCH /open-apis/helpdesk/v1/faqs/7001 HTTP/1.1"
    );
    assert_eq!(
        body(patch),
        serde_json::json!({"faq": {"answer_richtext": elements}})
    );
    assert_eq!(
        line(&seen[2]),
        "DELETE /open-apis/helpdesk/v1/faqs/7001 HTTP/1.1"
    );
    for r in seen.iter() {
        assert_eq!(header(r, "authorization"), Some("Bearer u-agent"));
        assert_eq!(
            header(r, "x-lark-helpdesk-authorization"),
            Some(credential().as_str())
        );
    }
}

#[tokio::test]
async fn an_faq_delete_is_not_retried_after_a_5xx_as_a_second_one_purges() {
    let (base, seen) = scripted(vec![(500, "", INTERNAL), (200, "", OK)]).await;
    match helpdesk_client(&base)
        .as_user("u-agent")
        .delete_faq("7001")
        .await
    {
        Err(Error::Api(e)) => assert_eq!((e.status, e.code), (500, 155000)),
        other => panic!("{other:?}"),
    }
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn categories_create_as_the_agent_and_list_with_the_tenant_token() {
    let created = r#"{"code":0,"msg":"success","data":{"category":{"category_id":"61","id":"61","name":"IT","parent_id":"0","helpdesk_id":"7000000000000000000","language":"zh_cn"}}}"#;
    let list = r#"{"code":0,"msg":"success","data":{"categories":[{"category_id":"61","name":"IT"},{"category_id":"62","name":"VPN","parent_id":"61"}]}}"#;
    let get =
        r#"{"code":0,"msg":"success","data":{"category_id":"62","name":"VPN","parent_id":"61"}}"#;
    let (base, seen) = scripted(vec![
        (200, "", created),
        (200, "", TOKEN),
        (200, "", list),
        (200, "", get),
    ])
    .await;
    let client = helpdesk_client(&base);
    let category = client
        .as_user("u-agent")
        .create_category(&helpdesk_client::NewCategory {
            name: "IT".into(),
            parent_id: Some("0".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(category.category_id.as_deref(), Some("61"));
    assert_eq!(category.language.as_deref(), Some("zh_cn"));
    let all = client
        .categories()
        .lang("zh_cn")
        .order_by(helpdesk_client::CategoryOrder::Name)
        .asc(false)
        .send()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].parent_id.as_deref(), Some("61"));
    let one = client.category("62").await.unwrap();
    assert_eq!(one.name.as_deref(), Some("VPN"));

    let seen = seen.lock().unwrap();
    assert_eq!(
        line(&seen[0]),
        "POST /open-apis/helpdesk/v1/categories HTTP/1.1"
    );
    assert_eq!(header(&seen[0], "authorization"), Some("Bearer u-agent"));
    assert_eq!(
        body(&seen[0]),
        serde_json::json!({"name": "IT", "parent_id": "0"})
    );
    assert_eq!(
        query(&seen[2]),
        [
            pair("lang", "zh_cn"),
            pair("order_by", "2"),
            pair("asc", "false")
        ]
    );
    assert_eq!(header(&seen[2], "authorization"), Some("Bearer t-x"));
    assert_eq!(
        line(&seen[3]),
        "GET /open-apis/helpdesk/v1/categories/62 HTTP/1.1"
    );
}

const PNG: &str =
    "content-type: image/png\r\ncontent-disposition: attachment; filename=\"a.png\"\r\n";

#[tokio::test]
async fn faq_image_downloads_with_the_helpdesk_credential_and_im_image_without() {
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (200, PNG, "png-bytes"),
        (200, PNG, "more-bytes"),
    ])
    .await;
    let client = helpdesk_client(&base);
    let image = client.faq_image("7001", "img_v2/1").await.unwrap();
    assert_eq!(
        (image.file_name.as_deref(), image.extension()),
        (Some("a.png"), Some("png"))
    );
    assert_eq!(&image.bytes().await.unwrap()[..], b"png-bytes");
    let image = client.im_image("img_2").await.unwrap();
    assert_eq!(&image.bytes().await.unwrap()[..], b"more-bytes");
    let seen = seen.lock().unwrap();
    assert_eq!(
        line(&seen[1]),
        "GET /open-apis/helpdesk/v1/faqs/7001/image/img_v2%2F1 HTTP/1.1"
    );
    assert_eq!(
        header(&seen[1], "x-lark-helpdesk-authorization"),
        Some(credential().as_str())
    );
    assert_eq!(line(&seen[2]), "GET /open-apis/im/v1/images/img_2 HTTP/1.1");
    assert_eq!(header(&seen[2], "authorization"), Some("Bearer t-x"));
    assert_eq!(header(&seen[2], "x-lark-helpdesk-authorization"), None);
}

#[tokio::test]
async fn im_image_refusals_are_api_errors_with_their_code_even_on_http_200() {
    let not_sender = r#"{"code":234008,"msg":"The app is not the resource sender."}"#;
    let deleted = r#"{"code":234005,"msg":"image deleted"}"#;
    let (base, seen) = scripted(vec![
        (200, "", TOKEN),
        (400, "", not_sender),
        (200, "", deleted),
    ])
    .await;
    let client = helpdesk_client(&base);
    for want in [(400, 234008), (200, 234005)] {
        match client.im_image("img_1").await {
            Err(Error::Api(e)) => assert_eq!((e.status, e.code), want),
            other => panic!("{other:?}"),
        }
    }
    // A 400 is not retried.
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_bot_message_posts_its_content_as_a_string_and_is_not_retried() {
    let sent = r#"{"code":0,"msg":"success","data":{"message_id":"om_1"}}"#;
    let (base, seen) = scripted(vec![(200, "", TOKEN), (200, "", sent), (500, "", INTERNAL)]).await;
    let client = helpdesk_client(&base);
    let message = helpdesk_client::BotMessage::to_chat(
        "oc_1",
        helpdesk_client::MessageContent::Image {
            image_key: "img_1".into(),
        },
    );
    assert_eq!(client.send_bot_message(&message).await.unwrap(), "om_1");
    assert!(matches!(
        client.send_bot_message(&message).await,
        Err(Error::Api(_))
    ));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "the 5xx was not retried");
    let post = &seen[1];
    assert_eq!(
        line(post),
        "POST /open-apis/helpdesk/v1/message?user_id_type=open_id HTTP/1.1"
    );
    assert_eq!(header(post, "authorization"), Some("Bearer t-x"));
    assert_eq!(
        header(post, "x-lark-helpdesk-authorization"),
        Some(credential().as_str())
    );
    assert_eq!(
        body(post),
        serde_json::json!({"msg_type": "image", "content": "{\"image_key\":\"img_1\"}",
                           "receiver_id": "oc_1", "receive_type": "chat"})
    );
}
