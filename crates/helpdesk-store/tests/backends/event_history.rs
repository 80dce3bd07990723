//! Each delivery attempt of an event, as the outbox records it with the
//! attempt's outcome and as pruning removes it by age, on every backend.

use helpdesk_store::{
    DeliveryOutcome, EventState, MetadataStore, NewAttempt, PrunedHistory, ATTEMPT_BODY_CAP,
};

use super::{backends, blob, post, subscribed, world};

const DAY: i64 = 86_400_000;

fn answered(at: i64, status: u16, body: &[u8]) -> NewAttempt {
    NewAttempt {
        started_at_ms: at,
        duration_ms: 12,
        request_headers: vec![
            ("X-Lark-Request-Timestamp".into(), (at / 1000).to_string()),
            ("X-Lark-Signature".into(), "5e1f".into()),
        ],
        status: Some(status),
        response_headers: vec![
            ("content-type".into(), "text/plain".into()),
            ("set-cookie".into(), "a=1".into()),
            ("set-cookie".into(), "b=2".into()),
        ],
        body: body.to_vec(),
        ..NewAttempt::default()
    }
}

fn retry(at_ms: i64, status: u16) -> DeliveryOutcome {
    DeliveryOutcome::Retry {
        at_ms,
        error: format!("the receiver answered HTTP {status}"),
    }
}

/// Claims the one event due at `now` and records this attempt of it.
async fn attempt(meta: &dyn MetadataStore, now: i64, outcome: DeliveryOutcome, a: NewAttempt) {
    let claimed = meta.claim_events(now, 60_000, 16).await.unwrap();
    assert_eq!(claimed.len(), 1, "one event due at {now}");
    meta.finish_event(claimed[0].event.seq, &outcome, &a, now)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn each_attempt_is_kept_with_its_answer_and_numbered_on_across_a_redelivery_on_every_backend()
{
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        subscribed(meta, &w).await;
        let image = meta
            .add_image(&w.tenant, "cli_test", &blob(9), "h.png")
            .await
            .unwrap();
        post(meta, &w, &[image]).await;
        let event_id = meta.list_events(&w.app_id, false, 1).await.unwrap()[0]
            .event_id
            .clone();
        let t = helpdesk_store::now_ms();
        attempt(meta, t, retry(t + 10, 500), answered(t, 500, b"no 1")).await;
        attempt(
            meta,
            t + 10,
            retry(t + 20, 500),
            answered(t + 10, 500, b"no 2"),
        )
        .await;
        let ok = answered(t + 20, 200, "好的".as_bytes());
        attempt(meta, t + 20, DeliveryOutcome::Delivered, ok.clone()).await;

        let event = meta.event(&event_id).await.unwrap().expect("the event");
        assert_eq!(event.state(), EventState::Delivered, "{name}");
        assert_eq!(event.next_retry_at(), None, "{name}");
        assert_eq!((event.attempts, event.attempts_total), (3, 3), "{name}");
        let payload: serde_json::Value = serde_json::from_str(&event.body).unwrap();
        assert_eq!(payload["header"]["event_id"], event_id.as_str(), "{name}");
        let kept = meta.event_attempts(&event_id).await.unwrap();
        let seen: Vec<_> = kept
            .iter()
            .map(|a| (a.attempt, a.started_at, a.status, a.body_text().unwrap()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, t, Some(500), "no 1"),
                (2, t + 10, Some(500), "no 2"),
                (3, t + 20, Some(200), "好的")
            ],
            "{name}"
        );
        assert_eq!(kept[2].duration_ms, 12, "{name}");
        assert_eq!(kept[2].request_headers(), ok.request_headers, "{name}");
        assert_eq!(kept[2].response_headers(), ok.response_headers, "{name}");
        assert!(!kept[2].body_truncated && kept[2].error.is_none(), "{name}");

        // A redelivery starts the schedule again; the numbering goes on.
        meta.redeliver_event(&event_id, t + 30).await.unwrap();
        let due = meta.event(&event_id).await.unwrap().unwrap();
        assert_eq!(due.state(), EventState::Pending, "{name}");
        assert_eq!(due.next_retry_at(), Some(t + 30), "{name}");
        // No answer at all: no status, the error instead.
        let error = "cannot reach the receiver: Connection refused".to_string();
        let refused = NewAttempt {
            started_at_ms: t + 30,
            error: Some(error.clone()),
            ..NewAttempt::default()
        };
        let again = DeliveryOutcome::Retry {
            at_ms: t + 40,
            error,
        };
        attempt(meta, t + 30, again, refused).await;
        // An answer larger than an attempt keeps is cut, and says so.
        let huge = answered(t + 40, 200, &vec![b'x'; ATTEMPT_BODY_CAP + 10]);
        attempt(meta, t + 40, DeliveryOutcome::Delivered, huge).await;
        let kept = meta.event_attempts(&event_id).await.unwrap();
        assert_eq!(kept.len(), 5, "{name}");
        let (fourth, fifth) = (&kept[3], &kept[4]);
        assert_eq!((fourth.attempt, fourth.status), (4, None), "{name}");
        assert!(
            fourth.error.as_deref().unwrap().contains("refused"),
            "{name}"
        );
        assert!(fourth.response_body.is_empty(), "{name}");
        assert_eq!(fifth.attempt, 5, "{name}");
        assert_eq!(fifth.response_body.len(), ATTEMPT_BODY_CAP, "{name}");
        assert!(fifth.body_truncated, "{name}");
        let event = meta.event(&event_id).await.unwrap().unwrap();
        assert_eq!((event.attempts, event.attempts_total), (2, 5), "{name}");

        assert!(meta.event("nope").await.unwrap().is_none(), "{name}");
        assert!(meta.event("a\0b").await.unwrap().is_none(), "{name}");
        assert!(meta.event_attempts("nope").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn pruning_removes_old_attempts_and_old_delivered_events_and_keeps_the_rest_on_every_backend()
{
    for (name, meta, _dir) in backends().await {
        let meta = meta.as_ref();
        let w = world(meta).await;
        subscribed(meta, &w).await;
        let image = meta
            .add_image(&w.tenant, "cli_test", &blob(8), "p.png")
            .await
            .unwrap();
        for _ in 0..4 {
            post(meta, &w, std::slice::from_ref(&image)).await;
        }
        // Oldest first: delivered long ago, failed long ago, delivered
        // lately, and pending (attempted long ago and lately).
        let mut events = meta.list_events(&w.app_id, false, 10).await.unwrap();
        events.reverse();
        let [old_delivered, old_failed, new_delivered, pending] = &events[..] else {
            panic!("{name}: four events");
        };
        let now = helpdesk_store::now_ms();
        let old = now - 10 * DAY;
        let finish = |e: &helpdesk_store::records::EventRow, o: DeliveryOutcome, at: i64| {
            let seq = e.seq;
            let status = match o {
                DeliveryOutcome::Delivered => 200,
                _ => 500,
            };
            async move {
                meta.finish_event(seq, &o, &answered(at, status, b"x"), at)
                    .await
                    .unwrap()
            }
        };
        finish(old_delivered, retry(old, 500), old).await;
        finish(old_delivered, DeliveryOutcome::Delivered, old + 1).await;
        let failed = DeliveryOutcome::Failed {
            error: "spent".into(),
        };
        finish(old_failed, failed, old + 2).await;
        finish(new_delivered, DeliveryOutcome::Delivered, now).await;
        finish(pending, retry(now + DAY, 500), old + 3).await;
        finish(pending, retry(now + DAY, 500), now).await;

        // Seven days: in batches of two attempts (and two events).
        let cutoff = now - 7 * DAY;
        let first = meta.prune_event_history(cutoff, 2).await.unwrap();
        assert_eq!(first.attempts, 2, "{name}: a batch holds two");
        let mut total = first;
        loop {
            let next = meta.prune_event_history(cutoff, 2).await.unwrap();
            if next == PrunedHistory::default() {
                break;
            }
            total.attempts += next.attempts;
            total.events += next.events;
        }
        assert_eq!(
            total,
            PrunedHistory {
                attempts: 4,
                events: 1
            },
            "{name}"
        );
        assert!(
            meta.event(&old_delivered.event_id).await.unwrap().is_none(),
            "{name}: a delivered event goes with its history"
        );
        assert!(meta
            .event_attempts(&old_delivered.event_id)
            .await
            .unwrap()
            .is_empty());
        // A failed event stays for its redelivery, without its old attempts.
        let kept = meta.event(&old_failed.event_id).await.unwrap().unwrap();
        assert_eq!(kept.state(), EventState::Failed, "{name}");
        assert!(meta
            .event_attempts(&old_failed.event_id)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            meta.event_attempts(&new_delivered.event_id)
                .await
                .unwrap()
                .len(),
            1,
            "{name}"
        );
        let left: Vec<i64> = meta
            .event_attempts(&pending.event_id)
            .await
            .unwrap()
            .iter()
            .map(|a| a.attempt)
            .collect();
        assert_eq!(left, [2], "{name}: the recent attempt stays");
        // The next attempt is numbered after the pruned ones.
        finish(pending, DeliveryOutcome::Delivered, now + 1).await;
        let left = meta.event_attempts(&pending.event_id).await.unwrap();
        assert_eq!(left.last().unwrap().attempt, 3, "{name}");
        assert_eq!(
            meta.list_events(&w.app_id, false, 10).await.unwrap().len(),
            3,
            "{name}"
        );
    }
}
