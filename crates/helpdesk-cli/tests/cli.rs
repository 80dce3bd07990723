//! The `helpdesk` binary as operators and newcomers use it: a real process,
//! real signals, real curl.

use std::process::Command;
use std::time::Duration;

use helpdesk_testkit::binary::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn admin_provisions_and_deletes_while_the_server_runs_and_sigterm_drains() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let server = serve(data, &[]);
    let base = server.base.clone();

    let tenant = admin(data, &["tenant", "create", "--name", "Acme"]);
    let tenant_key = s(&tenant["tenant_key"]).to_string();
    let app = admin(
        data,
        &["app", "create", "--tenant", &tenant_key, "--name", "Bot"],
    );
    let helpdesk = admin(
        data,
        &[
            "helpdesk",
            "create",
            "--tenant",
            &tenant_key,
            "--name",
            "IT",
        ],
    );
    let store_app = admin(
        data,
        &[
            "app",
            "create",
            "--tenant",
            &tenant_key,
            "--name",
            "Market",
            "--kind",
            "store",
            "--scope",
            "helpdesk:all",
        ],
    );
    assert!(s(&store_app["app_id"]).starts_with("cli_"));

    // Operator mistakes are one line that says what to do.
    let err = admin_fails(data, &["app", "create", "--tenant", "nope", "--name", "x"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("helpdesk admin tenant create"), "{err}");
    let err = admin_fails(
        data,
        &[
            "app",
            "create",
            "--tenant",
            &tenant_key,
            "--name",
            "x",
            "--kind",
            "weird",
        ],
    );
    assert!(err.contains("possible values: custom, store"), "{err}");

    let http = reqwest::Client::new();
    let token = http
        .post(format!(
            "{base}/open-apis/auth/v3/tenant_access_token/internal"
        ))
        .json(&json!({"app_id": app["app_id"], "app_secret": app["app_secret"]}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["tenant_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let credential = helpdesk_core::auth::encode_helpdesk_credential(
        s(&helpdesk["helpdesk_id"]),
        s(&helpdesk["helpdesk_token"]),
    );
    let big = png(7, 6 * 1024 * 1024);
    let mut keys = Vec::new();
    for bytes in [png(1, 1000), big.clone()] {
        let form = reqwest::multipart::Form::new()
            .text("image_type", "message")
            .part(
                "image",
                reqwest::multipart::Part::bytes(bytes).file_name("shot.png"),
            );
        let v: Value = http
            .post(format!("{base}/open-apis/im/v1/images"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        keys.push(s(&v["data"]["image_key"]).to_string());
    }
    let call = |req: reqwest::RequestBuilder| {
        req.bearer_auth(&token)
            .header("X-Lark-Helpdesk-Authorization", &credential)
    };
    let v: Value = call(http.post(format!("{base}/open-apis/helpdesk/v1/start_service")))
        .json(&json!({"open_id": "ou_x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket = s(&v["data"]["ticket_id"]).to_string();
    let content = json!({"zh_cn": {"content": [[{"tag": "img", "image_key": keys[0]}, {"tag": "img", "image_key": keys[1]}]]}});
    let v: Value = call(http.post(format!(
        "{base}/open-apis/helpdesk/v1/tickets/{ticket}/messages"
    )))
    .json(&json!({"msg_type": "post", "content": content.to_string()}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let msg = s(&v["data"]["message_id"]).to_string();
    let image_url = |i: u32| {
        format!(
            "{base}/open-apis/helpdesk/v1/ticket_images?ticket_id={ticket}&msg_id={msg}&index={i}"
        )
    };
    assert_eq!(
        call(http.get(image_url(0))).send().await.unwrap().status(),
        200
    );

    // Delete through the CLI while the server runs: 401/154404 at the very
    // next request (the command tells the running server and waits for it).
    let deleted = admin(
        data,
        &[
            "image", "delete", "--ticket", &ticket, "--msg", &msg, "--index", "0",
        ],
    );
    assert_eq!(deleted["deleted"][0]["index"], 0);
    assert_eq!(deleted["deleted"][0]["blob_removed"], true);
    let res = call(http.get(image_url(0))).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], 154404);
    let err = admin_fails(
        data,
        &[
            "image", "delete", "--ticket", &ticket, "--msg", &msg, "--index", "5",
        ],
    );
    assert!(err.contains("out of range"), "{err}");

    // SIGTERM during a download: the download finishes, then the process exits 0.
    let mut res = call(http.get(image_url(1))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut got = res.chunk().await.unwrap().expect("first chunk").to_vec();
    let stopping = tokio::task::spawn_blocking(move || server.terminate());
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Some(chunk) = res.chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
    }
    assert!(got == big, "the in-flight download completed byte for byte");
    let (status, log) = stopping.await.unwrap();
    assert!(status.success(), "exit status {status}; log:\n{log}");

    // Secrets appear neither in the log nor in the database files.
    let db = helpdesk_testkit::stored_metadata(data).await;
    assert!(!db.is_empty());
    for secret in [
        s(&app["app_secret"]),
        s(&helpdesk["helpdesk_token"]),
        &token,
    ] {
        assert!(!log.contains(secret), "secret in log");
        assert!(
            !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "secret in database"
        );
    }
    // One access line per request, with its log id.
    assert!(
        log.lines()
            .any(|l| l.contains("path=/open-apis/helpdesk/v1/ticket_images")
                && l.contains("status=401")
                && l.contains("code=154404")
                && l.contains("log_id=")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_works_as_a_newcomer_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data, &["--demo"]);

    // The printed curl session, pasted into a shell as it is.
    let printed = server.stdout_line("the curl session", |l| l.contains("Authorization"));
    assert!(!printed.is_empty());
    let stdout = server.stdout.lock().unwrap().clone();
    assert!(stdout.starts_with("helpdesk listening on "), "{stdout}");
    let session: String = stdout
        .lines()
        .skip_while(|l| !l.starts_with("TOKEN="))
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(session.contains("curl"), "{stdout}");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let status = Command::new("bash")
        .arg("-c")
        .arg(&session)
        .current_dir(&work)
        .status()
        .expect("bash");
    assert!(status.success());
    let got = std::fs::read(work.join("step-2.jpg")).expect("curl wrote step-2.jpg");
    assert!(
        got == include_bytes!("../demo/step-2.jpg"),
        "the post's second image, byte for byte"
    );

    let demo: Value =
        serde_json::from_slice(&std::fs::read(data.join("demo.json")).unwrap()).unwrap();
    assert_eq!(demo["base_url"], server.base.as_str());
    let types: Vec<&str> = demo["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(&m["message_type"]))
        .collect();
    assert_eq!(types, ["text", "image", "post"]);
    let post_images = demo["messages"][2]["images"].as_array().unwrap();
    assert_eq!(post_images.len(), 3);
    assert_eq!(post_images[1]["content_type"], "image/jpeg");
    assert_eq!(post_images[1]["file_name"], "step-2.jpg");
    let (status, _) = server.terminate();
    assert!(status.success());

    // Started again, it keeps the same demo.
    let again = serve(&data, &["--demo"]);
    let demo2: Value =
        serde_json::from_slice(&std::fs::read(data.join("demo.json")).unwrap()).unwrap();
    assert_eq!(demo2["app_id"], demo["app_id"]);
    assert_eq!(demo2["ticket_id"], demo["ticket_id"]);
    again.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acknowledged_upload_survives_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut server = serve(data, &[]);
    let party = provision(data);
    let c = party.client(&server.base);
    let bytes = png(9, 300_000);
    let ticket = open_ticket(&c).await;
    let msg = post_image(&c, &ticket, &bytes, "crash.png").await;

    // No shutdown at all: the process is killed right after the answers.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let again = serve(data, &[]);
    let c = party.client(&again.base);
    let got = c
        .ticket_image(&ticket, &msg, None)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(got.to_vec() == bytes, "the image is there, byte for byte");
    again.terminate();
}

/// A script or a supervisor may stop the server the moment it prints its
/// address: SIGTERM then is a graceful stop (exit 0), never the signal's
/// default action (the handlers were once installed only after that line).
#[test]
fn a_sigterm_sent_the_moment_the_address_is_printed_is_a_graceful_stop() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..20 {
        let mut server = serve(dir.path(), &[]);
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let sent = unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
        let status = server.child.wait().unwrap();
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        assert!(status.success(), "round {round}: {status:?}\n{log}");
    }
}

#[test]
fn completions_are_generated_for_every_shell_and_bash_accepts_its_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = std::process::Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("migrate") && script.contains("cache-bytes"),
            "{shell}: every command and flag is offered"
        );
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("helpdesk.bash");
            std::fs::write(&file, &script).unwrap();
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&file)
                .status()
                .unwrap();
            assert!(check.success(), "bash -n rejects the script");
        }
    }
    let out = std::process::Command::new(bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("possible values: bash, elvish, fish, powershell, zsh"));
}
