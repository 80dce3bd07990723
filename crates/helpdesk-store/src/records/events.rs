//! The rows of events: where an app's go, what it subscribed to, and the
//! outbox.

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
}
