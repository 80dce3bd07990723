//! The download cache never weakens a rule: changes made by another process
//! (the admin command) are seen within a second while the server holds the
//! download in its cache, and what one tenant warmed never reaches another.

mod common;

use std::time::Duration;

use common::*;

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
async fn a_cached_image_deleted_by_the_admin_command_is_refused_within_a_second() {
    let w = warm().await;
    admin(
        w.data(),
        &["image", "delete", "--ticket", &w.ticket, "--msg", &w.msg],
    );
    let took = within(Duration::from_secs(1), "delete seen", || async {
        w.code().await == 154404
    })
    .await;
    eprintln!("delete seen after {took:?}");
    w.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_is_refused_within_a_second_while_its_download_is_cached() {
    let w = warm().await;
    admin(
        w.data(),
        &["app", "revoke-tokens", "--app", &w.party.app_id],
    );
    within(Duration::from_secs(1), "revocation seen", || async {
        w.code().await == 99991663
    })
    .await;
    w.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_is_refused_within_a_second_and_new_tokens_work_without_a_restart() {
    let w = warm().await;
    admin(w.data(), &["keys", "rotate"]);
    within(Duration::from_secs(1), "rotation seen", || async {
        w.code().await == 99991663
    })
    .await;
    // The running server signs and accepts with the new key.
    let fresh = Caller::of(&w.party, &w.server.base).await;
    assert_ne!(fresh.token, w.caller.token);
    let (status, code, _, _) = fresh.image(&w.server.base, &w.ticket, &w.msg).await;
    // The bytes were taken out of storage: the fresh token gets past
    // authentication and reaches the (now uncached) missing object.
    assert_eq!((status, code), (500, 155000));
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
