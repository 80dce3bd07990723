use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Error;

/// How long before expiry a token is replaced; at most half its lifetime.
const REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);

struct Cached {
    token: String,
    refresh_at: Instant,
}

/// The token itself never shows in `Debug`.
impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("token", &"<redacted>")
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

/// The tenant token, shared by every clone of a client. Readers take the
/// cached token without waiting; a refresh holds `refreshing`, so that one
/// fetch serves every caller that found the token stale.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    current: Mutex<Option<Cached>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl TokenCache {
    fn fresh(&self) -> Option<String> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }

    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<String, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, Duration), Error>>,
    {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed it already.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let (token, lifetime) = fetch().await?;
        let ahead = REFRESH_AHEAD.min(lifetime / 2);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime - ahead,
        });
        Ok(token)
    }

    /// Drops `token` if it is still the cached one (a newer one stays).
    pub(crate) fn invalidate(&self, token: &str) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_some_and(|c| c.token == token) {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn one_fetch_serves_every_waiting_caller() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(("t-1".to_string(), Duration::from_secs(7200)))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), "t-1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn refreshed_ahead_of_expiry_and_after_invalidation() {
        let cache = TokenCache::default();
        let short = || async { Ok(("t-short".to_string(), Duration::from_millis(40))) };
        assert_eq!(cache.get(short).await.unwrap(), "t-short");
        // Half of a 40 ms lifetime later it is due for replacement.
        tokio::time::sleep(Duration::from_millis(25)).await;
        let long = || async { Ok(("t-long".to_string(), Duration::from_secs(7200))) };
        assert_eq!(cache.get(long).await.unwrap(), "t-long");
        cache.invalidate("t-other");
        assert_eq!(
            cache.get(|| async { unreachable!() }).await.unwrap(),
            "t-long"
        );
        cache.invalidate("t-long");
        let next = || async { Ok(("t-next".to_string(), Duration::from_secs(7200))) };
        assert_eq!(cache.get(next).await.unwrap(), "t-next");
    }
}
