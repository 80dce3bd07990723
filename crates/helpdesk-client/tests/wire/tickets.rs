//! Tickets on the wire: the list's repeated status keys and millisecond
//! times, its stream's pages, updates with the agent's token, and what is
//! retried.

use helpdesk_client::Error;

use super::*;

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
