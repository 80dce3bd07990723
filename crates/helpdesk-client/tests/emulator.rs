//! The SDK against the real server in process (`helpdesk-emulator`), as its
//! users' tests run it: an image through its whole path, an agent's update
//! through a user token, and Feishu's errors as typed values.

use futures::TryStreamExt;
use helpdesk_client::{Client, Error, MessageContent, StartService, TicketUpdate};
use helpdesk_emulator::{Emulator, DEFAULT_AGENT, DEFAULT_TICKET};

fn client(emulator: &Emulator) -> Client {
    let c = emulator.credentials();
    Client::builder(&c.app_id, &c.app_secret)
        .base_url(emulator.base_url())
        .helpdesk(
            c.helpdesk_id.as_deref().unwrap(),
            c.helpdesk_token.as_deref().unwrap(),
        )
        .build()
        .unwrap()
}

/// A PNG's signature and a little more: enough to be stored as an image.
fn png(n: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..2000).map(|i| (i as u8).wrapping_mul(n)));
    bytes
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uploaded_image_posted_in_a_new_ticket_downloads_byte_for_byte() {
    let emulator = Emulator::start().await.unwrap();
    let c = client(&emulator);
    let started = c
        .start_service(&StartService {
            open_id: "ou_guest0000000000000000000000000001".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let bytes = png(7);
    let image_key = c.upload_image(bytes.clone(), "shot.png").await.unwrap();
    let msg = c
        .create_message(&started.ticket_id, &MessageContent::Image { image_key })
        .await
        .unwrap();
    let got = c
        .ticket_image(&started.ticket_id, &msg, None)
        .await
        .unwrap();
    assert_eq!(got.content_type.as_deref(), Some("image/png"));
    assert_eq!(got.bytes().await.unwrap(), bytes);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_closes_the_declared_ticket_with_its_user_token() {
    let emulator = Emulator::start().await.unwrap();
    let c = client(&emulator);
    let token = emulator.user_access_token(DEFAULT_AGENT).await.unwrap();
    c.as_user(token)
        .update_ticket(
            DEFAULT_TICKET,
            &TicketUpdate {
                status: Some(50),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.ticket(DEFAULT_TICKET).await.unwrap().status, Some(50));
    let messages: Vec<_> = c
        .messages(DEFAULT_TICKET, Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_and_a_missing_ticket_are_feishus_errors() {
    let emulator = Emulator::start().await.unwrap();
    let wrong = Client::builder(&emulator.credentials().app_id, "not-the-secret-at-all")
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    match wrong.tenant_access_token().await {
        Err(Error::Api(e)) => assert_eq!(e.code, 10014),
        other => panic!("{other:?}"),
    }
    match client(&emulator).ticket("7000000000000000999").await {
        Err(Error::Api(e)) => assert_eq!((e.status, e.code), (404, 154004)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_emulators_are_apart_and_each_directory_goes_with_it() {
    let a = Emulator::start().await.unwrap();
    let b = Emulator::start().await.unwrap();
    assert_ne!(a.base_url(), b.base_url());
    let dir = a.data_dir().to_path_buf();
    let ticket = client(&a)
        .start_service(&StartService {
            open_id: "ou_someone".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .ticket_id;
    assert!(client(&b).ticket(&ticket).await.is_err());
    a.stop().await;
    assert!(!dir.exists());
}
