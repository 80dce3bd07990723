//! `serve --demo`: a built-in fixtures file (`demo/fixtures.toml`) of a
//! tenant, a custom app, a helpdesk, an agent, one ticket holding a text,
//! an image and a post message with three images, and an FAQ whose answer
//! holds two images, made to hold at every start, and described in
//! `<data-dir>/demo.json`.

use anyhow::{Context, Result};
use helpdesk_core::auth::encode_helpdesk_credential;
use helpdesk_core::content::{image_keys, MessageType};
use helpdesk_core::wire::path;
use helpdesk_store::{MessageFilter, StorageConfig, Stores};
use serde::{Deserialize, Serialize};

/// The demo's fixtures and images, shipped in the binary: (file name, bytes).
const FILES: [(&str, &[u8]); 5] = [
    ("fixtures.toml", include_bytes!("../demo/fixtures.toml")),
    ("login-error.png", include_bytes!("../demo/login-error.png")),
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

/// Writes the demo's files into `<data-dir>/demo/`, applies its fixtures
/// (which then are the data dir's, for `admin reset`), and rewrites
/// demo.json with the current base URL.
pub async fn provision(
    stores: &Stores,
    storage: &StorageConfig,
    base_url: &str,
) -> Result<DemoFile> {
    let dir = storage.data_dir.join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(bytes) {
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let fixtures = crate::fixtures::load(&dir.join("fixtures.toml"))?;
    crate::fixtures::apply(stores, storage, &fixtures).await?;
    let credentials = fixtures
        .credentials()
        .context("the demo's fixtures declare an app")?;
    let ticket_id = fixtures.ticket_ids().remove(0);
    let page = stores
        .meta
        .messages(
            &ticket_id,
            &MessageFilter {
                time_start: None,
                time_end: None,
                offset: 0,
                limit: 100,
            },
        )
        .await?;
    let mut messages = Vec::new();
    for m in page.messages {
        let keys = MessageType::parse(&m.message_type)
            .and_then(|t| image_keys(t, &m.content).ok())
            .unwrap_or_default();
        let mut found = stores.meta.images(&credentials.tenant_key, &keys).await?;
        found.sort_by_key(|i| keys.iter().position(|k| *k == i.image_key));
        messages.push(DemoMessage {
            id: m.id,
            message_id: m.message_id,
            message_type: m.message_type,
            images: found
                .into_iter()
                .map(|i| DemoImage {
                    sha256: i.sha256,
                    content_type: i.content_type,
                    file_name: i.file_name,
                })
                .collect(),
        });
    }
    let demo = DemoFile {
        base_url: base_url.to_string(),
        tenant_key: credentials.tenant_key,
        app_id: credentials.app_id,
        app_secret: credentials.app_secret,
        helpdesk_id: credentials.helpdesk_id.unwrap_or_default(),
        helpdesk_token: credentials.helpdesk_token.unwrap_or_default(),
        ticket_id,
        messages,
    };
    let path = storage.data_dir.join("demo.json");
    write_private(&path, &serde_json::to_vec_pretty(&demo)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(demo)
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
