//! Thumbnails of stored images, fast and safe (helpdesk-media's `thumb`
//! does the decoding; this is how the console serves it).
//!
//! - Rendering is CPU work: it runs on `--thumb-workers` threads of its
//!   own, each under SCHED_IDLE (Linux), so thumbnails cannot take the
//!   cores the API serves from: a render runs on what the API leaves, and
//!   a woken API thread takes the core from it at once. A render thread
//!   reads the original itself when the store keeps local files.
//! - One render per key at a time: concurrent requests for a cold key wait
//!   for the first (the cache's guard), so twenty at once cost one decode.
//! - Kept by (SHA-256, width, [`VERSION`]) in an LRU capped in bytes
//!   (`--thumb-cache-bytes`); a strong ETag of that key answers 304.
//! - A failure (an unreadable header, over the limits, a broken file, a
//!   missing object) is the placeholder image, never an error page: a
//!   gallery shows a grey square where a picture could not be made. The
//!   placeholder is cached like a thumbnail, so a bomb is refused once.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::pages::Page;
use crate::Console;

use bytes::Bytes;
use futures::TryStreamExt;
pub use helpdesk_media::thumb::JPEG_DECODER;
use helpdesk_media::thumb::{self, Dimensions, Thumb, Width};
use helpdesk_store::BlobStore;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use tokio::sync::Semaphore;

/// Bumped when rendering changes, so that ETags and cached entries of the
/// old output stop matching.
pub const VERSION: u32 = 1;

/// `helpdesk_console_thumbnails_total{result}`: rendered, placeholder (a
/// failure), cached.
pub const METRIC: &str = "helpdesk_console_thumbnails_total";

/// Lists the family at 0 (call once a recorder is installed).
pub fn describe_metrics() {
    metrics::describe_counter!(
        METRIC,
        "Console thumbnails served, by result (rendered, placeholder: the image could not be made, cached)"
    );
    for result in ["rendered", "placeholder", "cached"] {
        metrics::counter!(METRIC, "result" => result).absolute(0);
    }
}

/// How thumbnails are made and kept.
#[derive(Debug, Clone)]
pub struct ThumbConfig {
    /// Renders at a time.
    pub workers: usize,
    /// Memory the cache of thumbnails may hold.
    pub cache_bytes: u64,
}

impl Default for ThumbConfig {
    fn default() -> Self {
        ThumbConfig {
            workers: default_workers(),
            cache_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Half the cores, at least one.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| (n.get() / 2).max(1))
        .unwrap_or(1)
}

/// A thumbnail served: the image, and whether it is the placeholder.
#[derive(Clone)]
pub struct Served {
    pub thumb: Arc<Thumb>,
    pub placeholder: bool,
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<(String, Width), Served> for ByBytes {
    fn weight(&self, key: &(String, Width), value: &Served) -> u64 {
        (key.0.len() + value.thumb.bytes.len() + 64) as u64
    }
}

/// The render threads: each takes the next job, at a lower CPU priority
/// than the rest of the process.
struct Renderers {
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// The nice value a render thread falls back to where SCHED_IDLE is
/// refused.
const RENDER_NICE: i32 = 19;

impl Renderers {
    fn start(workers: usize) -> Renderers {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..workers.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("thumbnails-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only to take a job, not to run it.
                        let next = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match next {
                            Ok(job) => job(),
                            Err(_) => return, // the console is gone
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "console: cannot start a thumbnail thread");
            }
        }
        Renderers { jobs }
    }

    /// Runs `work` on a render thread; `None` if it could not (no thread,
    /// or it panicked).
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = done.send(out);
        });
        self.jobs.send(job).ok()?;
        result.await.ok()?.ok()
    }
}

/// This thread (and the threads it starts, which inherit it) under
/// SCHED_IDLE, else at nice `RENDER_NICE`. Linux keeps both per thread.
///
/// Why not a nice value alone: under EEVDF a running nice-10 thread keeps
/// the core until its slice ends, so an API thread woken by a request
/// waits behind a render; an idle-policy thread is preempted at once. On
/// this 2-core machine, under 10 clients pulling cold thumbnails, the API
/// lost 11-29% of its req/s with nice-10 renders and 2-11% with SCHED_IDLE
/// (five interleaved runs; the renders made 20-57% fewer thumbnails).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler only reads `param`, a local that outlives
    // the call; gettid and setpriority take and return plain integers. A
    // failure only leaves the priority as it was.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 {
            return;
        }
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, RENDER_NICE) != 0 {
            tracing::debug!("console: cannot lower a thumbnail thread's priority");
        }
    }
}

pub struct Thumbs {
    renderers: Renderers,
    permits: Semaphore,
    cache: Cache<(String, Width), Served, ByBytes>,
    /// Each image's header dimensions by SHA-256 (None: unreadable).
    dimensions: Cache<String, Option<Dimensions>>,
}

/// Images whose dimensions are kept (about 100 bytes each).
const DIMENSIONS_KEPT: usize = 100_000;
/// How much of an image is read to find its header's dimensions: a JPEG's
/// size comes after its EXIF and ICC segments, at most 64 KiB each.
const HEADER_READ: usize = 512 * 1024;

/// The strong ETag of a thumbnail.
pub fn etag(sha256: &str, width: Width) -> String {
    format!("\"t{VERSION}-{width}-{sha256}\"")
}

impl Thumbs {
    pub fn new(config: &ThumbConfig) -> Thumbs {
        let items = (config.cache_bytes / 8192).clamp(16, 1 << 20) as usize;
        Thumbs {
            renderers: Renderers::start(config.workers),
            permits: Semaphore::new(config.workers.max(1)),
            cache: Cache::with_weighter(items, config.cache_bytes.max(1), ByBytes),
            dimensions: Cache::new(DIMENSIONS_KEPT),
        }
    }

    /// The dimensions the blob `sha256`'s header states, read once (from its
    /// first bytes, never decoding); None when it cannot be read.
    pub async fn dimensions(&self, blobs: &dyn BlobStore, sha256: &str) -> Option<Dimensions> {
        let guard = match self.dimensions.get_value_or_guard_async(sha256).await {
            Ok(found) => return found,
            Err(guard) => guard,
        };
        let found = match header_dimensions(blobs, sha256).await {
            Ok(found) => found,
            Err(e) => {
                // Not kept: the store may answer next time.
                tracing::warn!(error = %e, sha256, "console: cannot read an image's header");
                return None;
            }
        };
        let _ = guard.insert(found);
        found
    }

    /// The thumbnail of the blob `sha256` at `width`, made once.
    pub async fn get(&self, blobs: &dyn BlobStore, sha256: &str, width: Width) -> Served {
        let key = (sha256.to_string(), width);
        let guard = match self.cache.get_value_or_guard_async(&key).await {
            Ok(served) => {
                metrics::counter!(METRIC, "result" => "cached").increment(1);
                return served;
            }
            Err(guard) => guard,
        };
        let served = self.render(blobs, sha256, width).await;
        metrics::counter!(METRIC, "result" => if served.placeholder { "placeholder" } else { "rendered" })
            .increment(1);
        let _ = guard.insert(served.clone());
        served
    }

    async fn render(&self, blobs: &dyn BlobStore, sha256: &str, width: Width) -> Served {
        let placeholder = || Served {
            thumb: Arc::new(thumb::placeholder(width)),
            placeholder: true,
        };
        let unreadable = |e: &dyn std::fmt::Display| {
            tracing::warn!(error = %e, sha256, "console: cannot read an image for its thumbnail");
            placeholder()
        };
        // A local file is read on the render thread too, so that every
        // step of a cold thumbnail but the HTTP runs at the render's
        // priority: read here, through the stream's chunks, a 12 MP photo
        // took 0.53 ms of the runtime's CPU per thumbnail, against 0.15 ms
        // (bench-console). Other stores are read here, as the network decides.
        let source = match blobs.local_path(sha256) {
            Some(path) => Source::File(path),
            None => match crate::read_blob(blobs, sha256).await {
                Ok(b) => Source::Bytes(b),
                Err(e) => return unreadable(&e),
            },
        };
        let Ok(_permit) = self.permits.acquire().await else {
            return placeholder();
        };
        let rendered = self
            .renderers
            .run(move || {
                let bytes = match source {
                    Source::File(path) => Bytes::from(std::fs::read(path)?),
                    Source::Bytes(bytes) => bytes,
                };
                Ok::<_, std::io::Error>(thumb::render(&bytes, width))
            })
            .await;
        match rendered {
            Some(Ok(Ok(thumb))) => Served {
                thumb: Arc::new(thumb),
                placeholder: false,
            },
            Some(Ok(Err(e))) => {
                tracing::info!(error = %e, sha256, %width, "console: thumbnail refused, placeholder served");
                placeholder()
            }
            Some(Err(e)) => unreadable(&e),
            None => {
                tracing::error!(sha256, "console: thumbnail render failed");
                placeholder()
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ThumbQuery {
    w: Option<String>,
}

impl ThumbQuery {
    /// The width asked for (200 when none), or 400 saying which there are.
    // Its error is a page's answer, as every handler's `Page` is.
    #[allow(clippy::result_large_err)]
    pub fn width(&self) -> Result<helpdesk_media::thumb::Width, Response> {
        self.w
            .as_deref()
            .unwrap_or("200")
            .parse()
            .map_err(|_| crate::guard::plain(StatusCode::BAD_REQUEST, "w is 200, 400 or 1600"))
    }
}

/// The thumbnail of the bytes `sha256` names at `width` (or the
/// placeholder), or 304 when `headers` already hold its ETag. The caller
/// has checked that the session may see them.
pub async fn answer(
    console: &Console,
    sha256: &str,
    width: helpdesk_media::thumb::Width,
    headers: &axum::http::HeaderMap,
) -> Page {
    let etag = crate::thumbs::etag(sha256, width);
    let cache = HeaderValue::from_static("private, max-age=86400");
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == etag || t.trim() == "*");
    let Ok(etag_value) = HeaderValue::from_str(&etag) else {
        return Err(crate::pages::not_found().await);
    };
    if matches {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, etag_value);
        res.headers_mut().insert(header::CACHE_CONTROL, cache);
        return Ok(res);
    }
    let served = console
        .thumbs
        .get(console.stores.blobs.as_ref(), sha256, width)
        .await;
    let mut res = Response::new(Body::from(served.thumb.bytes.clone()));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(served.thumb.content_type),
    );
    if served.placeholder {
        // Not the picture: not to be kept as if it were.
        h.insert("x-thumbnail", HeaderValue::from_static("placeholder"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else {
        h.insert(header::ETAG, etag_value);
        h.insert(header::CACHE_CONTROL, cache);
    }
    Ok(res)
}

/// The dimensions from the blob's first bytes, read until its header gives
/// them or [`HEADER_READ`] bytes did not.
async fn header_dimensions(
    blobs: &dyn BlobStore,
    sha256: &str,
) -> helpdesk_store::Result<Option<Dimensions>> {
    let mut stream = blobs.get(sha256).await?;
    let mut head = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        head.extend_from_slice(&chunk);
        if let Ok(found) = thumb::probe(&head) {
            return Ok(Some(found));
        }
        if head.len() >= HEADER_READ {
            break;
        }
    }
    Ok(thumb::probe(&head).ok())
}

/// Where a render takes an image's bytes from.
enum Source {
    /// The store's own file, read by the render thread.
    File(std::path::PathBuf),
    /// Read already, from a store with no local files.
    Bytes(Bytes),
}
