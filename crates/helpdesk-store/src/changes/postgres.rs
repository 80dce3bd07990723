//! Announcements on PostgreSQL: `LISTEN`/`NOTIFY`, which reach exactly the
//! sessions of one database.
//!
//! Every server keeps one connection of its own, named [`APPLICATION_NAME`]
//! in `pg_stat_activity`, that listens on [`CHANNEL`]. The announcer first
//! listens on [`ACK_CHANNEL`], then reads which servers it must wait for
//! (the backend pids of those connections), notifies [`CHANNEL`] with an
//! announcement id, and waits until each pid acknowledged it: a server
//! ticks, then notifies [`ACK_CHANNEL`] with `<its backend pid> <id>` from
//! that same connection. A lost connection is made again (with a tick, for
//! what was missed meanwhile); the poll covers the time between.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::oneshot;

use super::{announcement_id, Changes, Listening, Report, Straggler, Tick, ANSWER_WITHIN};

/// The channel announcements are sent on.
pub const CHANNEL: &str = "helpdesk_changes";
/// The channel servers acknowledge on.
pub const ACK_CHANNEL: &str = "helpdesk_changes_ack";
/// How a server's listening connection is named in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "helpdesk-changes";

/// The servers sharing one PostgreSQL database.
pub struct Postgres {
    /// The store's own pool: the announcer's connection comes from it.
    pool: PgPool,
    /// How to reach the database, for a server's listening connection.
    options: PgConnectOptions,
}

impl Postgres {
    pub(crate) fn new(pool: PgPool, options: PgConnectOptions) -> Postgres {
        Postgres { pool, options }
    }
}

#[async_trait]
impl Changes for Postgres {
    async fn listen(&self, tick: Tick) -> Listening {
        // A pool of one, so that a lost connection is made again with the
        // same name; PgListener re-listens on it.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(self.options.clone().application_name(APPLICATION_NAME));
        // Awaited: a server that answers requests hears announcements too.
        let first = match connect(&pool).await {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for announcements of changes: they reach this server at its next poll (every 250 ms) until it can");
                None
            }
        };
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(run(pool, first, tick, stopped));
        Listening {
            _stop: Some(stop),
            socket: None,
        }
    }

    async fn announce(&self) -> Report {
        let id = announcement_id();
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        let setup = tokio::time::timeout_at(deadline, async {
            let mut acks = PgListener::connect_with(&self.pool).await?;
            acks.listen(ACK_CHANNEL).await?;
            let pids: Vec<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            )
            .bind(APPLICATION_NAME)
            .fetch_all(&mut acks)
            .await?;
            if !pids.is_empty() {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(&id)
                    .execute(&mut acks)
                    .await?;
            }
            Ok::<_, sqlx::Error>((acks, pids))
        })
        .await;
        let (mut acks, pids) = match setup {
            Ok(Ok(set)) => set,
            Ok(Err(e)) => return failed(format!("PostgreSQL: {e}")),
            Err(_) => {
                return failed(format!(
                    "PostgreSQL did not answer within {} s",
                    ANSWER_WITHIN.as_secs()
                ))
            }
        };
        let mut waiting: HashSet<i32> = pids.iter().copied().collect();
        let mut reason = format!("no answer within {} s", ANSWER_WITHIN.as_secs());
        while !waiting.is_empty() {
            match tokio::time::timeout_at(deadline, acks.try_recv()).await {
                Err(_) => break,
                Ok(Ok(Some(note))) => {
                    if let Some((pid, answered)) = note.payload().split_once(' ') {
                        if answered == id {
                            if let Ok(pid) = pid.parse::<i32>() {
                                waiting.remove(&pid);
                            }
                        }
                    }
                }
                Ok(Ok(None)) => {
                    reason = "the announcer lost its connection to PostgreSQL".into();
                    break;
                }
                Ok(Err(e)) => {
                    reason = format!("PostgreSQL: {e}");
                    break;
                }
            }
        }
        let mut stragglers: Vec<i32> = waiting.into_iter().collect();
        stragglers.sort_unstable();
        Report {
            acknowledged: pids.len() - stragglers.len(),
            stragglers: stragglers
                .into_iter()
                .map(|pid| Straggler {
                    server: format!(
                        "the server listening on PostgreSQL connection {pid} ({APPLICATION_NAME} in pg_stat_activity)"
                    ),
                    reason: reason.clone(),
                })
                .collect(),
            removed: Vec::new(),
            failed: None,
        }
    }
}

fn failed(why: String) -> Report {
    Report {
        failed: Some(why),
        ..Report::default()
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Answers announcements until `stopped`, making the connection again
/// whenever it is lost.
async fn run(
    pool: PgPool,
    mut listener: Option<PgListener>,
    tick: Tick,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut wait = Duration::from_millis(250);
    loop {
        let mut current = match listener.take() {
            Some(current) => current,
            None => {
                let made = tokio::select! {
                    _ = &mut stopped => break,
                    made = connect(&pool) => made,
                };
                match made {
                    Ok(made) => {
                        tracing::info!("listening for announcements of changes again");
                        wait = Duration::from_millis(250);
                        // What was announced meanwhile.
                        tick().await;
                        made
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?wait, "cannot listen for announcements of changes: they reach this server at its next poll (every 250 ms) until it can");
                        tokio::select! {
                            _ = &mut stopped => break,
                            _ = tokio::time::sleep(wait) => {}
                        }
                        wait = (wait * 2).min(Duration::from_secs(10));
                        continue;
                    }
                }
            }
        };
        loop {
            let got = tokio::select! {
                _ = &mut stopped => {
                    drop(current);
                    pool.close().await;
                    return;
                }
                got = current.try_recv() => got,
            };
            match got {
                Ok(Some(note)) => {
                    tick().await;
                    let answered: String = note.payload().chars().take(64).collect();
                    if let Err(e) =
                        sqlx::query("SELECT pg_notify($1, pg_backend_pid()::text || ' ' || $2)")
                            .bind(ACK_CHANNEL)
                            .bind(answered)
                            .execute(&mut current)
                            .await
                    {
                        tracing::warn!(error = %e, "cannot acknowledge an announcement of a change");
                    }
                }
                // Lost and made again (and listening) already; announcements
                // sent meanwhile were missed.
                Ok(None) => tick().await,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection that listens for announcements of changes");
                    break;
                }
            }
        }
    }
    pool.close().await;
}
