//! Access tokens: signed, so that checking one costs no database read, and
//! derived from a key every process shares, so that they stay valid across
//! restarts and replicas for their whole announced lifetime.
//!
//! A token is `t-` (tenant), `a-` (app) or `u-` (user), then the id of the
//! key that signed it, a dot, base64url of `app_id:issued_at:expires_at`
//! (a user token's is `app_id:open_id:issued_at:expires_at`), a dot, and
//! base64url of the HMAC-SHA256 of the kind, the key id and that payload.
//! Tokens made before keys had ids carry none, and are checked with the
//! first key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Seconds a token lives: Feishu's, the default, and the most `issue` gives
/// (so that a key outlives every token it signed, see `rotate_signing_key`).
pub const TOKEN_LIFETIME: i64 = 7200;
/// As on Feishu, asking again returns the same token while more than 30
/// minutes of it remain: a new one every 90 minutes at the default lifetime.
const FRESH_FOR: i64 = 1800;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Tenant,
    App,
    /// An agent's user access token, for the methods Feishu's SDKs call as
    /// a user (`PUT /tickets/:id`, ...).
    User,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Tenant => "t-",
            TokenKind::App => "a-",
            TokenKind::User => "u-",
        }
    }

    /// The kind a token says it is, by its prefix (unchecked).
    pub fn of(token: &str) -> Option<TokenKind> {
        [TokenKind::Tenant, TokenKind::App, TokenKind::User]
            .into_iter()
            .find(|k| token.starts_with(k.prefix()))
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
    /// The open_id a user token was issued for; empty for other kinds.
    pub user: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A signing key and its id, as the metadata store keeps them.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Four or more digits; the highest id signs new tokens.
    pub id: String,
    pub key: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, ..)", self.id)
    }
}

/// The id tokens without one were signed with: the first key.
pub const FIRST_KEY_ID: &str = "0000";

/// Signs with the newest key and verifies with any key still kept.
#[derive(Clone)]
pub struct TokenSigner {
    /// Oldest first; never empty.
    keys: Vec<SigningKey>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    /// `keys` in any order; the highest id signs. None at all is a bug of the
    /// caller's (the store always makes one).
    pub fn new(mut keys: Vec<SigningKey>) -> TokenSigner {
        assert!(!keys.is_empty(), "a token signer needs a key");
        keys.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        TokenSigner { keys }
    }

    /// The id of the key new tokens are signed with.
    pub fn current_id(&self) -> &str {
        &self.keys[self.keys.len() - 1].id
    }

    fn key(&self, id: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    fn mac(key: &SigningKey, kind: TokenKind, payload: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length; new_from_slice cannot fail for it.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&key.key).unwrap_or_else(|_| unreachable!());
        mac.update(kind.prefix().as_bytes());
        if key.id != FIRST_KEY_ID {
            mac.update(key.id.as_bytes());
        }
        mac.update(payload.as_bytes());
        mac
    }

    /// The token for `app_id` now, living `lifetime` seconds (at most
    /// [`TOKEN_LIFETIME`]). Tokens issued before `not_before` (a revocation)
    /// are refused, so a new one never starts before it. A lifetime of 30
    /// minutes or less never has more than 30 minutes left, so every second
    /// gets a new token with all of it.
    pub fn issue(
        &self,
        kind: TokenKind,
        app_id: &str,
        not_before: i64,
        now: i64,
        lifetime: i64,
    ) -> Issued {
        self.issue_as(kind, app_id, "", not_before, now, lifetime)
    }

    /// A user token of `open_id` for `app_id`, with all of `lifetime`.
    pub fn issue_user(
        &self,
        app_id: &str,
        open_id: &str,
        not_before: i64,
        now: i64,
        lifetime: i64,
    ) -> Issued {
        self.issue_as(TokenKind::User, app_id, open_id, not_before, now, lifetime)
    }

    fn issue_as(
        &self,
        kind: TokenKind,
        app_id: &str,
        user: &str,
        not_before: i64,
        now: i64,
        lifetime: i64,
    ) -> Issued {
        let key = &self.keys[self.keys.len() - 1];
        let lifetime = lifetime.clamp(1, TOKEN_LIFETIME);
        // A user token is made on request, whole; the others are asked for
        // again and again, and the same one comes back while it is fresh.
        let issued_at = match kind {
            TokenKind::User => now.max(not_before),
            _ => {
                let reissue_every = (lifetime - FRESH_FOR).max(1);
                (now - now.rem_euclid(reissue_every)).max(not_before)
            }
        };
        let expires_at = issued_at + lifetime;
        let payload = match kind {
            TokenKind::User => format!("{app_id}:{user}:{issued_at}:{expires_at}"),
            _ => format!("{app_id}:{issued_at}:{expires_at}"),
        };
        let sig = Self::mac(key, kind, &payload).finalize().into_bytes();
        Issued {
            token: format!(
                "{}{}.{}.{}",
                kind.prefix(),
                key.id,
                URL_SAFE_NO_PAD.encode(payload),
                URL_SAFE_NO_PAD.encode(sig)
            ),
            expire: expires_at - now,
        }
    }

    /// The claims of a genuine, unexpired token of this kind, signed by a
    /// key this signer still holds.
    pub fn verify(&self, kind: TokenKind, token: &str, now: i64) -> Option<Claims> {
        let rest = token.strip_prefix(kind.prefix())?;
        let (key_id, rest) = match rest.split_once('.') {
            Some((id, rest)) if rest.contains('.') => (id, rest),
            _ => (FIRST_KEY_ID, rest),
        };
        let key = self.key(key_id)?;
        let (payload_b64, sig_b64) = rest.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload_b64).ok()?).ok()?;
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).ok()?;
        Self::mac(key, kind, &payload).verify_slice(&sig).ok()?;
        let mut parts = payload.rsplitn(3, ':');
        let expires_at: i64 = parts.next()?.parse().ok()?;
        let issued_at: i64 = parts.next()?.parse().ok()?;
        let subject = parts.next()?;
        let (app_id, user) = match kind {
            TokenKind::User => subject.split_once(':')?,
            _ => (subject, ""),
        };
        (now < expires_at).then(|| Claims {
            app_id: app_id.to_string(),
            user: user.to_string(),
            issued_at,
            expires_at,
        })
    }
}

/// The app id a token names, read without checking it: for log lines only.
pub fn claimed_app_id(token: &str) -> Option<String> {
    let kind = TokenKind::of(token)?;
    let rest = &token[kind.prefix().len()..];
    let mut parts = rest.split('.');
    let payload = match (parts.next(), parts.next(), parts.next()) {
        (Some(_key_id), Some(payload), Some(_sig)) => payload,
        (Some(payload), Some(_sig), None) => payload,
        _ => return None,
    };
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let mut fields = payload.rsplitn(3, ':');
    let subject = fields.nth(2)?;
    // As `verify` reads it: a user token's subject is `app_id:open_id`.
    Some(
        match kind {
            TokenKind::User => subject.split_once(':')?.0,
            _ => subject,
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, bytes: &[u8]) -> SigningKey {
        SigningKey {
            id: id.into(),
            key: bytes.to_vec(),
        }
    }

    fn signer(bytes: &[u8]) -> TokenSigner {
        TokenSigner::new(vec![key(FIRST_KEY_ID, bytes)])
    }

    #[test]
    fn same_token_while_more_than_half_an_hour_remains() {
        let s = signer(b"k");
        let t0 = 5400 * 1000;
        let a = s.issue(TokenKind::Tenant, "cli_1", 0, t0, TOKEN_LIFETIME);
        assert_eq!(a.expire, 7200);
        let b = s.issue(TokenKind::Tenant, "cli_1", 0, t0 + 5399, TOKEN_LIFETIME);
        assert_eq!(a.token, b.token);
        assert_eq!(b.expire, 1801);
        let c = s.issue(TokenKind::Tenant, "cli_1", 0, t0 + 5400, TOKEN_LIFETIME);
        assert_ne!(a.token, c.token);
        // The old one stays valid until its own expiry.
        assert!(s.verify(TokenKind::Tenant, &a.token, t0 + 7199).is_some());
        assert!(s.verify(TokenKind::Tenant, &a.token, t0 + 7200).is_none());
    }

    #[test]
    fn a_short_lifetime_is_all_there_for_every_new_token() {
        let s = signer(b"k");
        let a = s.issue(TokenKind::Tenant, "cli_1", 0, 1_000_000, 184);
        assert_eq!(a.expire, 184);
        let b = s.issue(TokenKind::Tenant, "cli_1", 0, 1_000_001, 184);
        assert_eq!(b.expire, 184);
        assert_ne!(a.token, b.token);
        let claims = s
            .verify(TokenKind::Tenant, &b.token, 1_000_001 + 183)
            .unwrap();
        assert_eq!(claims.expires_at, 1_000_001 + 184);
        assert!(s
            .verify(TokenKind::Tenant, &b.token, 1_000_001 + 184)
            .is_none());
        // Never longer than Feishu's.
        let long = s.issue(TokenKind::Tenant, "cli_1", 0, 1_000_000, 86_400);
        assert!(long.expire <= TOKEN_LIFETIME);
    }

    #[test]
    fn forged_other_kind_or_other_key_is_refused() {
        let s = signer(b"k");
        let t = s
            .issue(TokenKind::Tenant, "cli_1", 0, 100, TOKEN_LIFETIME)
            .token;
        let c = s.verify(TokenKind::Tenant, &t, 100).unwrap();
        assert_eq!(c.app_id, "cli_1");
        assert!(s
            .verify(TokenKind::App, &t.replacen("t-", "a-", 1), 100)
            .is_none());
        assert!(signer(b"other")
            .verify(TokenKind::Tenant, &t, 100)
            .is_none());
        let forged = t.replacen(&t[2..6], "AAAA", 1);
        assert!(s.verify(TokenKind::Tenant, &forged, 100).is_none());
        assert!(s.verify(TokenKind::Tenant, "t-", 100).is_none());
    }

    #[test]
    fn a_user_token_names_its_app_and_user_and_is_no_other_kind() {
        let s = signer(b"k");
        let t = s.issue_user("cli_1", "ou_agent", 0, 100, TOKEN_LIFETIME);
        assert!(t.token.starts_with("u-"), "{}", t.token);
        assert_eq!(t.expire, TOKEN_LIFETIME);
        assert_eq!(TokenKind::of(&t.token), Some(TokenKind::User));
        let c = s.verify(TokenKind::User, &t.token, 100).unwrap();
        assert_eq!((c.app_id.as_str(), c.user.as_str()), ("cli_1", "ou_agent"));
        assert_eq!(claimed_app_id(&t.token).as_deref(), Some("cli_1"));
        assert!(s.verify(TokenKind::Tenant, &t.token, 100).is_none());
        let as_tenant = t.token.replacen("u-", "t-", 1);
        assert!(s.verify(TokenKind::Tenant, &as_tenant, 100).is_none());
        let tenant = s.issue(TokenKind::Tenant, "cli_1", 0, 100, TOKEN_LIFETIME);
        assert!(s
            .verify(TokenKind::User, &tenant.token.replacen("t-", "u-", 1), 100)
            .is_none());
        assert!(s
            .verify(TokenKind::User, &t.token, 100 + TOKEN_LIFETIME)
            .is_none());
    }

    #[test]
    fn a_revocation_moves_the_start_of_new_tokens() {
        let s = signer(b"k");
        let t = s.issue(TokenKind::Tenant, "cli_1", 5000, 5100, TOKEN_LIFETIME);
        let c = s.verify(TokenKind::Tenant, &t.token, 5100).unwrap();
        assert_eq!(c.issued_at, 5000);
        assert_eq!(t.expire, 5000 + TOKEN_LIFETIME - 5100);
    }

    #[test]
    fn earlier_keys_verify_their_tokens_and_only_the_newest_signs() {
        let old = signer(b"k");
        let before = old
            .issue(TokenKind::Tenant, "cli_1", 0, 100, TOKEN_LIFETIME)
            .token;
        let both = TokenSigner::new(vec![key("0001", b"k2"), key(FIRST_KEY_ID, b"k")]);
        assert_eq!(both.current_id(), "0001");
        let after = both
            .issue(TokenKind::Tenant, "cli_1", 0, 100, TOKEN_LIFETIME)
            .token;
        assert!(after.starts_with("t-0001."), "{after}");
        assert!(both.verify(TokenKind::Tenant, &before, 100).is_some());
        assert!(both.verify(TokenKind::Tenant, &after, 100).is_some());
        // Dropping the first key (a revoking rotation) refuses its tokens.
        let revoked = TokenSigner::new(vec![key("0001", b"k2")]);
        assert!(revoked.verify(TokenKind::Tenant, &before, 100).is_none());
        assert!(revoked.verify(TokenKind::Tenant, &after, 100).is_some());
        // The key id is signed: moving a token to another id fails.
        let moved = after.replacen("0001", "0000", 1);
        assert!(both.verify(TokenKind::Tenant, &moved, 100).is_none());
        // Ids sort as numbers once they outgrow four digits.
        let many = TokenSigner::new(vec![key("10000", b"a"), key("9999", b"b")]);
        assert_eq!(many.current_id(), "10000");
    }
}
