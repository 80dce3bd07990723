//! FAQs on every backend: search (Chinese too), and a final delete that
//! releases the images an FAQ held.

use super::*;

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
