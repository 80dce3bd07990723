//! `admin tenant set|show`, `admin audit list` and `admin scan`: keeping
//! images safely, at the command line.

use anyhow::{anyhow, Result};
use helpdesk_store::{AuditQuery, AuditRepo, PolicyChange, TenantPolicy};
use serde_json::{json, Value};

use crate::settings::{parse_duration, parse_since, rfc3339};

/// `--max-bytes N|none` and `--retain DURATION|none` as a change.
pub(super) fn policy_change(max_bytes: Option<&str>, retain: Option<&str>) -> Result<PolicyChange> {
    if max_bytes.is_none() && retain.is_none() {
        return Err(anyhow!(
            "give --max-bytes N (or none) and/or --retain DURATION (or none)"
        ));
    }
    let max_bytes = max_bytes
        .map(|m| match m {
            "none" => Ok(None),
            n => n.parse::<u64>().map(Some).map_err(|_| {
                anyhow!("--max-bytes {n:?}: give a number of bytes (e.g. 1073741824), or none")
            }),
        })
        .transpose()?;
    let retain_secs = retain
        .map(|r| match r {
            "none" => Ok(None),
            d => parse_duration(d)
                .map(|d| Some(d.as_secs().max(1)))
                .map_err(|e| anyhow!("--retain: {e}")),
        })
        .transpose()?;
    Ok(PolicyChange {
        max_bytes,
        retain_secs,
    })
}

pub(super) fn policy_json(p: &TenantPolicy) -> Value {
    json!({
        "tenant_key": p.tenant_key,
        "used_bytes": p.used_bytes,
        "max_bytes": p.max_bytes,
        "retain": p.retain_secs.map(|s| format!("{s}s")),
    })
}

/// Prints the audit trail as JSON lines, oldest first.
pub(super) async fn audit_list(
    audit: &dyn AuditRepo,
    since: Option<&str>,
    tenant: Option<String>,
) -> Result<()> {
    let since_ms = since
        .map(parse_since)
        .transpose()
        .map_err(|e| anyhow!("--since: {e}"))?;
    let mut query = AuditQuery {
        since_ms,
        tenant_key: tenant,
        after_seq: 0,
        limit: 1000,
    };
    loop {
        let page = audit.audit(&query).await?;
        for e in &page {
            let mut line = json!({
                "at": rfc3339(e.at),
                "actor": e.actor,
                "action": e.action,
                "id": e.id,
            });
            if let Some(t) = &e.tenant_key {
                line["tenant_key"] = json!(t);
            }
            if let Some(t) = &e.target {
                line["target"] = json!(t);
            }
            if e.detail.as_object().is_some_and(|d| !d.is_empty()) {
                line["detail"] = e.detail.clone();
            }
            println!("{line}");
        }
        match page.last() {
            Some(last) if page.len() == query.limit as usize => query.after_seq = last.seq,
            _ => return Ok(()),
        }
    }
}

/// `admin scan`: rescans what is stored and prints what it quarantined.
pub(super) async fn scan(
    stores: &helpdesk_store::Stores,
    addr: &str,
    since: Option<&str>,
) -> Result<()> {
    let addr: helpdesk_store::scan::ScannerAddr =
        addr.parse().map_err(|e| anyhow!("--scan: {e}"))?;
    let since = since
        .map(parse_since)
        .transpose()
        .map_err(|e| anyhow!("--since: {e}"))?
        .map(|ms| ms / 1000);
    let scanner = helpdesk_store::scan::Scanner::new(addr);
    let report = helpdesk_store::rescan::rescan(
        stores.meta.as_ref(),
        stores.blobs.as_ref(),
        &scanner,
        since,
        |n| {
            if n % 100 == 0 {
                eprintln!("scan: {n} objects");
            }
        },
    )
    .await
    .map_err(|e| anyhow!("{e}: the scan stopped; run it again once clamd answers"))?;
    if !report.quarantined.is_empty() {
        super::announce(stores).await;
    }
    for sha256 in &report.missing {
        eprintln!("scan: missing object {sha256} (see `helpdesk admin verify`)");
    }
    super::print(json!({ "scan": report }));
    Ok(())
}
