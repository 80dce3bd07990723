// tests/helpdesk.rs: the real server in process, on a free port, over a
// temporary directory removed when `emulator` is dropped.
use helpdesk_client::Client;
use helpdesk_emulator::Emulator;

#[tokio::test]
async fn the_ticket_screenshot_downloads_byte_for_byte() {
    let emulator = Emulator::with_fixtures("tests/fixtures.toml")
        .await
        .unwrap();
    let c = emulator.credentials();
    let client = Client::builder(&c.app_id, &c.app_secret)
        .base_url(emulator.base_url())
        .helpdesk(
            c.helpdesk_id.as_deref().unwrap(),
            c.helpdesk_token.as_deref().unwrap(),
        )
        .build()
        .unwrap();

    let image = client
        .ticket_image(
            "7744543483208438777",
            "om_00000000000000000000000000000002",
            None,
        )
        .await
        .unwrap();
    let want = std::fs::read("tests/fixtures/screenshot.png").unwrap();
    assert_eq!(image.bytes().await.unwrap(), want);
}
