//! Telling running servers that a change committed, so that they answer the
//! new way to the very next request instead of at their next poll.
//!
//! Every server polls the store's change counter (`KeyRepo::generation`)
//! every 250 ms; that poll stays the fallback throughout. On top of it, a
//! process that made a change (the `admin` command) *announces* it: every
//! server listening on the same storage runs what a poll tick does (its
//! `Tick`) and only then acknowledges, and the announcer waits for every
//! acknowledgement, at most [`ANSWER_WITHIN`]. How the word travels is the
//! backend's business:
//!
//! - embedded (SQLite): a Unix socket per server in `.helpdesk-changes/`
//!   beside the database file (`embedded`);
//! - PostgreSQL: `LISTEN`/`NOTIFY` on a dedicated connection per server
//!   (`postgres`).
//!
//! `helpdesk_store::open` gives servers and admin commands the same
//! mechanism, in `Stores::changes`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;

pub mod embedded;
pub mod postgres;

pub use embedded::Embedded;
pub use postgres::Postgres;

/// How long an announcement waits for the servers' acknowledgements.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// What a server does when told of a change (and at every poll): read the
/// change counter and, when it moved, drop what it holds of the old state.
/// An acknowledgement is sent only once it has returned.
pub type Tick = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// The way processes on one storage tell each other of a change.
#[async_trait]
pub trait Changes: Send + Sync + 'static {
    /// Server side: answers announcements by running `tick`, then
    /// acknowledging, until the returned handle is dropped (which also
    /// removes what listening left behind, such as a socket file). Returns
    /// once announcements reach this process, or, when they cannot, after
    /// logging why (the poll still runs).
    async fn listen(&self, tick: Tick) -> Listening;

    /// Admin side, after a write committed: tells every listening server
    /// and waits for each one's acknowledgement, at most [`ANSWER_WITHIN`].
    async fn announce(&self) -> Report;
}

/// Tells every server on `stores`' storage that a change committed, and
/// waits (bounded) for their acknowledgements. Prints nothing: the caller
/// shows [`Report::complaints`] where its user reads them.
pub async fn announce(stores: &crate::Stores) -> Report {
    stores.changes.announce().await
}

/// The outcome of one announcement.
#[derive(Debug, Default)]
#[must_use]
pub struct Report {
    /// Servers that acknowledged: they answer the new way now.
    pub acknowledged: usize,
    /// Servers that did not acknowledge in time.
    pub stragglers: Vec<Straggler>,
    /// Sockets left by servers that are gone, removed.
    pub removed: Vec<String>,
    /// Why the announcement could not be made at all, if it could not.
    pub failed: Option<String>,
}

/// A server that did not acknowledge within [`ANSWER_WITHIN`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Straggler {
    /// Which one: its socket and pid, or its listening connection's backend pid.
    pub server: String,
    /// What went wrong ("no answer within 2 s", a connection error).
    pub reason: String,
}

impl Report {
    /// One line for each server that was not told, for stderr: nothing
    /// when every server acknowledged.
    pub fn complaints(&self) -> Vec<String> {
        let later = "it will see the change at its next poll, within 250 ms";
        let mut lines: Vec<String> = self
            .stragglers
            .iter()
            .map(|s| {
                format!(
                    "helpdesk: {} did not acknowledge the change ({}): {later}",
                    s.server, s.reason
                )
            })
            .collect();
        if let Some(why) = &self.failed {
            lines.push(format!(
                "helpdesk: running servers could not be told of the change ({why}): they will see it at their next poll, within 250 ms"
            ));
        }
        lines
    }
}

/// While it lives, its server answers announcements.
pub struct Listening {
    /// Dropped to stop the listener (which then cleans up after itself).
    _stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Removed on drop, also when the runtime is going away.
    socket: Option<std::path::PathBuf>,
}

impl Listening {
    /// Listens for nothing: announcements do not reach this process.
    pub fn nothing() -> Listening {
        Listening {
            _stop: None,
            socket: None,
        }
    }

    /// The socket announcements reach, on the embedded backend.
    pub fn socket(&self) -> Option<&std::path::Path> {
        self.socket.as_deref()
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(path) = self.socket.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// For storage that no other process shares (an in-memory database).
pub struct Alone;

#[async_trait]
impl Changes for Alone {
    async fn listen(&self, _tick: Tick) -> Listening {
        Listening::nothing()
    }

    async fn announce(&self) -> Report {
        Report::default()
    }
}

/// A token naming one announcement, so that its acknowledgements are told
/// apart from those of another announcer's at the same time.
fn announcement_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
