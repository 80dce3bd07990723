//! A typed client for the Feishu (Lark) Helpdesk ticket and image APIs.
//!
//! It works against Feishu itself (the default base URL) and against a
//! `helpdesk` server alike. Tokens are fetched, cached, refreshed ahead of
//! expiry with one refresh in flight however many calls wait for it, and
//! dropped and fetched again once when the server calls them invalid.
//!
//! ```no_run
//! # async fn run() -> Result<(), helpdesk_client::Error> {
//! let client = helpdesk_client::Client::builder("cli_xxx", "app secret")
//!     .helpdesk("7000000000000000000", "ht-xxx")
//!     .build()?;
//! let image = client.ticket_image("6626871355780366331", "om_xxx", Some(0)).await?;
//! image.save("screenshot.png").await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod image;
mod model;
mod retry;
mod token;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub use error::{ApiError, Error, INVALID_TOKEN, RATE_LIMITED};
pub use image::TicketImage;
pub use model::*;
use retry::Idempotence;
pub use retry::RetryPolicy;
use token::TokenCache;

/// Feishu's own base URL, the default.
pub const FEISHU_BASE_URL: &str = "https://open.feishu.cn";

/// The `User-Agent` the client sends (unless given its own HTTP client).
pub const USER_AGENT: &str = concat!("helpdesk-client/", env!("CARGO_PKG_VERSION"));

/// Builds a [`Client`].
pub struct ClientBuilder {
    app_id: String,
    app_secret: String,
    base_url: String,
    helpdesk: Option<(String, String)>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    read_timeout: Duration,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
}

impl ClientBuilder {
    /// The server to call, e.g. `http://127.0.0.1:8080`; default Feishu's.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// The helpdesk credential every helpdesk call needs.
    pub fn helpdesk(
        mut self,
        helpdesk_id: impl Into<String>,
        helpdesk_token: impl Into<String>,
    ) -> Self {
        self.helpdesk = Some((helpdesk_id.into(), helpdesk_token.into()));
        self
    }

    /// A limit on each whole request, body included (default none: a large
    /// download may take as long as it needs while bytes keep coming).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long to wait for a connection (default 10 s). Ignored with
    /// [`ClientBuilder::http_client`], which brings its own.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a read may wait for bytes (default 30 s). Ignored with
    /// [`ClientBuilder::http_client`].
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Use this reqwest client (its pool, proxy, TLS settings and
    /// `User-Agent`).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// When to retry; see [`RetryPolicy`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, Error> {
        if self.app_id.is_empty() || self.app_secret.is_empty() {
            return Err(Error::Config(
                "an app id and an app secret are required".into(),
            ));
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(self.connect_timeout)
                .read_timeout(self.read_timeout)
                .build()
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        let helpdesk_header = self
            .helpdesk
            .map(|(id, token)| helpdesk_core::auth::encode_helpdesk_credential(&id, &token));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: self.base_url,
                app_id: self.app_id,
                app_secret: self.app_secret,
                helpdesk_header,
                timeout: self.timeout,
                retry: self.retry,
                tokens: TokenCache::default(),
            }),
        })
    }
}

/// A client for one app (and optionally one helpdesk). Cheap to clone; clones
/// share the token cache and the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    app_id: String,
    app_secret: String,
    helpdesk_header: Option<String>,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    tokens: TokenCache,
}

/// What `Debug` shows instead of a secret.
const REDACTED: &str = "<redacted>";

// Debug by hand: the app secret, the helpdesk token and the header made from
// it never appear in a log line that prints a client.
impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("app_id", &self.app_id)
            .field("app_secret", &REDACTED)
            .field("base_url", &self.base_url)
            .field(
                "helpdesk",
                &self.helpdesk.as_ref().map(|(id, _)| (id, REDACTED)),
            )
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("app_secret", &REDACTED)
            .field(
                "helpdesk_header",
                &self.helpdesk_header.as_ref().map(|_| REDACTED),
            )
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// How a request is authorised.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    Tenant,
    Helpdesk,
}

/// What one try of a request came to.
enum Outcome {
    Done(Response),
    Failed {
        error: Error,
        retry: bool,
        bad_token: bool,
        /// How long the server asked the client to wait, if it said.
        wait: Option<Duration>,
    },
}

fn log_id(resp: &Response) -> Option<String> {
    ["x-tt-logid", "x-request-id"]
        .iter()
        .find_map(|h| resp.headers().get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads an error answer into an [`Error`].
async fn api_error(resp: Response) -> Error {
    let status = resp.status().as_u16();
    let header_log_id = log_id(&resp);
    let body: Option<Value> = resp.json().await.ok();
    match body
        .as_ref()
        .and_then(|b| Some((b.get("code")?.as_i64()?, b)))
    {
        Some((code, body)) => Error::Api(ApiError {
            status,
            code,
            msg: body
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            log_id: header_log_id.or_else(|| {
                body.pointer("/error/log_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
        }),
        None => Error::Protocol {
            status,
            log_id: header_log_id,
            detail: "the error body is not Feishu's JSON".into(),
        },
    }
}

/// Reads a 2xx JSON answer: its status, log id and body, or the API error
/// its non-zero `code` stands for (the token endpoints answer errors with
/// HTTP 200).
async fn envelope(resp: Response) -> Result<(u16, Option<String>, Value), Error> {
    let status = resp.status().as_u16();
    let log_id = log_id(&resp);
    let body: Value = resp.json().await.map_err(|e| Error::Protocol {
        status,
        log_id: log_id.clone(),
        detail: format!("the body is not JSON: {e}"),
    })?;
    match body.get("code").and_then(Value::as_i64) {
        Some(0) => Ok((status, log_id, body)),
        code => Err(Error::Api(ApiError {
            status,
            code: code.unwrap_or(-1),
            msg: body
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or("no code in the answer")
                .to_string(),
            log_id,
        })),
    }
}

impl Client {
    /// A builder for an app's client.
    pub fn builder(app_id: impl Into<String>, app_secret: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            base_url: FEISHU_BASE_URL.to_string(),
            helpdesk: None,
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            http: None,
            retry: RetryPolicy::default(),
        }
    }

    /// A builder from the variables `helpdesk images` reads:
    /// `HELPDESK_APP_ID` and `HELPDESK_APP_SECRET` (required),
    /// `HELPDESK_BASE_URL` (default Feishu's), and `HELPDESK_HELPDESK_ID`
    /// with `HELPDESK_HELPDESK_TOKEN` (both or neither).
    pub fn builder_from_env() -> Result<ClientBuilder, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(app_id), Some(app_secret)) = (var("HELPDESK_APP_ID"), var("HELPDESK_APP_SECRET"))
        else {
            return Err(Error::Config(
                "set HELPDESK_APP_ID and HELPDESK_APP_SECRET".into(),
            ));
        };
        let mut builder = Client::builder(app_id, app_secret);
        if let Some(url) = var("HELPDESK_BASE_URL") {
            builder = builder.base_url(url);
        }
        match (var("HELPDESK_HELPDESK_ID"), var("HELPDESK_HELPDESK_TOKEN")) {
            (Some(id), Some(token)) => builder = builder.helpdesk(id, token),
            (None, None) => {}
            _ => {
                return Err(Error::Config(
                    "set both HELPDESK_HELPDESK_ID and HELPDESK_HELPDESK_TOKEN, or neither".into(),
                ))
            }
        }
        Ok(builder)
    }

    /// A client from the environment; see [`Client::builder_from_env`].
    pub fn from_env() -> Result<Client, Error> {
        Client::builder_from_env()?.build()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.base_url, path)
    }

    /// One try: send, then sort the answer into done, retry, or fail.
    async fn try_once(&self, req: RequestBuilder, url: &str, idem: Idempotence) -> Outcome {
        let req = match self.inner.timeout {
            Some(t) => req.timeout(t),
            None => req,
        };
        match req.send().await {
            Err(source) => {
                let retry = idem == Idempotence::Safe || source.is_connect();
                Outcome::Failed {
                    error: Error::Transport {
                        url: url.to_string(),
                        source,
                    },
                    retry,
                    bad_token: false,
                    wait: None,
                }
            }
            Ok(resp) if resp.status().is_success() => Outcome::Done(resp),
            Ok(resp) => {
                let server_error = resp.status().is_server_error();
                let wait = retry::server_wait(resp.headers());
                let error = api_error(resp).await;
                let code = error.code();
                Outcome::Failed {
                    retry: code == Some(RATE_LIMITED)
                        || (server_error && idem == Idempotence::Safe),
                    bad_token: code == Some(INVALID_TOKEN),
                    error,
                    wait,
                }
            }
        }
    }

    /// Sends the request `make` builds until it succeeds, fails for good, or
    /// runs out of retries; a refused token ends it at once (the caller
    /// decides what to do about that).
    async fn send_retrying(
        &self,
        url: &str,
        idem: Idempotence,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, (Error, bool)> {
        let mut retries = 0;
        loop {
            match self.try_once(make(), url, idem).await {
                Outcome::Done(resp) => return Ok(resp),
                Outcome::Failed {
                    error,
                    bad_token: true,
                    ..
                } => return Err((error, true)),
                Outcome::Failed {
                    error, retry, wait, ..
                } => {
                    let policy = &self.inner.retry;
                    if !retry
                        || retries >= policy.max_retries
                        || wait.is_some_and(|w| w > policy.max_server_wait)
                    {
                        return Err((error, false));
                    }
                    retries += 1;
                    let delay = wait.unwrap_or_else(|| policy.delay(retries));
                    tracing::warn!(%error, retry = retries, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Sends an authorised request built by `build`, retrying by the policy,
    /// and once more with a fresh token when the server refuses the cached
    /// one. Returns the 2xx response.
    async fn execute(
        &self,
        path: &str,
        auth: Auth,
        idem: Idempotence,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<Response, Error> {
        let url = self.url(path);
        let helpdesk =
            match (auth, &self.inner.helpdesk_header) {
                (Auth::Helpdesk, Some(h)) => Some(h.clone()),
                (Auth::Helpdesk, None) => return Err(Error::Config(
                    "this call needs a helpdesk: set it with ClientBuilder::helpdesk(id, token)"
                        .into(),
                )),
                (Auth::Tenant, _) => None,
            };
        let mut token_renewed = false;
        loop {
            let token = self.tenant_access_token().await?;
            let make = || {
                let req = build(&self.inner.http, &url).bearer_auth(&token);
                match &helpdesk {
                    Some(h) => req.header("X-Lark-Helpdesk-Authorization", h),
                    None => req,
                }
            };
            match self.send_retrying(&url, idem, make).await {
                Ok(resp) => return Ok(resp),
                Err((_, true)) if !token_renewed => {
                    tracing::debug!("the server refused the cached token; fetching a new one");
                    self.inner.tokens.invalidate(&token);
                    token_renewed = true;
                }
                Err((error, _)) => return Err(error),
            }
        }
    }

    /// Sends a JSON API call and returns its `data`.
    async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        auth: Auth,
        idem: Idempotence,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<T, Error> {
        let resp = self.execute(path, auth, idem, build).await?;
        let (status, log_id, body) = envelope(resp).await?;
        serde_json::from_value(body.get("data").cloned().unwrap_or(Value::Null)).map_err(|e| {
            Error::Protocol {
                status,
                log_id,
                detail: format!("unexpected `data`: {e}"),
            }
        })
    }

    /// The app's tenant access token: from the cache while it has more than a
    /// few minutes left, else fetched (one fetch however many calls wait).
    pub async fn tenant_access_token(&self) -> Result<String, Error> {
        self.inner.tokens.get(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<(String, Duration), Error> {
        let url = self.url("/open-apis/auth/v3/tenant_access_token/internal");
        let body = json!({"app_id": self.inner.app_id, "app_secret": self.inner.app_secret});
        let resp = self
            .send_retrying(&url, Idempotence::Safe, || {
                self.inner.http.post(&url).json(&body)
            })
            .await
            .map_err(|(e, _)| e)?;
        let (status, log_id, body) = envelope(resp).await?;
        let token = body.get("tenant_access_token").and_then(Value::as_str);
        match (token, body.get("expire").and_then(Value::as_u64)) {
            (Some(token), Some(expire)) => Ok((token.to_string(), Duration::from_secs(expire))),
            _ => Err(Error::Protocol {
                status,
                log_id,
                detail: "no tenant_access_token and expire in the answer".into(),
            }),
        }
    }

    /// Uploads an image (`im.v1.image.create`) and returns its `image_key`.
    pub async fn upload_image(
        &self,
        bytes: impl Into<Bytes>,
        file_name: &str,
    ) -> Result<String, Error> {
        #[derive(serde::Deserialize)]
        struct Data {
            image_key: String,
        }
        let bytes: Bytes = bytes.into();
        let data: Data = self
            .call(
                "/open-apis/im/v1/images",
                Auth::Tenant,
                Idempotence::Safe,
                |http, url| {
                    let part = reqwest::multipart::Part::stream(bytes.clone())
                        .file_name(file_name.to_string());
                    let form = reqwest::multipart::Form::new()
                        .text("image_type", "message")
                        .part("image", part);
                    http.post(url).multipart(form)
                },
            )
            .await?;
        Ok(data.image_key)
    }

    /// Opens a ticket for a customer (`helpdesk.v1.ticket.start_service`).
    pub async fn start_service(&self, request: &StartService) -> Result<ServiceStarted, Error> {
        self.call(
            "/open-apis/helpdesk/v1/start_service",
            Auth::Helpdesk,
            Idempotence::Unsafe,
            |http, url| http.post(url).json(request),
        )
        .await
    }

    /// A ticket (`helpdesk.v1.ticket.get`).
    pub async fn ticket(&self, ticket_id: &str) -> Result<Ticket, Error> {
        #[derive(serde::Deserialize)]
        struct Data {
            ticket: Ticket,
        }
        let path = format!("/open-apis/helpdesk/v1/tickets/{}", segment(ticket_id));
        let data: Data = self
            .call(&path, Auth::Helpdesk, Idempotence::Safe, |http, url| {
                http.get(url)
            })
            .await?;
        Ok(data.ticket)
    }

    /// Posts a message in a ticket (`helpdesk.v1.ticket_message.create`) and
    /// returns its `message_id`.
    pub async fn create_message(
        &self,
        ticket_id: &str,
        content: &MessageContent,
    ) -> Result<String, Error> {
        #[derive(serde::Deserialize)]
        struct Data {
            message_id: String,
        }
        let (msg_type, content) = content.to_wire();
        let path = format!(
            "/open-apis/helpdesk/v1/tickets/{}/messages",
            segment(ticket_id)
        );
        let body = json!({"msg_type": msg_type, "content": content});
        let data: Data = self
            .call(&path, Auth::Helpdesk, Idempotence::Unsafe, |http, url| {
                http.post(url).json(&body)
            })
            .await?;
        Ok(data.message_id)
    }

    /// One page of a ticket's messages (`helpdesk.v1.ticket_message.list`).
    pub async fn list_messages(
        &self,
        ticket_id: &str,
        query: &ListMessages,
    ) -> Result<MessagePage, Error> {
        let path = format!(
            "/open-apis/helpdesk/v1/tickets/{}/messages",
            segment(ticket_id)
        );
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(v) = query.time_start {
            params.push(("time_start", v.to_string()));
        }
        if let Some(v) = query.time_end {
            params.push(("time_end", v.to_string()));
        }
        if let Some(v) = query.page {
            params.push(("page", v.to_string()));
        }
        if let Some(v) = query.page_size {
            params.push(("page_size", v.to_string()));
        }
        self.call(&path, Auth::Helpdesk, Idempotence::Safe, |http, url| {
            http.get(url).query(&params)
        })
        .await
    }

    /// Every message of a ticket, oldest first, walking the pages as the
    /// stream is read. `query.page` is where it starts (default 1); the page
    /// size defaults to the largest the API takes.
    pub fn messages(
        &self,
        ticket_id: &str,
        query: ListMessages,
    ) -> impl Stream<Item = Result<TicketMessage, Error>> + '_ {
        struct Walk {
            query: ListMessages,
            page: u32,
            seen: u64,
            buffered: std::collections::VecDeque<TicketMessage>,
            done: bool,
        }
        let start = Walk {
            page: query.page.unwrap_or(1),
            query: ListMessages {
                page_size: Some(query.page_size.unwrap_or(200)),
                ..query
            },
            seen: 0,
            buffered: Default::default(),
            done: false,
        };
        let ticket_id = ticket_id.to_string();
        futures::stream::try_unfold(start, move |mut walk| {
            let ticket_id = ticket_id.clone();
            async move {
                loop {
                    if let Some(m) = walk.buffered.pop_front() {
                        return Ok(Some((m, walk)));
                    }
                    if walk.done {
                        return Ok(None);
                    }
                    let query = ListMessages {
                        page: Some(walk.page),
                        ..walk.query.clone()
                    };
                    let page = self.list_messages(&ticket_id, &query).await?;
                    let size = u64::from(walk.query.page_size.unwrap_or(200));
                    walk.seen += page.messages.len() as u64;
                    walk.done = (page.messages.len() as u64) < size || walk.seen >= page.total;
                    walk.page += 1;
                    walk.buffered.extend(page.messages);
                }
            }
        })
    }

    /// An image of a message (`helpdesk.v1.ticket.ticket_image`): `index` is
    /// required for a post (from 0) and not needed for an image message.
    /// `msg_id` is the message's `id` or `message_id`.
    pub async fn ticket_image(
        &self,
        ticket_id: &str,
        msg_id: &str,
        index: Option<u32>,
    ) -> Result<TicketImage, Error> {
        let mut params = vec![
            ("ticket_id", ticket_id.to_string()),
            ("msg_id", msg_id.to_string()),
        ];
        if let Some(i) = index {
            params.push(("index", i.to_string()));
        }
        let path = "/open-apis/helpdesk/v1/ticket_images";
        let resp = self
            .execute(path, Auth::Helpdesk, Idempotence::Safe, |http, url| {
                http.get(url).query(&params)
            })
            .await?;
        if resp.status() != StatusCode::OK {
            return Err(Error::Protocol {
                status: resp.status().as_u16(),
                log_id: log_id(&resp),
                detail: "an image answer is HTTP 200".into(),
            });
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(TicketImage {
            file_name: header("content-disposition")
                .and_then(|h| helpdesk_core::disposition::parse_file_name(&h)),
            content_type: header("content-type"),
            content_length: resp.content_length(),
            log_id: log_id(&resp),
            url: self.url(path),
            response: resp,
        })
    }
}

/// A path segment, percent-encoded so that an id can never change the path.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
