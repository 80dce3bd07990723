//! A test suite's server in one line: fixtures with known credentials,
//! `--ephemeral` on a free port, and `admin reset`, against the real binary
//! on this pass's backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures::TryStreamExt;
use helpdesk_store::RecordKind;
use helpdesk_testkit::backend;
use helpdesk_testkit::binary::*;
use helpdesk_testkit::party::Party;

const APP_ID: &str = "cli_a1b2c3d4e5f60718";
const SECRET: &str = "acme-app-secret-0123456789";
const HELPDESK: &str = "7531651897570195829";
const TICKET: &str = "7744543483208438777";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// The example file (every kind of record) with its images, copied where a
/// test may edit it.
fn copy_example(to: &Path) -> PathBuf {
    let from = example_dir();
    std::fs::create_dir_all(to.join("fixtures")).unwrap();
    for name in ["screenshot.png", "photo.jpg"] {
        std::fs::copy(
            from.join("fixtures").join(name),
            to.join("fixtures").join(name),
        )
        .unwrap();
    }
    let file = to.join("fixtures.toml");
    std::fs::copy(from.join("fixtures.example.toml"), &file).unwrap();
    file
}

fn party(secret: &str) -> Party {
    Party {
        tenant_key: "acme".into(),
        app_id: APP_ID.into(),
        app_secret: secret.into(),
        helpdesk_id: HELPDESK.into(),
        helpdesk_token: "ht-0123456789abcdef0123456789abcdef".into(),
    }
}

/// Every row of every table, and the change counter.
async fn dump(data: &Path) -> String {
    let stores = backend::open(data).await;
    let mut text = format!("generation {}\n", stores.meta.generation().await.unwrap());
    for kind in RecordKind::ALL {
        for record in backend::records(&stores, kind).await {
            text.push_str(&format!("{record:?}\n"));
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_record_is_served_as_declared_and_a_second_start_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = copy_example(dir.path());
    let file_s = file.to_str().unwrap();

    let server = serve(&data, &["--fixtures", file_s]);
    let c = party(SECRET).client(&server.base);
    // The declared ticket, its messages in order, and their images byte
    // for byte (the post's in index order).
    let messages: Vec<_> = c
        .messages(TICKET, Default::default())
        .try_collect()
        .await
        .unwrap();
    let types: Vec<&str> = messages.iter().map(|m| m.message_type.as_str()).collect();
    assert_eq!(types, ["text", "image", "post"]);
    assert_eq!(
        messages[0].message_id,
        "om_00000000000000000000000000000001"
    );
    let shot = std::fs::read(dir.path().join("fixtures/screenshot.png")).unwrap();
    let photo = std::fs::read(dir.path().join("fixtures/photo.jpg")).unwrap();
    let got = c.ticket_image(TICKET, &messages[1].id, None).await.unwrap();
    assert_eq!(got.file_name.as_deref(), Some("screenshot.png"));
    assert_eq!(got.bytes().await.unwrap(), shot);
    for (index, want) in [(0, &shot), (1, &photo)] {
        let got = c
            .ticket_image(TICKET, &messages[2].message_id, Some(index))
            .await
            .unwrap();
        assert_eq!(&got.bytes().await.unwrap(), want, "post image {index}");
    }
    // The FAQ and its image; the agent's user token (as `admin agent
    // token` prints it) works.
    let faq = c
        .faq_image("7000000000000000001", &faq_key(&c).await)
        .await
        .unwrap();
    assert_eq!(faq.bytes().await.unwrap(), photo);
    let token = admin(
        &data,
        &[
            "agent",
            "token",
            "--agent",
            "ou_agent00000000000000000000000001",
            "--app",
            APP_ID,
        ],
    );
    assert!(s(&token["user_access_token"]).starts_with("u-"), "{token}");
    server.terminate();

    let first = dump(&data).await;
    // Secrets are kept as digests only.
    for secret in [SECRET, "ht-0123456789abcdef0123456789abcdef"] {
        assert!(!first.contains(secret), "{secret} stored in clear");
    }
    serve(&data, &["--fixtures", file_s]).terminate();
    let second = dump(&data).await;
    assert!(
        first == second,
        "a second start changed storage:\n{first}\n---\n{second}"
    );
    let report = admin(&data, &["fixtures", "apply", file_s]);
    assert_eq!(report["report"]["changed"], 0, "{report}");
    assert!(dump(&data).await == first);
}

/// The image key of the FAQ's first image, as the API lists it.
async fn faq_key(c: &helpdesk_client::Client) -> String {
    let faq = c.faq("7000000000000000001").await.unwrap();
    let key = faq
        .answer_richtext
        .iter()
        .find(|e| e.kind.as_deref() == Some("image"))
        .and_then(|e| e.content.clone());
    key.expect("the FAQ's answer holds its image")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_secret_applied_without_a_restart_refuses_the_old_and_takes_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = copy_example(dir.path());
    let server = serve(&data, &["--fixtures", file.to_str().unwrap()]);
    let old = party(SECRET).client(&server.base);
    old.tenant_access_token()
        .await
        .expect("the declared secret works");

    let new_secret = "a-brand-new-secret-for-acme";
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace(SECRET, new_secret);
    std::fs::write(&file, text).unwrap();
    let report = admin(&data, &["fixtures", "apply", file.to_str().unwrap()]);
    assert!(
        report["report"]["changed"].as_u64().unwrap() >= 1,
        "{report}"
    );

    let refused = party(SECRET)
        .client(&server.base)
        .tenant_access_token()
        .await
        .expect_err("the old secret is refused");
    assert!(refused.to_string().contains("10014"), "{refused}");
    party(new_secret)
        .client(&server.base)
        .tenant_access_token()
        .await
        .expect("the new secret works");
    server.terminate();
}

#[test]
fn a_bad_file_is_one_line_naming_the_file_line_and_key_and_nothing_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let file = copy_example(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    let cases = [
        (
            "app_id = \"cli_a1b2c3d4e5f60718\"",
            "app_id = \"app-1\"",
            "app #1 app_id",
            "does not look like a Feishu app id",
        ),
        (
            "name = \"Acme Helpdesk\"",
            "name = \"Acme Helpdesk\"\ncolour = \"red\"",
            "",
            "unknown field `colour`",
        ),
        (
            "images = [\"fixtures/photo.jpg\"]           # optional",
            "images = [\"fixtures/missing.jpg\"]  #",
            "faq #1 images",
            "cannot be read",
        ),
        (
            "images = [\"fixtures/photo.jpg\"]           # optional",
            "images = [\"fixtures.toml\"]  #",
            "faq #1 images",
            "is not an image",
        ),
        (
            "key = \"acme\"",
            "key = \"acme\"\n[[tenant]]\nkey = \"acme\"",
            "tenant #2 key",
            "declared twice",
        ),
    ];
    for (from, to, key, what) in cases {
        assert!(text.contains(from), "{from}");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text.replacen(from, to, 1)).unwrap();
        let line = text.replacen(from, to, 1)[..text.replacen(from, to, 1).find(to).unwrap()]
            .matches('\n')
            .count()
            + 1;
        let out = Command::new(bin())
            .args(["fixtures", "check"])
            .arg(&bad)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        let mentions_line = (line..line + 4).any(|l| err.contains(&format!("bad.toml:{l}:")));
        assert!(
            mentions_line && err.contains(key) && err.contains(what),
            "{err} (line {line})"
        );

        // `serve` refuses it before touching storage.
        let data = dir.path().join("data");
        let out = Command::new(bin())
            .arg("serve")
            .args(backend::config_args(&backend::storage(&data)))
            .args(["--listen", "127.0.0.1:0", "--fixtures"])
            .arg(&bad)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(what));
        assert!(!data.exists() || !data.join("fixtures.path").exists());
    }
    let out = Command::new(bin())
        .args(["fixtures", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ten_ephemeral_servers_at_once_take_ten_ports_and_leave_no_directory_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let mut children = Vec::new();
    for _ in 0..10 {
        let mut child = Command::new(bin())
            .args(["serve", "--ephemeral", "--listen", "127.0.0.1:0"])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        children.push((child, stdout));
    }
    let mut urls = Vec::new();
    for (_, stdout) in children.iter_mut() {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .unwrap();
        let url = first.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "the first line is the URL: {first:?}"
        );
        assert_eq!(status_of(&url, "/readyz"), Some(200));
        urls.push(url);
    }
    let mut unique = urls.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10, "{urls:?}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 10);
    for (child, _) in &children {
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    for (mut child, _) in children {
        assert!(child.wait().unwrap().success());
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn an_ephemeral_server_started_with_exit_with_parent_stops_when_its_parent_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let ready = tmp.path().join("ready");
    // The parent: a shell that starts the server and ends as soon as the
    // ready file is there (the server may not have begun serving yet).
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' serve --ephemeral --listen 127.0.0.1:0 --exit-with-parent --ready-file '{}' >/dev/null 2>&1 & \
             for i in $(seq 200); do [ -s '{}' ] && break; sleep 0.01; done",
            bin(),
            ready.display(),
            ready.display()
        ))
        .env("TMPDIR", tmp.path())
        .env_remove("HELPDESK_DATABASE_URL")
        .env_remove("HELPDESK_BLOB_URL")
        .status()
        .unwrap();
    assert!(status.success());
    // It sees its parent gone: it stops and its directory goes.
    let url = std::fs::read_to_string(&ready).unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('\n'),
        "{url:?}"
    );
    wait_for("the server to stop and remove its directory", || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(Result::ok)
            .all(|e| {
                !e.file_name()
                    .to_string_lossy()
                    .starts_with("helpdesk-ephemeral-")
            })
    });
    assert_eq!(
        status_of(url.trim(), "/readyz"),
        None,
        "the server still answers"
    );
}

/// The status of `GET path` at `base`, or none when nothing answers.
fn status_of(base: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let addr = base.strip_prefix("http://")?;
    let mut conn = std::net::TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_removes_tickets_and_images_keeps_the_apps_and_brings_the_declared_ones_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = copy_example(dir.path());
    let server = serve(&data, &["--fixtures", file.to_str().unwrap()]);
    let c = party(SECRET).client(&server.base);
    // A ticket the test opens itself, with an image.
    let own = open_ticket(&c).await;
    let msg = post_image(&c, &own, &png(4, 2000), "mine.png").await;
    c.ticket_image(&own, &msg, None)
        .await
        .expect("before the reset");
    let objects = backend::object_count(&backend::open(&data).await).await;

    let out = admin(&data, &["reset"]);
    assert!(out["removed_rows"].as_u64().unwrap() > 0, "{out}");
    assert!(out["fixtures_reapplied"].is_string(), "{out}");
    assert_eq!(
        backend::object_count(&backend::open(&data).await).await,
        objects - 1
    );
    // The test's own ticket is gone; the app still works; the declared
    // ticket is back as the file has it.
    // At once, with no wait: the server was told before reset returned.
    c.ticket_image(&own, &msg, None)
        .await
        .expect_err("the cached image is gone with its ticket");
    let gone = c.ticket(&own).await.expect_err("the ticket was removed");
    assert!(gone.to_string().contains("154"), "{gone}");
    let messages: Vec<_> = c
        .messages(TICKET, Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(messages.len(), 3);
    server.terminate();

    // A data dir neither ephemeral nor made by fixtures needs --yes.
    let plain = dir.path().join("plain");
    provision(&plain);
    let refused = admin_fails(&plain, &["reset"]);
    assert!(refused.contains("--yes"), "{refused}");
    admin(&plain, &["reset", "--yes"]);
}
