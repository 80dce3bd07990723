//! The `helpdesk` binary as a real process (`serve`, `admin`), the parties
//! it provisions (in `fixtures`), and a proxy that injects faults: for the
//! CLI's suites.

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
pub use fixtures::{
    agent_with_token, open_ticket, post_image, provision, ticket_with_images, Caller, ImageTicket,
    GUEST,
};

mod fixtures;

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
