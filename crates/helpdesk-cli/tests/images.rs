//! `helpdesk images get` and `helpdesk images export` against the real server.

use std::process::{Command, Output};

use helpdesk_testkit::binary::*;
use helpdesk_testkit::images::jpeg;
use serde_json::Value;

struct Env {
    server: Serving,
    party: Party,
    vars: Vec<(&'static str, String)>,
    data: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn images(env: &Env, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("images")
        .args(args)
        .envs(env.vars.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap()
}

fn setup() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data, &[]);
    let party = provision(&data);
    let vars = party.env(&server.base);
    Env {
        server,
        party,
        vars,
        data,
        _dir: dir,
    }
}

fn manifest(dir: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn export_reproduces_every_image_then_downloads_nothing_then_reports_a_deleted_one() {
    let env = setup();
    let c = env.party.client(&env.server.base);
    let bytes = [png(1, 3000), jpeg(2, 2000), png(3, 1000), png(4, 4000)];
    let ImageTicket {
        ticket: t,
        image_msg,
        post_msg,
        ..
    } = ticket_with_images(&c, &bytes).await;
    let listed = c
        .list_messages(&t, &Default::default())
        .await
        .unwrap()
        .messages;
    let id_of = |om: &str| listed.iter().find(|m| m.message_id == om).unwrap().clone();
    let (image_m, post_m) = (id_of(&image_msg), id_of(&post_msg));

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("export");
    let dir_s = dir.to_str().unwrap();
    let run = images(
        &env,
        &[
            "export",
            "--ticket",
            &t,
            "--out",
            dir_s,
            "--concurrency",
            "3",
        ],
    );
    let log = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{log}");
    assert!(log.contains("4 downloaded"), "{log}");
    // Not a terminal: plain progress lines.
    assert_eq!(
        log.lines().filter(|l| l.starts_with('[')).count(),
        4,
        "{log}"
    );

    let m = manifest(&dir);
    let entries = m["images"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    let expected = [
        (&image_m, 0, &bytes[0], "png"),
        (&post_m, 0, &bytes[1], "jpg"),
        (&post_m, 1, &bytes[2], "png"),
        (&post_m, 2, &bytes[3], "png"),
    ];
    for (entry, (msg, index, want, ext)) in entries.iter().zip(expected) {
        let name = format!("{}_{}_{}.{}", msg.created_at, msg.id, index, ext);
        assert_eq!(entry["file_name"], name.as_str());
        assert_eq!(entry["message_id"], msg.id.as_str());
        assert_eq!(entry["index"], index);
        assert_eq!(entry["size"], want.len());
        assert_eq!(
            entry["content_type"],
            if ext == "jpg" {
                "image/jpeg"
            } else {
                "image/png"
            }
        );
        let got = std::fs::read(dir.join(&name)).unwrap();
        assert!(&got == want, "{name} byte for byte");
        use sha2::Digest;
        assert_eq!(
            entry["sha256"],
            hex::encode(sha2::Sha256::digest(&got)).as_str()
        );
    }

    // A second run downloads nothing.
    let again = images(&env, &["export", "--ticket", &t, "--out", dir_s]);
    let log = String::from_utf8_lossy(&again.stderr).to_string();
    assert!(again.status.success(), "{log}");
    assert!(
        log.contains("0 downloaded") && log.contains("4 already present"),
        "{log}"
    );
    // A changed file is fetched again.
    std::fs::write(
        dir.join(entries[1]["file_name"].as_str().unwrap()),
        b"tampered",
    )
    .unwrap();
    let again = images(&env, &["export", "--ticket", &t, "--out", dir_s]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("1 downloaded"));

    // One deleted image: the rest is exported, the run fails naming it.
    admin(
        &env.data,
        &[
            "image", "delete", "--ticket", &t, "--msg", &post_msg, "--index", "1",
        ],
    );
    let fresh = out.path().join("fresh");
    let run = images(
        &env,
        &["export", "--ticket", &t, "--out", fresh.to_str().unwrap()],
    );
    let log = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(!run.status.success());
    assert!(
        log.contains(&format!("failed: message {} image 1", post_m.id)) && log.contains("154404"),
        "{log}"
    );
    assert_eq!(manifest(&fresh)["images"].as_array().unwrap().len(), 3);
    assert!(
        log.lines()
            .last()
            .unwrap()
            .starts_with("error: 1 of 4 image(s)"),
        "{log}"
    );

    // `images get` writes one image, under the server's name or -o.
    let single = out.path().join("one.png");
    let got = images(
        &env,
        &[
            "get",
            "--ticket",
            &t,
            "--msg",
            &image_m.id,
            "-o",
            single.to_str().unwrap(),
        ],
    );
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(std::fs::read(&single).unwrap(), bytes[0]);
    let stdout = images(
        &env,
        &[
            "get", "--ticket", &t, "--msg", &post_msg, "--index", "2", "-o", "-",
        ],
    );
    assert_eq!(stdout.stdout, bytes[3]);
    env.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_or_an_unreachable_server_is_one_clear_line() {
    let mut env = setup();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();

    env.vars[2].1 = "wrong".into();
    let run = images(
        &env,
        &["export", "--ticket", "7000000000000000000", "--out", &dir],
    );
    let err = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(!run.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("10014") && err.contains("HELPDESK_APP_SECRET"),
        "{err}"
    );

    env.vars[0].1 = "http://127.0.0.1:9".into();
    let run = images(
        &env,
        &["export", "--ticket", "7000000000000000000", "--out", &dir],
    );
    let log = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(!run.status.success());
    // The SDK's retries are warnings on stderr; the error is the one last line.
    let (err, warnings) = log
        .trim_end()
        .lines()
        .collect::<Vec<_>>()
        .split_last()
        .map(|(l, w)| (l.to_string(), w.to_vec()))
        .unwrap();
    assert!(
        err.starts_with("error: cannot reach") && err.contains("HELPDESK_BASE_URL"),
        "{log}"
    );
    assert_eq!(warnings.len(), 3, "one warning per retry: {log}");
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("WARN") && w.contains("retrying")),
        "{log}"
    );
    env.server.terminate();
}
