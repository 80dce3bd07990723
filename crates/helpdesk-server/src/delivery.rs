//! Delivers the event outbox to apps' event URLs, as Feishu does: at least
//! once, the same `event_id` on every attempt, retried on the schedule the
//! operator sets, in order per (app, ticket). Every replica runs this loop;
//! the store's claims keep two from sending one event at once (a claim
//! lapses after the timeout, so an event a crash interrupted goes again).
//! Every attempt is recorded with its outcome: the headers sent, and the
//! receiver's status, headers and first 64 KiB of body, or why there was no
//! answer.

use std::sync::{Arc, Weak};
use std::time::Duration;

use helpdesk_core::events;
use helpdesk_store::{
    now_ms, ClaimedEvent, DeliveryOutcome, EventRepo, NewAttempt, ATTEMPT_BODY_CAP,
};
use serde_json::Value;
use tokio::sync::Notify;

/// How often a replica looks for due events when nothing woke it.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// Events claimed at once.
const BATCH: u32 = 16;
/// What every event request says it is.
const USER_AGENT: &str = concat!("helpdesk-events/", env!("CARGO_PKG_VERSION"));

/// How events are delivered.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// The wait before each retry; when it is spent, the event has failed.
    pub retry_schedule: Vec<Duration>,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            // Feishu's: 15 s, 5 min, 1 h, 6 h.
            retry_schedule: [15, 300, 3600, 21600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Delivers what `outbox` holds until nobody holds `ready` any more (the
/// server's state is gone). `ready` is notified when an event may have
/// become due: one was recorded, or a delivery ended.
pub(crate) async fn run(outbox: Arc<dyn EventRepo>, ready: Weak<Notify>, config: DeliveryConfig) {
    let http = match event_client(config.timeout) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the event delivery client: events are not delivered");
            return;
        }
    };
    let lease = config.timeout + Duration::from_secs(1);
    let config = Arc::new(config);
    loop {
        let Some(ready) = ready.upgrade() else { return };
        let claimed = match outbox
            .claim_events(now_ms(), lease.as_millis() as i64, BATCH)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim events");
                Vec::new()
            }
        };
        let idle = claimed.is_empty();
        for event in claimed {
            let (outbox, ready) = (outbox.clone(), ready.clone());
            tokio::spawn(deliver(outbox, ready, http.clone(), config.clone(), event));
        }
        if idle {
            tokio::select! {
                _ = ready.notified() => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }
}

/// One attempt: send, then record how it went.
async fn deliver(
    outbox: Arc<dyn EventRepo>,
    ready: Arc<Notify>,
    http: reqwest::Client,
    config: Arc<DeliveryConfig>,
    claimed: ClaimedEvent,
) {
    let ClaimedEvent { event, config: to } = claimed;
    let (attempt, sent) = send(&http, &to, &event.body).await;
    let outcome = match sent.err() {
        None => DeliveryOutcome::Delivered,
        Some(error) => match config.retry_schedule.get(event.attempts as usize) {
            Some(wait) => DeliveryOutcome::Retry {
                at_ms: now_ms() + wait.as_millis() as i64,
                error,
            },
            None => DeliveryOutcome::Failed { error },
        },
    };
    let label = match &outcome {
        DeliveryOutcome::Delivered => "delivered",
        DeliveryOutcome::Retry { .. } => "retry",
        DeliveryOutcome::Failed { .. } => "failed",
    };
    crate::metrics::event_delivery(label);
    match &outcome {
        DeliveryOutcome::Delivered => {}
        DeliveryOutcome::Retry { error, .. } | DeliveryOutcome::Failed { error } => {
            tracing::warn!(event_id = %event.event_id, app_id = %event.app_id, attempt = event.attempts + 1, %error, outcome = label, "event delivery failed")
        }
    }
    if let Err(e) = outbox
        .finish_event(event.seq, &outcome, &attempt, now_ms())
        .await
    {
        // The claim lapses and the event goes again: at least once.
        tracing::warn!(error = %e, event_id = %event.event_id, "cannot record a delivery");
    }
    ready.notify_one();
}

/// The client every event request goes through (deliveries and the admin's
/// URL verification): no redirects, a timeout, and Title-Case headers, which
/// receivers read by their exact spelling (the Python SDK's dispatcher takes
/// a plain dict).
pub fn event_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .http1_title_case_headers()
        .user_agent(USER_AGENT)
        .build()
}

/// A request to an event URL: the sealed body, and every header it carries
/// as spelt on the wire (what an attempt records).
struct Request {
    body: String,
    headers: Vec<(String, String)>,
}

fn seal(document: &Value, encrypt_key: &str) -> Request {
    let sealed = events::seal(document, encrypt_key, now_ms() / 1000);
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/json; charset=utf-8".to_string(),
        ),
        ("User-Agent".to_string(), USER_AGENT.to_string()),
    ];
    headers.extend(sealed.headers.into_iter().map(|(n, v)| (title_case(n), v)));
    Request {
        body: sealed.body,
        headers,
    }
}

/// A header name as the client writes it (`http1_title_case_headers`).
fn title_case(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let c = if upper { c.to_ascii_uppercase() } else { c };
            upper = c == '-';
            c
        })
        .collect()
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    request: Request,
) -> reqwest::Result<reqwest::Response> {
    let mut req = http.post(url).body(request.body);
    for (name, value) in request.headers {
        req = req.header(name, value);
    }
    req.send().await
}

/// POSTs `document` to `url`, sealed and signed for `encrypt_key` (as it is,
/// without one).
pub async fn post_sealed(
    http: &reqwest::Client,
    url: &str,
    document: &Value,
    encrypt_key: &str,
) -> reqwest::Result<reqwest::Response> {
    post(http, url, seal(document, encrypt_key)).await
}

/// POSTs the event to the app: the attempt as it went, and Ok on a 2xx
/// answer.
async fn send(
    http: &reqwest::Client,
    to: &helpdesk_store::EventConfig,
    body: &str,
) -> (NewAttempt, Result<(), String>) {
    let mut attempt = NewAttempt {
        started_at_ms: now_ms(),
        ..NewAttempt::default()
    };
    let clock = std::time::Instant::now();
    let sent = exchange(http, to, body, &mut attempt).await;
    attempt.duration_ms = clock.elapsed().as_millis() as i64;
    if let (Err(error), None) = (&sent, attempt.status) {
        attempt.error = Some(error.clone());
    }
    (attempt, sent)
}

/// One request and its answer, into `attempt`.
async fn exchange(
    http: &reqwest::Client,
    to: &helpdesk_store::EventConfig,
    body: &str,
    attempt: &mut NewAttempt,
) -> Result<(), String> {
    let mut document: Value =
        serde_json::from_str(body).map_err(|e| format!("stored event is not JSON: {e}"))?;
    document["header"]["token"] = Value::String(to.verification_token.clone());
    let request = seal(&document, &to.encrypt_key);
    attempt.request_headers = request.headers.clone();
    let res = post(http, &to.url, request).await.map_err(|e| {
        if e.is_timeout() {
            "the receiver did not answer in time".to_string()
        } else {
            format!("cannot reach the receiver: {}", causes(e))
        }
    })?;
    let status = res.status();
    attempt.status = Some(status.as_u16());
    attempt.response_headers = res
        .headers()
        .iter()
        .map(|(n, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_string(), value)
        })
        .collect();
    if let Err(e) = read_capped(res, attempt).await {
        // The status decides the outcome; the attempt says what went wrong.
        attempt.error = Some(if e.is_timeout() {
            "the receiver did not finish its answer in time".to_string()
        } else {
            format!("the answer's body broke off: {}", causes(e))
        });
    }
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered HTTP {}", status.as_u16()))
    }
}

/// Reads the answer's body into `attempt` as it streams in, up to
/// `ATTEMPT_BODY_CAP`, and stops there: a huge answer costs one chunk of
/// memory (the connection, left mid-body, is not reused).
async fn read_capped(mut res: reqwest::Response, attempt: &mut NewAttempt) -> reqwest::Result<()> {
    while let Some(chunk) = res.chunk().await? {
        let room = ATTEMPT_BODY_CAP - attempt.body.len();
        if chunk.len() > room {
            attempt.body.extend_from_slice(&chunk[..room]);
            attempt.body_truncated = true;
            return Ok(());
        }
        attempt.body.extend_from_slice(&chunk);
    }
    Ok(())
}

/// The error and what caused it, down to the system's word ("Connection
/// refused"), without the URL (the event config names it).
fn causes(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}
