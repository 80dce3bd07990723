//! A real server, in this process, on an ephemeral port over a fresh data
//! dir, and the tenants, apps and helpdesks the tests call it with: for the
//! server's suites.

use std::path::Path;

use helpdesk_server::{AppState, ServerConfig};
use helpdesk_store::provision::{create_app, create_helpdesk};
use helpdesk_store::{AppKind, Stores};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::images::{jpeg, png};
pub use crate::party::Party;

pub struct Server {
    pub base: String,
    pub stores: Stores,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub async fn start(data_dir: &Path, config: ServerConfig) -> Server {
        let stores = crate::backend::open(data_dir).await;
        let state = AppState::new(stores.clone(), config).await.expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            helpdesk_server::serve(listener, helpdesk_server::api(state), async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        Server {
            base,
            stores,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops accepting, lets requests in flight finish, and waits for that.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

/// A server that reads storage on every download: for tests that change
/// storage behind its back (taking bytes out, deleting through the store)
/// and expect the very next request to see it. The cache, which sees such
/// changes within a second, has tests of its own (helpdesk-cli's cache.rs).
pub fn uncached() -> ServerConfig {
    ServerConfig {
        cache_bytes: 0,
        ..ServerConfig::default()
    }
}

/// A tenant with a custom app (default scopes) and a helpdesk.
pub async fn party(stores: &Stores, name: &str) -> Party {
    let meta = stores.meta.as_ref();
    let tenant = meta.create_tenant(name).await.expect("tenant");
    let app = create_app(meta, &tenant.tenant_key, name, AppKind::Custom, &[])
        .await
        .expect("app");
    let helpdesk = create_helpdesk(meta, &tenant.tenant_key, name)
        .await
        .expect("helpdesk");
    Party {
        tenant_key: tenant.tenant_key,
        app_id: app.app.app_id,
        app_secret: app.app_secret,
        helpdesk_id: helpdesk.helpdesk.helpdesk_id,
        helpdesk_token: helpdesk.helpdesk_token,
    }
}

/// Another app of the same tenant, of the given kind and scopes.
pub async fn other_app(stores: &Stores, of: &Party, kind: AppKind, scopes: &[&str]) -> Party {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let app = create_app(stores.meta.as_ref(), &of.tenant_key, "other", kind, &scopes)
        .await
        .expect("app");
    Party {
        app_id: app.app.app_id,
        app_secret: app.app_secret,
        ..of.clone()
    }
}

pub fn client() -> Client {
    Client::new()
}

pub async fn json(res: Response) -> Value {
    res.json().await.expect("json body")
}

pub async fn token(server: &Server, p: &Party) -> String {
    let res = client()
        .post(server.url("/open-apis/auth/v3/tenant_access_token/internal"))
        .body(json!({"app_id": p.app_id, "app_secret": p.app_secret}).to_string())
        .send()
        .await
        .expect("token request");
    let body = json(res).await;
    assert_eq!(body["code"], 0, "{body}");
    body["tenant_access_token"]
        .as_str()
        .expect("token")
        .to_string()
}

/// A caller with a token and a helpdesk credential.
pub struct Api<'a> {
    pub server: &'a Server,
    pub token: String,
    pub credential: String,
}

impl<'a> Api<'a> {
    pub async fn new(server: &'a Server, p: &Party) -> Api<'a> {
        Api {
            server,
            token: token(server, p).await,
            credential: p.credential(),
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        client()
            .get(self.server.url(path))
            .bearer_auth(&self.token)
            .header("X-Lark-Helpdesk-Authorization", &self.credential)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        client()
            .post(self.server.url(path))
            .bearer_auth(&self.token)
            .header("X-Lark-Helpdesk-Authorization", &self.credential)
    }

    pub async fn upload(&self, bytes: Vec<u8>, name: &str) -> Response {
        let form = reqwest::multipart::Form::new()
            .text("image_type", "message")
            .part(
                "image",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        client()
            .post(self.server.url("/open-apis/im/v1/images"))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }

    pub async fn upload_ok(&self, bytes: Vec<u8>, name: &str) -> String {
        let body = json(self.upload(bytes, name).await).await;
        assert_eq!(body["code"], 0, "{body}");
        body["data"]["image_key"]
            .as_str()
            .expect("image_key")
            .to_string()
    }

    pub async fn start_service(&self) -> String {
        let res = self
            .post("/open-apis/helpdesk/v1/start_service")
            .json(&json!({"human_service": true, "open_id": "ou_guest", "customized_info": "test"}))
            .send()
            .await
            .expect("start_service");
        let body = json(res).await;
        assert_eq!(body["code"], 0, "{body}");
        body["data"]["ticket_id"]
            .as_str()
            .expect("ticket_id")
            .to_string()
    }

    pub async fn post_message(&self, ticket: &str, msg_type: &str, content: Value) -> Response {
        self.post(&format!("/open-apis/helpdesk/v1/tickets/{ticket}/messages"))
            .json(&json!({"msg_type": msg_type, "content": content.to_string()}))
            .send()
            .await
            .expect("post message")
    }

    /// Posts and returns the message's (`id`, `message_id`).
    pub async fn post_message_ok(
        &self,
        ticket: &str,
        msg_type: &str,
        content: Value,
    ) -> (String, String) {
        let body = json(self.post_message(ticket, msg_type, content).await).await;
        assert_eq!(body["code"], 0, "{body}");
        let message_id = body["data"]["message_id"]
            .as_str()
            .expect("message_id")
            .to_string();
        let list = json(
            self.get(&format!(
                "/open-apis/helpdesk/v1/tickets/{ticket}/messages?page_size=200"
            ))
            .send()
            .await
            .expect("list"),
        )
        .await;
        let m = list["data"]["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .find(|m| m["message_id"] == message_id.as_str())
            .expect("posted message is listed")
            .clone();
        (m["id"].as_str().expect("id").to_string(), message_id)
    }

    pub async fn image(&self, ticket: &str, msg: &str, index: Option<&str>) -> Response {
        let mut q = vec![("ticket_id", ticket), ("msg_id", msg)];
        if let Some(i) = index {
            q.push(("index", i));
        }
        self.get("/open-apis/helpdesk/v1/ticket_images")
            .query(&q)
            .send()
            .await
            .expect("ticket_images")
    }

    /// The image's bytes; fails the test unless the answer is 200.
    pub async fn image_bytes(&self, ticket: &str, msg: &str, index: Option<&str>) -> Vec<u8> {
        let res = self.image(ticket, msg, index).await;
        assert_eq!(res.status(), 200, "ticket_images {ticket} {msg} {index:?}");
        res.bytes().await.expect("image body").to_vec()
    }
}

/// The post content holding `keys` as images, in that order, among text.
pub fn post_content(keys: &[&str]) -> Value {
    let mut paragraphs = vec![json!([{"tag": "text", "text": "look:"}])];
    for k in keys {
        paragraphs.push(json!([{"tag": "text", "text": "here"}, {"tag": "img", "image_key": k}]));
    }
    json!({"zh_cn": {"title": "screenshots", "content": paragraphs}})
}

/// Asserts an error response: status, code, the documented msg, and a log id
/// that is the same in the header and the body.
pub async fn assert_error(res: Response, status: u16, code: i64) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let header = res
        .headers()
        .get("x-tt-logid")
        .expect("X-Tt-Logid")
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(
        res.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("")),
        Some("application/json; charset=utf-8")
    );
    let body = json(res).await;
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["error"]["log_id"], header.as_str(), "{body}");
    body
}

/// How many objects the server's blob storage holds.
pub async fn object_count(server: &Server) -> usize {
    crate::backend::object_count(&server.stores).await
}

/// Deletes a message's image(s) as `admin image delete` does.
pub async fn delete_images(
    server: &Server,
    ticket: &str,
    msg: &str,
    index: Option<u32>,
) -> Vec<helpdesk_store::DeletedImage> {
    helpdesk_store::cleanup::delete_images(
        server.stores.meta.as_ref(),
        server.stores.blobs.as_ref(),
        ticket,
        helpdesk_core::ids::MessageRef::parse(msg),
        index,
    )
    .await
    .expect("delete images")
}
