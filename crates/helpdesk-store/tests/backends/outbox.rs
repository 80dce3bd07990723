//! The outbox on every backend: events recorded with the write that causes
//! them, claimed in order per app and ticket.

use helpdesk_core::events;
use helpdesk_store::{AppChange, DeliveryOutcome, NewAttempt, NewTicket};

use super::*;

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
