use std::fmt;

/// Everything a call can fail with. API errors (the server answered with a
/// Feishu `code`) are kept apart from transport errors (no usable answer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-zero Feishu `code`.
    #[error("{0}")]
    Api(ApiError),
    /// The request did not get an answer: connection refused, timeout, TLS,
    /// or the body broke off.
    #[error("cannot reach {url}: {source}")]
    Transport {
        /// The URL that was called.
        url: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with something that is not the API's shape.
    #[error("unexpected answer from the server (HTTP {status}, log id {}): {detail}", log_id.as_deref().unwrap_or("none"))]
    Protocol {
        /// The HTTP status.
        status: u16,
        /// `X-Tt-Logid`, when the server sent one.
        log_id: Option<String>,
        /// What was wrong with it.
        detail: String,
    },
    /// The client was built or called without something it needs.
    #[error("{0}")]
    Config(String),
    /// Writing a download to disk failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file being written.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A Feishu API error: HTTP status, `code`, `msg` and log id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status (200 for the token endpoints' errors, as on Feishu).
    pub status: u16,
    /// Feishu's error code, e.g. 154404.
    pub code: i64,
    /// Feishu's message.
    pub msg: String,
    /// The log id (`X-Tt-Logid` or `error.log_id`): quote it to support.
    pub log_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} code {}: {}", self.status, self.code, self.msg)?;
        if let Some(id) = &self.log_id {
            write!(f, " (log id {id})")?;
        }
        Ok(())
    }
}

impl Error {
    /// The Feishu `code` when the server gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api(e) => Some(e.code),
            _ => None,
        }
    }
}

/// Feishu's code for an unknown or expired access token.
pub const INVALID_TOKEN: i64 = helpdesk_core::wire::code::INVALID_TOKEN;
/// Feishu's code for a request rejected by the rate limit.
pub const RATE_LIMITED: i64 = helpdesk_core::wire::code::RATE_LIMITED;
