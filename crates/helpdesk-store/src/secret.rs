//! Secrets are kept only as SHA-256 digests and compared in constant time.
//! They are random and 128 bits or more, so a fast hash is enough: there is
//! nothing for a slow password hash to protect against.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Hex SHA-256 of a secret, as stored.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// True when `secret` hashes to `stored`, without leaking where they differ.
pub fn matches(secret: &str, stored: &str) -> bool {
    digest(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}
