//! `--metrics-listen`: Prometheus metrics on a listener of their own, so
//! that they never share a port (or a firewall rule) with the API.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

/// Request durations, in seconds: from a cached download to a large upload.
const DURATION_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Installs the recorder and serves `/metrics` on `addr`; returns the
/// address it listens on.
pub async fn start(addr: SocketAddr) -> Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), DURATION_BUCKETS)
        .context("metric buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    helpdesk_server::describe_metrics();
    helpdesk_console::thumbs::describe_metrics();
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for metrics: pass a free address with --metrics-listen")
    })?;
    let local = listener.local_addr()?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(local)
}
