//! The SQL both backends run, written once, one file per concern.
//!
//! SQLite and PostgreSQL read the same statements (`$N` parameters,
//! `ON CONFLICT`, `EXISTS`). Each concern's file (`keys.rs`,
//! `directory.rs`, `tickets.rs`, `messages.rs`, `people.rs`, `fields.rs`,
//! `faqs.rs`, `images.rs`, `events.rs`, `limits.rs`, `scans.rs`,
//! `audit.rs`, `retention.rs`, `transfer.rs` with `import.rs` and
//! `upsert.rs` beside it) is plain Rust that implements its trait of
//! `crate::repo` for `Meta` over `Db`; it is not a
//! module of this one: each backend's `mod.rs` declares it as a module of its
//! own (`#[path = "../sql/keys.rs"] mod keys;`), after defining
//! - `type Db` (`sqlx::Sqlite`, `sqlx::Postgres`) and `type Meta` (the
//!   backend's store, with `pool: sqlx::Pool<Db>`);
//! - the inherent methods `write()` (a write transaction, begun the
//!   backend's way), `still_there()` (readiness beyond a query),
//!   `snapshot(path)` and `download_row(sql, text, index)` (the hot path's
//!   one statement, which a backend may run its own way);
//! - the row-lock clauses as three one-line macros that expand to string
//!   literals, so that `concat!` builds each statement at compile time:
//!   `for_share!()`, `for_update!()` (PostgreSQL's `FOR SHARE` /
//!   `FOR UPDATE`; empty on SQLite, whose single writer is all the locking
//!   the traits' rules need) and `skip_locked!()` (how replicas claim events
//!   without waiting on each other); and `strpos!()`, the name of the
//!   function that finds a string in another (`instr` on SQLite, `strpos`
//!   on PostgreSQL; both take the haystack first).
//!
//! Why this shape: sqlx's executors are generic only behind a dozen
//! higher-ranked bounds that every function would repeat (a trait cannot
//! carry them for its users), and a macro body is neither formatted by
//! rustfmt nor pointed into by the compiler. A module compiled once per
//! backend is ordinary Rust: rustfmt formats it, an error names its own
//! line, and what differs stays in the backend's directory.
//!
//! What is here is what every concern shares.

/// Columns of `AppRow`, for statements that read an app.
macro_rules! app_columns {
    () => {
        "a.app_id, a.tenant_key, a.name, a.kind, a.scopes, a.secret_sha256, \
         a.tokens_not_before, a.disabled_at, a.created_at"
    };
}

/// Columns of `CredentialsRow`: the app, and the helpdesk joined as `h`.
macro_rules! credential_columns {
    () => {
        concat!(
            app_columns!(),
            ", h.helpdesk_id AS h_id, h.tenant_key AS h_tenant_key, h.name AS h_name, \
             h.token_sha256 AS h_token_sha256"
        )
    };
}

/// An image row's `deleted_at` as downloads must see it: a quarantined
/// image (see `ScanRepo`) answers as a deleted one. The quarantine's primary
/// key finds nothing for nearly every image, so this is one index probe.
macro_rules! quarantined_or_deleted {
    ($alias:literal) => {
        concat!(
            "COALESCE(",
            $alias,
            ".deleted_at, (SELECT q.quarantined_at FROM quarantine q WHERE q.sha256 = ",
            $alias,
            ".sha256)) AS deleted_at"
        )
    };
}

/// The download's one statement, by the message column `msg_id` names.
/// Every join is on a primary or unique key.
macro_rules! download_by {
    ($column:literal) => {
        concat!(
            "SELECT ",
            credential_columns!(),
            ", m.message_type, m.image_count,
                    mi.sha256, mi.size, mi.content_type, mi.file_name, ",
            quarantined_or_deleted!("mi"),
            "
             FROM apps a
             LEFT JOIN helpdesks h ON h.helpdesk_id = $2
             LEFT JOIN tickets t ON t.ticket_id = $3 AND t.helpdesk_id = $2
             LEFT JOIN messages m ON m.ticket_id = t.ticket_id AND m.",
            $column,
            " = $4
             LEFT JOIN message_images mi ON mi.message_pk = m.id AND mi.idx = $5
             WHERE a.app_id = $1"
        )
    };
}

use crate::{Result, StoreError};

/// Moves the change counter (see `KeyRepo::generation`).
pub(crate) const BUMP: &str = "UPDATE changes SET generation = generation + 1 WHERE id = 1";

/// What a lookup binds for an id a client sent: PostgreSQL cannot hold NUL
/// in text (and answers an error), and no id has one, so such an id becomes
/// the empty string, which matches nothing on every backend.
pub(crate) fn id(s: &str) -> &str {
    if s.contains('\0') {
        ""
    } else {
        s
    }
}

/// Text to store must be storable on every backend.
pub(crate) fn storable(fields: &[&str]) -> Result<()> {
    if fields.iter().any(|f| f.contains('\0')) {
        return Err(StoreError::Invalid(
            "text may not contain NUL (\\u0000) characters".into(),
        ));
    }
    Ok(())
}
