//! The rows of events: where an app's go, what it subscribed to, the
//! outbox, and each delivery attempt.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventConfigRow {
    pub app_id: String,
    pub url: String,
    pub encrypt_key: String,
    pub verification_token: String,
    pub updated_at: i64,
}

impl From<EventConfigRow> for crate::EventConfig {
    fn from(r: EventConfigRow) -> crate::EventConfig {
        crate::EventConfig {
            url: r.url,
            encrypt_key: r.encrypt_key,
            verification_token: r.verification_token,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventSubscriptionRow {
    pub app_id: String,
    pub helpdesk_id: String,
    pub event_type: String,
    pub created_at: i64,
}

/// An event of the outbox. Times in milliseconds.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct EventRow {
    pub seq: i64,
    pub event_id: String,
    pub app_id: String,
    pub ticket_id: String,
    pub event_type: String,
    /// The schema 2.0 document, its token not yet set.
    #[serde(skip)]
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    #[serde(skip)]
    pub claimed_until: i64,
    pub delivered_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
    /// Every attempt ever made, across redeliveries (`attempts` starts
    /// again at each): the number of the latest in `event_attempts`.
    pub attempts_total: i64,
}

/// One delivery attempt of an event (see `EventRepo::event_attempts`).
/// Times in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventAttemptRow {
    pub event_id: String,
    /// 1, 2, ...: numbering goes on across redeliveries.
    pub attempt: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    /// JSON `[[name, value], ...]`: the headers sent, in their spelling
    /// (the signature's among them).
    pub request_headers: String,
    /// None when no answer came (`error` says why).
    pub status: Option<i64>,
    /// JSON `[[name, value], ...]`, in the order received.
    pub response_headers: String,
    /// The answer's first bytes, as they came (at most
    /// `ATTEMPT_BODY_CAP`).
    pub response_body: Vec<u8>,
    /// The receiver sent more than `response_body` holds.
    pub body_truncated: bool,
    /// Why there was no answer, or why its body could not be read.
    pub error: Option<String>,
}
