//! Keeping images safely, on every backend: quotas, quarantine, the audit
//! trail, retention, a guest's erasure and one-replica leases.

use helpdesk_core::content::MessageType;
use helpdesk_store::{
    Actor, AuditQuery, ImageLookup, NewAudit, NewMessage, PolicyChange, StoreError,
};

use super::*;

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
