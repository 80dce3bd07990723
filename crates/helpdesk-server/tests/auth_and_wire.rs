//! Tokens, credentials, tenant isolation, restarts, and the transport rules
//! the official SDKs depend on.

use std::io::{Read, Write};

use helpdesk_server::ServerConfig;
use helpdesk_store::AppKind;
use helpdesk_testkit::in_process::*;
use serde_json::json;

#[tokio::test]
async fn tokens_are_issued_like_feishu_and_refused_for_bad_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let url = server.url("/open-apis/auth/v3/tenant_access_token/internal");

    // Python sends no Content-Type; Go and Java send JSON with a charset.
    let body = json!({"app_id": a.app_id, "app_secret": a.app_secret}).to_string();
    let first = json(client().post(&url).body(body.clone()).send().await.unwrap()).await;
    assert_eq!(first["code"], 0);
    assert_eq!(first["msg"], "ok");
    assert!(first["tenant_access_token"]
        .as_str()
        .unwrap()
        .starts_with("t-"));
    let expire = first["expire"].as_i64().unwrap();
    assert!((1800..=7200).contains(&expire), "{expire}");
    let again = json(
        client()
            .post(&url)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        again["tenant_access_token"], first["tenant_access_token"],
        "same token while it has time left"
    );

    let app = json(
        client()
            .post(server.url("/open-apis/auth/v3/app_access_token/internal"))
            .json(&json!({"app_id": a.app_id, "app_secret": a.app_secret}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(app["code"], 0);
    assert!(app["app_access_token"].as_str().unwrap().starts_with("a-"));
    assert_eq!(app["tenant_access_token"], first["tenant_access_token"]);

    // Errors of the token endpoint are HTTP 200 with a code, and no token.
    for (body, code) in [
        (
            json!({"app_id": a.app_id, "app_secret": "wrong"}).to_string(),
            10014,
        ),
        (
            json!({"app_id": "cli_unknown", "app_secret": a.app_secret}).to_string(),
            10014,
        ),
        (json!({"app_id": a.app_id}).to_string(), 10003),
        ("not json".to_string(), 10003),
    ] {
        let res = client().post(&url).body(body).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let v = json(res).await;
        assert_eq!(v["code"], code, "{v}");
        assert!(v.get("tenant_access_token").is_none());
    }
    server.stop().await;
}

#[tokio::test]
async fn platform_auth_errors_and_helpdesk_credential_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let ticket = api.start_service().await;
    let path = format!("/open-apis/helpdesk/v1/tickets/{ticket}");
    let with = |auth: Option<String>, helpdesk: Option<String>| {
        let mut req = client().get(server.url(&path));
        if let Some(v) = auth {
            req = req.header("Authorization", v);
        }
        if let Some(v) = helpdesk {
            req = req.header("X-Lark-Helpdesk-Authorization", v);
        }
        req
    };

    // 99991661: no header, or not Bearer.
    assert_error(
        with(None, Some(a.credential())).send().await.unwrap(),
        400,
        99991661,
    )
    .await;
    assert_error(
        with(Some(api.token.clone()), Some(a.credential()))
            .send()
            .await
            .unwrap(),
        400,
        99991661,
    )
    .await;
    // 99991663: unknown, forged, or revoked.
    assert_error(
        with(Some("Bearer t-nonsense".into()), Some(a.credential()))
            .send()
            .await
            .unwrap(),
        400,
        99991663,
    )
    .await;
    let forged = format!("Bearer {}x", api.token);
    assert_error(
        with(Some(forged), Some(a.credential()))
            .send()
            .await
            .unwrap(),
        400,
        99991663,
    )
    .await;

    // 99991672: an app without a helpdesk scope; the msg names the scopes.
    let no_scope = other_app(&server.stores, &a, AppKind::Custom, &["im:resource"]).await;
    let no_scope_api = Api::new(&server, &no_scope).await;
    let body = assert_error(no_scope_api.get(&path).send().await.unwrap(), 400, 99991672).await;
    assert_eq!(
        body["msg"],
        "Access denied. One of the following scopes is required: [helpdesk:all:readonly, helpdesk:all]"
    );
    // Read-only reads, but does not write.
    let reader = Api::new(
        &server,
        &other_app(
            &server.stores,
            &a,
            AppKind::Custom,
            &["helpdesk:all:readonly"],
        )
        .await,
    )
    .await;
    assert_eq!(reader.get(&path).send().await.unwrap().status(), 200);
    assert_error(
        reader
            .post_message(&ticket, "text", json!({"text": "x"}))
            .await,
        400,
        99991672,
    )
    .await;

    // 403 / 154003: a store app; missing, undecodable or wrong credential.
    let store_app = Api::new(
        &server,
        &other_app(&server.stores, &a, AppKind::Store, &[]).await,
    )
    .await;
    let body = assert_error(store_app.get(&path).send().await.unwrap(), 403, 154003).await;
    assert_eq!(body["msg"], "Please check you have the correct access");
    let bearer = Some(format!("Bearer {}", api.token));
    assert_error(
        with(bearer.clone(), None).send().await.unwrap(),
        403,
        154003,
    )
    .await;
    assert_error(
        with(bearer.clone(), Some("%%%".into()))
            .send()
            .await
            .unwrap(),
        403,
        154003,
    )
    .await;
    let wrong = helpdesk_core::auth::encode_helpdesk_credential(&a.helpdesk_id, "ht-wrong");
    assert_error(
        with(bearer.clone(), Some(wrong)).send().await.unwrap(),
        403,
        154003,
    )
    .await;

    // Revoking an app's tokens refuses the one it holds, and a new one works.
    server.stores.meta.revoke_tokens(&a.app_id).await.unwrap();
    assert_error(api.get(&path).send().await.unwrap(), 400, 99991663).await;
    let fresh = Api::new(&server, &a).await;
    assert_ne!(fresh.token, api.token);
    assert_eq!(fresh.get(&path).send().await.unwrap().status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn no_tenant_reaches_another_tenants_ticket_or_image() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let b = party(&server.stores, "B").await;
    let api_a = Api::new(&server, &a).await;
    let api_b = Api::new(&server, &b).await;
    let key_a = api_a.upload_ok(png(1, 100), "a.png").await;
    let ticket = api_a.start_service().await;
    let (id, _) = api_a
        .post_message_ok(&ticket, "image", json!({"image_key": key_a}))
        .await;

    // B's app with B's helpdesk: A's ticket does not exist for it.
    assert_error(api_b.image(&ticket, &id, None).await, 404, 154004).await;
    assert_error(
        api_b
            .get(&format!("/open-apis/helpdesk/v1/tickets/{ticket}"))
            .send()
            .await
            .unwrap(),
        404,
        154004,
    )
    .await;
    let list = api_b
        .get(&format!("/open-apis/helpdesk/v1/tickets/{ticket}/messages"))
        .send()
        .await
        .unwrap();
    assert_error(list, 404, 154004).await;
    // B's app with A's helpdesk credential, or A's app with B's: refused.
    let mixed = Api {
        server: &server,
        token: api_b.token.clone(),
        credential: a.credential(),
    };
    assert_error(mixed.image(&ticket, &id, None).await, 403, 154003).await;
    let mixed = Api {
        server: &server,
        token: api_a.token.clone(),
        credential: b.credential(),
    };
    assert_error(mixed.image(&ticket, &id, None).await, 403, 154003).await;
    // B cannot post A's image key in its own ticket.
    let ticket_b = api_b.start_service().await;
    let res = api_b
        .post_message(&ticket_b, "image", json!({"image_key": key_a}))
        .await;
    assert_error(res, 400, 154000).await;
    server.stop().await;
}

#[tokio::test]
async fn tokens_and_images_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let bytes = png(5, 50_000);
    let key = api.upload_ok(bytes.clone(), "x.png").await;
    let ticket = api.start_service().await;
    let (id, _) = api
        .post_message_ok(&ticket, "image", json!({"image_key": key}))
        .await;
    let token = api.token.clone();
    server.stop().await;

    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let api = Api {
        server: &server,
        token,
        credential: a.credential(),
    };
    let res = api.image(&ticket, &id, None).await;
    assert_eq!(
        res.status(),
        200,
        "the token issued before the restart still works"
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
    server.stop().await;
}

/// Sends raw HTTP/1.1 and returns the response head as written on the wire.
fn raw_head(base: &str, request: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn header_names_go_out_title_case() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let key = api.upload_ok(png(1, 10), "a.png").await;
    let ticket = api.start_service().await;
    let (id, _) = api
        .post_message_ok(&ticket, "image", json!({"image_key": key}))
        .await;
    let base = server.base.clone();
    let request = format!(
        "GET /open-apis/helpdesk/v1/ticket_images?ticket_id={ticket}&msg_id={id} HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nX-Lark-Helpdesk-Authorization: {}\r\nConnection: close\r\n\r\n",
        api.token,
        a.credential()
    );
    let head = tokio::task::spawn_blocking(move || raw_head(&base, &request))
        .await
        .unwrap();
    for name in [
        "Content-Type: image/png",
        "Content-Disposition: attachment",
        "Content-Length: ",
        "X-Tt-Logid: ",
        "Etag: ",
    ] {
        assert!(head.contains(name), "{name:?} not in\n{head}");
    }
    let base = server.base.clone();
    let head = tokio::task::spawn_blocking(move || {
        raw_head(&base, "GET /open-apis/helpdesk/v1/ticket_images HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(
        head.contains("Content-Type: application/json; charset=utf-8")
            && head.contains("X-Tt-Logid: "),
        "{head}"
    );
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_are_plain_404() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    for req in [
        client().get(server.url("/open-apis/helpdesk/v1/nothing")),
        client().post(server.url("/open-apis/helpdesk/v1/ticket_images")),
        client().delete(server.url("/open-apis/auth/v3/tenant_access_token/internal")),
    ] {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 404);
        assert!(res.headers().contains_key("x-tt-logid"));
        assert_eq!(res.text().await.unwrap(), "404 page not found");
    }
    server.stop().await;
}
