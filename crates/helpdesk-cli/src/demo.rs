//! `serve --demo`: a tenant, a custom app, a helpdesk and one ticket holding a
//! text, an image and a post message with three images, provisioned once and
//! described in `<data-dir>/demo.json`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use helpdesk_core::auth::encode_helpdesk_credential;
use helpdesk_core::content::MessageType;
use helpdesk_core::wire::path;
use helpdesk_store::provision::{create_app, create_helpdesk};
use helpdesk_store::{secret, AppKind, Image, NewMessage, NewTicket, StorageConfig, Stores};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The demo's images, shipped in the binary: (file name, bytes).
const LOGIN_ERROR: (&str, &[u8]) = ("login-error.png", include_bytes!("../demo/login-error.png"));
const STEPS: [(&str, &[u8]); 3] = [
    ("step-1.png", include_bytes!("../demo/step-1.png")),
    ("step-2.jpg", include_bytes!("../demo/step-2.jpg")),
    ("step-3.webp", include_bytes!("../demo/step-3.webp")),
];

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct DemoFile {
    pub base_url: String,
    pub tenant_key: String,
    pub app_id: String,
    pub app_secret: String,
    pub helpdesk_id: String,
    pub helpdesk_token: String,
    pub ticket_id: String,
    pub messages: Vec<DemoMessage>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct DemoMessage {
    pub id: String,
    pub message_id: String,
    pub message_type: String,
    pub images: Vec<DemoImage>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct DemoImage {
    pub sha256: String,
    pub content_type: String,
    pub file_name: String,
}

/// A whole in-memory file as the one-chunk stream ingest reads.
fn once(
    bytes: &'static [u8],
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::convert::Infallible>> + Unpin {
    futures::stream::iter([Ok(bytes::Bytes::from_static(bytes))])
}

fn demo_path(storage: &StorageConfig) -> PathBuf {
    storage.data_dir.join("demo.json")
}

/// Loads the demo of an earlier run if its app still exists with that
/// secret; provisions a new one otherwise. Either way the file is rewritten
/// with the current base URL.
pub async fn provision(
    stores: &Stores,
    storage: &StorageConfig,
    base_url: &str,
) -> Result<DemoFile> {
    let path = demo_path(storage);
    let existing = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<DemoFile>(&bytes).ok(),
        Err(_) => None,
    };
    let mut demo = match existing {
        Some(d) if still_valid(stores, &d).await? => d,
        _ => create(stores).await?,
    };
    demo.base_url = base_url.to_string();
    write_private(&path, &serde_json::to_vec_pretty(&demo)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(demo)
}

async fn still_valid(stores: &Stores, demo: &DemoFile) -> Result<bool> {
    Ok(match stores.meta.app(&demo.app_id).await? {
        Some(app) => secret::matches(&demo.app_secret, &app.secret_sha256),
        None => false,
    })
}

/// demo.json holds the app secret in clear: readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

async fn create(stores: &Stores) -> Result<DemoFile> {
    let meta = stores.meta.as_ref();
    let tenant = meta.create_tenant("Demo Company").await?;
    let app = create_app(meta, &tenant.tenant_key, "Demo App", AppKind::Custom, &[]).await?;
    let helpdesk = create_helpdesk(meta, &tenant.tenant_key, "Demo Helpdesk").await?;
    let guest = "ou_7d8a6e6df7621556ce0d21922b676706";
    let ticket = meta
        .create_ticket(NewTicket {
            helpdesk_id: &helpdesk.helpdesk.helpdesk_id,
            tenant_key: &helpdesk.helpdesk.tenant_key,
            guest_open_id: guest,
            human_service: true,
            customized_info: Some("demo"),
            agent_ids: &[],
        })
        .await?;

    let limits = helpdesk_store::IngestLimits {
        max_bytes: u64::MAX,
    };
    let upload = |(name, bytes): (&'static str, &'static [u8])| {
        let tenant_key = tenant.tenant_key.clone();
        let app_id = app.app.app_id.clone();
        async move {
            helpdesk_store::ingest(
                stores.meta.as_ref(),
                stores.blobs.as_ref(),
                &stores.tmp_dir,
                limits,
                (&tenant_key, &app_id),
                Some(name),
                once(bytes),
            )
            .await
            .map_err(anyhow::Error::new)
        }
    };
    let login = upload(LOGIN_ERROR).await?;
    let mut steps = Vec::new();
    for step in STEPS {
        steps.push(upload(step).await?);
    }

    let post_content = json!({"zh_cn": {
        "title": "导出失败 / Export fails",
        "content": [
            [{"tag": "text", "text": "Steps to reproduce:"}],
            [{"tag": "img", "image_key": steps[0].image_key}],
            [{"tag": "text", "text": "then the export spins forever:"}],
            [{"tag": "img", "image_key": steps[1].image_key}],
            [{"tag": "img", "image_key": steps[2].image_key}],
        ]
    }})
    .to_string();
    let messages: [(MessageType, String, &[Image]); 3] = [
        (
            MessageType::Text,
            json!({"text": "Hi, I can't log in and the export is broken."}).to_string(),
            &[],
        ),
        (
            MessageType::Image,
            json!({"image_key": login.image_key}).to_string(),
            std::slice::from_ref(&login),
        ),
        (MessageType::Post, post_content, &steps),
    ];
    let mut out = Vec::new();
    for (message_type, content, images) in &messages {
        let m = meta
            .add_message(NewMessage {
                ticket_id: &ticket.ticket_id,
                message_type: *message_type,
                content,
                user_id: guest,
                user_name: "Lin (customer)",
                avatar_url: "",
                images,
            })
            .await?;
        out.push(DemoMessage {
            id: m.id,
            message_id: m.message_id,
            message_type: m.message_type,
            images: images
                .iter()
                .map(|i| DemoImage {
                    sha256: i.sha256.clone(),
                    content_type: i.content_type.clone(),
                    file_name: i.file_name.clone(),
                })
                .collect(),
        });
    }
    Ok(DemoFile {
        base_url: String::new(),
        tenant_key: tenant.tenant_key,
        app_id: app.app.app_id,
        app_secret: app.app_secret,
        helpdesk_id: helpdesk.helpdesk.helpdesk_id,
        helpdesk_token: helpdesk.helpdesk_token,
        ticket_id: ticket.ticket_id,
        messages: out,
    })
}

/// A session to paste into a shell: a token, then the post's second image.
pub fn curl_session(demo: &DemoFile) -> String {
    let post = demo.messages.iter().find(|m| m.message_type == "post");
    let (msg_id, file) = match post {
        Some(m) => (
            m.message_id.as_str(),
            m.images
                .get(1)
                .map(|i| i.file_name.as_str())
                .unwrap_or("image"),
        ),
        None => ("", "image"),
    };
    let b = &demo.base_url;
    format!(
        r#"
Demo ready; its ids and secrets are in demo.json in the data dir. Try it:

TOKEN=$(curl -s -X POST {b}{token_path} \
  -d '{{"app_id":"{app_id}","app_secret":"{app_secret}"}}' | sed -E 's/.*"tenant_access_token":"([^"]+)".*/\1/')
curl -s -o {file} '{b}{images_path}?ticket_id={ticket}&msg_id={msg_id}&index=1' \
  -H "Authorization: Bearer $TOKEN" \
  -H 'X-Lark-Helpdesk-Authorization: {credential}'
"#,
        token_path = path::TENANT_ACCESS_TOKEN,
        images_path = path::TICKET_IMAGES,
        app_id = demo.app_id,
        app_secret = demo.app_secret,
        ticket = demo.ticket_id,
        credential = encode_helpdesk_credential(&demo.helpdesk_id, &demo.helpdesk_token),
    )
}
