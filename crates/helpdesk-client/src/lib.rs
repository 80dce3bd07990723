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

mod api;
mod bot_message;
mod categories;
mod envelope;
mod error;
mod faq_model;
mod faqs;
mod image;
mod model;
mod retry;
mod ticket_fields;
mod ticket_model;
mod tickets;
mod token;

use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::wire::{header, path};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub use bot_message::*;
pub use categories::*;
use envelope::{api_error, envelope};
pub use error::{ApiError, Error, INVALID_TOKEN, RATE_LIMITED};
pub use faq_model::*;
pub use faqs::*;
pub use image::TicketImage;
pub use model::*;
use retry::Idempotence;
pub use retry::RetryPolicy;
pub use ticket_fields::*;
pub use ticket_model::*;
pub use tickets::*;
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
        let helpdesk_id = self.helpdesk.as_ref().map(|(id, _)| id.clone());
        let helpdesk_header = self
            .helpdesk
            .map(|(id, token)| helpdesk_core::auth::encode_helpdesk_credential(&id, &token));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: self.base_url,
                app_id: self.app_id,
                app_secret: self.app_secret,
                helpdesk_id,
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
    helpdesk_id: Option<String>,
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

/// How a request is authorised: the tenant token, with the helpdesk
/// credential or without, or a user's token with it (see `tickets`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth<'a> {
    Tenant,
    Helpdesk,
    User(&'a str),
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
        auth: Auth<'_>,
        idem: Idempotence,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<Response, Error> {
        let url = self.url(path);
        let helpdesk =
            match (auth, &self.inner.helpdesk_header) {
                (Auth::Tenant, _) => None,
                (_, Some(h)) => Some(h.clone()),
                (_, None) => return Err(Error::Config(
                    "this call needs a helpdesk: set it with ClientBuilder::helpdesk(id, token)"
                        .into(),
                )),
            };
        // A user's token is the caller's to renew: a refusal ends the call.
        let mut token_renewed = matches!(auth, Auth::User(_));
        loop {
            let token = match auth {
                Auth::User("") => return Err(Error::Config("a user access token is empty".into())),
                Auth::User(token) => token.to_string(),
                _ => self.tenant_access_token().await?,
            };
            let make = || {
                let req = build(&self.inner.http, &url).bearer_auth(&token);
                match &helpdesk {
                    Some(h) => req.header(header::HELPDESK_CREDENTIAL, h),
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
        auth: Auth<'_>,
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
        let url = self.url(path::TENANT_ACCESS_TOKEN);
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
}
