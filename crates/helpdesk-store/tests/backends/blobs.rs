//! Blob rows on every backend: a blob is claimed only when nothing live
//! uses it, and an upload of claimed bytes waits for the claim, then
//! records them again.

use std::time::Duration;

use helpdesk_core::content::MessageType;
use helpdesk_core::ids::MessageRef;
use helpdesk_store::{NewMessage, StoreError};

use super::*;

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
