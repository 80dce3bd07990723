//! Who may use the console: sign-in tokens and the sessions they open.
//!
//! - At start the server makes a one-time token and prints its
//!   `/login?token=...` link; the first sign-in with it spends it.
//! - `--console-token-file` holds operators' tokens, one per line, usable
//!   again and again.
//!
//! - `admin console-token create [--tenant T] [--read-only]` makes tokens
//!   kept in the database; a tenant's sees that tenant only, and revoking
//!   one ends its sessions at their next request.
//!
//! The first two see every tenant. A sign-in sets an HttpOnly, SameSite=Strict
//! cookie holding a random session id and redirects without the token, so
//! the token leaves the address bar and the history. Tokens and session
//! ids are kept as SHA-256 digests only, and compared in constant time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie that carries a session.
pub const COOKIE: &str = "helpdesk_console";

/// How long a session lasts without use.
const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);

/// What a session may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every tenant (an operator).
    All,
    /// One tenant only: anything of another answers as a missing thing.
    Tenant(String),
}

impl Scope {
    /// Whether items of `tenant_key` are visible.
    pub fn sees(&self, tenant_key: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Tenant(t) => t == tenant_key,
        }
    }
}

/// A signed-in session's rights.
#[derive(Debug, Clone)]
pub struct Principal {
    pub scope: Scope,
    pub read_only: bool,
    /// The database token that opened the session, checked on every
    /// request (None: the start-up link or an operator's token).
    pub token_id: Option<String>,
}

impl Principal {
    /// An operator: every tenant, every action.
    pub fn operator() -> Principal {
        Principal {
            scope: Scope::All,
            read_only: false,
            token_id: None,
        }
    }
}

type Digest32 = [u8; 32];

fn digest(secret: &str) -> Digest32 {
    Sha256::digest(secret.as_bytes()).into()
}

/// A random secret: 32 bytes, hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

struct Session {
    principal: Principal,
    last_used: Instant,
}

/// Sign-in tokens and open sessions.
pub struct Auth {
    /// The start-up token, until it is spent.
    once: Mutex<Option<Digest32>>,
    /// Operators' tokens (`--console-token-file`).
    operators: Vec<Digest32>,
    sessions: Mutex<HashMap<Digest32, Session>>,
}

impl Auth {
    /// With a fresh one-time token (returned, to print) and the operators'
    /// tokens.
    pub fn new(operator_tokens: &[String]) -> (Auth, String) {
        let once = random_secret();
        let auth = Auth {
            once: Mutex::new(Some(digest(&once))),
            operators: operator_tokens.iter().map(|t| digest(t)).collect(),
            sessions: Mutex::new(HashMap::new()),
        };
        (auth, once)
    }

    /// Whether `token` is the unspent start-up token (spending it) or an
    /// operator's.
    pub fn local_token(&self, token: &str) -> bool {
        let presented = digest(token);
        self.operators
            .iter()
            .any(|t| bool::from(t.ct_eq(&presented)))
            || self.spend_once(&presented)
    }

    /// Opens a session for `principal`; the new session id.
    pub fn open(&self, principal: Principal) -> Option<String> {
        let id = random_secret();
        let mut sessions = self.sessions.lock().ok()?;
        let now = Instant::now();
        sessions.retain(|_, s| now.duration_since(s.last_used) < SESSION_IDLE);
        sessions.insert(
            digest(&id),
            Session {
                principal,
                last_used: now,
            },
        );
        Some(id)
    }

    fn spend_once(&self, presented: &Digest32) -> bool {
        let Ok(mut once) = self.once.lock() else {
            return false;
        };
        match *once {
            Some(t) if bool::from(t.ct_eq(presented)) => {
                *once = None;
                true
            }
            _ => false,
        }
    }

    /// The session a cookie value names, if it is open.
    pub fn session(&self, id: &str) -> Option<Principal> {
        let mut sessions = self.sessions.lock().ok()?;
        let session = sessions.get_mut(&digest(id))?;
        let now = Instant::now();
        if now.duration_since(session.last_used) >= SESSION_IDLE {
            return None;
        }
        session.last_used = now;
        Some(session.principal.clone())
    }
}

/// The value of the session cookie in a `Cookie` header, if any.
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_up_token_signs_in_once_and_an_operator_token_always() {
        let (auth, once) = Auth::new(&["op-token".to_string()]);
        assert!(auth.local_token(&once), "the start-up token");
        assert!(!auth.local_token(&once), "spent");
        assert!(auth.local_token("op-token"));
        assert!(auth.local_token("op-token"));
        assert!(!auth.local_token("nope"));
        let session = auth.open(Principal::operator()).unwrap();
        assert!(auth.session(&session).is_some());
        assert!(auth.session("not-a-session").is_none());
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        assert_eq!(cookie_value("a=1; helpdesk_console=abc; b=2"), Some("abc"));
        assert_eq!(cookie_value("helpdesk_consoles=abc"), None);
    }
}
