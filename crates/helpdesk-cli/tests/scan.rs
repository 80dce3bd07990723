//! The malware scan, with a real clamd of the test's own (its signatures
//! detect the EICAR test string anywhere in a file): an infected upload is
//! refused naming the signature and nothing of it is stored; uploads wait
//! while clamd is down and succeed once it is back, without a restart;
//! `admin scan` after a signature update quarantines what is stored, and
//! `admin quarantine release` serves it again. Runs on both backends.

use helpdesk_testkit::binary::*;
use helpdesk_testkit::{object_count, open, Clamd, EICAR, EICAR_SIGNATURE};
use serde_json::Value;

/// An upload as raw HTTP, for the envelope's hint: (status, body).
async fn upload(base: &str, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("image_type", "message")
        .part(
            "image",
            reqwest::multipart::Part::bytes(bytes).file_name("x.png"),
        );
    let res = reqwest::Client::new()
        .post(format!("{base}/open-apis/im/v1/images"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A PNG that carries the EICAR string after its pixels.
fn infected_png() -> Vec<u8> {
    let mut bytes = png(60, 4000);
    bytes.extend_from_slice(EICAR);
    bytes
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infected_upload_is_refused_naming_the_signature_and_nothing_of_it_is_stored() {
    let Some(clamd) = Clamd::start_unless_skipped("scan") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[
            "--scan",
            &clamd.addr_tcp(),
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let metrics_line = server.stdout_line("the metrics address", |l| l.contains("metrics"));
    let metrics_url = metrics_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let token = c.tenant_access_token().await.unwrap();

    for bytes in [infected_png(), EICAR.to_vec()] {
        let (status, body) = upload(&server.base, &token, bytes).await;
        assert_eq!(
            (status, body["code"].as_i64()),
            (400, Some(234901)),
            "{body}"
        );
        assert!(
            body.to_string().contains(EICAR_SIGNATURE),
            "the hint names it: {body}"
        );
    }
    assert!(spool_files(dir.path()).is_empty());
    let stores = open(dir.path()).await;
    assert_eq!(object_count(&stores).await, 0, "nothing of it is stored");

    // A clean image goes through and downloads as it was sent; the same
    // bytes again are not sent to clamd again.
    let clean = png(61, 4000);
    let t = ticket_with_images(&c, &[clean.clone(), png(62, 100)]).await;
    let caller = Caller::of(&party, &server.base).await;
    let (status, code, _, body) = caller.image(&server.base, &t.ticket, &t.image_msg).await;
    assert_eq!((status, code), (200, 0));
    assert_eq!(body, clean);
    c.upload_image(clean.clone(), "again.png").await.unwrap();

    let scraped = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scans = |verdict: &str| {
        metric(
            &scraped,
            &format!("helpdesk_upload_scans_total{{verdict=\"{verdict}\"}}"),
        )
    };
    assert_eq!(scans("infected"), 2.0, "{scraped}");
    assert_eq!(scans("clean"), 2.0, "{scraped}");
    assert_eq!(scans("clean_on_record"), 1.0, "{scraped}");
    assert_eq!(
        metric(&scraped, "helpdesk_uploads_total{outcome=\"infected\"}"),
        2.0,
        "{scraped}"
    );
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(
        log.contains(EICAR_SIGNATURE) && log.contains("infected"),
        "{log}"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_wait_while_clamd_is_down_and_succeed_once_it_is_back_without_a_restart() {
    let Some(mut clamd) = Clamd::start_unless_skipped("scan") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--scan", &clamd.addr_unix()]);
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let token = c.tenant_access_token().await.unwrap();
    assert_eq!(
        upload(&server.base, &token, png(63, 500)).await.1["code"],
        0
    );

    clamd.stop();
    let (status, body) = upload(&server.base, &token, png(64, 500)).await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (500, Some(155000)),
        "{body}"
    );
    assert!(spool_files(dir.path()).is_empty());
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("malware scan unavailable"), "{log}");

    clamd.restart();
    let (status, body) = upload(&server.base, &token, png(64, 500)).await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    server.terminate();

    // With --scan-failure open, an upload goes through unscanned instead.
    clamd.stop();
    let open_dir = tempfile::tempdir().unwrap();
    let server = serve(
        open_dir.path(),
        &["--scan", &clamd.addr_tcp(), "--scan-failure", "open"],
    );
    let party = provision(open_dir.path());
    let token = party
        .client(&server.base)
        .tenant_access_token()
        .await
        .unwrap();
    let (status, body) = upload(&server.base, &token, png(65, 500)).await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("stored unscanned"), "{log}");
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rescan_after_a_signature_update_quarantines_stored_images_until_released() {
    let Some(clamd) = Clamd::start_unless_skipped("scan") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--scan", &clamd.addr_tcp()]);
    let party = provision(dir.path());
    let c = party.client(&server.base);
    // Clean under today's signatures, then a signature for a marker in it.
    let marker = b"HELPDESK-RESCAN-MARKER-7f3a";
    let mut suspect = png(66, 2000);
    suspect.extend_from_slice(marker);
    let t = ticket_with_images(&c, &[suspect.clone(), png(67, 2000)]).await;
    let caller = Caller::of(&party, &server.base).await;
    assert_eq!(
        caller.image(&server.base, &t.ticket, &t.image_msg).await.1,
        0
    );
    clamd.add_signature("Helpdesk.Test.Marker", &hex::encode(marker));

    let scan = ["scan", "--scan", &clamd.addr_tcp()];
    let report = admin(dir.path(), &scan);
    let quarantined = report["scan"]["quarantined"].as_array().unwrap();
    assert_eq!(report["scan"]["scanned"], 2, "{report}");
    assert_eq!(quarantined.len(), 1, "{report}");
    assert_eq!(
        quarantined[0]["signature"],
        "Helpdesk.Test.Marker.UNOFFICIAL"
    );
    let sha256 = quarantined[0]["sha256"].as_str().unwrap().to_string();
    assert_eq!(
        quarantined[0]["images"].as_array().unwrap().len(),
        2,
        "the upload and the message image: {report}"
    );
    // The running server answers as for a deleted image at once; the other
    // image of the ticket is served.
    assert_eq!(
        caller.image(&server.base, &t.ticket, &t.image_msg).await.1,
        154404
    );
    let other = c
        .ticket_image(&t.ticket, &t.post_msg, Some(0))
        .await
        .unwrap();
    assert_eq!(other.bytes().await.unwrap(), png(67, 2000));
    let listed = admin(dir.path(), &["quarantine", "list"]);
    assert_eq!(
        listed["quarantined"][0]["sha256"],
        sha256.as_str(),
        "{listed}"
    );

    let released = admin(dir.path(), &["quarantine", "release", "--sha256", &sha256]);
    assert_eq!(released["released"]["sha256"], sha256.as_str());
    let (_, code, _, body) = caller.image(&server.base, &t.ticket, &t.image_msg).await;
    assert_eq!((code, body), (0, suspect), "served again, byte for byte");

    // Quarantined again, then purged: deleted for good, its bytes gone.
    let report = admin(dir.path(), &scan);
    assert_eq!(report["scan"]["quarantined"].as_array().unwrap().len(), 1);
    let purged = admin(dir.path(), &["quarantine", "purge", "--sha256", &sha256]);
    assert_eq!(purged["blob_removed"], true, "{purged}");
    assert_eq!(
        caller.image(&server.base, &t.ticket, &t.image_msg).await.1,
        154404
    );
    let err = admin_fails(dir.path(), &["quarantine", "release", "--sha256", &sha256]);
    assert!(err.contains("admin quarantine list"), "{err}");

    let trail = admin_lines(dir.path(), &["audit", "list"]);
    let acts: Vec<(&str, &str)> = trail
        .iter()
        .filter(|l| s(&l["action"]).starts_with("quarantine"))
        .map(|l| (s(&l["actor"]), s(&l["action"])))
        .collect();
    assert_eq!(
        acts,
        [
            ("scan", "quarantine.add"),
            ("admin", "quarantine.release"),
            ("scan", "quarantine.add"),
            ("admin", "quarantine.purge"),
        ],
        "{trail:#?}"
    );
    server.terminate();
}

#[test]
fn a_server_whose_uploads_clamd_cannot_take_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin())
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args([
            "--scan",
            "clamd:127.0.0.1:1",
            "--max-image-bytes",
            "104857600",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("StreamMaxLength") && err.contains("--scan-max-bytes"),
        "{err}"
    );
    let out = std::process::Command::new(bin())
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(["--scan", "clamav://here"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("clamd:HOST:PORT"), "{err}");
}
