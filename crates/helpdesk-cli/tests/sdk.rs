//! The Rust SDK (helpdesk-client) against the real server binary.

use std::time::Duration;

use futures::TryStreamExt;
use helpdesk_client::{Client, Error, ListMessages, MessageContent, RetryPolicy};
use helpdesk_testkit::binary::*;
use serde_json::json;

struct Setup {
    server: Serving,
    party: Party,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data, &[]);
    let party = provision(&data);
    Setup { server, party, dir }
}

impl Setup {
    /// A client that opens a connection per request (the fault proxy needs
    /// that) and retries quickly.
    fn client(&self, base: &str) -> Client {
        self.party
            .builder(base)
            .http_client(no_pool())
            .retry_policy(RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(20),
                ..RetryPolicy::default()
            })
            .build()
            .unwrap()
    }

    /// A client whose image downloads go through a proxy with `fault`.
    async fn via_image_proxy(&self, fault: Fault) -> (FaultProxy, Client) {
        let proxy = FaultProxy::start(
            &self.server.base,
            "/open-apis/helpdesk/v1/ticket_images",
            fault,
        )
        .await;
        let client = self.client(&proxy.base);
        (proxy, client)
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

/// Four distinct images for `ticket_with_images`.
fn four_images() -> Vec<Vec<u8>> {
    (0..4).map(|i| png(i, 1000 + 500 * i as usize)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_against_the_server() {
    let st = setup();
    let c = st.client(&st.server.base);
    assert!(c.tenant_access_token().await.unwrap().starts_with("t-"));
    let images = four_images();
    let ImageTicket {
        ticket: t,
        image_msg,
        post_msg,
        ..
    } = ticket_with_images(&c, &images).await;

    let ticket = c.ticket(&t).await.unwrap();
    assert_eq!(ticket.ticket_id, t);
    assert_eq!(ticket.guest.unwrap().id.as_deref(), Some(GUEST));

    let page = c.list_messages(&t, &ListMessages::default()).await.unwrap();
    assert_eq!(page.total, 3);
    let counts: Vec<usize> = page.messages.iter().map(|m| m.image_count()).collect();
    assert_eq!(counts, [0, 1, 3]);

    let image = c.ticket_image(&t, &image_msg, None).await.unwrap();
    assert_eq!(image.content_type.as_deref(), Some("image/png"));
    assert_eq!(image.file_name.as_deref(), Some("shot-0.png"));
    assert_eq!(image.content_length, Some(images[0].len() as u64));
    assert!(image.log_id.is_some());
    assert_eq!(image.bytes().await.unwrap().to_vec(), images[0]);
    let out = tempfile::tempdir().unwrap();
    for i in 0..3u32 {
        let path = out.path().join(format!("{i}.png"));
        let n = c
            .ticket_image(&t, &post_msg, Some(i))
            .await
            .unwrap()
            .save(&path)
            .await
            .unwrap();
        assert_eq!(n, images[1 + i as usize].len() as u64);
        assert_eq!(std::fs::read(&path).unwrap(), images[1 + i as usize]);
    }

    // API errors carry status, code, msg and log id.
    match c.ticket_image(&t, &post_msg, None).await {
        Err(Error::Api(e)) => {
            assert_eq!((e.status, e.code), (400, 154000));
            assert_eq!(e.msg, "Bad request, please check your request body");
            assert!(e.log_id.is_some());
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    // A wrong secret is an API error of the token endpoint.
    let wrong = Client::builder(&st.party.app_id, "wrong")
        .base_url(&st.server.base)
        .build()
        .unwrap();
    assert_eq!(
        wrong.tenant_access_token().await.unwrap_err().code(),
        Some(10014)
    );
    // An unreachable server is a transport error.
    let nowhere = Client::builder(&st.party.app_id, &st.party.app_secret)
        .base_url("http://127.0.0.1:9")
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(matches!(
        nowhere.tenant_access_token().await,
        Err(Error::Transport { .. })
    ));
    st.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_message_stream_walks_every_page() {
    let st = setup();
    let c = st.client(&st.server.base);
    let t = open_ticket(&c).await;
    for i in 0..7 {
        c.create_message(&t, &MessageContent::Text(format!("m{i}")))
            .await
            .unwrap();
    }
    let all: Vec<_> = c
        .messages(
            &t,
            ListMessages {
                page_size: Some(3),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    let texts: Vec<String> = all.iter().map(|m| m.content.clone()).collect();
    let want: Vec<String> = (0..7)
        .map(|i| json!({"text": format!("m{i}")}).to_string())
        .collect();
    assert_eq!(texts, want);
    st.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn one_token_fetch_for_many_callers_and_recovery_from_99991663() {
    let st = setup();
    let c = st.client(&st.server.base);
    let images = four_images();
    let ImageTicket {
        ticket: t,
        image_msg,
        ..
    } = ticket_with_images(&c, &images).await;
    let before = token_requests(&st.server.log);

    // A new client, 20 calls at once: one token request.
    let fresh = st.client(&st.server.base);
    let calls = (0..20).map(|_| {
        let fresh = fresh.clone();
        let t = t.clone();
        async move { fresh.ticket(&t).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    wait_for("the access log", || token_requests(&st.server.log) > before);
    assert_eq!(token_requests(&st.server.log), before + 1);

    // Revoked tokens: the cached one is refused once, dropped, and replaced.
    admin(
        &st.data(),
        &["app", "revoke-tokens", "--app", &st.party.app_id],
    );
    let got = fresh
        .ticket_image(&t, &image_msg, None)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), images[0]);
    wait_for("the access log", || {
        token_requests(&st.server.log) > before + 1
    });
    assert_eq!(token_requests(&st.server.log), before + 2);

    // A new signing key after a restart: the same recovery.
    admin(&st.data(), &["keys", "rotate"]);
    let port = st.server.base.rsplit(':').next().unwrap().to_string();
    let data = st.data();
    let (status, _) = st.server.terminate();
    assert!(status.success());
    let restarted = serve_at(&data, &format!("127.0.0.1:{port}"), &[]);
    assert_eq!(restarted.base, format!("http://127.0.0.1:{port}"));
    let got = fresh
        .ticket_image(&t, &image_msg, None)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), images[0]);
    restarted.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_on_5xx_are_counted_bounded_and_never_on_4xx() {
    let st = setup();
    let c = st.client(&st.server.base);
    let images = four_images();
    let ImageTicket {
        ticket: t,
        image_msg,
        post_msg,
        ..
    } = ticket_with_images(&c, &images).await;

    let (proxy, via) = st.via_image_proxy(Fault::FailFirst(2)).await;
    let got = via
        .ticket_image(&t, &image_msg, None)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), images[0]);
    assert_eq!(proxy.hits(), 3, "two 503s, then the answer");

    let (always, via) = st.via_image_proxy(Fault::FailFirst(100)).await;
    match via.ticket_image(&t, &image_msg, None).await {
        Err(Error::Api(e)) => assert_eq!(e.status, 503),
        other => panic!("expected the last 503, got {other:?}"),
    }
    assert_eq!(always.hits(), 4, "the first try and 3 retries");

    let (counting, via) = st.via_image_proxy(Fault::FailFirst(0)).await;
    assert_eq!(
        via.ticket_image(&t, &post_msg, Some(9))
            .await
            .unwrap_err()
            .code(),
        Some(154000)
    );
    assert_eq!(counting.hits(), 1, "a 4xx is not retried");
    st.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_download_leaves_no_file_behind() {
    let st = setup();
    let c = st.client(&st.server.base);
    let t = open_ticket(&c).await;
    let msg = post_image(&c, &t, &png(3, 200_000), "big.png").await;

    let (_proxy, via) = st.via_image_proxy(Fault::Truncate(50_000)).await;
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("big.png");
    std::fs::write(&path, b"the old file").unwrap();
    let image = via.ticket_image(&t, &msg, None).await.unwrap();
    assert!(image.save(&path).await.is_err());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"the old file",
        "the target is untouched"
    );
    let names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["big.png"], "no partial file is left");
    st.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_output_of_a_builder_and_a_working_client_shows_no_secret() {
    let st = setup();
    let builder = st.party.builder(&st.server.base);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let token = client.tenant_access_token().await.unwrap();
    open_ticket(&client).await;
    let client_debug = format!("{client:?} {:#?}", client.clone());
    let header = st.party.credential();
    for shown in [&builder_debug, &client_debug] {
        assert!(shown.contains(&st.party.app_id), "still useful: {shown}");
        for secret in [
            &st.party.app_secret,
            &st.party.helpdesk_token,
            &header,
            &token,
        ] {
            assert!(!shown.contains(secret.as_str()), "a secret in {shown}");
        }
    }
    st.server.terminate();
}
