//! What the outbox keeps of each delivery attempt (`EventRepo::finish_event`
//! records it, `EventRepo::event_attempts` reads it back), and how a reader
//! shows it.

use crate::records::{EventAttemptRow, EventRow};

/// The most of a receiver's answer body an attempt keeps: the delivery loop
/// stops reading there, and the store keeps no more.
pub const ATTEMPT_BODY_CAP: usize = 64 * 1024;

/// One delivery attempt as the delivery loop saw it. Times in ms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAttempt {
    pub started_at_ms: i64,
    pub duration_ms: i64,
    /// `(name, value)` as sent.
    pub request_headers: Vec<(String, String)>,
    /// None when no answer came.
    pub status: Option<u16>,
    /// `(name, value)` in the order received.
    pub response_headers: Vec<(String, String)>,
    /// The answer's first bytes (at most `ATTEMPT_BODY_CAP` are kept).
    pub body: Vec<u8>,
    /// The receiver sent more than `body` holds.
    pub body_truncated: bool,
    /// Why there was no answer, or why its body could not be read.
    pub error: Option<String>,
}

/// Headers as an attempt's row holds them: `[[name, value], ...]`.
pub(crate) fn headers_json(headers: &[(String, String)]) -> String {
    serde_json::Value::from(
        headers
            .iter()
            .map(|(n, v)| serde_json::json!([n, v]))
            .collect::<Vec<_>>(),
    )
    .to_string()
}

/// What pruning removed (see `EventRepo::prune_event_history`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrunedHistory {
    pub attempts: u64,
    pub events: u64,
}

/// Where an event of the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Due at `next_attempt_at`, or being delivered.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// The retry schedule is spent; an operator may redeliver it.
    Failed,
}

impl EventState {
    pub fn as_str(self) -> &'static str {
        match self {
            EventState::Pending => "pending",
            EventState::Delivered => "delivered",
            EventState::Failed => "failed",
        }
    }
}

impl EventRow {
    pub fn state(&self) -> EventState {
        if self.delivered_at.is_some() {
            EventState::Delivered
        } else if self.failed_at.is_some() {
            EventState::Failed
        } else {
            EventState::Pending
        }
    }

    /// When the next attempt is due; none once delivered or failed.
    pub fn next_retry_at(&self) -> Option<i64> {
        (self.state() == EventState::Pending).then_some(self.next_attempt_at)
    }
}

impl EventAttemptRow {
    pub fn request_headers(&self) -> Vec<(String, String)> {
        parse_headers(&self.request_headers)
    }

    pub fn response_headers(&self) -> Vec<(String, String)> {
        parse_headers(&self.response_headers)
    }

    /// The body as text, when it is UTF-8; a body cut in the middle of a
    /// character is still text, without that character's first bytes.
    pub fn body_text(&self) -> Option<&str> {
        match std::str::from_utf8(&self.response_body) {
            Ok(text) => Some(text),
            // `error_len` is None when the bytes end inside a character.
            Err(e) if self.body_truncated && e.error_len().is_none() => {
                std::str::from_utf8(&self.response_body[..e.valid_up_to()]).ok()
            }
            Err(_) => None,
        }
    }
}

fn parse_headers(json: &str) -> Vec<(String, String)> {
    serde_json::from_str::<Vec<(String, String)>>(json).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(body: &[u8], truncated: bool) -> EventAttemptRow {
        EventAttemptRow {
            event_id: "e".into(),
            attempt: 1,
            started_at: 0,
            duration_ms: 0,
            request_headers: headers_json(&[("X-Lark-Signature".into(), "ab".into())]),
            status: Some(200),
            response_headers: "[]".into(),
            response_body: body.to_vec(),
            body_truncated: truncated,
            error: None,
        }
    }

    #[test]
    fn headers_come_back_as_they_were_given() {
        assert_eq!(
            row(b"", false).request_headers(),
            [("X-Lark-Signature".to_string(), "ab".to_string())]
        );
    }

    #[test]
    fn a_body_is_text_when_utf8_even_cut_inside_a_character() {
        let cut = &"好".as_bytes()[..2];
        let mut body = b"ok ".to_vec();
        body.extend_from_slice(cut);
        assert_eq!(row(&body, true).body_text(), Some("ok "));
        // Not cut by us: those bytes are what the receiver sent, not text.
        assert_eq!(row(&body, false).body_text(), None);
        assert_eq!(row(&[0xff, b'a'], true).body_text(), None);
        assert_eq!(row("好".as_bytes(), false).body_text(), Some("好"));
    }
}
