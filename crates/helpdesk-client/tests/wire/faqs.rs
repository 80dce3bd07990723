//! FAQs, categories, images and bot messages on the wire: queries, tokens,
//! rich text as the SDKs send it, and what is not retried.

use helpdesk_client::Error;

use super::*;

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
