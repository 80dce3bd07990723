//! Delivers the event outbox to apps' event URLs, as Feishu does: at least
//! once, the same `event_id` on every attempt, retried on the schedule the
//! operator sets, in order per (app, ticket). Every replica runs this loop;
//! the store's claims keep two from sending one event at once (a claim
//! lapses after the timeout, so an event a crash interrupted goes again).

use std::sync::{Arc, Weak};
use std::time::Duration;

use helpdesk_core::events;
use helpdesk_store::{now_ms, ClaimedEvent, DeliveryOutcome, EventRepo};
use serde_json::Value;
use tokio::sync::Notify;

/// How often a replica looks for due events when nothing woke it.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// Events claimed at once.
const BATCH: u32 = 16;

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
    let outcome = match send(&http, &to, &event.body).await.err() {
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
    if let Err(e) = outbox.finish_event(event.seq, &outcome, now_ms()).await {
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
        .user_agent(concat!("helpdesk-events/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// POSTs `document` to `url`, sealed and signed for `encrypt_key` (as it is,
/// without one).
pub async fn post_sealed(
    http: &reqwest::Client,
    url: &str,
    document: &Value,
    encrypt_key: &str,
) -> reqwest::Result<reqwest::Response> {
    let sealed = events::seal(document, encrypt_key, now_ms() / 1000);
    let mut req = http
        .post(url)
        .header(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(sealed.body);
    for (name, value) in sealed.headers {
        req = req.header(name, value);
    }
    req.send().await
}

/// POSTs the event to the app; Ok on a 2xx answer.
async fn send(
    http: &reqwest::Client,
    to: &helpdesk_store::EventConfig,
    body: &str,
) -> Result<(), String> {
    let mut document: Value =
        serde_json::from_str(body).map_err(|e| format!("stored event is not JSON: {e}"))?;
    document["header"]["token"] = Value::String(to.verification_token.clone());
    match post_sealed(http, &to.url, &document, &to.encrypt_key).await {
        Ok(res) if res.status().is_success() => Ok(()),
        Ok(res) => Err(format!(
            "the receiver answered HTTP {}",
            res.status().as_u16()
        )),
        Err(e) if e.is_timeout() => Err("the receiver did not answer in time".into()),
        Err(e) => Err(format!("cannot reach the receiver: {}", e.without_url())),
    }
}
