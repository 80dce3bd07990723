//! Day two, through real processes: metrics, JSON logs, the config file,
//! listing what was provisioned, backup / restore / verify, and the systemd
//! unit. (Probes are in probes.rs; admin changes reaching a running server
//! with its cache warm are in cache.rs.)

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use helpdesk_store::StorageConfig;
use helpdesk_testkit::binary::*;
use serde_json::Value;

/// Storage on the embedded backend whatever the pass: backup and restore
/// are about it.
fn embedded(dir: &Path) -> StorageConfig {
    StorageConfig {
        data_dir: dir.to_path_buf(),
        database_url: None,
        blob_url: None,
        durable: true,
    }
}

/// The value of one metric line `name{labels}` whose labels contain every
/// one of `with`, summed over the lines that match.
fn metric(text: &str, name: &str, with: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| with.iter().all(|w| l.contains(w)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_move_with_real_requests_and_json_log_lines_carry_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &["--metrics-listen", "127.0.0.1:0", "--log-format", "json"],
    );
    // With JSON logs every stdout line is a JSON object too.
    let line = server.stdout_line("the metrics address", |l| l.contains("\"metrics\""));
    let line: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    let metrics_url = line["metrics"].as_str().unwrap().to_string();
    for l in server.stdout.lock().unwrap().lines() {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("a stdout line that is not JSON ({e}): {l}"));
    }

    // A first scrape, before any request, lists every family, so that
    // dashboards and rate() work from the start.
    let first = scrape(&metrics_url).await;
    for family in [
        "helpdesk_http_requests_total",
        "helpdesk_image_bytes_served_total",
        "helpdesk_uploads_total",
        "helpdesk_download_cache_total",
        "helpdesk_tokens_issued_total",
        "helpdesk_event_deliveries_total",
        "helpdesk_upload_scans_total",
    ] {
        assert!(
            first.contains(&format!("# TYPE {family} counter")),
            "{family} missing from the first scrape: {first}"
        );
    }
    assert!(
        first.contains("# TYPE helpdesk_http_request_duration_seconds histogram"),
        "{first}"
    );
    assert!(
        first.contains(&format!(
            "helpdesk_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{first}"
    );
    assert_eq!(
        metric(&first, "helpdesk_uploads_total", &["outcome=\"stored\""]),
        0.0
    );
    let base = &server.base;
    let party = provision(dir.path());
    let c = party.client(base);
    let bytes = png(3, 3000);
    let ticket = open_ticket(&c).await;
    let msg = post_image(&c, &ticket, &bytes, "m.png").await;
    let caller = Caller::of(&party, base).await;
    for _ in 0..3 {
        let (status, _, _, body) = caller.image(base, &ticket, &msg).await;
        assert_eq!(status, 200);
        assert!(body == bytes);
    }
    let (status, code, _, _) = caller.image(base, &ticket, "7000000000000000001").await;
    assert_eq!((status, code), (404, 154004));

    let text = scrape(&metrics_url).await;
    let route = "route=\"/open-apis/helpdesk/v1/ticket_images\"";
    assert_eq!(
        metric(
            &text,
            "helpdesk_http_requests_total",
            &[route, "status=\"200\"", "code=\"0\""]
        ),
        3.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "helpdesk_http_requests_total",
            &[route, "status=\"404\"", "code=\"154004\""]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "helpdesk_image_bytes_served_total", &[]),
        3.0 * bytes.len() as f64
    );
    assert_eq!(
        metric(&text, "helpdesk_uploads_total", &["outcome=\"stored\""]),
        1.0
    );
    assert!(metric(&text, "helpdesk_tokens_issued_total", &["kind=\"tenant\""]) >= 2.0);
    assert!(metric(&text, "helpdesk_download_cache_total", &["result=\"hit\""]) >= 1.0);
    assert_eq!(
        metric(
            &text,
            "helpdesk_http_request_duration_seconds_count",
            &[route]
        ),
        4.0
    );
    // One more request moves the counter.
    caller.image(base, &ticket, &msg).await;
    let again = scrape(&metrics_url).await;
    assert_eq!(
        metric(
            &again,
            "helpdesk_http_requests_total",
            &[route, "status=\"200\""]
        ),
        4.0
    );

    let (_, log) = server.terminate();
    let mut access = Vec::new();
    for line in log.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        if v["target"] == "helpdesk::access" {
            access.push(v);
        }
    }
    let found = access
        .iter()
        .find(|v| v["route"] == "/open-apis/helpdesk/v1/ticket_images" && v["code"] == 154004)
        .expect("the 404's access line");
    assert_eq!(found["status"], 404);
    assert_eq!(found["app_id"], party.app_id.as_str());
    assert!(found["log_id"].as_str().unwrap().len() > 10);
    assert!(found["duration_ms"].as_f64().unwrap() >= 0.0);
    for secret in [&party.app_secret, &party.helpdesk_token, &caller.token] {
        assert!(!log.contains(secret.as_str()), "a secret in the log");
    }
}

/// `helpdesk [--config F] admin [--data-dir D] tenant list` with `env`:
/// the names of the tenants it sees.
fn tenants_seen(config: &Path, data_dir: Option<&Path>, env: &[(&str, &Path)]) -> Vec<String> {
    let mut cmd = Command::new(bin());
    cmd.arg("--config")
        .arg(config)
        .args(["admin", "tenant", "list"]);
    if let Some(d) = data_dir {
        cmd.arg("--data-dir").arg(d);
    }
    cmd.env_remove("HELPDESK_DATA_DIR")
        .env_remove("HELPDESK_DATABASE_URL")
        .env_remove("HELPDESK_BLOB_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_config_file_sits_beneath_the_environment_and_flags_and_names_a_bad_key() {
    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = ["file", "env", "flag"]
        .iter()
        .map(|name| {
            let dir = root.path().join(name);
            admin(&embedded(&dir), &["tenant", "create", "--name", name]);
            dir
        })
        .collect();
    let config = root.path().join("helpdesk.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nmax_image_bytes = 1000\nlog_format = \"json\"\n",
            dirs[0]
        ),
    )
    .unwrap();
    assert_eq!(tenants_seen(&config, None, &[]), ["file"]);
    let env = [("HELPDESK_DATA_DIR", dirs[1].as_path())];
    assert_eq!(tenants_seen(&config, None, &env), ["env"]);
    assert_eq!(tenants_seen(&config, Some(&dirs[2]), &env), ["flag"]);
    // HELPDESK_CONFIG names the file as well as the flag does.
    let out = Command::new(bin())
        .args(["admin", "tenant", "list"])
        .env("HELPDESK_CONFIG", &config)
        .env_remove("HELPDESK_DATA_DIR")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"file\""));

    let fails = |text: &str| {
        std::fs::write(&config, text).unwrap();
        let out = Command::new(bin())
            .arg("--config")
            .arg(&config)
            .args(["admin", "tenant", "list"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let err = fails("data_dir = \"/tmp/x\"\nmax_image_byte = 5\n");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown key `max_image_byte`"), "{err}");
    let err = fails("max_image_bytes = \"lots\"\n");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("max_image_bytes"), "{err}");
    let err = fails("log_format = \"xml\"\n");
    assert!(err.contains("log_format"), "{err}");

    // The example in the repository is a valid file.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helpdesk.example.toml");
    assert_eq!(tenants_seen(&example, Some(&dirs[2]), &[]), ["flag"]);
}

#[test]
fn lists_show_what_was_provisioned_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let a = provision(dir.path());
    let b = provision(dir.path());
    let tenants = admin(dir.path(), &["tenant", "list"]);
    let keys: Vec<&str> = tenants["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| s(&t["tenant_key"]))
        .collect();
    assert!(keys.contains(&a.tenant_key.as_str()) && keys.contains(&b.tenant_key.as_str()));
    let apps = admin(dir.path(), &["app", "list", "--tenant", &a.tenant_key]);
    let apps = apps["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(s(&apps[0]["app_id"]), a.app_id);
    assert_eq!(apps[0]["kind"], "custom");
    assert_eq!(apps[0]["disabled"], false);
    let all = admin(dir.path(), &["app", "list"]);
    assert_eq!(all["apps"].as_array().unwrap().len(), 2);
    let helpdesks = admin(dir.path(), &["helpdesk", "list", "--tenant", &b.tenant_key]);
    let helpdesks = helpdesks["helpdesks"].as_array().unwrap();
    assert_eq!(helpdesks.len(), 1);
    assert_eq!(s(&helpdesks[0]["helpdesk_id"]), b.helpdesk_id);
    let shown = admin(dir.path(), &["app", "show", "--app", &a.app_id]);
    assert_eq!(
        shown["scopes"],
        serde_json::json!(["helpdesk:all", "im:resource"])
    );
    let printed = format!("{tenants}{all}{helpdesks:?}{shown}");
    for secret in [
        &a.app_secret,
        &a.helpdesk_token,
        &b.app_secret,
        &b.helpdesk_token,
    ] {
        assert!(!printed.contains(secret.as_str()));
    }
    assert!(!printed.contains("sha256"), "not even a digest: {printed}");
    let err = admin_fails(dir.path(), &["app", "show", "--app", "cli_nope"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("helpdesk admin app list"), "{err}");
}

/// Every image message posted, as (ticket, message_id, bytes).
type Posted = Vec<(String, String, Vec<u8>)>;

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_during_uploads_restores_byte_for_byte_and_verifies() {
    let root = tempfile::tempdir().unwrap();
    let live = embedded(&root.path().join("live"));
    let server = serve(&live, &[]);
    let party = provision(&live);
    let c = party.client(&server.base);
    let ticket = open_ticket(&c).await;
    let mut before: Posted = Vec::new();
    for i in 0..20u8 {
        let bytes = png(i, 2000 + 500 * i as usize);
        let msg = post_image(&c, &ticket, &bytes, "b.png").await;
        before.push((ticket.clone(), msg, bytes));
    }
    // Uploads go on while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (c, ticket, stop) = (c.clone(), ticket.clone(), stop.clone());
        tokio::spawn(async move {
            let mut during: Posted = Vec::new();
            let mut i = 100u8;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let bytes = png(i, 40_000);
                let msg = post_image(&c, &ticket, &bytes, "d.png").await;
                during.push((ticket.clone(), msg, bytes));
                i = i.wrapping_add(1);
            }
            during
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = root.path().join("backup");
    let taken = admin(&live, &["backup", "--out", out.to_str().unwrap()]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let during = writer.await.unwrap();
    assert!(!during.is_empty(), "uploads ran during the backup");
    assert!(
        taken["copied"]["objects"].as_u64().unwrap() >= 20,
        "{taken}"
    );
    assert!(out.join("backup.json").exists());
    server.terminate();

    // A restore refuses a data dir that holds anything.
    let busy = embedded(&root.path().join("busy"));
    std::fs::create_dir_all(&busy.data_dir).unwrap();
    std::fs::write(busy.data_dir.join("keep.txt"), b"x").unwrap();
    let err = admin_fails(&busy, &["restore", "--from", out.to_str().unwrap()]);
    assert!(err.contains("not empty"), "{err}");
    assert!(busy.data_dir.join("keep.txt").exists());

    let restored = embedded(&root.path().join("restored"));
    admin(&restored, &["restore", "--from", out.to_str().unwrap()]);
    let verified = admin(&restored, &["verify"]);
    assert_eq!(verified["ok"], true, "{verified}");
    assert!(verified["report"]["objects"].as_u64().unwrap() >= 20);

    // Served from the restored dir, with the same credentials (the backup
    // holds the digests and signing keys): everything acknowledged before
    // the backup, byte for byte, and what came during it either whole or
    // not at all.
    let server = serve(&restored, &[]);
    let caller = Caller::of(&party, &server.base).await;
    for (ticket, msg, bytes) in &before {
        let (status, _, _, body) = caller.image(&server.base, ticket, msg).await;
        assert_eq!(status, 200);
        assert!(body == *bytes, "restored bytes differ");
    }
    let mut included = 0;
    for (ticket, msg, bytes) in &during {
        let (status, code, _, body) = caller.image(&server.base, ticket, msg).await;
        match status {
            200 => {
                assert!(body == *bytes);
                included += 1;
            }
            _ => assert_eq!(code, 154004, "a later message is simply not there"),
        }
    }
    eprintln!(
        "backup: {} messages before, {} during, {included} of those in the backup",
        before.len(),
        during.len()
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_finds_a_corrupted_and_a_missing_object_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let ticket = open_ticket(&c).await;
    let images: Vec<Vec<u8>> = (0..3).map(|i| png(40 + i, 3000)).collect();
    for bytes in &images {
        post_image(&c, &ticket, bytes, "v.png").await;
    }
    server.terminate();
    let clean = admin(dir.path(), &["verify"]);
    assert_eq!(clean["ok"], true, "{clean}");
    assert_eq!(clean["report"]["objects"], 3);

    let sha = |b: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b));
    let stores = helpdesk_testkit::open(dir.path()).await;
    // Corrupt: other bytes of the same length under the first's name.
    let mut wrong = images[0].clone();
    let last = wrong.len() - 1;
    wrong[last] ^= 0xff;
    let file = dir.path().join("corrupt.bin");
    std::fs::write(&file, &wrong).unwrap();
    stores
        .blobs
        .put_file(&sha(&images[0]), &file)
        .await
        .unwrap();
    // Missing: the second's object deleted.
    stores.blobs.delete(&sha(&images[1])).await.unwrap();
    // Stray: an object no row names.
    let stray = b"not an image anyone posted".to_vec();
    std::fs::write(&file, &stray).unwrap();
    stores.blobs.put_file(&sha(&stray), &file).await.unwrap();

    let out = Command::new(bin())
        .arg("admin")
        .args(helpdesk_testkit::config_args(&helpdesk_testkit::storage(
            dir.path(),
        )))
        .arg("verify")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["report"]["corrupt"],
        serde_json::json!([sha(&images[0])])
    );
    assert_eq!(
        report["report"]["missing"],
        serde_json::json!([sha(&images[1])])
    );
    assert_eq!(
        report["report"]["unreferenced"],
        serde_json::json!([sha(&stray)])
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("missing object {}", sha(&images[1]))),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("1 missing and 1 corrupt"),
        "{stderr}"
    );

    // Backup takes the embedded store; on PostgreSQL it says what to use.
    if helpdesk_testkit::storage(dir.path()).database_url.is_some() {
        let err = admin_fails(dir.path(), &["backup", "--out", "/tmp/never"]);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("pg_dump"), "{err}");
    }
}

#[test]
fn the_systemd_unit_verifies() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed here: the unit was not checked");
        return;
    };
    assert!(probe.status.success());
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helpdesk.service"),
    )
    .unwrap();
    assert!(unit.contains("DynamicUser=yes") && unit.contains("StateDirectory=helpdesk"));
    // Longer than the server's 30 s drain.
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(stop > 30);
    // Checked against this build of the binary.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("helpdesk.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/helpdesk", bin())).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !said.contains("helpdesk.service"),
        "{said}"
    );
}
