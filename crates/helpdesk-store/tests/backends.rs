//! One conformance suite for every metadata backend: the same cases against
//! SQLite always, and against PostgreSQL when `HELPDESK_TEST_POSTGRES_URL`
//! names a server (as `./scripts/test` does), each on a fresh database.

use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::content::MessageType;
use helpdesk_core::events;
use helpdesk_core::ids::MessageRef;
use helpdesk_core::ImageType;
use helpdesk_store::provision::{create_app, create_helpdesk};
use helpdesk_store::{
    Actor, App, AppChange, AppKind, AuditQuery, Blob, DeliveryOutcome, EventConfig, Helpdesk,
    Image, ImageLookup, MessageFilter, MetadataStore, NewAttempt, NewAudit, NewMessage, NewTicket,
    PolicyChange, RecordKind, StoreError, TicketChange, TicketQuery,
};

// Beside this file, not in tests/ (where Cargo would build it alone).
#[path = "backends/activity.rs"]
mod activity;
#[path = "backends/event_history.rs"]
mod event_history;

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
async fn a_blob_is_claimed_only_when_nothing_live_uses_it_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let shared = blob(7);
        let first = meta
            .add_image(&w.tenant, "cli_test", &shared, "1.png")
            .await
            .unwrap();
        let second = meta
            .add_image(&w.tenant, "cli_test", &shared, "2.png")
            .await
            .unwrap();
        let m1 = post(meta, &w, std::slice::from_ref(&first)).await;
        assert!(meta
            .claim_unreferenced_blob(&shared.sha256)
            .await
            .unwrap()
            .is_none());

        let gone = meta
            .delete_message_images(&w.ticket_id, MessageRef::parse(&m1), None)
            .await
            .unwrap();
        assert_eq!(gone.len(), 1, "{name}");
        // The second upload key still holds the bytes.
        assert!(
            meta.claim_unreferenced_blob(&shared.sha256)
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
        // Its message, once deleted, leaves the bytes to nothing.
        let m2 = post(meta, &w, std::slice::from_ref(&second)).await;
        meta.delete_message_images(&w.ticket_id, MessageRef::parse(&m2), None)
            .await
            .unwrap();
        assert_eq!(
            meta.unreferenced_blobs(10).await.unwrap(),
            std::slice::from_ref(&shared.sha256),
            "{name}"
        );
        // A deleted key cannot be posted again.
        let refused = meta
            .add_message(NewMessage {
                ticket_id: &w.ticket_id,
                message_type: MessageType::Image,
                content: "{}",
                user_id: "u",
                user_name: "u",
                avatar_url: "",
                images: std::slice::from_ref(&second),
            })
            .await;
        assert!(matches!(refused, Err(StoreError::Invalid(_))), "{name}");
        let claim = meta
            .claim_unreferenced_blob(&shared.sha256)
            .await
            .unwrap()
            .expect("unreferenced");
        claim.forget().await.unwrap();
        assert!(
            meta.unreferenced_blobs(10).await.unwrap().is_empty(),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_of_claimed_bytes_waits_for_the_claim_then_records_them_again_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let w = world(meta.as_ref()).await;
        let bytes = blob(9);
        let x = meta
            .add_image(&w.tenant, "cli_test", &bytes, "x.png")
            .await
            .unwrap();
        let m = post(meta.as_ref(), &w, &[x]).await;
        meta.delete_message_images(&w.ticket_id, MessageRef::parse(&m), None)
            .await
            .unwrap();

        // The cleanup holds its claim (as while it removes the object); an
        // upload of the same bytes must wait for it, not slip in before.
        let claim = meta
            .claim_unreferenced_blob(&bytes.sha256)
            .await
            .unwrap()
            .expect("unreferenced");
        let uploader = {
            let meta = meta.clone();
            let tenant = w.tenant.clone();
            let bytes = bytes.clone();
            tokio::spawn(async move { meta.add_image(&tenant, "cli_test", &bytes, "z.png").await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !uploader.is_finished(),
            "{name}: an upload recorded bytes a claim was removing"
        );
        claim.forget().await.unwrap();
        uploader.await.unwrap().unwrap();
        // The bytes are recorded again, and in use.
        assert!(
            meta.unreferenced_blobs(10).await.unwrap().is_empty(),
            "{name}"
        );
        assert!(
            meta.claim_unreferenced_blob(&bytes.sha256)
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
    }
}

/// Rows as text, without message sequence numbers (each database numbers
/// its own, in the same order).
fn comparable(rows: Vec<helpdesk_store::Record>) -> String {
    rows.into_iter()
        .map(|r| match r {
            helpdesk_store::Record::Message(mut m) => {
                m.seq = 0;
                format!("{m:?}")
            }
            helpdesk_store::Record::Event(mut e) => {
                e.seq = 0;
                format!("{e:?}")
            }
            helpdesk_store::Record::Agent(mut a) => {
                a.seq = 0;
                format!("{a:?}")
            }
            helpdesk_store::Record::Field(mut f) => {
                f.seq = 0;
                format!("{f:?}")
            }
            helpdesk_store::Record::Category(mut c) => {
                c.seq = 0;
                format!("{c:?}")
            }
            helpdesk_store::Record::Faq(mut f) => {
                f.seq = 0;
                format!("{f:?}")
            }
            helpdesk_store::Record::BotMessage(mut m) => {
                m.seq = 0;
                format!("{m:?}")
            }
            helpdesk_store::Record::Audit(mut a) => {
                a.seq = 0;
                format!("{a:?}")
            }
            r => format!("{r:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn export_then_import_copies_every_table_between_backends() {
    let stores = backends().await;
    let (from_name, from, _d) = &stores[0];
    let w = world(from.as_ref()).await;
    let image = from
        .add_image(&w.tenant, "cli_test", &blob(3), "c.png")
        .await
        .unwrap();
    subscribed(from.as_ref(), &w).await;
    post(from.as_ref(), &w, &[image]).await;
    let events = from.list_events(&w.app_id, false, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    // Its delivery attempt travels with it, an answer that was not text.
    let attempt = NewAttempt {
        started_at_ms: 1,
        status: Some(502),
        body: vec![0xff, 0, 1],
        ..NewAttempt::default()
    };
    let retry = DeliveryOutcome::Retry {
        at_ms: 2,
        error: "HTTP 502".into(),
    };
    from.finish_event(events[0].seq, &retry, &attempt, 1)
        .await
        .unwrap();
    let event_id = events[0].event_id.clone();
    // People, fields and a ticket's life travel too.
    let agent = from
        .create_agent(&w.helpdesk_id, "Ann", "ann@x")
        .await
        .unwrap();
    from.create_user(&w.tenant, "Bob", "").await.unwrap();
    from.create_field(&field(&w.helpdesk_id, "prio", 1))
        .await
        .unwrap();
    let change = TicketChange {
        status: Some(50),
        tags: Some(vec!["vip".into()]),
        comment: Some("done".into()),
        ..TicketChange::default()
    };
    from.update_ticket(&w.helpdesk_id, &w.ticket_id, &agent.agent_id, &change)
        .await
        .unwrap()
        .unwrap();
    // And FAQs with their categories and images, and bot messages.
    from.create_category(&helpdesk_store::Category {
        seq: 0,
        category_id: "7000000000000000001".into(),
        helpdesk_id: w.helpdesk_id.clone(),
        name: "账号".into(),
        parent_id: String::new(),
        language: "zh_cn".into(),
        created_at: 1,
        updated_at: 1,
    })
    .await
    .unwrap();
    let held = from
        .add_image(&w.tenant, &w.app_id, &blob(4), "faq.png")
        .await
        .unwrap();
    from.create_faq(&faq(&w.helpdesk_id, "无法登录", "重置密码"), &[held])
        .await
        .unwrap();
    from.add_bot_message(&helpdesk_store::BotMessage {
        seq: 0,
        message_id: "om_bot".into(),
        app_id: w.app_id.clone(),
        tenant_key: w.tenant.clone(),
        receiver_id: "ou_someone".into(),
        msg_type: "text".into(),
        content: r#"{"text":"hi"}"#.into(),
        created_at: 1,
    })
    .await
    .unwrap();
    // And what keeps images safe: limits, a quarantine, the audit trail.
    from.set_policy(
        &w.tenant,
        &PolicyChange {
            max_bytes: Some(Some(1 << 30)),
            retain_secs: Some(Some(86_400)),
        },
    )
    .await
    .unwrap();
    from.quarantine(&blob(4).sha256, "Test.Sig", "ClamAV test")
        .await
        .unwrap();
    for action in ["tenant.set", "image.delete"] {
        from.record_audit(&NewAudit {
            actor: &Actor::Admin,
            action,
            tenant_key: Some(&w.tenant),
            target: None,
            detail: serde_json::json!({"n": 1}),
        })
        .await
        .unwrap();
    }
    from.signing_keys().await.unwrap();
    for (to_name, to, _dir) in &stores {
        if to_name == from_name {
            continue;
        }
        for _ in 0..2 {
            for kind in RecordKind::ALL {
                let rows = from.export(kind, None, 1000).await.unwrap();
                to.import(&rows).await.unwrap();
            }
        }
        for kind in RecordKind::ALL {
            let a = from.export(kind, None, 1000).await.unwrap();
            let b = to.export(kind, None, 1000).await.unwrap();
            assert_eq!(
                comparable(a),
                comparable(b),
                "{from_name} -> {to_name}: {kind:?}"
            );
        }
        assert_eq!(
            from.signing_keys().await.unwrap(),
            to.signing_keys().await.unwrap()
        );
        let copied = to.event_attempts(&event_id).await.unwrap();
        assert_eq!(copied.len(), 1, "{to_name}: the attempt was copied");
        assert_eq!(copied[0].response_body, [0xff, 0, 1]);
        // Usage is derived: the copy counts its own imported images.
        assert_eq!(
            from.policy(&w.tenant).await.unwrap(),
            to.policy(&w.tenant).await.unwrap()
        );
        let all = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        let (a, b) = (
            from.audit(&all).await.unwrap(),
            to.audit(&all).await.unwrap(),
        );
        assert_eq!(b.len(), 2, "{to_name}: imported twice, listed once");
        let strip = |v: Vec<helpdesk_store::AuditEntry>| {
            v.into_iter()
                .map(|e| (e.id, e.at, e.actor, e.action, e.detail))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(a), strip(b));
    }
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

#[tokio::test]
async fn ticket_lists_filter_page_and_updates_close_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let agent = meta.create_agent(&w.helpdesk_id, "Ann", "").await.unwrap();
        let mut ids = vec![w.ticket_id.clone()];
        for guest in ["ou_alpha1", "ou_beta22", "ou_alpha3"] {
            let t = meta
                .create_ticket(NewTicket {
                    helpdesk_id: &w.helpdesk_id,
                    tenant_key: &w.tenant,
                    guest_open_id: guest,
                    human_service: true,
                    customized_info: None,
                    agent_ids: std::slice::from_ref(&agent.agent_id),
                })
                .await
                .unwrap();
            ids.push(t.ticket_id);
        }
        let (tenant, helpdesk) = (w.tenant.clone(), w.helpdesk_id.clone());
        let (tenant, helpdesk) = (&tenant, &helpdesk);
        let list = |q: TicketQuery| async move {
            let page = meta.tickets(tenant, helpdesk, &q).await.unwrap();
            let got: Vec<String> = page.tickets.into_iter().map(|t| t.ticket_id).collect();
            (page.total, got)
        };
        let q = || TicketQuery {
            limit: 20,
            ..TicketQuery::default()
        };
        let (total, all) = list(q()).await;
        assert_eq!(total, 4, "{name}");
        assert_eq!(all.len(), 4, "{name}");
        // Guest names are made from the open_id's end.
        let (_, alpha) = list(TicketQuery {
            guest_name: Some("alpha".into()),
            ..q()
        })
        .await;
        assert_eq!(alpha.len(), 2, "{name}: {alpha:?}");
        let (_, served) = list(TicketQuery {
            agent_id: Some(agent.agent_id.clone()),
            ..q()
        })
        .await;
        assert_eq!(served.len(), 3, "{name}");
        // Close one with tags; only it matches status 50 and the tag.
        let change = TicketChange {
            status: Some(50),
            tags: Some(vec!["vip".into(), "a_b".into()]),
            ..TicketChange::default()
        };
        let (old, new) = meta
            .update_ticket(&w.helpdesk_id, &ids[1], &agent.agent_id, &change)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((old.status, old.closed_at), (1, 0), "{name}");
        assert_eq!(new.closed_by, agent.agent_id, "{name}");
        assert!(new.closed_at > 0, "{name}");
        for (query, want) in [
            (
                TicketQuery {
                    statuses: vec![50],
                    ..q()
                },
                vec![ids[1].clone()],
            ),
            (
                TicketQuery {
                    statuses: vec![1, 50],
                    ..q()
                },
                all.clone(),
            ),
            (
                TicketQuery {
                    tags: vec!["nope".into(), "vip".into()],
                    ..q()
                },
                vec![ids[1].clone()],
            ),
            // `_` is no wildcard.
            (
                TicketQuery {
                    tags: vec!["aXb".into()],
                    ..q()
                },
                vec![],
            ),
            (
                TicketQuery {
                    closed_by_id: Some(agent.agent_id.clone()),
                    ..q()
                },
                vec![ids[1].clone()],
            ),
            (
                TicketQuery {
                    ticket_type: Some(1),
                    ..q()
                },
                vec![],
            ),
            (
                TicketQuery {
                    created: (Some(0), Some(1)),
                    ..q()
                },
                vec![],
            ),
        ] {
            assert_eq!(list(query.clone()).await.1, want, "{name}: {query:?}");
        }
        // Pages, and the 10,000-result window.
        let (total, page2) = list(TicketQuery {
            offset: 3,
            limit: 3,
            ..q()
        })
        .await;
        assert_eq!((total, page2.len()), (4, 1), "{name}");
        let (_, past) = list(TicketQuery {
            offset: 10_000,
            ..q()
        })
        .await;
        assert!(past.is_empty(), "{name}");
        // Another helpdesk sees none of them; an unknown ticket is None.
        let other = world(meta).await;
        let (total, _) = meta
            .tickets(&other.tenant, &other.helpdesk_id, &q())
            .await
            .map(|p| (p.total, ()))
            .unwrap();
        assert_eq!(total, 1, "{name}");
        assert!(meta
            .update_ticket(&other.helpdesk_id, &ids[1], &agent.agent_id, &change)
            .await
            .unwrap()
            .is_none());
        // Reopening clears the close.
        let (_, reopened) = meta
            .update_ticket(
                &w.helpdesk_id,
                &ids[1],
                &agent.agent_id,
                &TicketChange {
                    status: Some(2),
                    ..TicketChange::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (reopened.closed_at, reopened.closed_by.as_str()),
            (0, ""),
            "{name}"
        );
        // A field's key is unique per helpdesk.
        meta.create_field(&field(&w.helpdesk_id, "k", 1))
            .await
            .unwrap();
        assert!(matches!(
            meta.create_field(&field(&w.helpdesk_id, "k", 2)).await,
            Err(StoreError::Invalid(_))
        ));
        meta.create_field(&field(&other.helpdesk_id, "k", 3))
            .await
            .unwrap();
        assert_eq!(
            meta.fields(&w.helpdesk_id).await.unwrap().len(),
            1,
            "{name}"
        );
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

#[tokio::test]
async fn faq_search_finds_chinese_and_a_final_delete_releases_its_images_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let image = meta
            .add_image(&w.tenant, &w.app_id, &blob(9), "f.png")
            .await
            .unwrap();
        let login = faq(
            &w.helpdesk_id,
            "无法登录系统怎么办？",
            "请先重置密码 then retry",
        );
        meta.create_faq(&login, std::slice::from_ref(&image))
            .await
            .unwrap();
        meta.create_faq(
            &faq(&w.helpdesk_id, "如何注册账号", "Sign up on the portal"),
            &[],
        )
        .await
        .unwrap();
        let other = world(meta).await;
        meta.create_faq(&faq(&other.helpdesk_id, "登录问题", "elsewhere"), &[])
            .await
            .unwrap();
        let search = |q: &str| {
            let query = helpdesk_store::FaqQuery {
                search: helpdesk_core::search::query(q),
                limit: 10,
                ..Default::default()
            };
            let helpdesk = w.helpdesk_id.clone();
            async move {
                let page = meta.faqs(&helpdesk, &query).await.unwrap();
                page.faqs
                    .into_iter()
                    .map(|f| f.question)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(search("登录").await, ["无法登录系统怎么办？"], "{name}");
        assert_eq!(
            search("重置 RETRY").await,
            ["无法登录系统怎么办？"],
            "{name}"
        );
        assert_eq!(search("账号").await, ["如何注册账号"], "{name}");
        assert!(search("登入").await.is_empty(), "{name}");
        // The FAQ holds the image: its download finds it.
        let found = meta
            .faq_image_with_credentials(&w.app_id, &w.helpdesk_id, &login.faq_id, &image.image_key)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.2.unwrap().sha256, image.sha256, "{name}");
        // Deleted, then deleted for good: the key is released, its blob free.
        let (status, released) = meta
            .delete_faq(&w.helpdesk_id, &login.faq_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((status, released.len()), (0, 0), "{name}");
        assert!(meta
            .claim_unreferenced_blob(&image.sha256)
            .await
            .unwrap()
            .is_none());
        let (status, released) = meta
            .delete_faq(&w.helpdesk_id, &login.faq_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (status, released),
            (2, vec![image.sha256.clone()]),
            "{name}"
        );
        assert!(
            meta.upload(&image.image_key)
                .await
                .unwrap()
                .unwrap()
                .deleted
        );
        assert!(meta
            .faq(&w.helpdesk_id, &login.faq_id)
            .await
            .unwrap()
            .is_none());
        let claim = meta.claim_unreferenced_blob(&image.sha256).await.unwrap();
        assert!(
            claim.is_some(),
            "{name}: the blob is free once nothing holds it"
        );
    }
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

#[tokio::test(flavor = "multi_thread")]
async fn events_are_recorded_with_their_cause_and_claimed_in_order_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        subscribed(meta, &w).await;
        // An app of another tenant subscribed through this helpdesk (the
        // API refuses that; the store must not send it anything either).
        let other = world(meta).await;
        let foreign = World {
            tenant: other.tenant.clone(),
            app_id: other.app_id.clone(),
            helpdesk_id: w.helpdesk_id.clone(),
            ticket_id: other.ticket_id.clone(),
        };
        subscribed(meta, &foreign).await;

        let image = meta
            .add_image(&w.tenant, "cli_test", &blob(7), "e.png")
            .await
            .unwrap();
        let m1 = post(meta, &w, std::slice::from_ref(&image)).await;
        let m2 = post(meta, &w, std::slice::from_ref(&image)).await;
        let t2 = meta
            .create_ticket(NewTicket {
                helpdesk_id: &w.helpdesk_id,
                tenant_key: &w.tenant,
                guest_open_id: "ou_guest",
                human_service: false,
                customized_info: None,
                agent_ids: &[],
            })
            .await
            .unwrap();
        let events = meta.list_events(&w.app_id, false, 10).await.unwrap();
        assert_eq!(events.len(), 3, "{name}");
        assert!(
            meta.list_events(&other.app_id, false, 10)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );

        let now = helpdesk_store::now_ms();
        let first = meta.claim_events(now, 60_000, 16).await.unwrap();
        // The first of each ticket; the second of ticket 1 waits.
        let ids: Vec<&str> = first.iter().map(|c| c.event.event_type.as_str()).collect();
        assert_eq!(
            ids,
            [events::TICKET_MESSAGE_CREATED, events::TICKET_CREATED],
            "{name}"
        );
        let body: serde_json::Value = serde_json::from_str(&first[0].event.body).unwrap();
        assert_eq!(body["event"]["message_id"], m1.as_str(), "{name}");
        assert_eq!(first[0].config.encrypt_key, "k");
        // In flight: nothing more for this app.
        assert!(
            meta.claim_events(now, 60_000, 16).await.unwrap().is_empty(),
            "{name}"
        );
        meta.finish_event(
            first[0].event.seq,
            &DeliveryOutcome::Delivered,
            &NewAttempt::default(),
            now,
        )
        .await
        .unwrap();
        meta.finish_event(
            first[1].event.seq,
            &DeliveryOutcome::Retry {
                at_ms: now + 60_000,
                error: "HTTP 500".into(),
            },
            &NewAttempt::default(),
            now,
        )
        .await
        .unwrap();
        let next = meta.claim_events(now, 60_000, 16).await.unwrap();
        assert_eq!(next.len(), 1, "{name}");
        let body: serde_json::Value = serde_json::from_str(&next[0].event.body).unwrap();
        assert_eq!(body["event"]["message_id"], m2.as_str(), "{name}");
        // The retried one comes back when due, with its id.
        meta.finish_event(
            next[0].event.seq,
            &DeliveryOutcome::Delivered,
            &NewAttempt::default(),
            now,
        )
        .await
        .unwrap();
        let later = meta.claim_events(now + 60_000, 60_000, 16).await.unwrap();
        assert_eq!(later.len(), 1, "{name}");
        assert_eq!(later[0].event.event_id, first[1].event.event_id, "{name}");
        assert_eq!(later[0].event.attempts, 1, "{name}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&later[0].event.body).unwrap()["event"]
                ["ticket_id"],
            t2.ticket_id.as_str()
        );
        meta.finish_event(
            later[0].event.seq,
            &DeliveryOutcome::Failed {
                error: "gone".into(),
            },
            &NewAttempt::default(),
            now,
        )
        .await
        .unwrap();
        let failed = meta.list_events(&w.app_id, true, 10).await.unwrap();
        assert_eq!(failed.len(), 1, "{name}");
        meta.redeliver_event(&failed[0].event_id, now)
            .await
            .unwrap();
        assert_eq!(
            meta.claim_events(now, 60_000, 16).await.unwrap().len(),
            1,
            "{name}"
        );

        // A disabled app's events wait; nothing is recorded without a URL.
        meta.update_app(&w.app_id, AppChange::Disabled(true))
            .await
            .unwrap();
        post(meta, &w, std::slice::from_ref(&image)).await;
        assert!(
            meta.claim_events(now + 120_000, 1, 16)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        meta.update_app(&w.app_id, AppChange::Disabled(false))
            .await
            .unwrap();
        meta.set_event_config(&w.app_id, None).await.unwrap();
        let before = meta.list_events(&w.app_id, false, 100).await.unwrap().len();
        post(meta, &w, std::slice::from_ref(&image)).await;
        assert_eq!(
            meta.list_events(&w.app_id, false, 100).await.unwrap().len(),
            before,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_quota_counts_each_upload_and_refuses_the_one_past_it_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let other = meta.create_tenant("Other").await.unwrap().tenant_key;
        // The other tenant holds the same bytes: each tenant pays its own.
        meta.add_image(&other, "cli_o", &blob(1), "o.png")
            .await
            .unwrap();
        let first = meta
            .add_image(&w.tenant, &w.app_id, &blob(1), "a.png")
            .await
            .unwrap();
        assert_eq!(
            meta.policy(&w.tenant).await.unwrap().used_bytes,
            1001,
            "{name}"
        );
        let cap = 1001 + 1002 + 2;
        let p = meta
            .set_policy(
                &w.tenant,
                &PolicyChange {
                    max_bytes: Some(Some(cap)),
                    ..PolicyChange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!((p.max_bytes, p.retain_secs), (Some(cap), None), "{name}");
        meta.add_image(&w.tenant, &w.app_id, &blob(2), "b.png")
            .await
            .unwrap();
        let err = meta
            .add_image(&w.tenant, &w.app_id, &blob(3), "c.png")
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::QuotaExceeded { max_bytes, would_use } if max_bytes == cap && would_use == 1001 + 1002 + 1003),
            "{name}: {err}"
        );
        // Deleting frees what it held; an upload fits again.
        meta.delete_upload(&first.image_key).await.unwrap();
        assert_eq!(
            meta.policy(&w.tenant).await.unwrap().used_bytes,
            1002,
            "{name}"
        );
        meta.add_image(&w.tenant, &w.app_id, &blob(3), "c.png")
            .await
            .unwrap();
        assert_eq!(
            meta.policy(&other).await.unwrap().used_bytes,
            1001,
            "{name}"
        );
        // A reset removes the tenant's images, and their count with them.
        meta.reset(Some(&w.tenant)).await.unwrap();
        assert_eq!(
            meta.policy(&w.tenant).await.unwrap().used_bytes,
            0,
            "{name}"
        );
        // No limit again.
        let p = meta
            .set_policy(
                &w.tenant,
                &PolicyChange {
                    max_bytes: Some(None),
                    ..PolicyChange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(p.max_bytes, None, "{name}");
        assert!(matches!(
            meta.policy("no-such-tenant").await,
            Err(StoreError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn a_quarantine_hides_every_image_of_its_bytes_until_released_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let image = meta
            .add_image(&w.tenant, &w.app_id, &blob(7), "x.png")
            .await
            .unwrap();
        let msg = post(meta, &w, std::slice::from_ref(&image)).await;
        let served = |l: Option<ImageLookup>| match l.and_then(|l| l.image) {
            Some(i) => !i.deleted,
            None => panic!("the message's image is there"),
        };
        let (.., found) = download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &msg, 0).await;
        assert!(served(found), "{name}");
        let generation = meta.generation().await.unwrap();
        let q = meta
            .quarantine(&image.sha256, "Test.Sig", "engine 1")
            .await
            .unwrap();
        assert_eq!(
            q.images.len(),
            2,
            "{name}: the upload and the message image: {q:?}"
        );
        assert!(
            meta.generation().await.unwrap() > generation,
            "{name}: caches are told"
        );
        let (.., found) = download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &msg, 0).await;
        assert!(
            !served(found),
            "{name}: a quarantined image answers as deleted"
        );
        assert!(
            meta.upload(&image.image_key)
                .await
                .unwrap()
                .unwrap()
                .deleted,
            "{name}"
        );
        // Cleanup keeps the object while it is quarantined.
        assert!(
            meta.unreferenced_blobs(10).await.unwrap().is_empty(),
            "{name}"
        );
        assert_eq!(meta.quarantined().await.unwrap().len(), 1, "{name}");
        meta.release(&image.sha256).await.unwrap();
        let (.., found) = download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &msg, 0).await;
        assert!(served(found), "{name}: released, served again");
        assert!(matches!(
            meta.release(&image.sha256).await,
            Err(StoreError::NotFound { .. })
        ));
        // Purged: deleted for good, and the bytes are cleanup's.
        meta.quarantine(&image.sha256, "Test.Sig", "engine 1")
            .await
            .unwrap();
        meta.purge(&image.sha256).await.unwrap();
        assert!(meta.quarantined().await.unwrap().is_empty(), "{name}");
        assert_eq!(
            meta.unreferenced_blobs(10).await.unwrap(),
            vec![image.sha256.clone()],
            "{name}"
        );
        // Verdicts are kept per content and engine.
        meta.record_verdict(&image.sha256, "engine 1", None)
            .await
            .unwrap();
        meta.record_verdict(&image.sha256, "engine 2", Some("Sig"))
            .await
            .unwrap();
        let v = meta.verdict(&image.sha256).await.unwrap().unwrap();
        assert_eq!(
            (v.engine.as_str(), v.infected_with.as_deref()),
            ("engine 2", Some("Sig")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_audit_trail_lists_in_order_by_time_and_tenant_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        for (actor, tenant) in [
            (Actor::Admin, Some("t1")),
            (Actor::App("cli_x".into()), Some("t2")),
            (Actor::Retention, None),
        ] {
            meta.record_audit(&NewAudit {
                actor: &actor,
                action: "image.delete",
                tenant_key: tenant,
                target: Some("img_1"),
                detail: serde_json::json!({"k": "v"}),
            })
            .await
            .unwrap();
        }
        let all = meta
            .audit(&AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        let actors: Vec<&str> = all.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(actors, ["admin", "cli_x", "retention"], "{name}");
        assert_eq!(all[0].detail, serde_json::json!({"k": "v"}), "{name}");
        let t2 = meta
            .audit(&AuditQuery {
                tenant_key: Some("t2".into()),
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(t2.len(), 1, "{name}");
        let later = meta
            .audit(&AuditQuery {
                since_ms: Some(helpdesk_store::now_ms() + 60_000),
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert!(later.is_empty(), "{name}");
        let paged = meta
            .audit(&AuditQuery {
                after_seq: all[0].seq,
                limit: 1,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(paged[0].actor, "cli_x", "{name}");
    }
}

#[tokio::test]
async fn retention_deletes_old_images_by_the_tenants_rule_once_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let image = meta
            .add_image(&w.tenant, &w.app_id, &blob(5), "old.png")
            .await
            .unwrap();
        let msg = post(meta, &w, &[image]).await;
        let now = helpdesk_store::now();
        // Kept for ever without a rule, and while younger than the rule.
        assert_eq!(
            meta.expire_images(now + 100, None, 10)
                .await
                .unwrap()
                .messages,
            0,
            "{name}"
        );
        assert_eq!(
            meta.expire_images(now + 100, Some(1000), 10)
                .await
                .unwrap()
                .messages,
            0,
            "{name}"
        );
        // The tenant's own rule wins over the server's.
        meta.set_policy(
            &w.tenant,
            &PolicyChange {
                retain_secs: Some(Some(1000)),
                ..PolicyChange::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            meta.expire_images(now + 100, Some(50), 10)
                .await
                .unwrap()
                .messages,
            0,
            "{name}"
        );
        meta.set_policy(
            &w.tenant,
            &PolicyChange {
                retain_secs: Some(Some(50)),
                ..PolicyChange::default()
            },
        )
        .await
        .unwrap();
        let generation = meta.generation().await.unwrap();
        let expired = meta.expire_images(now + 100, None, 10).await.unwrap();
        assert_eq!((expired.messages, expired.images.len()), (1, 1), "{name}");
        assert_eq!(expired.images[0].0, w.tenant, "{name}");
        assert_eq!(
            meta.generation().await.unwrap(),
            generation + 1,
            "{name}: one move per batch"
        );
        let (.., found) = download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &msg, 0).await;
        assert!(found.unwrap().image.unwrap().deleted, "{name}");
        assert_eq!(
            meta.policy(&w.tenant).await.unwrap().used_bytes,
            0,
            "{name}: its upload key went too"
        );
        assert_eq!(
            meta.unreferenced_blobs(10).await.unwrap(),
            vec![blob(5).sha256],
            "{name}"
        );
        assert_eq!(
            meta.expire_images(now + 100, None, 10)
                .await
                .unwrap()
                .messages,
            0,
            "{name}: once"
        );
        let trail = meta
            .audit(&AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            (trail[0].actor.as_str(), trail[0].action.as_str()),
            ("retention", "retention.expire"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn erasing_a_guest_removes_their_tickets_images_and_text_once_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        let a = meta
            .add_image(&w.tenant, &w.app_id, &blob(8), "a.png")
            .await
            .unwrap();
        let b = meta
            .add_image(&w.tenant, &w.app_id, &blob(9), "b.png")
            .await
            .unwrap();
        let msg = post(meta, &w, &[a, b]).await;
        meta.add_message(NewMessage {
            ticket_id: &w.ticket_id,
            message_type: MessageType::Text,
            content: r#"{"text":"my address is ..."}"#,
            user_id: "ou_agent",
            user_name: "Agent",
            avatar_url: "",
            images: &[],
        })
        .await
        .unwrap();
        let dry = meta
            .erase_guest(&w.tenant, "ou_guest", true, true)
            .await
            .unwrap();
        assert_eq!(
            (dry.tickets.len(), dry.images.len(), dry.messages_erased),
            (1, 2, 2),
            "{name}: the post's text and the text message's"
        );
        let (.., found) = download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &msg, 1).await;
        assert!(
            !found.unwrap().image.unwrap().deleted,
            "{name}: a dry run removes nothing"
        );
        // Another tenant's guest of the same open_id is not this one.
        let other = meta
            .erase_guest("another-tenant", "ou_guest", true, false)
            .await
            .unwrap();
        assert!(other.tickets.is_empty(), "{name}");

        let done = meta
            .erase_guest(&w.tenant, "ou_guest", true, false)
            .await
            .unwrap();
        assert_eq!((done.images.len(), done.messages_erased), (2, 2), "{name}");
        for index in [0, 1] {
            let (.., found) =
                download(meta, &w.app_id, &w.helpdesk_id, &w.ticket_id, &msg, index).await;
            assert!(found.unwrap().image.unwrap().deleted, "{name}");
        }
        let page = meta
            .messages(
                &w.ticket_id,
                &helpdesk_store::MessageFilter {
                    time_start: None,
                    time_end: None,
                    offset: 0,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        let texts: Vec<&str> = page.messages.iter().map(|m| m.content.as_str()).collect();
        assert!(
            texts.contains(&r#"{"text":""}"#) && !texts.iter().any(|t| t.contains("address")),
            "{name}: {texts:?}"
        );
        let again = meta
            .erase_guest(&w.tenant, "ou_guest", true, false)
            .await
            .unwrap();
        assert_eq!(
            (again.images.len(), again.messages_erased),
            (0, 0),
            "{name}: idempotent"
        );
        let trail = meta
            .audit(&AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            trail.len(),
            1,
            "{name}: one entry for the one erasure that removed something"
        );
        assert_eq!(trail[0].target.as_deref(), Some("ou_guest"), "{name}");
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_runs_out_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        assert!(
            meta.take_lease("sweep", "a", 1_000, 500).await.unwrap(),
            "{name}"
        );
        assert!(
            !meta.take_lease("sweep", "b", 1_200, 500).await.unwrap(),
            "{name}"
        );
        assert!(
            meta.take_lease("sweep", "a", 1_400, 500).await.unwrap(),
            "{name}: renewed"
        );
        assert!(
            !meta.take_lease("sweep", "b", 1_800, 500).await.unwrap(),
            "{name}"
        );
        assert!(
            meta.take_lease("sweep", "b", 2_000, 500).await.unwrap(),
            "{name}: ran out"
        );
        assert!(
            meta.take_lease("other", "a", 2_000, 500).await.unwrap(),
            "{name}"
        );
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
