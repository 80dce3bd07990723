//! What downloads have already decided, kept in memory within a byte budget,
//! so that a repeated download costs a token check and a hash lookup.
//!
//! The rules a cache must not weaken:
//! - every request's token signature and expiry are still checked
//!   (`Presented::read`), and its issue time against the app's revocation
//!   time that the entry carries;
//! - an entry is keyed by the exact app, helpdesk credential and query that
//!   earned it, so other credentials never reach it (they take the full path
//!   and get the answer a missing object gets); the fast path also keeps,
//!   under the exact token, credential and query a request presented, the
//!   same decision with the token's claims, whose expiry and revocation it
//!   checks on every request as the token check would;
//! - only successful answers are kept;
//! - every entry carries the store's change counter as it was before the
//!   lookup that made it; the watcher (`watch`) polls the counter, which
//!   every delete, revocation and key rotation moves, and an entry of an
//!   older generation is never served; an admin command that moved it
//!   tells the server at once (`helpdesk_store::changes`) and waits until it
//!   has read it. So a change made by any process is seen within one poll
//!   (an admin command's before it returns), and while the database cannot
//!   be asked, nothing is served from the cache.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use bytes::Bytes;
use futures::TryStreamExt;
use helpdesk_store::{BlobStore, StoredImage};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::tokens::Verified;

/// How often the change counter is read.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// The generation while the counter cannot be read: matches no entry.
const UNKNOWN: i64 = i64::MIN;
/// What an entry costs beyond its key and bytes (its headers, the map).
const ENTRY_OVERHEAD: u64 = 512;

/// A download's decision and what answering it needs (made by
/// `download::decided`).
pub struct Decided {
    /// Tokens of the app issued before this second are refused.
    pub tokens_not_before: i64,
    pub image: StoredImage,
    pub etag: HeaderValue,
    /// A 200's headers, written once: each answer clones them.
    pub ok_headers: HeaderMap,
    /// A 304's.
    pub not_modified_headers: HeaderMap,
    /// The image itself, when it is small enough to keep.
    pub bytes: Option<Bytes>,
    /// The file that holds those bytes, when it is large enough that
    /// sending it from there beats copying it (see `sendfile`).
    pub file: Option<Arc<Path>>,
}

#[derive(Clone)]
struct Entry {
    generation: i64,
    decided: Arc<Decided>,
    /// On an entry keyed by what a request presented (`presented_key_into`):
    /// the claims of its token, checked on every request. The image's
    /// bytes are weighed once, under the decision's own key.
    presented: Option<Verified>,
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<Vec<u8>, Entry> for ByBytes {
    fn weight(&self, key: &Vec<u8>, entry: &Entry) -> u64 {
        let bytes = match entry.presented {
            Some(_) => 0,
            None => entry.decided.bytes.as_ref().map_or(0, |b| b.len() as u64),
        };
        key.len() as u64 + bytes + ENTRY_OVERHEAD
    }
}

pub struct DownloadCache {
    /// None when the budget is 0.
    entries: Option<Cache<Vec<u8>, Entry, ByBytes>>,
    /// Images up to this size are kept whole.
    max_image: u64,
    /// Whether a large kept image notes its local file (`sendfile`).
    from_files: bool,
    generation: AtomicI64,
}

impl DownloadCache {
    /// A cache of `budget_bytes` (0: none); `from_files`: large images are
    /// sent from their local file where there is one (`sendfile`).
    pub fn new(budget_bytes: u64, from_files: bool) -> DownloadCache {
        let entries = (budget_bytes > 0).then(|| {
            let items = (budget_bytes / 16_384).clamp(16, 1 << 20) as usize;
            Cache::with_weighter(items, budget_bytes, ByBytes)
        });
        DownloadCache {
            entries,
            // One image may take an eighth of the budget, and no more than
            // the largest upload Feishu allows.
            max_image: (budget_bytes / 8).min(10 * 1024 * 1024),
            from_files,
            generation: AtomicI64::new(UNKNOWN),
        }
    }

    /// The key of a download: the app (from a verified token), the helpdesk
    /// credential header's bytes and the query, exactly as presented.
    pub fn key(app_id: &str, credential: &[u8], query: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(app_id.len() + credential.len() + query.len() + 2);
        Self::key_into(&mut key, app_id, credential, query);
        key
    }

    /// The same key, written over `key` (a buffer reused by the fast path).
    pub fn key_into(key: &mut Vec<u8>, app_id: &str, credential: &[u8], query: &str) {
        key.clear();
        key.extend_from_slice(app_id.as_bytes());
        key.push(b'\n');
        key.extend_from_slice(credential);
        key.push(b'\n');
        key.extend_from_slice(query.as_bytes());
    }

    /// The decision for `key`, if one of the current generation is kept and
    /// a token issued at `issued_at` is not revoked by it.
    pub fn get(&self, key: &[u8], issued_at: i64) -> Option<Arc<Decided>> {
        let found = self.peek(key, issued_at).map(|(_, decided)| decided);
        crate::metrics::cache(found.is_some());
        found
    }

    /// As `get`, uncounted, with the decision's generation: for the
    /// front's fast path, which counts the hits it answers and leaves the
    /// rest to the handler's `get`.
    pub fn peek(&self, key: &[u8], issued_at: i64) -> Option<(i64, Arc<Decided>)> {
        let entries = self.entries.as_ref()?;
        entries.get(key).and_then(|entry| {
            (entry.presented.is_none()
                && entry.generation == self.generation()
                && issued_at >= entry.decided.tokens_not_before)
                .then_some((entry.generation, entry.decided))
        })
    }

    /// The key of everything a request presented: its token, helpdesk
    /// credential and query, exactly (led by a byte no decision's key
    /// starts with).
    pub fn presented_key_into(key: &mut Vec<u8>, token: &[u8], credential: &[u8], query: &str) {
        key.clear();
        key.push(0);
        key.extend_from_slice(token);
        key.push(b'\n');
        key.extend_from_slice(credential);
        key.push(b'\n');
        key.extend_from_slice(query.as_bytes());
    }

    /// The decision and token claims remembered for a request that presented
    /// exactly `key`: one lookup instead of the token's and the decision's.
    /// Only while the token has not expired at `now`, is not revoked by the
    /// decision, and the decision is of the current generation.
    pub fn presented(&self, key: &[u8], now: i64) -> Option<(Verified, Arc<Decided>)> {
        let entry = self.entries.as_ref()?.get(key)?;
        let claims = entry.presented?;
        (entry.generation == self.generation()
            && now < claims.1.expires_at
            && claims.1.issued_at >= entry.decided.tokens_not_before)
            .then_some((claims, entry.decided))
    }

    /// Remembers under `key` (a `presented_key_into`) that `claims`'s token
    /// reached `decided`, of `generation`.
    pub fn remember_presented(
        &self,
        key: Vec<u8>,
        generation: i64,
        claims: Verified,
        decided: Arc<Decided>,
    ) {
        if let Some(entries) = &self.entries {
            if generation == self.generation() {
                entries.insert(
                    key,
                    Entry {
                        generation,
                        decided,
                        presented: Some(claims),
                    },
                );
            }
        }
    }

    /// The generation to tag a decision with: read before its lookup.
    pub fn generation(&self) -> i64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The store's change counter as this server last read it; `None`
    /// while it could not be (then nothing may be kept). Others in the
    /// process that cache what they read (the console) tag entries with it.
    pub fn known_generation(&self) -> Option<i64> {
        Some(self.generation()).filter(|g| *g != UNKNOWN)
    }

    /// Keeps a decision made from a lookup that started at `generation`,
    /// reading the image whole first when it is small enough; returns what
    /// to answer with. Concurrent misses of one key read the bytes once.
    pub async fn keep(
        &self,
        key: Vec<u8>,
        generation: i64,
        mut decided: Decided,
        blobs: &dyn BlobStore,
    ) -> helpdesk_store::Result<Arc<Decided>> {
        let Some(entries) = &self.entries else {
            return Ok(Arc::new(decided));
        };
        if generation == UNKNOWN {
            return Ok(Arc::new(decided));
        }
        let guard = match entries.get_value_or_guard_async(&key).await {
            Ok(entry) if entry.generation == generation && entry.presented.is_none() => {
                return Ok(entry.decided)
            }
            Ok(_) => None,
            Err(guard) => Some(guard),
        };
        if decided.image.size <= self.max_image {
            let mut whole = Vec::with_capacity(decided.image.size as usize);
            let mut stream = blobs.get(&decided.image.sha256).await?;
            while let Some(chunk) = stream.try_next().await? {
                whole.extend_from_slice(&chunk);
            }
            decided.bytes = Some(Bytes::from(whole));
            if self.from_files && decided.image.size >= crate::sendfile::FROM_BYTES {
                decided.file = blobs.local_path(&decided.image.sha256).map(Arc::from);
            }
        }
        let decided = Arc::new(decided);
        let entry = Entry {
            generation,
            decided: decided.clone(),
            presented: None,
        };
        // A change seen since the lookup began makes the decision suspect:
        // answer with it (it was true when read), keep nothing.
        if generation == self.generation() {
            match guard {
                Some(guard) => {
                    let _ = guard.insert(entry);
                }
                None => entries.insert(key, entry),
            }
        }
        Ok(decided)
    }

    /// Forgets one decision (its bytes went missing from storage).
    pub fn forget(&self, key: &[u8]) {
        if let Some(entries) = &self.entries {
            entries.remove(key);
        }
    }

    /// Sets the generation the store reports (`None`: it could not be read).
    /// Returns true when it moved.
    pub fn observe(&self, generation: Option<i64>) -> bool {
        let now = generation.unwrap_or(UNKNOWN);
        let before = self.generation.swap(now, Ordering::AcqRel);
        if before != now {
            if let Some(entries) = &self.entries {
                entries.clear();
            }
        }
        before != now
    }

    /// Bytes held now, for the tests and the metrics.
    pub fn weight(&self) -> u64 {
        self.entries.as_ref().map_or(0, |e| e.weight())
    }
}
