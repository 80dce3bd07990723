//! A real Feishu (Lark) Helpdesk-compatible server for Rust tests, as
//! `wiremock::MockServer` is used: [`Emulator::start`] runs the `helpdesk`
//! server in this process on a free loopback port over a new temporary
//! directory (SQLite and files), with known credentials, and removes it all
//! when the emulator is dropped. It is the server itself, not a mock: tokens,
//! uploads, tickets, messages, FAQs, images and errors behave as they do in
//! `helpdesk serve`, and as Feishu's do.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use helpdesk_emulator::{Emulator, DEFAULT_TICKET};
//!
//! let emulator = Emulator::start().await?;
//! let c = emulator.credentials();
//! let client = helpdesk_client::Client::builder(&c.app_id, &c.app_secret)
//!     .base_url(emulator.base_url())
//!     .helpdesk(c.helpdesk_id.as_deref().unwrap(), c.helpdesk_token.as_deref().unwrap())
//!     .build()?;
//!
//! // The ticket the default fixtures declare, and its message.
//! let ticket = client.ticket(DEFAULT_TICKET).await?;
//! assert_eq!(ticket.ticket_id, DEFAULT_TICKET);
//! let messages: Vec<_> = client
//!     .messages(DEFAULT_TICKET, Default::default())
//!     .try_collect()
//!     .await?;
//! assert!(messages[0].content.contains("Hello from the emulator."));
//! # Ok(())
//! # }
//! ```
//!
//! [`Emulator::with_fixtures`] starts it with a fixtures file of your own
//! (TOML or JSON; the schema is `deploy/fixtures.example.toml` in the
//! repository): your tenants, apps, helpdesks, agents, tickets with their
//! messages and images, and FAQs, under the ids and secrets your code
//! already has.

use std::net::SocketAddr;
use std::path::Path;

use helpdesk_server::{AppState, ServerConfig};
use helpdesk_store::fixtures::Fixtures;
use helpdesk_store::StorageConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use helpdesk_store::fixtures::Credentials;

/// The fixtures `Emulator::start` applies (a tenant, an app, a helpdesk,
/// an agent and a ticket with a text message).
pub const DEFAULT_FIXTURES: &str = include_str!("default.toml");
/// The default fixtures' ticket.
pub const DEFAULT_TICKET: &str = "7000000000000000043";
/// The default fixtures' agent (its open_id).
pub const DEFAULT_AGENT: &str = "ou_e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0";

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The fixtures file is wrong: the file, the line and the key.
    #[error("{0}")]
    Fixtures(#[from] helpdesk_store::fixtures::FixtureError),
    #[error("the fixtures declare no app: add an [[app]] for the emulator's credentials")]
    NoApp,
    #[error("no agent {0:?}: declare it as an [[agent]] in the fixtures")]
    NoAgent(String),
    #[error("storage: {0}")]
    Store(#[from] helpdesk_store::StoreError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// A running server; stopped, and its directory removed, on drop.
pub struct Emulator {
    base_url: String,
    addr: SocketAddr,
    credentials: Credentials,
    stores: helpdesk_store::Stores,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    // Dropped last: the server has stopped writing by then.
    dir: tempfile::TempDir,
}

impl Emulator {
    /// Starts with the default fixtures ([`DEFAULT_FIXTURES`]).
    pub async fn start() -> Result<Emulator, Error> {
        let fixtures = helpdesk_store::fixtures::parse(
            DEFAULT_FIXTURES,
            false,
            Path::new("helpdesk-emulator/default.toml"),
            Path::new("."),
        )?;
        Self::run(fixtures).await
    }

    /// Starts with a fixtures file of your own (images relative to it).
    pub async fn with_fixtures(path: impl AsRef<Path>) -> Result<Emulator, Error> {
        Self::run(helpdesk_store::fixtures::load(path.as_ref())?).await
    }

    async fn run(fixtures: Fixtures) -> Result<Emulator, Error> {
        let credentials = fixtures.credentials().ok_or(Error::NoApp)?;
        let dir = tempfile::Builder::new()
            .prefix("helpdesk-emulator-")
            .tempdir()?;
        let stores = helpdesk_store::open(&StorageConfig {
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            blob_url: None,
            // Removed on drop: nothing in it must survive a crash.
            durable: false,
        })
        .await?;
        fixtures
            .apply(stores.meta.as_ref(), stores.blobs.as_ref())
            .await?;
        let state = AppState::new(stores.clone(), ServerConfig::default()).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) =
                helpdesk_server::serve(listener, helpdesk_server::api(state), shutdown).await
            {
                eprintln!("helpdesk-emulator: the server stopped: {e}");
            }
        });
        Ok(Emulator {
            base_url: format!("http://{addr}"),
            addr,
            credentials,
            stores,
            stop: Some(stop),
            task: Some(task),
            dir,
        })
    }

    /// `http://127.0.0.1:PORT`: what a client's base URL is set to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The first app of the fixtures and its tenant's first helpdesk.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A user access token (`u-...`) of `agent_id`, an agent the fixtures
    /// declare, for the credentials' app, as `helpdesk admin agent token`
    /// prints it: what the agent-only methods (ticket updates, FAQ
    /// writes) are called with.
    pub async fn user_access_token(&self, agent_id: &str) -> Result<String, Error> {
        let meta = self.stores.meta.as_ref();
        let app = meta
            .app(&self.credentials.app_id)
            .await?
            .ok_or(Error::NoApp)?;
        if meta.agent(agent_id).await?.is_none() {
            return Err(Error::NoAgent(agent_id.to_string()));
        }
        let signer = helpdesk_store::tokens::TokenSigner::new(meta.signing_keys().await?);
        Ok(signer
            .issue_user(
                &app.app_id,
                agent_id,
                app.tokens_not_before,
                helpdesk_store::now(),
                helpdesk_store::tokens::TOKEN_LIFETIME,
            )
            .token)
    }

    /// The temporary directory it keeps everything in (removed on drop).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops accepting, lets requests in flight finish, and waits for that;
    /// dropping the emulator stops it without waiting.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
