//! Every open connection of the API, with whether it is serving a request
//! and when it last did, and the reaper that closes the silent and the
//! idle ones. A connection that sends nothing within the header timeout,
//! or sits idle past the idle timeout, is closed by the reaper, which looks
//! at every connection a few times per timeout. (Hyper can time the
//! headers itself, but it arms a timer for every request: a twentieth of a
//! cached download's instructions. Its timeout, like ours, ran from the end
//! of the previous response, so an idle keep-alive connection was already
//! closed at the header timeout.) The tracker is shared by the threads
//! that serve the connections (see `threads`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::sendfile::Region;

/// One connection's state, shared with its task.
pub(crate) struct Conn {
    pub(crate) in_flight: AtomicUsize,
    /// Milliseconds since the tracker started, of the last request's start
    /// or end.
    pub(crate) last_active: AtomicU64,
    /// Asked to close: no longer counted against the cap, nor chosen again.
    pub(crate) closing: AtomicBool,
    pub(crate) close: Notify,
    /// Wrote since the reaper last looked: a response's body is still
    /// going out, so the connection is not idle.
    pub(crate) wrote: AtomicBool,
    /// Dropped at once: asked to close, and still silent a tick later (it
    /// sent part of a request's headers, which a graceful close waits for).
    pub(crate) abort: Notify,
    /// The last answer's body, when it is sent from its file (`sendfile`);
    /// `has_region` spares the lock when there is none.
    pub(crate) region: Mutex<Option<Region>>,
    pub(crate) has_region: AtomicBool,
}

impl Conn {
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.close.notify_one();
    }

    /// What the next writes may send from a file (None: nothing).
    pub(crate) fn set_region(&self, region: Option<Region>) {
        if region.is_none() && !self.has_region.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut slot) = self.region.lock() {
            self.has_region.store(region.is_some(), Ordering::Relaxed);
            *slot = region;
        }
    }
}

pub(crate) struct Tracker {
    pub(crate) started: Instant,
    pub(crate) next_id: AtomicU64,
    pub(crate) conns: Mutex<HashMap<u64, Arc<Conn>>>,
    pub(crate) empty: Notify,
}

impl Tracker {
    pub(crate) fn new() -> Tracker {
        Tracker {
            started: Instant::now(),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            empty: Notify::new(),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn len(&self) -> usize {
        self.conns.lock().map_or(0, |c| c.len())
    }

    /// Connections not asked to close.
    pub(crate) fn open(&self) -> usize {
        self.conns.lock().map_or(0, |c| {
            c.values()
                .filter(|c| !c.closing.load(Ordering::Acquire))
                .count()
        })
    }

    /// A new connection, tracked until its `Tracked` is dropped.
    pub(crate) fn add(self: &Arc<Self>) -> (Tracked, Arc<Conn>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(self.now()),
            closing: AtomicBool::new(false),
            close: Notify::new(),
            wrote: AtomicBool::new(false),
            abort: Notify::new(),
            region: Mutex::new(None),
            has_region: AtomicBool::new(false),
        });
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, conn.clone());
        }
        let tracked = Tracked {
            id,
            tracker: self.clone(),
        };
        (tracked, conn)
    }

    fn remove(&self, id: u64) {
        let empty = self.conns.lock().map_or(true, |mut c| {
            c.remove(&id);
            c.is_empty()
        });
        if empty {
            self.empty.notify_waiters();
        }
    }

    /// Idle connections not yet asked to close, idlest first.
    pub(crate) fn idle(&self) -> Vec<Arc<Conn>> {
        let mut idle: Vec<Arc<Conn>> = self.conns.lock().map_or(Vec::new(), |c| {
            c.values()
                .filter(|c| {
                    c.in_flight.load(Ordering::Acquire) == 0 && !c.closing.load(Ordering::Acquire)
                })
                .cloned()
                .collect()
        });
        idle.sort_by_key(|c| c.last_active.load(Ordering::Relaxed));
        idle
    }

    pub(crate) fn close_all(&self) {
        if let Ok(conns) = self.conns.lock() {
            for c in conns.values() {
                c.close();
            }
        }
    }
}

/// A connection's place in the tracker, given up when dropped: when its
/// serving ends, or when it is dropped unserved (it could not be handed to
/// a thread), so that no path can leave it counted.
pub(crate) struct Tracked {
    id: u64,
    pub(crate) tracker: Arc<Tracker>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.tracker.remove(self.id);
    }
}

/// Closes connections that have been out of a request for `timeout` (the
/// header timeout or the idle timeout, whichever is shorter): never sent
/// their headers, sent only part of them, or sat idle between requests. A
/// connection still writing a response's body is not idle. Looks four
/// times per timeout, at least once a second, so a connection goes at most
/// two looks late (half the timeout, 2 s at most); one that a graceful
/// close did not end by the next look (it is waiting for the rest of a
/// request's headers) is dropped.
pub(crate) async fn reap_idle(tracker: std::sync::Weak<Tracker>, timeout: Duration) {
    let every = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let timeout = timeout.as_millis() as u64;
    loop {
        tick.tick().await;
        let Some(tracker) = tracker.upgrade() else {
            return;
        };
        let now = tracker.now();
        let conns: Vec<Arc<Conn>> = tracker
            .conns
            .lock()
            .map_or(Vec::new(), |c| c.values().cloned().collect());
        for conn in conns {
            if conn.wrote.swap(false, Ordering::Relaxed) {
                conn.last_active.store(now, Ordering::Relaxed);
                continue;
            }
            let idle_for = now.saturating_sub(conn.last_active.load(Ordering::Relaxed));
            if conn.in_flight.load(Ordering::Acquire) > 0 || idle_for < timeout {
                continue;
            }
            if conn.closing.load(Ordering::Acquire) {
                conn.abort.notify_one();
            } else {
                conn.close();
            }
        }
    }
}
