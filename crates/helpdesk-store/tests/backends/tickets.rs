//! Tickets through their life on every backend: lists filtered and paged,
//! updates that close and reopen, and the fields they carry.

use helpdesk_store::{NewTicket, StoreError, TicketChange, TicketQuery};

use super::*;

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
