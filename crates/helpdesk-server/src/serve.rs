//! The accept loop: HTTP/1.1 with Title-Case header names (Python's SDK reads
//! headers from a plain dict by their exact spelling), limits on slow and
//! idle clients, and a graceful stop.
//!
//! Every connection is tracked (see `tracker`), and the silent and idle
//! ones are closed by its reaper. At the connection cap, a new connection
//! closes the idlest idle one; when every connection is busy, the new one
//! is refused. A request body must arrive within the body timeout (see
//! `router`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::http::{Request, Response};
use futures::future::Either;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::front::{Answer, ApiBody, FromFile};
use crate::sendfile::{self, Region};
use crate::threads::Threads;
use crate::tracker::{reap_idle, Conn, Tracked, Tracker};
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
/// accepting, lets in-flight requests finish, and returns. Connections are
/// served on the runtime this runs on.
pub async fn serve_with(
    listener: TcpListener,
    api: Api,
    shutdown: impl Future<Output = ()>,
    limits: ConnLimits,
) -> std::io::Result<()> {
    accept_until(listener, api, shutdown, limits, None).await
}

/// As [`serve_with`], but connections are served on `threads` threads of
/// their own, each with a single-threaded runtime (see `threads`); the
/// accept loop stays on this runtime.
pub async fn serve_on_threads(
    listener: TcpListener,
    api: Api,
    shutdown: impl Future<Output = ()>,
    limits: ConnLimits,
    threads: usize,
) -> std::io::Result<()> {
    let threads = Threads::start(threads)?;
    accept_until(listener, api, shutdown, limits, Some(threads)).await
}

async fn accept_until(
    listener: TcpListener,
    api: Api,
    shutdown: impl Future<Output = ()>,
    limits: ConnLimits,
    threads: Option<Threads>,
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
                let (tracked, conn) = tracker.add();
                let served = Served { http: http.clone(), api: api.clone(), peer, tracked, conn };
                let Some(threads) = &threads else {
                    tokio::spawn(served.run(stream));
                    continue;
                };
                // Out of this runtime's reactor, into the thread's.
                let stream = match stream.into_std() {
                    Ok(stream) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, %peer, "cannot hand a connection over: dropped it");
                        continue;
                    }
                };
                let handed = threads.hand(move |serving| {
                    match tokio::net::TcpStream::from_std(stream) {
                        Ok(stream) => {
                            tokio::spawn(async move {
                                served.run(stream).await;
                                drop(serving);
                            });
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, %peer, "cannot serve a connection: dropped it");
                        }
                    }
                });
                if handed.is_err() {
                    tracing::error!(%peer, "an API thread is gone: dropped a connection");
                }
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

/// One accepted connection, with what serving it needs.
struct Served {
    http: http1::Builder,
    api: Api,
    peer: SocketAddr,
    /// Off the tracker when dropped, served or not.
    tracked: Tracked,
    conn: Arc<Conn>,
}

impl Served {
    /// Serves `stream` until it closes, is asked to, or is dropped; then
    /// it is off the tracker.
    async fn run(self, stream: tokio::net::TcpStream) {
        let Served {
            http,
            api,
            peer,
            tracked,
            conn,
        } = self;
        let service = Counted {
            api,
            peer,
            conn: conn.clone(),
            tracker: tracked.tracker.clone(),
        };
        let io = Watched {
            io: TokioIo::new(stream),
            conn: conn.clone(),
        };
        let connection = http.serve_connection(io, service);
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
        drop(tracked);
    }
}
