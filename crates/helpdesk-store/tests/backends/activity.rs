//! The console's live feed (`ActivityRepo`), as each change's own
//! transaction writes it, on every backend: in order, under the right
//! tenant, ids only, gone with a tenant's reset and pruned by age.

use helpdesk_store::{ActivityKind, DeliveryOutcome, MetadataStore, NewAttempt};

use super::{backends, post, subscribed, world};

#[tokio::test(flavor = "multi_thread")]
async fn the_live_feed_records_tickets_messages_and_attempts_in_order_on_every_backend() {
    for (name, meta, _dir) in backends().await {
        let meta: &dyn MetadataStore = meta.as_ref();
        assert_eq!(meta.activity_head().await.unwrap(), 0, "{name}: empty");
        let a = world(meta).await;
        subscribed(meta, &a).await;
        let message_id = post(meta, &a, &[]).await;
        let b = world(meta).await;
        let claimed = meta.claim_events(i64::MAX / 2, 60_000, 16).await.unwrap();
        let event = claimed
            .iter()
            .find(|c| c.event.ticket_id == a.ticket_id)
            .expect("the message's event");
        let attempt = NewAttempt {
            started_at_ms: 1,
            status: Some(500),
            ..NewAttempt::default()
        };
        let retry = DeliveryOutcome::Retry {
            at_ms: 2,
            error: "HTTP 500".into(),
        };
        meta.finish_event(event.event.seq, &retry, &attempt, 2)
            .await
            .unwrap();

        let feed = meta.activity_after(0, 100).await.unwrap();
        let seen: Vec<_> = feed
            .iter()
            .map(|r| (r.tenant_key.as_str(), r.kind, r.subject.as_str(), r.number))
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    a.tenant.as_str(),
                    ActivityKind::Ticket,
                    a.ticket_id.as_str(),
                    0
                ),
                (
                    a.tenant.as_str(),
                    ActivityKind::Message,
                    message_id.as_str(),
                    0
                ),
                (
                    b.tenant.as_str(),
                    ActivityKind::Ticket,
                    b.ticket_id.as_str(),
                    0
                ),
                (
                    a.tenant.as_str(),
                    ActivityKind::Attempt,
                    event.event.event_id.as_str(),
                    1
                ),
            ],
            "{name}"
        );
        assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq), "{name}");
        assert!(feed
            .iter()
            .all(|r| r.ticket_id == a.ticket_id || r.ticket_id == b.ticket_id));
        let head = meta.activity_head().await.unwrap();
        assert_eq!(head, feed[3].seq, "{name}");
        assert_eq!(
            meta.activity_after(feed[1].seq, 1).await.unwrap(),
            vec![feed[2].clone()],
            "{name}: after a row, at most the limit"
        );

        // A tenant's reset takes its rows only.
        meta.reset(Some(&a.tenant)).await.unwrap();
        let left = meta.activity_after(0, 100).await.unwrap();
        assert_eq!(left, vec![feed[2].clone()], "{name}");
        // Pruning by age, a batch at a time.
        assert_eq!(
            meta.prune_activity(0, 10).await.unwrap(),
            0,
            "{name}: none that old"
        );
        assert_eq!(
            meta.prune_activity(i64::MAX, 10).await.unwrap(),
            1,
            "{name}"
        );
        assert!(meta.activity_after(0, 100).await.unwrap().is_empty());
        // Numbering goes on after what was pruned.
        world(meta).await;
        assert!(meta.activity_head().await.unwrap() > head, "{name}");
    }
}
