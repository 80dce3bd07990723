//! The download cache never weakens a rule: changes made by another process
//! (the admin command) are seen by the very next request while the server
//! holds the download in its cache, and what one tenant warmed never
//! reaches another.

use helpdesk_testkit::binary::*;

/// A running server (with `serve_flags`) and one image message of it,
/// downloaded once.
struct Posted {
    server: Serving,
    party: Party,
    caller: Caller,
    ticket: String,
    msg: String,
    bytes: Vec<u8>,
    dir: tempfile::TempDir,
}

impl Posted {
    async fn new(serve_flags: &[&str], bytes: Vec<u8>) -> Posted {
        let dir = tempfile::tempdir().unwrap();
        let server = serve(dir.path(), serve_flags);
        let party = provision(dir.path());
        let c = party.client(&server.base);
        let ticket = open_ticket(&c).await;
        let msg = post_image(&c, &ticket, &bytes, "posted.png").await;
        let caller = Caller::of(&party, &server.base).await;
        let (status, _, _, body) = caller.image(&server.base, &ticket, &msg).await;
        assert_eq!(status, 200);
        assert!(body == bytes);
        Posted {
            server,
            party,
            caller,
            ticket,
            msg,
            bytes,
            dir,
        }
    }

    /// Deletes the image's object behind the server's back.
    async fn take_bytes_out_of_storage(&self) {
        let stores = helpdesk_testkit::open(self.dir.path()).await;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&self.bytes));
        stores.blobs.delete(&sha256).await.unwrap();
    }

    fn data(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The Feishu code `ticket_images` answers for the image (0 on success).
    async fn code(&self) -> i64 {
        self.image().await.1
    }

    /// `ticket_images` for the image with the first download's credentials.
    async fn image(&self) -> (u16, i64, String, Vec<u8>) {
        self.caller
            .image(&self.server.base, &self.ticket, &self.msg)
            .await
    }
}

/// A posted image whose object was then taken out of storage: a 200 from
/// then on can only come from the cache.
async fn warm() -> Posted {
    let posted = Posted::new(&[], png(5, 20_000)).await;
    posted.take_bytes_out_of_storage().await;
    let (status, _, _, body) = posted.image().await;
    assert_eq!(status, 200, "served from the cache");
    assert!(body == posted.bytes);
    posted
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_image_deleted_by_the_admin_command_is_refused_at_the_next_request() {
    let w = warm().await;
    admin(
        w.data(),
        &["image", "delete", "--ticket", &w.ticket, "--msg", &w.msg],
    );
    assert_eq!(w.code().await, 154404);
    w.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_is_refused_at_the_next_request_while_its_download_is_cached() {
    let w = warm().await;
    admin(
        w.data(),
        &["app", "revoke-tokens", "--app", &w.party.app_id],
    );
    assert_eq!(w.code().await, 99991663);
    w.server.terminate();
}

/// The Feishu code the token endpoint answers for these credentials.
async fn token_code(base: &str, app_id: &str, app_secret: &str) -> i64 {
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{base}/open-apis/auth/v3/tenant_access_token/internal"
        ))
        .json(&serde_json::json!({"app_id": app_id, "app_secret": app_secret}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["code"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_keeps_earlier_tokens_and_a_revoking_one_refuses_them_at_once() {
    let p = Posted::new(&[], png(6, 5_000)).await;
    let base = p.server.base.clone();
    let rotated = admin(p.data(), &["keys", "rotate"]);
    assert_eq!(s(&rotated["key_id"]), "0001");
    // The running server signs new tokens with the new key...
    let new = Caller::of(&p.party, &base).await;
    assert!(new.token.starts_with("t-0001."), "{}", new.token);
    // ...and still accepts the token signed before.
    let (status, _, _, body) = p.image().await;
    assert_eq!(status, 200, "a token of the earlier key still works");
    assert!(body == p.bytes);
    let second = Caller::of(&p.party, &base).await;

    admin(p.data(), &["keys", "rotate", "--revoke"]);
    assert_eq!(p.code().await, 99991663);
    let (_, code, _, _) = second.image(&base, &p.ticket, &p.msg).await;
    assert_eq!(code, 99991663, "every earlier key's tokens are refused");
    let third = Caller::of(&p.party, &base).await;
    assert!(third.token.starts_with("t-0002."), "{}", third.token);
    let (status, _, _, _) = third.image(&base, &p.ticket, &p.msg).await;
    assert_eq!(status, 200);
    p.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_app_gets_no_token_and_its_cached_downloads_are_refused_at_once() {
    let w = warm().await;
    let base = w.server.base.clone();
    let app = &w.party.app_id;
    let shown = admin(w.data(), &["app", "show", "--app", app]);
    assert_eq!(shown["disabled"], false);
    admin(w.data(), &["app", "disable", "--app", app]);
    assert_eq!(w.code().await, 99991663);
    assert_eq!(token_code(&base, app, &w.party.app_secret).await, 10014);
    assert_eq!(
        admin(w.data(), &["app", "show", "--app", app])["disabled"],
        true
    );

    admin(w.data(), &["app", "enable", "--app", app]);
    assert_eq!(token_code(&base, app, &w.party.app_secret).await, 0);
    // The token it held works again (its bytes are gone: past the checks,
    // the download reaches the missing object).
    assert_eq!(w.code().await, 155000);
    w.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_and_a_rotated_helpdesk_token_replace_the_old_ones_at_once() {
    let w = warm().await;
    let base = w.server.base.clone();
    let app = &w.party.app_id;
    let new = admin(w.data(), &["app", "rotate-secret", "--app", app]);
    let new_secret = s(&new["app_secret"]).to_string();
    assert_ne!(new_secret, w.party.app_secret);
    assert_eq!(token_code(&base, app, &w.party.app_secret).await, 10014);
    assert_eq!(token_code(&base, app, &new_secret).await, 0);
    // Tokens issued before stay valid: past every check to the missing
    // bytes (155000), the change having cleared the cache.
    assert_eq!(w.code().await, 155000);

    let rotated = admin(
        w.data(),
        &[
            "helpdesk",
            "rotate-token",
            "--helpdesk",
            &w.party.helpdesk_id,
        ],
    );
    assert_eq!(
        w.code().await,
        154003,
        "the old helpdesk credential is refused"
    );
    let mut party = w.party.clone();
    party.helpdesk_token = s(&rotated["helpdesk_token"]).to_string();
    party.app_secret = new_secret;
    let caller = Caller::of(&party, &base).await;
    let (_, code, _, _) = caller.image(&base, &w.ticket, &w.msg).await;
    assert_eq!(
        code, 155000,
        "the new credential passes (the bytes are gone)"
    );
    w.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cache_warmed_by_one_tenant_never_answers_another() {
    let w = warm().await;
    let other = provision(w.data());
    let b = Caller::of(&other, &w.server.base).await;
    let base = &w.server.base;

    // B's own credentials on A's ticket and message: exactly what a missing
    // ticket answers, and for a missing message in a ticket of B's too.
    let b_ticket = open_ticket(&other.client(base)).await;
    let (status, code, _, foreign) = b.image(base, &w.ticket, &w.msg).await;
    assert_eq!((status, code), (404, 154004));
    let (_, _, _, missing) = b.image(base, "7000000000000000000", &w.msg).await;
    let strip = |body: Vec<u8>| {
        let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        v["error"]["log_id"] = serde_json::Value::Null;
        v["error"]["troubleshooter"] = serde_json::Value::Null;
        v["error"]["details"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(foreign), strip(missing), "no existence oracle");
    let (status, code, _, _) = b.image(base, &b_ticket, &w.msg).await;
    assert_eq!((status, code), (404, 154004));

    // Mixed credentials: B's token with A's helpdesk credential, and A's
    // token with B's: refused, whatever A's cache holds.
    let mixed = Caller {
        token: b.token.clone(),
        credential: w.caller.credential.clone(),
    };
    assert_eq!(mixed.image(base, &w.ticket, &w.msg).await.1, 154003);
    let mixed = Caller {
        token: w.caller.token.clone(),
        credential: b.credential.clone(),
    };
    assert_eq!(mixed.image(base, &w.ticket, &w.msg).await.1, 154003);
    // A still gets its image from the cache.
    assert_eq!(w.code().await, 0);
    w.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_cache_off_every_download_reads_storage() {
    let posted = Posted::new(&["--cache-bytes", "0"], png(6, 9_000)).await;
    posted.take_bytes_out_of_storage().await;
    assert_eq!(posted.image().await.1, 155000, "nothing was kept");
    posted.server.terminate();
}
