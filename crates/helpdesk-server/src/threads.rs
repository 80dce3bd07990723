//! The API's threads: one single-threaded runtime per core, each serving
//! the connections it is handed, as nginx's worker processes do.
//!
//! On a shared work-stealing runtime every burst of readiness wakes a
//! second worker to look for work, and when the other core is busy (a
//! thumbnail rendering, any background process) that wake-up waits for it:
//! on this project's two-core machine, under cold console thumbnails, the
//! shared runtime served 48,696 req/s and these threads 56,287 (one
//! interleaved run; nginx about 52,000 beside either). A connection here stays on
//! the thread that got it, whose runtime waits in its own epoll; nothing
//! wakes another thread to serve it. The accept loop stays where it was,
//! and hands each connection to the thread serving the fewest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

/// What a thread is handed: run inside its runtime, it spawns there.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

struct Thread {
    jobs: mpsc::UnboundedSender<Job>,
    /// Connections it serves now.
    serving: Arc<AtomicUsize>,
}

pub(crate) struct Threads {
    threads: Vec<Thread>,
}

/// A connection counted against its thread until dropped.
pub(crate) struct Serving(Arc<AtomicUsize>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Threads {
    /// `n` threads (at least one), named `api-0`, `api-1`, ... Each stops
    /// once `Threads` is dropped and the jobs it was handed have run; the
    /// connections it still serves then are dropped with its runtime.
    pub(crate) fn start(n: usize) -> std::io::Result<Threads> {
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (jobs, mut handed) = mpsc::unbounded_channel::<Job>();
            std::thread::Builder::new()
                .name(format!("api-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some(job) = handed.recv().await {
                            job();
                        }
                    })
                })?;
            threads.push(Thread {
                jobs,
                serving: Arc::new(AtomicUsize::new(0)),
            });
        }
        Ok(Threads { threads })
    }

    /// Runs `job` on the thread serving the fewest connections, with that
    /// thread's count raised until the `Serving` it is given is dropped.
    /// Err: that thread is gone (its runtime panicked).
    pub(crate) fn hand(&self, job: impl FnOnce(Serving) + Send + 'static) -> Result<(), ()> {
        let Some(thread) = self
            .threads
            .iter()
            .min_by_key(|t| t.serving.load(Ordering::Relaxed))
        else {
            return Err(());
        };
        thread.serving.fetch_add(1, Ordering::Relaxed);
        let serving = Serving(thread.serving.clone());
        thread
            .jobs
            .send(Box::new(move || job(serving)))
            .map_err(|_| ())
    }
}
