//! The signer of the current keys, and the tokens it has already verified.
//!
//! Checking a token's signature is an HMAC-SHA256 over its payload and two
//! base64 decodes: most of a cached download's cost before this existed.
//! A token that verified once is remembered by its exact text, so the next
//! request that presents it costs a hash lookup. What the cache must not
//! weaken:
//! - the expiry is still checked on every request, against the claims;
//! - revocation (`tokens_not_before`) is judged by the caller against the
//!   claims' issue time, as before, on every request;
//! - a key rotation or any other change replaces this whole value (see
//!   `state::catch_up`), so nothing verified under the old keys survives;
//! - only tokens that verified are kept (a flood of forged ones fills
//!   nothing), and at most `REMEMBERED` of them.

use std::sync::Arc;

use helpdesk_store::tokens::{Claims, TokenKind, TokenSigner};
use quick_cache::sync::Cache;

/// Tokens remembered at most: far more than the apps of any installation
/// hold at once (an SDK asks for one every 90 minutes).
const REMEMBERED: usize = 16_384;
/// Longer tokens are verified every time (ours are about 100 bytes).
const LONGEST_REMEMBERED: usize = 512;

/// A verified token: the kind it was checked as, and what it says.
pub type Verified = Arc<(TokenKind, Claims)>;

pub struct Tokens {
    signer: TokenSigner,
    verified: Cache<Box<[u8]>, Verified>,
}

impl Tokens {
    pub fn new(signer: TokenSigner) -> Tokens {
        Tokens {
            signer,
            verified: Cache::new(REMEMBERED),
        }
    }

    pub fn signer(&self) -> &TokenSigner {
        &self.signer
    }

    /// The claims of a genuine, unexpired token of this kind (see
    /// `TokenSigner::verify`), given as the header's bytes.
    pub fn verify(&self, kind: TokenKind, token: &[u8], now: i64) -> Option<Verified> {
        if let Some(known) = self.verified.get(token) {
            // A token's text has one kind (its prefix): another is refused.
            return (known.0 == kind && now < known.1.expires_at).then_some(known);
        }
        let text = std::str::from_utf8(token).ok()?;
        let claims = Arc::new((kind, self.signer.verify(kind, text, now)?));
        if token.len() <= LONGEST_REMEMBERED {
            self.verified.insert(token.into(), claims.clone());
        }
        Some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_store::tokens::{SigningKey, FIRST_KEY_ID, TOKEN_LIFETIME};

    fn tokens(key: &[u8]) -> Tokens {
        Tokens::new(TokenSigner::new(vec![SigningKey {
            id: FIRST_KEY_ID.into(),
            key: key.to_vec(),
        }]))
    }

    #[test]
    fn a_remembered_token_still_expires_and_keeps_its_kind() {
        let t = tokens(b"k");
        let issued = t
            .signer()
            .issue(TokenKind::Tenant, "cli_1", 0, 1000, TOKEN_LIFETIME);
        let first = t
            .verify(TokenKind::Tenant, issued.token.as_bytes(), 1000)
            .unwrap();
        assert_eq!(first.1.app_id, "cli_1");
        // Remembered now: the same answer, until it expires.
        let again = t
            .verify(TokenKind::Tenant, issued.token.as_bytes(), 1001)
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let expires = first.1.expires_at;
        assert!(t
            .verify(TokenKind::Tenant, issued.token.as_bytes(), expires - 1)
            .is_some());
        assert!(t
            .verify(TokenKind::Tenant, issued.token.as_bytes(), expires)
            .is_none());
        assert!(t
            .verify(TokenKind::App, issued.token.as_bytes(), 1001)
            .is_none());
    }

    #[test]
    fn forged_tokens_are_neither_accepted_nor_remembered() {
        let t = tokens(b"k");
        let issued = t
            .signer()
            .issue(TokenKind::Tenant, "cli_1", 0, 1000, TOKEN_LIFETIME);
        let forged = format!("{}A", issued.token);
        for _ in 0..2 {
            assert!(t
                .verify(TokenKind::Tenant, forged.as_bytes(), 1000)
                .is_none());
        }
        assert_eq!(t.verified.len(), 0);
        // Another key's set (a rotation) knows nothing of this one's tokens.
        let other = tokens(b"other");
        assert!(t
            .verify(TokenKind::Tenant, issued.token.as_bytes(), 1000)
            .is_some());
        assert!(other
            .verify(TokenKind::Tenant, issued.token.as_bytes(), 1000)
            .is_none());
    }
}
