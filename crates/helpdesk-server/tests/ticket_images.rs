//! GET /open-apis/helpdesk/v1/ticket_images: the bytes, the headers, and every
//! row of the API page's error table.

use helpdesk_server::ServerConfig;
use helpdesk_testkit::in_process::*;
use serde_json::json;

struct Ticket {
    id: String,
    image_msg: (String, String),
    post_msg: (String, String),
    text_msg: (String, String),
    image: Vec<u8>,
    post_images: Vec<Vec<u8>>,
}

async fn ticket_with_images(api: &Api<'_>) -> Ticket {
    let image = png(1, 3000);
    let post_images = vec![png(2, 1000), jpeg(3, 2000), png(4, 500)];
    let image_key = api.upload_ok(image.clone(), "截图 \"one\".png").await;
    let mut keys = Vec::new();
    for (i, bytes) in post_images.iter().enumerate() {
        keys.push(api.upload_ok(bytes.clone(), &format!("step {i}.bin")).await);
    }
    let id = api.start_service().await;
    let text_msg = api
        .post_message_ok(&id, "text", json!({"text": "hello"}))
        .await;
    let image_msg = api
        .post_message_ok(&id, "image", json!({"image_key": image_key}))
        .await;
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let post_msg = api
        .post_message_ok(&id, "post", post_content(&key_refs))
        .await;
    Ticket {
        id,
        image_msg,
        post_msg,
        text_msg,
        image,
        post_images,
    }
}

#[tokio::test]
async fn images_come_back_byte_for_byte_with_their_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let t = ticket_with_images(&api).await;

    // An image message needs no index; either of its ids works.
    for msg in [&t.image_msg.0, &t.image_msg.1] {
        let res = api.image(&t.id, msg, None).await;
        assert_eq!(res.status(), 200);
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["content-length"], t.image.len().to_string().as_str());
        assert_eq!(
            h["content-disposition"],
            "attachment; filename=\"__ _one_.png\"; filename*=UTF-8''%E6%88%AA%E5%9B%BE%20%22one%22.png"
        );
        assert_eq!(h["cache-control"], "private");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let etag = h["etag"].to_str().unwrap().to_string();
        assert_eq!(etag.len(), 66, "strong ETag of the SHA-256: {etag}");
        assert!(h.contains_key("x-tt-logid"));
        assert_eq!(res.bytes().await.unwrap().to_vec(), t.image);
    }
    // Index 0 of an image message is the image too.
    assert_eq!(
        api.image(&t.id, &t.image_msg.0, Some("0")).await.status(),
        200
    );

    // A post's images, by index, in reading order, with the sniffed type
    // (not the client's ".bin" name).
    for (i, want) in t.post_images.iter().enumerate() {
        let res = api.image(&t.id, &t.post_msg.1, Some(&i.to_string())).await;
        assert_eq!(res.status(), 200);
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(ct, if i == 1 { "image/jpeg" } else { "image/png" });
        let cd = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(cd.ends_with(if i == 1 { ".jpg" } else { ".png" }), "{cd}");
        assert_eq!(&res.bytes().await.unwrap().to_vec(), want);
    }
    server.stop().await;
}

#[tokio::test]
async fn etag_head_and_both_helpdesk_header_forms() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let t = ticket_with_images(&api).await;
    let url = format!(
        "/open-apis/helpdesk/v1/ticket_images?ticket_id={}&msg_id={}&index=2",
        t.id, t.post_msg.0
    );

    let first = api.get(&url).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let res = api
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = api
        .get(&url)
        .header("If-None-Match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let res = client()
        .head(server.url(&url))
        .bearer_auth(&api.token)
        .header("X-Lark-Helpdesk-Authorization", a.credential())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-length"],
        t.post_images[2].len().to_string().as_str()
    );
    assert_eq!(res.headers()["content-type"], "image/png");

    // Node sends `Bearer <base64>`; Go, Java and Python the bare base64.
    let node = client()
        .get(server.url(&url))
        .bearer_auth(&api.token)
        .header(
            "X-Lark-Helpdesk-Authorization",
            format!("Bearer {}", a.credential()),
        )
        // Node also sends a JSON body on every GET.
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(node.status(), 200);
    assert_eq!(node.bytes().await.unwrap().to_vec(), t.post_images[2]);
    server.stop().await;
}

#[tokio::test]
async fn every_row_of_the_error_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), uncached()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let t = ticket_with_images(&api).await;
    let other = api.start_service().await;
    let post = t.post_msg.0.as_str();

    // 400 / 154000: index missing for a post, not an integer, negative, out of
    // range; ticket_id or msg_id missing.
    for index in [
        None,
        Some("x"),
        Some("-1"),
        Some("1.5"),
        Some("3"),
        Some("99999999999"),
    ] {
        let body = assert_error(api.image(&t.id, post, index).await, 400, 154000).await;
        assert_eq!(body["msg"], "Bad request, please check your request body");
    }
    assert_error(
        api.image(&t.id, &t.image_msg.0, Some("1")).await,
        400,
        154000,
    )
    .await;
    for q in [
        format!("msg_id={post}&index=0"),
        format!("ticket_id={}&index=0", t.id),
        format!("ticket_id=&msg_id={post}"),
    ] {
        let res = api
            .get(&format!("/open-apis/helpdesk/v1/ticket_images?{q}"))
            .send()
            .await
            .unwrap();
        assert_error(res, 400, 154000).await;
    }

    // 404 / 154004: unknown ticket, message of another ticket, unknown
    // message, a message with no image.
    for (ticket, msg) in [
        ("7000000000000000000", post),
        (other.as_str(), post),
        (t.id.as_str(), "7000000000000000001"),
        (t.id.as_str(), "om_0000"),
        (t.id.as_str(), t.text_msg.0.as_str()),
    ] {
        let body = assert_error(api.image(ticket, msg, Some("0")).await, 404, 154004).await;
        assert_eq!(body["msg"], "Resource not found");
    }

    // 401 / 154404: the image was deleted.
    delete_images(&server, &t.id, post, Some(1)).await;
    let body = assert_error(api.image(&t.id, post, Some("1")).await, 401, 154404).await;
    assert_eq!(body["msg"], "Image might be deleted");
    // Its neighbours are untouched.
    assert_eq!(api.image(&t.id, post, Some("2")).await.status(), 200);

    // 500 / 155000: the bytes are missing from storage.
    let sha = {
        let res = api.image(&t.id, &t.image_msg.0, None).await;
        res.headers()["etag"]
            .to_str()
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    server.stores.blobs.delete(&sha).await.unwrap();
    let body = assert_error(api.image(&t.id, &t.image_msg.0, None).await, 500, 155000).await;
    assert_eq!(body["msg"], "Internal error");

    // 403 / 154003 is covered with the other credential errors in auth.rs.
    server.stop().await;
}

#[tokio::test]
async fn a_deleted_image_loses_its_bytes_only_when_nothing_else_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), uncached()).await;
    let a = party(&server.stores, "A").await;
    let api = Api::new(&server, &a).await;
    let ticket = api.start_service().await;
    let shared = png(9, 4000);
    let k1 = api.upload_ok(shared.clone(), "a.png").await;
    let k2 = api.upload_ok(shared.clone(), "b.png").await;
    assert_eq!(object_count(&server).await, 1, "same bytes are stored once");
    let m1 = api
        .post_message_ok(&ticket, "image", json!({"image_key": k1}))
        .await;
    let m2 = api
        .post_message_ok(&ticket, "image", json!({"image_key": k2}))
        .await;

    let gone = delete_images(&server, &ticket, &m1.1, None).await;
    assert!(!gone[0].blob_removed);
    assert_error(api.image(&ticket, &m1.0, None).await, 401, 154404).await;
    assert_eq!(api.image_bytes(&ticket, &m2.0, None).await, shared);
    assert_eq!(object_count(&server).await, 1);

    let gone = delete_images(&server, &ticket, &m2.0, None).await;
    assert!(gone[0].blob_removed);
    assert_error(api.image(&ticket, &m2.0, None).await, 401, 154404).await;
    assert_eq!(object_count(&server).await, 0, "the bytes left storage");

    // An upload key of those bytes names nothing any more; a new upload of the
    // same bytes stores them again.
    let res = api
        .post_message(&ticket, "image", json!({"image_key": k2}))
        .await;
    assert_error(res, 400, 154000).await;
    let k3 = api.upload_ok(shared.clone(), "c.png").await;
    let m3 = api
        .post_message_ok(&ticket, "image", json!({"image_key": k3}))
        .await;
    assert_eq!(api.image_bytes(&ticket, &m3.0, None).await, shared);
    server.stop().await;
}

#[tokio::test]
async fn deleting_an_image_never_breaks_another_tenants_upload_of_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerConfig::default()).await;
    let a = party(&server.stores, "A").await;
    let b = party(&server.stores, "B").await;
    let api_a = Api::new(&server, &a).await;
    let api_b = Api::new(&server, &b).await;
    let same = png(42, 5000);
    let key_a = api_a.upload_ok(same.clone(), "a.png").await;
    let key_b = api_b.upload_ok(same.clone(), "b.png").await;
    let ticket_a = api_a.start_service().await;
    let msg_a = api_a
        .post_message_ok(&ticket_a, "image", json!({"image_key": key_a}))
        .await;

    let gone = delete_images(&server, &ticket_a, &msg_a.0, None).await;
    assert!(!gone[0].blob_removed, "B's upload still holds the bytes");
    assert_error(api_a.image(&ticket_a, &msg_a.0, None).await, 401, 154404).await;
    // A's posted key is gone with its message; B's key still works.
    assert_error(
        api_a
            .post_message(&ticket_a, "image", json!({"image_key": key_a}))
            .await,
        400,
        154000,
    )
    .await;
    let ticket_b = api_b.start_service().await;
    let msg_b = api_b
        .post_message_ok(&ticket_b, "image", json!({"image_key": key_b}))
        .await;
    assert_eq!(api_b.image_bytes(&ticket_b, &msg_b.0, None).await, same);
    server.stop().await;
}
