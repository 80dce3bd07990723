//! Rate limits as Feishu's gateway applies them: beyond the limit, HTTP 429
//! with code 99991400 and the `x-ogw-ratelimit-limit` / `-reset` headers.
//!
//! - Per app, on every API call (`--rate-limit-per-app`, off by default so
//!   that emulation and benchmarks run unthrottled).
//! - Per client IP, on the token endpoints (`--token-rate-limit`, on by
//!   default): the one place an unauthenticated caller makes the server
//!   hash and look up a secret.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use helpdesk_core::ApiError;

/// A keyed limit of `per_second` requests, in a burst of as many.
struct Limit<K: std::hash::Hash + Eq + Clone> {
    per_second: u32,
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Limit<K> {
    fn new(per_second: u32) -> Option<Limit<K>> {
        let n = NonZeroU32::new(per_second)?;
        Some(Limit {
            per_second,
            limiter: RateLimiter::keyed(Quota::per_second(n)),
        })
    }

    fn check(&self, key: &K) -> Result<(), ApiError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                limit: self.per_second,
                reset_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

pub struct RateLimits {
    per_app: Option<Limit<String>>,
    tokens_per_ip: Option<Limit<IpAddr>>,
}

impl RateLimits {
    /// 0 turns a limit off.
    pub fn new(per_app: u32, tokens_per_ip: u32) -> RateLimits {
        RateLimits {
            per_app: Limit::new(per_app),
            tokens_per_ip: Limit::new(tokens_per_ip),
        }
    }

    /// One API call of `app_id`.
    pub fn check_app(&self, app_id: &str) -> Result<(), ApiError> {
        match &self.per_app {
            Some(limit) => limit.check(&app_id.to_string()),
            None => Ok(()),
        }
    }

    /// One token request from `ip`.
    pub fn check_token(&self, ip: IpAddr) -> Result<(), ApiError> {
        match &self.tokens_per_ip {
            Some(limit) => limit.check(&ip),
            None => Ok(()),
        }
    }

    /// Forgets keys whose bucket is full again, so that the maps stay as
    /// small as the set of recent callers.
    pub fn forget_idle(&self) {
        if let Some(l) = &self.per_app {
            l.limiter.retain_recent();
        }
        if let Some(l) = &self.tokens_per_ip {
            l.limiter.retain_recent();
        }
    }
}
