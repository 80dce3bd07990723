//! `GET /live`: what happens, as server-sent events, for the page that
//! asked (`?ticket=ID`: its new messages and status; `?event=ID`: its new
//! attempts; neither: the front page's activity), within the session's
//! tenant.
//!
//! One poller per console reads the store's feed (`ActivityRepo`) every
//! [`POLL`] and hands each new row to every open stream; every replica
//! writes that feed in its own transactions, so a message posted through
//! another replica shows here at the next poll. A stream starts from
//! `Last-Event-ID` (the browser's own resume), else from `?after=` (the
//! feed's head when the page was rendered, so that nothing falls between
//! the page and its stream), else from now. Each event's data is an HTML
//! fragment that htmx's SSE extension swaps in; an out-of-band part says
//! in words what came, in the page's `aria-live` region. A stream that
//! resumes replays at most [`BACKLOG`] rows.
//!
//! PostgreSQL numbers a row when it is inserted, not when it commits, so
//! a row may become visible after a later-numbered one: the poller reads
//! again [`LOOKBACK`] behind what it has seen, and a stream drops what it
//! has already sent. A row that commits later than that is not streamed
//! (a reload shows it).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Extension;
use helpdesk_store::{Activity, Stores};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

use crate::auth::Principal;
use crate::pages::{failed, Page};
use crate::Console;

use fragments::render;
pub use fragments::{iso_ms, ActivityView};

mod fragments;

/// How often the poller reads the feed.
pub const POLL: Duration = Duration::from_millis(200);
/// How far behind what it has seen the poller keeps reading (see the
/// module's comment).
pub const LOOKBACK: Duration = Duration::from_secs(3);
/// Rows a poll reads at most, a page at a time.
const PAGE: u32 = 500;
const PAGES: usize = 20;
/// Rows a resuming stream replays at most.
const BACKLOG: u32 = 1000;
/// How often an idle stream sends a comment, and checks that its session's
/// token still stands.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The feed as this console reads it: new rows for every open stream.
pub struct Live {
    rows: broadcast::Sender<Arc<Activity>>,
}

impl Live {
    /// Starts the poller over `stores`' feed, from its current head.
    pub fn start(stores: Stores) -> Live {
        let (rows, _) = broadcast::channel(4096);
        tokio::spawn(poll(stores, rows.clone()));
        Live { rows }
    }
}

async fn poll(stores: Stores, rows: broadcast::Sender<Arc<Activity>>) {
    let meta = &stores.meta;
    // Every row at or below `floor` has been handed on (or was there
    // before the console started); `seen` holds those above it, with when.
    let mut floor = loop {
        match meta.activity_head().await {
            Ok(head) => break head,
            Err(e) => {
                tracing::warn!(error = %e, "console: cannot read the live feed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut seen: BTreeMap<i64, Instant> = BTreeMap::new();
    let mut failing = false;
    loop {
        tokio::time::sleep(POLL).await;
        let mut after = floor;
        for _ in 0..PAGES {
            let page = match meta.activity_after(after, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "console: cannot read the live feed");
                    }
                    failing = true;
                    break;
                }
            };
            failing = false;
            let full = page.len() == PAGE as usize;
            for row in page {
                after = row.seq;
                if seen.insert(row.seq, Instant::now()).is_none() {
                    // No open stream: nobody to tell.
                    let _ = rows.send(Arc::new(row));
                }
            }
            if !full {
                break;
            }
        }
        let settled = seen
            .iter()
            .filter(|(_, at)| at.elapsed() >= LOOKBACK)
            .map(|(seq, _)| *seq)
            .max();
        if let Some(settled) = settled {
            floor = floor.max(settled);
            seen.retain(|seq, _| *seq > floor);
        }
    }
}

#[derive(Deserialize)]
pub struct LiveQuery {
    ticket: Option<String>,
    event: Option<String>,
    after: Option<i64>,
}

/// What a stream is for.
#[derive(Clone)]
enum Watch {
    /// The front page: everything of the session's tenants.
    All,
    Ticket(String),
    Event(String),
}

pub async fn live(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<LiveQuery>,
    headers: HeaderMap,
) -> Page {
    // Subscribed before the backlog is read: a row is then in one, the
    // other or both (and sent once), never in neither.
    let rows = console.live.rows.subscribe();
    let watch = match (q.ticket, q.event) {
        (Some(id), _) => {
            crate::tickets::visible_ticket(&console, &who, &id).await?;
            Watch::Ticket(id)
        }
        (None, Some(id)) => {
            crate::events::visible_event(&console, &who, &id).await?;
            Watch::Event(id)
        }
        (None, None) => Watch::All,
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.after);
    let after = match resume {
        Some(after) => after,
        None => console.stores.meta.activity_head().await.map_err(failed)?,
    };
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(stream(console, who, watch, after, rows, tx));
    let events = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// Feeds one stream until its browser goes, its token is revoked, or the
/// store fails.
async fn stream(
    console: Arc<Console>,
    who: Principal,
    watch: Watch,
    after: i64,
    mut rows: broadcast::Receiver<Arc<Activity>>,
    tx: mpsc::Sender<Event>,
) {
    let mut sent = Sent::default();
    if !replay(&console, &who, &watch, after, &mut sent, &tx).await {
        return;
    }
    let mut check = tokio::time::interval(KEEP_ALIVE);
    check.tick().await;
    loop {
        tokio::select! {
            row = rows.recv() => match row {
                Ok(row) => {
                    if !sent.fresh(row.seq) {
                        continue;
                    }
                    if !forward(&console, &who, &watch, &row, &tx).await {
                        return;
                    }
                }
                // Too slow a reader: what it missed comes from the store.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let from = sent.last();
                    if !replay(&console, &who, &watch, from, &mut sent, &tx).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = check.tick() => {
                if tx.is_closed() || !still_signed_in(&console, &who).await {
                    return;
                }
            }
        }
    }
}

/// Sends what the feed holds after `after` (its last [`BACKLOG`] rows at
/// most: a page left for long is better reloaded); false when the stream
/// is over.
async fn replay(
    console: &Console,
    who: &Principal,
    watch: &Watch,
    after: i64,
    sent: &mut Sent,
    tx: &mpsc::Sender<Event>,
) -> bool {
    let meta = &console.stores.meta;
    let rows = match meta.activity_head().await {
        Ok(head) => {
            meta.activity_after(after.max(head - i64::from(BACKLOG)), BACKLOG)
                .await
        }
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "console: cannot read the live feed");
            return false;
        }
    };
    for row in rows {
        if sent.fresh(row.seq) && !forward(console, who, watch, &row, tx).await {
            return false;
        }
    }
    true
}

/// The seqs a stream has passed on lately (so that a row in both the
/// backlog and the broadcast goes once).
#[derive(Default)]
struct Sent {
    order: VecDeque<i64>,
    set: BTreeSet<i64>,
}

impl Sent {
    /// Whether `seq` is new, noting it.
    fn fresh(&mut self, seq: i64) -> bool {
        if !self.set.insert(seq) {
            return false;
        }
        self.order.push_back(seq);
        if self.order.len() > 8192 {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    fn last(&self) -> i64 {
        self.set.last().copied().unwrap_or(0)
    }
}

/// A session opened by a database token ends with the token.
async fn still_signed_in(console: &Console, who: &Principal) -> bool {
    match &who.token_id {
        None => true,
        Some(id) => console
            .stores
            .meta
            .console_token_live(id)
            .await
            .unwrap_or(true),
    }
}

/// Sends `row` if this stream shows it; false when the stream is over.
async fn forward(
    console: &Console,
    who: &Principal,
    watch: &Watch,
    row: &Activity,
    tx: &mpsc::Sender<Event>,
) -> bool {
    if !who.scope.sees(&row.tenant_key) {
        return true;
    }
    let rendered = match render(console, watch, row).await {
        Ok(Some(e)) => e,
        Ok(None) => return true,
        Err(e) => {
            tracing::warn!(error = %e, "console: cannot show a live row");
            return true;
        }
    };
    tx.send(rendered.id(row.seq.to_string())).await.is_ok()
}
