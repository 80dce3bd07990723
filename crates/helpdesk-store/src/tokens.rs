//! Access tokens: signed, so that checking one costs no database read, and
//! derived from a key every process shares, so that they stay valid across
//! restarts and replicas for their whole announced lifetime.
//!
//! A token is `t-` (tenant) or `a-` (app), then base64url of
//! `app_id:issued_at:expires_at`, a dot, and base64url of the HMAC-SHA256 of
//! the kind and that payload.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Seconds a token lives.
pub const TOKEN_LIFETIME: i64 = 7200;
/// A new token every 90 minutes: as on Feishu, asking again returns the same
/// token while more than 30 minutes of it remain.
const REISSUE_EVERY: i64 = 5400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Tenant,
    App,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Tenant => "t-",
            TokenKind::App => "a-",
        }
    }
}

/// A token and the seconds it has left, as the token endpoints return them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub token: String,
    pub expire: i64,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub app_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    pub fn new(key: Vec<u8>) -> TokenSigner {
        TokenSigner { key }
    }

    fn mac(&self, kind: TokenKind, payload: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length; new_from_slice cannot fail for it.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(kind.prefix().as_bytes());
        mac.update(payload.as_bytes());
        mac
    }

    /// The token for `app_id` now. Tokens issued before `not_before` (a
    /// revocation) are refused, so a new one never starts before it.
    pub fn issue(&self, kind: TokenKind, app_id: &str, not_before: i64, now: i64) -> Issued {
        let issued_at = (now - now.rem_euclid(REISSUE_EVERY)).max(not_before);
        let expires_at = issued_at + TOKEN_LIFETIME;
        let payload = format!("{app_id}:{issued_at}:{expires_at}");
        let sig = self.mac(kind, &payload).finalize().into_bytes();
        Issued {
            token: format!(
                "{}{}.{}",
                kind.prefix(),
                URL_SAFE_NO_PAD.encode(payload),
                URL_SAFE_NO_PAD.encode(sig)
            ),
            expire: expires_at - now,
        }
    }

    /// The claims of a genuine, unexpired token of this kind.
    pub fn verify(&self, kind: TokenKind, token: &str, now: i64) -> Option<Claims> {
        let rest = token.strip_prefix(kind.prefix())?;
        let (payload_b64, sig_b64) = rest.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload_b64).ok()?).ok()?;
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).ok()?;
        self.mac(kind, &payload).verify_slice(&sig).ok()?;
        let mut parts = payload.rsplitn(3, ':');
        let expires_at: i64 = parts.next()?.parse().ok()?;
        let issued_at: i64 = parts.next()?.parse().ok()?;
        let app_id = parts.next()?.to_string();
        (now < expires_at).then_some(Claims {
            app_id,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_token_while_more_than_half_an_hour_remains() {
        let s = TokenSigner::new(b"k".to_vec());
        let t0 = 5400 * 1000;
        let a = s.issue(TokenKind::Tenant, "cli_1", 0, t0);
        assert_eq!(a.expire, 7200);
        let b = s.issue(TokenKind::Tenant, "cli_1", 0, t0 + 5399);
        assert_eq!(a.token, b.token);
        assert_eq!(b.expire, 1801);
        let c = s.issue(TokenKind::Tenant, "cli_1", 0, t0 + 5400);
        assert_ne!(a.token, c.token);
        // The old one stays valid until its own expiry.
        assert!(s.verify(TokenKind::Tenant, &a.token, t0 + 7199).is_some());
        assert!(s.verify(TokenKind::Tenant, &a.token, t0 + 7200).is_none());
    }

    #[test]
    fn forged_other_kind_or_other_key_is_refused() {
        let s = TokenSigner::new(b"k".to_vec());
        let t = s.issue(TokenKind::Tenant, "cli_1", 0, 100).token;
        let c = s.verify(TokenKind::Tenant, &t, 100).unwrap();
        assert_eq!(c.app_id, "cli_1");
        assert!(s
            .verify(TokenKind::App, &t.replacen("t-", "a-", 1), 100)
            .is_none());
        assert!(TokenSigner::new(b"other".to_vec())
            .verify(TokenKind::Tenant, &t, 100)
            .is_none());
        let forged = t.replacen(&t[2..6], "AAAA", 1);
        assert!(s.verify(TokenKind::Tenant, &forged, 100).is_none());
        assert!(s.verify(TokenKind::Tenant, "t-", 100).is_none());
    }

    #[test]
    fn a_revocation_moves_the_start_of_new_tokens() {
        let s = TokenSigner::new(b"k".to_vec());
        let t = s.issue(TokenKind::Tenant, "cli_1", 5000, 5100);
        let c = s.verify(TokenKind::Tenant, &t.token, 5100).unwrap();
        assert_eq!(c.issued_at, 5000);
        assert_eq!(t.expire, 5000 + TOKEN_LIFETIME - 5100);
    }
}
