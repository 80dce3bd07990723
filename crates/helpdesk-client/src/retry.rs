use std::time::Duration;

use rand::Rng;

/// When and how often a failed call is tried again: on HTTP 5xx, on
/// 99991400 (rate limited) and on connection errors; never on another 4xx.
/// Delays grow exponentially with full jitter, except where the server says
/// how long to wait (`Retry-After`, or Feishu's `x-ogw-ratelimit-reset`):
/// then the client waits that long.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries after the first; 0 turns retries off.
    pub max_retries: u32,
    /// Delay before the first retry (before jitter).
    pub base_delay: Duration,
    /// Largest delay between two tries that the client chooses itself.
    pub max_delay: Duration,
    /// Longest wait a server may ask for; asked to wait longer, the client
    /// returns the error at once rather than sleep.
    pub max_server_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_server_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The delay before retry number `attempt` (1-based): a random duration
    /// up to `base * 2^(attempt-1)`, capped at `max_delay`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let millis = cap.as_millis() as u64;
        Duration::from_millis(if millis == 0 {
            0
        } else {
            rand::thread_rng().gen_range(0..=millis)
        })
    }
}

/// How long the server asks a client to wait before trying again: whole
/// seconds in `Retry-After` or `x-ogw-ratelimit-reset` (the first of them
/// present).
pub(crate) fn server_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    ["retry-after", helpdesk_core::wire::header::RATELIMIT_RESET]
        .iter()
        .find_map(|name| {
            let seconds: f64 = headers.get(*name)?.to_str().ok()?.trim().parse().ok()?;
            (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
        })
}

/// Whether a call may be repeated after an answer that may have changed
/// something on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotence {
    /// Repeating it is harmless: retried on 5xx, 99991400 and any transport error.
    Safe,
    /// Repeating it could do it twice (a message posted twice): retried only
    /// when the server provably did nothing (99991400, or no connection made).
    Unsafe,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            assert!(p.delay(1) <= Duration::from_millis(100));
            assert!(p.delay(2) <= Duration::from_millis(200));
            assert!(p.delay(9) <= Duration::from_millis(350));
        }
    }

    #[test]
    fn the_server_s_wait_is_read_from_either_header() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        assert_eq!(server_wait(&h), None);
        h.insert("x-ogw-ratelimit-reset", HeaderValue::from_static("2"));
        assert_eq!(server_wait(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", HeaderValue::from_static("1"));
        assert_eq!(server_wait(&h), Some(Duration::from_secs(1)));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(server_wait(&h), Some(Duration::from_secs(2)));
    }
}
