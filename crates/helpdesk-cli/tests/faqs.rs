//! FAQs and the other images with the Rust SDK and `helpdesk images`,
//! against the real server: an agent's FAQ holding an upload, found by a
//! Chinese search, its image byte for byte and exported, the uploader's own
//! im/v1 get, and a bot message into a ticket's chat.

use std::process::Command;

use futures::TryStreamExt;
use helpdesk_client::{BotMessage, MessageContent, NewFaq, Richtext};
use helpdesk_testkit::binary::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_faq_serves_its_image_is_found_in_chinese_and_exports_like_a_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let c = party.client(&base);
    let (_, user_token) = agent_with_token(dir.path(), &party, "Lin");
    let bytes = png(31, 3000);
    let key = c.upload_image(bytes.clone(), "shot.png").await.unwrap();
    let faq = c
        .as_user(&user_token)
        .create_faq(&NewFaq {
            question: "无法登录系统怎么办？".into(),
            answer_richtext: vec![Richtext::text("请先重置密码"), Richtext::image(&key)],
            ..Default::default()
        })
        .await
        .unwrap();
    let faq_id = faq.faq_id.clone().unwrap();
    assert_eq!(faq.image_keys(), [key.as_str()]);
    let other = NewFaq {
        question: "How do I reset my VPN password?".into(),
        answer: Some("Use the portal".into()),
        ..Default::default()
    };
    c.as_user(&user_token).create_faq(&other).await.unwrap();

    // A Chinese search (sent base64, as Feishu advises) finds only it.
    let found: Vec<_> = c.search_faqs("登录").stream().try_collect().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].faq_id.as_deref(), Some(faq_id.as_str()));
    // Its image, byte for byte; the uploader's own get too.
    let image = c.faq_image(&faq_id, &key).await.unwrap();
    assert_eq!(image.bytes().await.unwrap(), bytes);
    assert_eq!(
        c.im_image(&key).await.unwrap().bytes().await.unwrap(),
        bytes
    );
    // Another app of the tenant is not the sender.
    let app = admin(
        dir.path(),
        &[
            "app",
            "create",
            "--tenant",
            &party.tenant_key,
            "--name",
            "sibling",
        ],
    );
    let sibling = Party {
        app_id: s(&app["app_id"]).into(),
        app_secret: s(&app["app_secret"]).into(),
        ..party.clone()
    };
    let err = sibling.client(&base).im_image(&key).await.unwrap_err();
    assert_eq!(err.code(), Some(234008), "{err}");

    // `images export --faq` saves it as the ticket export does.
    let out = dir.path().join("faq-export");
    let run = Command::new(bin())
        .args(["images", "export", "--faq", &faq_id, "--out"])
        .arg(&out)
        .envs(party.env(&base))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let saved = s(&manifest["images"][0]["file_name"]);
    assert_eq!(std::fs::read(out.join(saved)).unwrap(), bytes);

    // A bot message into a ticket's chat is a message of the ticket.
    let ticket = open_ticket(&c).await;
    let chat = c.ticket(&ticket).await.unwrap().chat_id.unwrap();
    let message_id = c
        .send_bot_message(&BotMessage::to_chat(
            &chat,
            MessageContent::Image {
                image_key: key.clone(),
            },
        ))
        .await
        .unwrap();
    let caller = Caller::of(&party, &base).await;
    let (status, _, _, body) = caller.image(&base, &ticket, &message_id).await;
    assert_eq!(status, 200);
    assert!(body == bytes);
    server.terminate();
}
