//! What the server counts, through the `metrics` facade. With no recorder
//! installed (no `--metrics-listen`) each call is one load of a flag that
//! `describe_metrics` sets: even the facade's no-op builds a key first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};

const REQUESTS: &str = "helpdesk_http_requests_total";
const DURATION: &str = "helpdesk_http_request_duration_seconds";
const IMAGE_BYTES: &str = "helpdesk_image_bytes_served_total";
const UPLOADS: &str = "helpdesk_uploads_total";
const CACHE: &str = "helpdesk_download_cache_total";
const TOKENS: &str = "helpdesk_tokens_issued_total";
const EVENTS: &str = "helpdesk_event_deliveries_total";
const BUILD_INFO: &str = "helpdesk_build_info";

/// A recorder is installed (`describe_metrics` was called).
static ON: AtomicBool = AtomicBool::new(false);

fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

const UPLOAD_OUTCOMES: [&str; 8] = [
    "stored",
    "too_large",
    "not_an_image",
    "bad_request",
    "refused",
    "infected",
    "over_quota",
    "failed",
];
const SCANS: &str = "helpdesk_upload_scans_total";
const SCAN_VERDICTS: [&str; 5] = [
    "clean",
    "clean_on_record",
    "infected",
    "unavailable",
    "unscanned",
];
const TOKEN_KINDS: [&str; 3] = ["tenant", "app", "user"];
const EVENT_OUTCOMES: [&str; 3] = ["delivered", "retry", "failed"];

/// Gives every metric its help text and registers every family, so that a
/// first scrape, before any request, already lists them all: counters at
/// 0 (the main download route's success among them) and
/// `helpdesk_build_info{version} 1`. Dashboards and `rate()` then work from
/// the start. Call once the recorder is installed.
pub fn describe_metrics() {
    ON.store(true, Ordering::Relaxed);
    describe_gauge!(BUILD_INFO, "Always 1; the version is its label");
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let route = helpdesk_core::wire::path::TICKET_IMAGES;
    counter!(REQUESTS, "route" => route, "status" => "200", "code" => "0").absolute(0);
    let _ = histogram!(DURATION, "route" => route);
    counter!(IMAGE_BYTES).absolute(0);
    for outcome in UPLOAD_OUTCOMES {
        counter!(UPLOADS, "outcome" => outcome).absolute(0);
    }
    for verdict in SCAN_VERDICTS {
        counter!(SCANS, "verdict" => verdict).absolute(0);
    }
    describe_counter!(
        SCANS,
        "Malware scans of uploads, by verdict (clean, clean_on_record, infected, unavailable: refused under --scan-failure closed, unscanned: let through under open)"
    );
    for result in ["hit", "miss"] {
        counter!(CACHE, "result" => result).absolute(0);
    }
    for kind in TOKEN_KINDS {
        counter!(TOKENS, "kind" => kind).absolute(0);
    }
    for outcome in EVENT_OUTCOMES {
        counter!(EVENTS, "outcome" => outcome).absolute(0);
    }
    describe_counter!(
        REQUESTS,
        "HTTP requests, by route (the matched pattern), HTTP status and Feishu code"
    );
    describe_histogram!(
        DURATION,
        Unit::Seconds,
        "Time to answer a request, by route"
    );
    describe_counter!(
        IMAGE_BYTES,
        Unit::Bytes,
        "Image bytes sent by ticket_images"
    );
    describe_counter!(
        UPLOADS,
        "Image uploads that reached the handler, by outcome (stored, too_large, not_an_image, bad_request, refused, infected, over_quota, failed)"
    );
    describe_counter!(CACHE, "Download cache lookups, by result (hit, miss)");
    describe_counter!(TOKENS, "Access tokens issued, by kind (tenant, app, user)");
    describe_counter!(
        EVENTS,
        "Event delivery attempts, by outcome (delivered, retry, failed)"
    );
}

/// One answered request; `code` is the Feishu code, `-` for none.
pub fn request(route: &'static str, status: u16, code: Option<i64>, took: Duration) {
    if !on() {
        return;
    }
    let code = match code {
        Some(c) => c.to_string(),
        None => "-".to_string(),
    };
    counter!(REQUESTS, "route" => route, "status" => status.to_string(), "code" => code)
        .increment(1);
    histogram!(DURATION, "route" => route).record(took.as_secs_f64());
}

pub fn image_bytes(n: u64) {
    if !on() {
        return;
    }
    counter!(IMAGE_BYTES).increment(n);
}

pub fn upload(outcome: &'static str) {
    if !on() {
        return;
    }
    counter!(UPLOADS, "outcome" => outcome).increment(1);
}

pub fn cache(hit: bool) {
    if !on() {
        return;
    }
    counter!(CACHE, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

pub fn token_issued(kind: &'static str) {
    if !on() {
        return;
    }
    counter!(TOKENS, "kind" => kind).increment(1);
}

pub fn event_delivery(outcome: &'static str) {
    if !on() {
        return;
    }
    counter!(EVENTS, "outcome" => outcome).increment(1);
}

/// Counts the scan of an upload that passed screening.
pub(crate) fn scanned(outcome: helpdesk_store::ScanOutcome) {
    use helpdesk_store::ScanOutcome;
    if !on() {
        return;
    }
    let verdict = match outcome {
        ScanOutcome::Off => return,
        ScanOutcome::Clean { cached: false } => "clean",
        ScanOutcome::Clean { cached: true } => "clean_on_record",
        ScanOutcome::Unscanned => "unscanned",
    };
    counter!(SCANS, "verdict" => verdict).increment(1);
}

/// Counts the scan of an upload that screening refused, if a scan did.
pub(crate) fn scan_refused(e: &helpdesk_store::IngestError) {
    use helpdesk_store::IngestError;
    if !on() {
        return;
    }
    let verdict = match e {
        IngestError::Infected(_) => "infected",
        IngestError::ScanUnavailable(_) => "unavailable",
        _ => return,
    };
    counter!(SCANS, "verdict" => verdict).increment(1);
}
