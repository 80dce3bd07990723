//! Image upload, tickets and messages.

use helpdesk_server::ServerConfig;
use helpdesk_store::AppKind;
use helpdesk_testkit::in_process::*;
use serde_json::json;

#[tokio::test]
async fn uploads_are_sniffed_limited_and_deduplicated() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        ServerConfig {
            max_image_bytes: 4096,
            ..ServerConfig::default()
        },
    )
    .await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;

    let key = api.upload_ok(png(1, 100), "photo.gif").await;
    assert!(key.starts_with("img_v3_"));
    // The same bytes again: a new key, one stored object.
    let again = api.upload_ok(png(1, 100), "copy.png").await;
    assert_ne!(key, again);
    assert_eq!(object_count(&server).await, 1);

    // Exactly at the limit is fine; one byte over is 234006.
    assert_eq!(api.upload(png(2, 4096 - 16), "max.png").await.status(), 200);
    let body = assert_error(api.upload(png(3, 4096 - 15), "big.png").await, 400, 234006).await;
    assert!(
        body["error"]["details"][0]["value"]
            .as_str()
            .unwrap()
            .contains("4096"),
        "{body}"
    );
    // Far over the limit is refused as cleanly.
    assert_error(api.upload(png(3, 1 << 20), "huge.png").await, 400, 234006).await;
    // Not an image, whatever its name says.
    assert_error(
        api.upload(b"%PDF-1.7 not an image".to_vec(), "fake.png")
            .await,
        400,
        234011,
    )
    .await;
    assert_error(
        api.upload(
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            "x.svg",
        )
        .await,
        400,
        234011,
    )
    .await;
    assert_error(api.upload(Vec::new(), "empty.png").await, 400, 234010).await;
    // Missing or wrong parts.
    let send = |form: reqwest::multipart::Form| {
        client()
            .post(server.url("/open-apis/im/v1/images"))
            .bearer_auth(&api.token)
            .multipart(form)
            .send()
    };
    let image = || reqwest::multipart::Part::bytes(png(4, 10)).file_name("a.png");
    let no_type = reqwest::multipart::Form::new().part("image", image());
    assert_error(send(no_type).await.unwrap(), 400, 234001).await;
    let bad_type = reqwest::multipart::Form::new()
        .text("image_type", "sticker")
        .part("image", image());
    assert_error(send(bad_type).await.unwrap(), 400, 234001).await;
    let no_image = reqwest::multipart::Form::new().text("image_type", "message");
    assert_error(send(no_image).await.unwrap(), 400, 234001).await;
    // image_type after the image is fine too.
    let reversed = reqwest::multipart::Form::new()
        .part("image", image())
        .text("image_type", "avatar");
    assert_eq!(send(reversed).await.unwrap().status(), 200);
    let not_multipart = client()
        .post(server.url("/open-apis/im/v1/images"))
        .bearer_auth(&api.token)
        .json(&json!({"image_type": "message"}))
        .send()
        .await
        .unwrap();
    assert_error(not_multipart, 400, 234001).await;

    // Uploading needs im:resource.
    let helpdesk_only = Api::new(
        &server,
        &other_app(&server.stores, &a, AppKind::Custom, &["helpdesk:all"]).await,
    )
    .await;
    assert_error(
        helpdesk_only.upload(png(5, 10), "a.png").await,
        400,
        99991672,
    )
    .await;
    // Nothing refused was left behind in the spool.
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn tickets_and_messages_round_trip_with_paging_and_time_filters() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;

    let res = api
        .post("/open-apis/helpdesk/v1/start_service")
        .json(&json!({"human_service": false, "appointed_agents": ["ou_agent"], "open_id": "ou_guest", "customized_info": "vip"}))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(body["code"], 0);
    assert!(body["data"]["chat_id"].as_str().unwrap().starts_with("oc_"));
    let ticket = body["data"]["ticket_id"].as_str().unwrap().to_string();
    let missing_open_id = api
        .post("/open-apis/helpdesk/v1/start_service")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(missing_open_id, 400, 154000).await;

    let got = json(
        api.get(&format!("/open-apis/helpdesk/v1/tickets/{ticket}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let t = &got["data"]["ticket"];
    assert_eq!(t["ticket_id"], ticket.as_str());
    assert_eq!(t["helpdesk_id"], a.helpdesk_id.as_str());
    assert_eq!(t["guest"]["id"], "ou_guest");
    assert!(t["created_at"].is_i64() && t["updated_at"].is_i64());
    assert_error(
        api.get("/open-apis/helpdesk/v1/tickets/7000000000000000000")
            .send()
            .await
            .unwrap(),
        404,
        154004,
    )
    .await;

    let key = api.upload_ok(png(1, 10), "a.png").await;
    let path = format!("/open-apis/helpdesk/v1/tickets/{ticket}/messages");
    for i in 0..5 {
        api.post_message_ok(&ticket, "text", json!({"text": format!("m{i}")}))
            .await;
    }
    // `img` is an alias of `image`; a post in the older {"post": ...} wrapping.
    api.post_message_ok(&ticket, "img", json!({"image_key": key}))
        .await;
    api.post_message_ok(
        &ticket,
        "post",
        json!({"post": post_content(&[&key, &key])}),
    )
    .await;

    let page = |q: &str| api.get(&format!("{path}?{q}")).send();
    let all = json(page("page_size=200").await.unwrap()).await;
    let messages = all["data"]["messages"].as_array().unwrap();
    assert_eq!(all["data"]["total"], 7);
    let types: Vec<&str> = messages
        .iter()
        .map(|m| m["message_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["text", "text", "text", "text", "text", "image", "post"]
    );
    assert_eq!(messages[0]["content"], json!({"text": "m0"}).to_string());
    for m in messages {
        assert!(
            m["created_at"].is_i64(),
            "created_at is integer seconds: {m}"
        );
        assert!(m["id"].is_string() && m["message_id"].as_str().unwrap().starts_with("om_"));
    }
    let second = json(page("page=2&page_size=3").await.unwrap()).await;
    let texts: Vec<&str> = second["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            json!({"text": "m3"}).to_string(),
            json!({"text": "m4"}).to_string(),
            json!({"image_key": key}).to_string()
        ]
    );
    assert_eq!(second["data"]["total"], 7);

    let now = messages[0]["created_at"].as_i64().unwrap();
    let future = json(page(&format!("time_start={}", now + 3600)).await.unwrap()).await;
    assert_eq!(future["data"]["total"], 0);
    let window = json(
        page(&format!("time_start={}&time_end={}", now - 5, now + 3600))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(window["data"]["total"], 7);
    let far = json(
        page("page=9223372036854775807&page_size=200")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(far["data"]["total"], 7);
    assert_eq!(far["data"]["messages"].as_array().unwrap().len(), 0);
    for bad in [
        "page=0",
        "page_size=201",
        "page_size=0",
        "time_start=yesterday",
    ] {
        assert_error(page(bad).await.unwrap(), 400, 154000).await;
    }

    // Content the API refuses.
    for (t, content) in [
        ("text", json!({"txt": "x"})),
        ("image", json!({"image_key": "img_v3_unknown"})),
        ("post", json!({"zh_cn": {"content": [[{"tag": "img"}]]}})),
        ("sticker", json!({"file_key": "x"})),
    ] {
        assert_error(api.post_message(&ticket, t, content).await, 400, 154000).await;
    }
    let res = api
        .post_message("7000000000000000000", "text", json!({"text": "x"}))
        .await;
    assert_error(res, 404, 154004).await;
    server.stop().await;
}

#[tokio::test]
async fn oversized_or_garbled_requests_get_the_documented_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let ticket = api.start_service().await;
    let huge = format!("{{\"open_id\": \"{}\"}}", "x".repeat(3 << 20));

    let res = api
        .post("/open-apis/helpdesk/v1/start_service")
        .body(huge.clone())
        .send()
        .await
        .unwrap();
    assert_error(res, 400, 154000).await;
    let res = api
        .post(&format!("/open-apis/helpdesk/v1/tickets/{ticket}/messages"))
        .body(huge.clone())
        .send()
        .await
        .unwrap();
    assert_error(res, 400, 154000).await;
    let res = client()
        .post(server.url("/open-apis/auth/v3/tenant_access_token/internal"))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["code"], 10003);
    // A path segment that is not UTF-8 names no ticket.
    for path in [
        "/open-apis/helpdesk/v1/tickets/%FF%FE",
        "/open-apis/helpdesk/v1/tickets/%FF/messages",
    ] {
        assert_error(api.get(path).send().await.unwrap(), 404, 154004).await;
    }
    server.stop().await;
}
