//! The accept loop: HTTP/1.1 with Title-Case header names (Python's SDK reads
//! headers from a plain dict by their exact spelling), limits on slow and
//! idle clients, and a graceful stop.
//!
//! Every connection is tracked with whether it is serving a request and
//! when it last did. A connection that sends nothing within the header
//! timeout, or sits idle past the idle timeout, is closed: both by the
//! reaper, which looks at every connection a few times per timeout. (Hyper
//! can time the headers itself, but it arms a timer for every request: a
//! twentieth of a cached download's instructions. Its timeout, like ours,
//! ran from the end of the previous response, so an idle keep-alive
//! connection was already closed at the header timeout.) At the connection
//! cap, a new connection closes the idlest idle one; when every connection
//! is busy, the new one is refused. A request body must arrive within the
//! body timeout (see `router`).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::http::{Request, Response};
use futures::future::Either;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::front::{Answer, ApiBody, FromFile};
use crate::sendfile::{self, Region};
use crate::Api;

/// The client's address, on every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// How long in-flight requests get to finish once a stop is asked for.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What slow and idle clients may hold.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// To send a request's headers, from the first byte (or from the end of
    /// the previous response).
    pub header_timeout: Duration,
    /// Between requests on a keep-alive connection.
    pub idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// One connection's state, shared with its task.
struct Conn {
    in_flight: AtomicUsize,
    /// Milliseconds since the tracker started, of the last request's start
    /// or end.
    last_active: AtomicU64,
    /// Asked to close: no longer counted against the cap, nor chosen again.
    closing: AtomicBool,
    close: Notify,
    /// Wrote since the reaper last looked: a response's body is still
    /// going out, so the connection is not idle.
    wrote: AtomicBool,
    /// Dropped at once: asked to close, and still silent a tick later (it
    /// sent part of a request's headers, which a graceful close waits for).
    abort: Notify,
    /// The last answer's body, when it is sent from its file (`sendfile`);
    /// `has_region` spares the lock when there is none.
    region: Mutex<Option<Region>>,
    has_region: AtomicBool,
}

impl Conn {
    fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.close.notify_one();
    }

    /// What the next writes may send from a file (None: nothing).
    fn set_region(&self, region: Option<Region>) {
        if region.is_none() && !self.has_region.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut slot) = self.region.lock() {
            self.has_region.store(region.is_some(), Ordering::Relaxed);
            *slot = region;
        }
    }
}

/// A connection's socket, noting that it wrote (for the reaper).
struct Watched {
    io: TokioIo<tokio::net::TcpStream>,
    conn: Arc<Conn>,
}

impl hyper::rt::Read for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.conn.wrote.store(true, Ordering::Relaxed);
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.conn.wrote.store(true, Ordering::Relaxed);
        if self.conn.has_region.load(Ordering::Relaxed) {
            let this = &*self;
            if let Ok(region) = this.conn.region.lock() {
                if let Some(region) = region.as_ref() {
                    if let Some(done) = sendfile::poll_write(region, this.io.inner(), cx, bufs) {
                        return done;
                    }
                }
            }
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

struct Tracker {
    started: Instant,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    empty: Notify,
}

impl Tracker {
    fn new() -> Tracker {
        Tracker {
            started: Instant::now(),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            empty: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn len(&self) -> usize {
        self.conns.lock().map_or(0, |c| c.len())
    }

    /// Connections not asked to close.
    fn open(&self) -> usize {
        self.conns.lock().map_or(0, |c| {
            c.values()
                .filter(|c| !c.closing.load(Ordering::Acquire))
                .count()
        })
    }

    fn add(&self) -> (u64, Arc<Conn>) {
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
        (id, conn)
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
    fn idle(&self) -> Vec<Arc<Conn>> {
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

    fn close_all(&self) {
        if let Ok(conns) = self.conns.lock() {
            for c in conns.values() {
                c.close();
            }
        }
    }
}

/// The API as one connection sees it: its peer, and its requests in
/// flight counted. A request answered at once (the front's fast path) is
/// never in flight.
struct Counted {
    api: Api,
    peer: SocketAddr,
    conn: Arc<Conn>,
    tracker: Arc<Tracker>,
}

impl hyper::service::Service<Request<Incoming>> for Counted {
    type Response = Response<ApiBody>;
    type Error = Infallible;
    type Future =
        Either<Answer, Pin<Box<dyn Future<Output = Result<Response<ApiBody>, Infallible>> + Send>>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        match self.api.call(req, self.peer) {
            // Its answer is written at once, which the reaper sees
            // (`Conn::wrote`): no clock read here.
            Answer::Ready(mut res) => {
                let region = res.as_mut().and_then(|res| {
                    let file = res.extensions_mut().remove::<FromFile>()?;
                    match res.body() {
                        ApiBody::Kept(Some(bytes)) => Region::open(bytes.clone(), &file.0),
                        _ => None,
                    }
                });
                self.conn.set_region(region);
                Either::Left(Answer::Ready(res))
            }
            routed => {
                self.conn.set_region(None);
                self.conn
                    .last_active
                    .store(self.tracker.now(), Ordering::Relaxed);
                self.conn.in_flight.fetch_add(1, Ordering::AcqRel);
                let conn = self.conn.clone();
                let tracker = self.tracker.clone();
                Either::Right(Box::pin(async move {
                    let res = routed.await;
                    conn.last_active.store(tracker.now(), Ordering::Relaxed);
                    conn.in_flight.fetch_sub(1, Ordering::AcqRel);
                    res
                }))
            }
        }
    }
}

/// Serves `api` on `listener` with the default limits until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    api: Api,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, api, shutdown, ConnLimits::default()).await
}

/// Serves `api` on `listener` until `shutdown` resolves, then stops
/// accepting, lets in-flight requests finish, and returns.
pub async fn serve_with(
    listener: TcpListener,
    api: Api,
    shutdown: impl Future<Output = ()>,
    limits: ConnLimits,
) -> std::io::Result<()> {
    let tracker = Arc::new(Tracker::new());
    let mut http = http1::Builder::new();
    http.title_case_headers(true)
        // The reaper times the headers (see the head of this file).
        .header_read_timeout(None)
        // Header values up to this size reach the handlers (which answer
        // with Feishu's errors); beyond it hyper answers 431 itself.
        .max_buf_size(1024 * 1024);
    tokio::spawn(reap_idle(
        Arc::downgrade(&tracker),
        limits.header_timeout.min(limits.idle_timeout),
    ));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tracker.open() >= limits.max_connections {
                    match tracker.idle().first() {
                        Some(idlest) => idlest.close(),
                        None => {
                            tracing::warn!(%peer, max = limits.max_connections, "every connection is busy: refused one");
                            drop(stream);
                            continue;
                        }
                    }
                }
                let _ = stream.set_nodelay(true);
                let (id, conn) = tracker.add();
                let service = Counted {
                    api: api.clone(),
                    peer,
                    conn: conn.clone(),
                    tracker: tracker.clone(),
                };
                let io = Watched {
                    io: TokioIo::new(stream),
                    conn: conn.clone(),
                };
                let connection = http.serve_connection(io, service);
                let tracker = tracker.clone();
                tokio::spawn(async move {
                    tokio::pin!(connection);
                    let mut closing = false;
                    loop {
                        tokio::select! {
                            res = connection.as_mut() => {
                                if let Err(e) = res {
                                    tracing::debug!(error = %e, "connection ended with an error");
                                }
                                break;
                            }
                            _ = conn.close.notified(), if !closing => {
                                // Finishes a request in flight, then closes.
                                connection.as_mut().graceful_shutdown();
                                closing = true;
                            }
                            _ = conn.abort.notified() => break,
                        }
                    }
                    tracker.remove(id);
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let drained = async {
        loop {
            let empty = tracker.empty.notified();
            if tracker.len() == 0 {
                return;
            }
            tracker.close_all();
            tokio::select! {
                _ = empty => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    };
    tokio::select! {
        _ = drained => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("stopped waiting for open connections"),
    }
    Ok(())
}

/// Closes connections that have been out of a request for `timeout` (the
/// header timeout or the idle timeout, whichever is shorter): never sent
/// their headers, sent only part of them, or sat idle between requests. A
/// connection still writing a response's body is not idle. Looks four
/// times per timeout, at least once a second, so a connection goes at most
/// two looks late (half the timeout, 2 s at most); one that a graceful
/// close did not end by the next look (it is waiting for the rest of a
/// request's headers) is dropped.
async fn reap_idle(tracker: std::sync::Weak<Tracker>, timeout: Duration) {
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
