//! `migrate` and `backup`'s copy (`TransferRepo`): every table exported
//! from one backend and imported into another reads back the same.

use helpdesk_store::{
    Actor, AuditQuery, DeliveryOutcome, NewAttempt, NewAudit, PolicyChange, RecordKind,
    TicketChange,
};

use super::*;

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
