//! One conformance suite for every metadata backend: the same cases against
//! SQLite always, and against PostgreSQL when `HELPDESK_TEST_POSTGRES_URL`
//! names a server (as `./scripts/test` does), each on a fresh database.

use std::sync::Arc;

use helpdesk_core::content::MessageType;
use helpdesk_core::events;
use helpdesk_core::ids::MessageRef;
use helpdesk_core::ImageType;
use helpdesk_store::provision::{create_app, create_helpdesk};
use helpdesk_store::{
    App, AppChange, AppKind, Blob, EventConfig, Helpdesk, Image, ImageLookup, MessageFilter,
    MetadataStore, NewMessage, NewTicket, StoreError,
};

// Beside this file, not in tests/ (where Cargo would build it alone).
#[path = "backends/activity.rs"]
mod activity;
#[path = "backends/blobs.rs"]
mod blobs;
#[path = "backends/event_history.rs"]
mod event_history;
#[path = "backends/faqs.rs"]
mod faqs;
#[path = "backends/outbox.rs"]
mod outbox;
#[path = "backends/safety.rs"]
mod safety;
#[path = "backends/tickets.rs"]
mod tickets;
#[path = "backends/transfer.rs"]
mod transfer;

/// Fresh metadata stores, one per configured backend, each with its name.
async fn backends() -> Vec<(&'static str, Arc<dyn MetadataStore>, tempfile::TempDir)> {
    let mut all = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    all.push((
        "sqlite",
        helpdesk_store::open_meta(dir.path(), None).await.unwrap(),
        dir,
    ));
    match helpdesk_testkit::postgres_s3() {
        Some(backend) => {
            let dir = tempfile::tempdir().unwrap();
            let config = helpdesk_testkit::storage_on(&backend, dir.path());
            let meta = helpdesk_store::open_meta(dir.path(), config.database_url.as_deref())
                .await
                .unwrap();
            all.push(("postgres", meta, dir));
        }
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is not running; ./scripts/test starts it"
            );
            eprintln!("SKIPPED the postgres backend: HELPDESK_TEST_POSTGRES_URL is not set (./scripts/test sets it)");
        }
    }
    all
}

fn blob(seed: u8) -> Blob {
    let sha256 = format!("{seed:02x}").repeat(32);
    Blob {
        sha256,
        size: 1000 + u64::from(seed),
        image_type: ImageType::Png,
    }
}

/// A tenant with a custom app and a helpdesk, and a ticket in it.
struct World {
    tenant: String,
    app_id: String,
    helpdesk_id: String,
    ticket_id: String,
}

async fn world(meta: &dyn MetadataStore) -> World {
    let tenant = meta.create_tenant("T").await.unwrap().tenant_key;
    let app = create_app(meta, &tenant, "app", AppKind::Custom, &[])
        .await
        .unwrap();
    let helpdesk = create_helpdesk(meta, &tenant, "hd").await.unwrap();
    let ticket = meta
        .create_ticket(NewTicket {
            helpdesk_id: &helpdesk.helpdesk.helpdesk_id,
            tenant_key: &tenant,
            guest_open_id: "ou_guest",
            human_service: true,
            customized_info: None,
            agent_ids: &[],
        })
        .await
        .unwrap();
    World {
        tenant,
        app_id: app.app.app_id,
        helpdesk_id: helpdesk.helpdesk.helpdesk_id,
        ticket_id: ticket.ticket_id,
    }
}

async fn post(meta: &dyn MetadataStore, w: &World, images: &[Image]) -> String {
    let message_type = if images.len() == 1 {
        MessageType::Image
    } else {
        MessageType::Post
    };
    meta.add_message(NewMessage {
        ticket_id: &w.ticket_id,
        message_type,
        content: "{}",
        user_id: "ou_guest",
        user_name: "Guest",
        avatar_url: "",
        images,
    })
    .await
    .unwrap()
    .message_id
}

/// Points the app's events somewhere and subscribes it to both events.
async fn subscribed(meta: &dyn MetadataStore, w: &World) {
    let config = EventConfig {
        url: "http://127.0.0.1:9/events".into(),
        encrypt_key: "k".into(),
        verification_token: "t".into(),
    };
    meta.set_event_config(&w.app_id, Some(&config))
        .await
        .unwrap();
    assert_eq!(meta.event_config(&w.app_id).await.unwrap(), Some(config));
    meta.subscribe_events(&w.app_id, &w.helpdesk_id, &events::EVENT_TYPES, true)
        .await
        .unwrap();
}

fn field(helpdesk_id: &str, key: &str, at: i64) -> helpdesk_store::Field {
    helpdesk_store::Field {
        seq: 0,
        field_id: helpdesk_core::ids::field_id(),
        helpdesk_id: helpdesk_id.into(),
        key_name: key.into(),
        display_name: key.into(),
        position: "1".into(),
        field_type: "string".into(),
        description: String::new(),
        visible: true,
        editable: true,
        required: false,
        dropdown_allow_multiple: false,
        dropdown_options: String::new(),
        created_by: "ou_x".into(),
        updated_by: "ou_x".into(),
        created_at: at,
        updated_at: at,
    }
}

fn faq(helpdesk_id: &str, question: &str, answer: &str) -> helpdesk_store::Faq {
    helpdesk_store::Faq {
        seq: 0,
        faq_id: helpdesk_core::ids::field_id(),
        helpdesk_id: helpdesk_id.into(),
        question: question.into(),
        answer: answer.into(),
        answer_richtext: "[]".into(),
        category_ids: "[]".into(),
        tags: "[]".into(),
        status: helpdesk_store::FAQ_ONLINE,
        create_user: "ou_x".into(),
        update_user: "ou_x".into(),
        create_time: 1,
        update_time: 1,
        search_grams: helpdesk_core::search::document(&format!("{question}\n{answer}")),
    }
}

/// The download's lookup, which must find the app.
async fn download(
    meta: &dyn MetadataStore,
    app_id: &str,
    helpdesk_id: &str,
    ticket_id: &str,
    msg: &str,
    index: u32,
) -> (App, Option<Helpdesk>, Option<ImageLookup>) {
    meta.image_with_credentials(
        app_id,
        helpdesk_id,
        ticket_id,
        MessageRef::parse(msg),
        index,
    )
    .await
    .unwrap()
    .expect("the app exists")
}

#[tokio::test]
async fn provisioning_and_credentials_read_back_the_same_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let w = world(meta.as_ref()).await;
        let (app, helpdesk) = meta
            .app_and_helpdesk(&w.app_id, &w.helpdesk_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(app.tenant_key, w.tenant, "{name}");
        assert_eq!(app.scopes, ["helpdesk:all", "im:resource"], "{name}");
        assert_eq!(helpdesk.unwrap().tenant_key, w.tenant, "{name}");
        let (_, none) = meta
            .app_and_helpdesk(&w.app_id, "7000000000000000000")
            .await
            .unwrap()
            .unwrap();
        assert!(none.is_none(), "{name}");
        assert!(meta.app("cli_nope").await.unwrap().is_none(), "{name}");
        assert!(
            matches!(
                meta.create_helpdesk("nope", "x", "d").await,
                Err(StoreError::NotFound { .. })
            ),
            "{name}"
        );
        meta.revoke_tokens(&w.app_id).await.unwrap();
        assert!(
            meta.app(&w.app_id)
                .await
                .unwrap()
                .unwrap()
                .tokens_not_before
                > 0
        );
        // One signing key, until rotated; a rotation keeps the earlier
        // key (its tokens live on), a revoking one drops every other.
        let keys = meta.signing_keys().await.unwrap();
        assert_eq!(keys.len(), 1, "{name}");
        assert_eq!(meta.signing_keys().await.unwrap(), keys, "{name}");
        let second = meta.rotate_signing_key(false).await.unwrap();
        assert_eq!(second.id, "0001", "{name}");
        let now = meta.signing_keys().await.unwrap();
        assert_eq!(now, vec![keys[0].clone(), second.clone()], "{name}");
        let third = meta.rotate_signing_key(true).await.unwrap();
        assert_eq!(third.id, "0002", "{name}");
        assert_eq!(meta.signing_keys().await.unwrap(), vec![third], "{name}");

        // Day-two changes: secrets, tokens and disabling, each seen by the
        // lookups the server makes.
        meta.update_app(&w.app_id, AppChange::Secret("ab"))
            .await
            .unwrap();
        meta.update_app(&w.app_id, AppChange::Disabled(true))
            .await
            .unwrap();
        let app = meta.app(&w.app_id).await.unwrap().unwrap();
        assert_eq!(
            (app.secret_sha256.as_str(), app.disabled),
            ("ab", true),
            "{name}"
        );
        meta.update_app(&w.app_id, AppChange::Disabled(false))
            .await
            .unwrap();
        assert!(
            !meta.app(&w.app_id).await.unwrap().unwrap().disabled,
            "{name}"
        );
        meta.set_helpdesk_token(&w.helpdesk_id, "cd").await.unwrap();
        let (_, helpdesk) = meta
            .app_and_helpdesk(&w.app_id, &w.helpdesk_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(helpdesk.unwrap().token_sha256, "cd", "{name}");
        assert!(matches!(
            meta.update_app("cli_missing", AppChange::Disabled(true))
                .await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            meta.set_helpdesk_token("missing", "cd").await,
            Err(StoreError::NotFound { .. })
        ));
        // Listings, whole and by tenant.
        let other = world(meta.as_ref()).await;
        let apps = meta.apps(Some(&w.tenant)).await.unwrap();
        assert_eq!(apps.len(), 1, "{name}");
        assert_eq!(apps[0].app_id, w.app_id, "{name}");
        assert!(meta.apps(None).await.unwrap().len() >= 2, "{name}");
        let helpdesks = meta.helpdesks(Some(&other.tenant)).await.unwrap();
        assert_eq!(helpdesks.len(), 1, "{name}");
        assert_eq!(helpdesks[0].helpdesk_id, other.helpdesk_id, "{name}");
        assert!(meta
            .tenants()
            .await
            .unwrap()
            .iter()
            .any(|t| t.tenant_key == other.tenant));
    }
}

#[tokio::test]
async fn messages_images_and_the_download_lookup_agree_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let a = meta
            .add_image(&w.tenant, "cli_test", &blob(1), "a.png")
            .await
            .unwrap();
        let b = meta
            .add_image(&w.tenant, "cli_test", &blob(2), "b.png")
            .await
            .unwrap();
        // Another tenant cannot name these keys.
        let other = world(meta).await;
        assert!(meta
            .images(&other.tenant, std::slice::from_ref(&a.image_key))
            .await
            .unwrap()
            .is_empty());
        let post_id = post(meta, &w, &[a.clone(), b.clone()]).await;
        post(meta, &w, std::slice::from_ref(&a)).await;
        let page = meta
            .messages(
                &w.ticket_id,
                &MessageFilter {
                    limit: 1,
                    offset: 0,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 2, "{name}");
        assert_eq!(page.messages[0].message_id, post_id, "{name}: oldest first");

        let (_, helpdesk, lookup) =
            download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &post_id, 1).await;
        assert!(helpdesk.is_some());
        let lookup = lookup.unwrap();
        assert_eq!(lookup.image_count, 2, "{name}");
        let image = lookup.image.unwrap();
        assert_eq!(
            (image.sha256.as_str(), image.size, image.deleted),
            (b.sha256.as_str(), b.size, false),
            "{name}"
        );
        // Out of range: the message, no image.
        let (_, _, lookup) =
            download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &post_id, 2).await;
        assert!(lookup.unwrap().image.is_none(), "{name}");
        // Another helpdesk's ticket: no message at all.
        let (_, _, lookup) = download(
            meta,
            &w.app_id,
            &other.helpdesk_id,
            &w.ticket_id,
            &post_id,
            0,
        )
        .await;
        assert!(lookup.is_none(), "{name}");
    }
}

#[tokio::test]
async fn console_tokens_are_found_by_digest_until_revoked_on_every_backend() {
    use helpdesk_store::NewConsoleToken;
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let tenant = meta.create_tenant("T").await.unwrap();
        let mine = meta
            .create_console_token(&NewConsoleToken {
                token_id: "ct_1",
                token_sha256: &"a".repeat(64),
                tenant_key: Some(&tenant.tenant_key),
                read_only: true,
            })
            .await
            .unwrap();
        assert_eq!(
            mine.tenant_key.as_deref(),
            Some(tenant.tenant_key.as_str()),
            "{name}"
        );
        assert!(mine.read_only && mine.revoked_at.is_none(), "{name}");
        meta.create_console_token(&NewConsoleToken {
            token_id: "ct_2",
            token_sha256: &"b".repeat(64),
            tenant_key: None,
            read_only: false,
        })
        .await
        .unwrap();
        let unknown = meta
            .create_console_token(&NewConsoleToken {
                token_id: "ct_3",
                token_sha256: &"c".repeat(64),
                tenant_key: Some("no-such-tenant"),
                read_only: false,
            })
            .await;
        assert!(
            matches!(unknown, Err(StoreError::NotFound { .. })),
            "{name}"
        );

        let found = meta.live_console_token(&"a".repeat(64)).await.unwrap();
        assert_eq!(
            found.map(|t| t.token_id),
            Some("ct_1".to_string()),
            "{name}"
        );
        assert!(meta
            .live_console_token(&"d".repeat(64))
            .await
            .unwrap()
            .is_none());
        assert!(meta.console_token_live("ct_1").await.unwrap(), "{name}");

        let revoked = meta.revoke_console_token("ct_1").await.unwrap();
        assert!(revoked.revoked_at.is_some(), "{name}");
        assert!(
            meta.live_console_token(&"a".repeat(64))
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert!(!meta.console_token_live("ct_1").await.unwrap(), "{name}");
        assert!(meta.console_token_live("ct_2").await.unwrap(), "{name}");
        let again = meta.revoke_console_token("ct_1").await.unwrap();
        assert_eq!(again.revoked_at, revoked.revoked_at, "{name}: once");
        assert!(matches!(
            meta.revoke_console_token("ct_9").await,
            Err(StoreError::NotFound { .. })
        ));
        let all: Vec<String> = meta
            .console_tokens()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.token_id)
            .collect();
        assert_eq!(all, ["ct_1", "ct_2"], "{name}");
    }
}
