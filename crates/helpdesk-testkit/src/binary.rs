//! The `helpdesk` binary as a real process (`serve`, `admin`), the parties
//! it provisions, and a proxy that injects faults: for the CLI's suites.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use helpdesk_store::StorageConfig;
use serde_json::Value;

pub use crate::fault_proxy::{no_pool, Fault, FaultProxy};
pub use crate::images::png;
pub use crate::party::Party;

/// The `helpdesk` binary beside the running test's own executable
/// (`target/<profile>/helpdesk`), which cargo builds before the CLI's
/// integration tests.
pub fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let test = std::env::current_exe().expect("the test's own path");
        let dir = test
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps");
        let bin = dir.join(format!("helpdesk{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.exists(),
            "{} is missing: run the CLI's tests with `cargo test -p helpdesk-cli`, which builds it",
            bin.display()
        );
        bin.to_string_lossy().into_owned()
    })
}

pub struct Serving {
    pub child: Child,
    pub base: String,
    /// Everything printed on stdout before the listening line.
    pub banner: String,
    /// Everything printed on stdout so far (the listening line and what
    /// follows it, the demo's session or the metrics address, included).
    pub stdout: std::sync::Arc<std::sync::Mutex<String>>,
    /// The server's log (its stderr), appended to across restarts.
    pub log: std::path::PathBuf,
}

/// A server still running when its `Serving` goes (a test that panicked
/// before `terminate`) is killed, so that no test leaves one polling.
impl Drop for Serving {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Where a process's data lives: a data dir (on this pass's backend, see
/// helpdesk-testkit), or storage named outright.
pub trait Target {
    fn storage(&self) -> StorageConfig;
}

impl Target for Path {
    fn storage(&self) -> StorageConfig {
        crate::backend::storage(self)
    }
}

impl Target for std::path::PathBuf {
    fn storage(&self) -> StorageConfig {
        crate::backend::storage(self)
    }
}

impl Target for StorageConfig {
    fn storage(&self) -> StorageConfig {
        self.clone()
    }
}

pub fn serve<T: Target + ?Sized>(target: &T, extra: &[&str]) -> Serving {
    serve_at(target, "127.0.0.1:0", extra)
}

pub fn serve_at<T: Target + ?Sized>(target: &T, listen: &str, extra: &[&str]) -> Serving {
    serve_env(target, listen, extra, &[])
}

/// `helpdesk serve` with extra environment variables.
pub fn serve_env<T: Target + ?Sized>(
    target: &T,
    listen: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Serving {
    let storage = target.storage();
    let data_dir = storage.data_dir.as_path();
    std::fs::create_dir_all(data_dir).expect("data dir");
    let log = data_dir.join("server.log");
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("log file");
    let mut child = Command::new(bin())
        .arg("serve")
        .args(crate::backend::config_args(&storage))
        .args(["--listen", listen])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .expect("start helpdesk serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let all = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = all.clone();
    std::thread::spawn(move || {
        let mut banner = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(base) = listening(&line) {
                let _ = tx.send((base, banner.clone()));
            }
            banner.push_str(&line);
            banner.push('\n');
            let mut all = seen.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
        }
    });
    let (base, banner) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server printed its address");
    Serving {
        child,
        base,
        banner,
        stdout: all,
        log,
    }
}

/// The base URL a listening line names, in any of its forms: `helpdesk
/// listening on URL`, the URL alone (`--ephemeral`), or `{"listening": URL}`
/// (`--log-format json`).
pub fn listening(line: &str) -> Option<String> {
    if let Some(base) = line.strip_prefix("helpdesk listening on ") {
        return Some(base.to_string());
    }
    if line.starts_with("http://") && !line.contains(' ') {
        return Some(line.to_string());
    }
    let v: Value = serde_json::from_str(line).ok()?;
    v.get("listening")?.as_str().map(str::to_string)
}

impl Serving {
    /// Waits (up to 10 s) for stdout to hold a line `f` accepts; returns it.
    pub fn stdout_line(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        for _ in 0..400 {
            if let Some(line) = self.stdout.lock().unwrap().lines().find(|l| f(l)) {
                return line.to_string();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("stdout never had {what}: {}", self.stdout.lock().unwrap());
    }

    /// The console's URL (`helpdesk console on URL` on stdout) and its
    /// one-time sign-in link (the stderr line holding `/login?token=`; on
    /// `--console-public-url`'s name when there is one), waiting up to 10 s
    /// for each.
    pub fn console_link(&self) -> (String, String) {
        const PREFIX: &str = "helpdesk console on ";
        let url = self.stdout_line("the console's address", |l| l.starts_with(PREFIX))
            [PREFIX.len()..]
            .to_string();
        for _ in 0..400 {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let link = log.lines().find_map(|l| {
                let at = l.find("http://").or_else(|| l.find("https://"))?;
                l.contains("/login?token=")
                    .then(|| l[at..].split_whitespace().next().unwrap_or("").to_string())
            });
            if let Some(link) = link {
                return (url, link);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("no /login?token= line on stderr: {}", self.log.display());
    }

    /// SIGKILL: no drain, no cleanup, as a crash.
    pub fn kill(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }

    /// SIGTERM, then the exit status and the log.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        let status = self.child.wait().expect("wait");
        (
            status,
            std::fs::read_to_string(&self.log).unwrap_or_default(),
        )
    }
}

fn run_admin<T: Target + ?Sized>(target: &T, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("admin")
        .args(crate::backend::config_args(&target.storage()))
        .args(args)
        .output()
        .expect("run admin")
}

/// `helpdesk admin ARGS`, which must succeed and print one JSON object.
pub fn admin<T: Target + ?Sized>(target: &T, args: &[&str]) -> Value {
    let out = run_admin(target, args);
    assert!(
        out.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON object on one line: {stdout}"
    );
    serde_json::from_str(&stdout).expect("JSON")
}

/// `helpdesk admin ARGS` that prints JSON lines (`admin audit list`), each
/// parsed; it must succeed.
pub fn admin_lines<T: Target + ?Sized>(target: &T, args: &[&str]) -> Vec<Value> {
    let out = run_admin(target, args);
    assert!(
        out.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// `helpdesk admin ARGS`, which must fail; its stderr.
pub fn admin_fails<T: Target + ?Sized>(target: &T, args: &[&str]) -> String {
    let out = run_admin(target, args);
    assert!(!out.status.success(), "admin {args:?} should fail");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).expect("utf-8")
}

/// The upload spool files in a data dir's `tmp/`.
pub fn spool_files(data_dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(data_dir.join("tmp"))
        .expect("the data dir's tmp/")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("upload-"))
        .map(|e| e.path())
        .collect()
}

pub fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

/// How many token requests the server has logged so far.
pub fn token_requests(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            l.contains(&format!(
                "path={}",
                helpdesk_core::wire::path::TENANT_ACCESS_TOKEN
            ))
        })
        .count()
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}");
}

/// A tenant with a custom app (default scopes) and a helpdesk, made with
/// `helpdesk admin` as an operator would.
pub fn provision<T: Target + ?Sized>(data_dir: &T) -> Party {
    let tenant_key =
        s(&admin(data_dir, &["tenant", "create", "--name", "T"])["tenant_key"]).to_string();
    let app = admin(
        data_dir,
        &["app", "create", "--tenant", &tenant_key, "--name", "app"],
    );
    let hd = admin(
        data_dir,
        &[
            "helpdesk",
            "create",
            "--tenant",
            &tenant_key,
            "--name",
            "hd",
        ],
    );
    Party {
        tenant_key,
        app_id: s(&app["app_id"]).into(),
        app_secret: s(&app["app_secret"]).into(),
        helpdesk_id: s(&hd["helpdesk_id"]).into(),
        helpdesk_token: s(&hd["helpdesk_token"]).into(),
    }
}

/// The customer every test ticket is opened for.
pub const GUEST: &str = "ou_guest";

/// Opens a ticket for [`GUEST`] through the SDK and returns its id.
pub async fn open_ticket(c: &helpdesk_client::Client) -> String {
    let started = c
        .start_service(&helpdesk_client::StartService {
            open_id: GUEST.into(),
            ..Default::default()
        })
        .await
        .expect("start_service");
    assert!(started.chat_id.starts_with("oc_"));
    started.ticket_id
}

/// Uploads `bytes` and posts them as an image message; returns its message_id.
pub async fn post_image(
    c: &helpdesk_client::Client,
    ticket: &str,
    bytes: &[u8],
    name: &str,
) -> String {
    let image_key = c.upload_image(bytes.to_vec(), name).await.expect("upload");
    c.create_message(
        ticket,
        &helpdesk_client::MessageContent::Image { image_key },
    )
    .await
    .expect("image message")
}

/// A new agent `name` of the party's helpdesk and a user_access_token of
/// theirs for the party's app (what writes FAQs and custom fields):
/// (agent_id, token).
pub fn agent_with_token<T: Target + ?Sized>(
    target: &T,
    party: &Party,
    name: &str,
) -> (String, String) {
    let agent = admin(
        target,
        &[
            "agent",
            "create",
            "--helpdesk",
            &party.helpdesk_id,
            "--name",
            name,
        ],
    );
    let agent_id = s(&agent["agent_id"]).to_string();
    let token = admin(
        target,
        &[
            "agent",
            "token",
            "--agent",
            &agent_id,
            "--app",
            &party.app_id,
        ],
    );
    (agent_id, s(&token["user_access_token"]).to_string())
}

/// A ticket with a text message, an image message and a post.
pub struct ImageTicket {
    pub ticket: String,
    /// message_id of the image message, which holds `images[0]`.
    pub image_msg: String,
    /// message_id of the post, which holds `images[1..]` in order.
    pub post_msg: String,
    /// The image_key of each of `images`.
    pub keys: Vec<String>,
}

/// Uploads `images` as `shot-<i>.png` and posts them: the first as an image
/// message, the rest in one post, after a text message.
pub async fn ticket_with_images(c: &helpdesk_client::Client, images: &[Vec<u8>]) -> ImageTicket {
    use helpdesk_client::MessageContent;
    let mut keys = Vec::new();
    for (i, bytes) in images.iter().enumerate() {
        keys.push(
            c.upload_image(bytes.clone(), &format!("shot-{i}.png"))
                .await
                .expect("upload"),
        );
    }
    let ticket = open_ticket(c).await;
    c.create_message(&ticket, &MessageContent::Text("hello".into()))
        .await
        .expect("text message");
    let image_msg = c
        .create_message(
            &ticket,
            &MessageContent::Image {
                image_key: keys[0].clone(),
            },
        )
        .await
        .expect("image message");
    let paragraphs: Vec<_> = keys[1..]
        .iter()
        .map(|k| serde_json::json!([{"tag": "text", "text": "then"}, {"tag": "img", "image_key": k}]))
        .collect();
    let post = serde_json::json!({"zh_cn": {"title": "steps", "content": paragraphs}});
    let post_msg = c
        .create_message(&ticket, &MessageContent::Post(post))
        .await
        .expect("post message");
    ImageTicket {
        ticket,
        image_msg,
        post_msg,
        keys,
    }
}

/// A caller's two credentials, for raw HTTP against any replica.
pub struct Caller {
    pub token: String,
    pub credential: String,
}

impl Caller {
    pub async fn of(party: &Party, base: &str) -> Caller {
        Caller {
            token: party
                .client(base)
                .tenant_access_token()
                .await
                .expect("token"),
            credential: party.credential(),
        }
    }

    /// `ticket_images` on `base`: the status, the Feishu code (0 on
    /// success), the log id, and the body.
    pub async fn image(&self, base: &str, ticket: &str, msg: &str) -> (u16, i64, String, Vec<u8>) {
        let res = reqwest::Client::new()
            .get(format!("{base}/open-apis/helpdesk/v1/ticket_images"))
            .query(&[("ticket_id", ticket), ("msg_id", msg)])
            .bearer_auth(&self.token)
            .header("X-Lark-Helpdesk-Authorization", &self.credential)
            .send()
            .await
            .expect("ticket_images");
        let status = res.status().as_u16();
        let log_id = res
            .headers()
            .get("x-tt-logid")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        let body = res.bytes().await.expect("body").to_vec();
        let code = if status == 200 {
            0
        } else {
            serde_json::from_slice::<Value>(&body).expect("JSON error")["code"]
                .as_i64()
                .expect("code")
        };
        (status, code, log_id, body)
    }
}

/// Polls until `check` holds, for at most `limit`; how long it took.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
