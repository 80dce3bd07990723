//! A real clamd (Debian's clamav-daemon) of the test's own: its own config,
//! sockets and signature database in a temporary directory, started,
//! stopped, restarted, and given new signatures while it runs.
//!
//! The official databases are never needed: the database is one unsigned
//! container, `daily.cud`, holding signatures for the EICAR test string.
//! Being named `daily`, its header's version is the one clamd reports to
//! VERSION (`ClamAV 1.4.6/1/...`), so each [`Clamd::add_signature`] is a
//! new signature version, as a freshclam update is.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use database::{cud, Signatures};

mod database;

/// The standard EICAR anti-virus test file: 68 harmless bytes that every
/// scanner detects.
pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// What clamd names [`EICAR`] when it finds it, anywhere in a file
/// (clamd adds `.UNOFFICIAL` to the names of a database of one's own).
pub const EICAR_SIGNATURE: &str = "Helpdesk.Test.EICAR.UNOFFICIAL";

/// Set to 1 to skip the tests that need clamd.
pub const SKIP_ENV: &str = "HELPDESK_TEST_NO_CLAMD";

const START_WITHIN: Duration = Duration::from_secs(60);
const RELOAD_WITHIN: Duration = Duration::from_secs(60);
const REPLY_WITHIN: Duration = Duration::from_secs(10);

/// Keeps clamd from outliving the test process, which a `static` Clamd
/// (never dropped) or a killed test would otherwise leave running. The
/// test holds this shell's stdin: a line on it stops clamd; its end (the
/// test process gone) also removes clamd's directory, `$1`.
const WATCHDOG: &str = r#"
dir=$1; shift
exec 3<&0
"$@" 3<&- &
clamd=$!
(
  if read -r _ <&3; then kill -9 "$clamd"; else rm -rf "$dir"; kill -9 "$clamd"; fi
) &
watch=$!
exec 3<&-
wait "$clamd"
status=$?
kill "$watch" 2>/dev/null
exit "$status"
"#;

/// A clamd process of the test's own, listening on a loopback TCP port and
/// a Unix socket.
pub struct Clamd {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    running: Option<Running>,
    signatures: Mutex<Signatures>,
    started_in: Duration,
}

struct Running {
    watchdog: Child,
    stdin: ChildStdin,
}

impl Clamd {
    /// Starts clamd; panics if it is not installed (saying how to install
    /// it) or does not answer PING within a minute (with its log).
    pub fn start() -> Clamd {
        let bin = clamd_bin().unwrap_or_else(|| {
            panic!(
                "clamd is not installed (looked for /usr/sbin/clamd and clamd on PATH): \
                 apt-get install clamav-daemon, or set {SKIP_ENV}=1 to skip the tests that need it"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("clamd-")
            .tempdir()
            .expect("a temporary directory for clamd");
        std::fs::create_dir(dir.path().join("db")).expect("clamd's database directory");
        std::fs::create_dir(dir.path().join("tmp")).expect("clamd's temporary directory");
        let eicar = hex::encode(EICAR);
        let name = EICAR_SIGNATURE.trim_end_matches(".UNOFFICIAL");
        let mut clamd = Clamd {
            dir,
            bin,
            port: 0,
            running: None,
            signatures: Mutex::new(Signatures {
                version: 1,
                body: vec![format!("{name}:0:*:{eicar}")],
                hashes: vec![format!(
                    "{}:{}:{name}",
                    hex::encode(Sha256::digest(EICAR)),
                    EICAR.len()
                )],
            }),
            started_in: Duration::ZERO,
        };
        clamd.write_database(&clamd.signatures.lock().unwrap());
        // A port taken between its pick and clamd's bind is picked again;
        // on restart there is no picking again: the port is the address.
        for attempt in 1.. {
            clamd.port = pick_port();
            clamd.write_config();
            match clamd.spawn_and_wait() {
                Ok(()) => return clamd,
                Err(NotStarted::PortTaken(_)) if attempt < 5 => continue,
                Err(NotStarted::PortTaken(why) | NotStarted::Failed(why)) => {
                    panic!("clamd did not start:\n{why}")
                }
            }
        }
        unreachable!()
    }

    /// [`Clamd::start`], or `None` (saying so) when `HELPDESK_TEST_NO_CLAMD=1`.
    pub fn start_unless_skipped(test: &str) -> Option<Clamd> {
        if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
            println!("SKIPPED {test}: {SKIP_ENV}=1");
            return None;
        }
        Some(Clamd::start())
    }

    /// `clamd:127.0.0.1:PORT`.
    pub fn addr_tcp(&self) -> String {
        format!("clamd:127.0.0.1:{}", self.port)
    }

    /// `clamd:/tmp/clamd-.../clamd.sock`.
    pub fn addr_unix(&self) -> String {
        format!("clamd:{}", self.socket().display())
    }

    /// How long the last start took, from spawning clamd to its first PONG.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The signature version clamd reports in VERSION: 1 at the start, one
    /// more at each [`Clamd::add_signature`].
    pub fn signature_version(&self) -> u32 {
        self.signatures.lock().unwrap().version
    }

    /// The most memory clamd has held since it started (its VmHWM), or
    /// `None` when it is not running or /proc does not say.
    pub fn peak_memory(&self) -> Option<u64> {
        let watchdog = self.running.as_ref()?.watchdog.id();
        let children =
            std::fs::read_to_string(format!("/proc/{watchdog}/task/{watchdog}/children")).ok()?;
        let clamd = children.split_whitespace().find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "clamd")
        })?;
        let status = std::fs::read_to_string(format!("/proc/{clamd}/status")).ok()?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(kib * 1024)
    }

    /// clamd's log and what it printed.
    pub fn log(&self) -> String {
        let read = |name| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "--- clamd.log\n{}--- clamd's output\n{}",
            read("clamd.log"),
            read("clamd.out")
        )
    }

    /// Kills clamd (as a crash would: no goodbye) and waits for it. Its
    /// port and socket path stay its own for [`Clamd::restart`].
    pub fn stop(&mut self) {
        if let Some(mut running) = self.running.take() {
            // The watchdog is gone already if clamd exited on its own.
            let _ = running.stdin.write_all(b"stop\n");
            drop(running.stdin);
            let _ = running.watchdog.wait();
        }
    }

    /// Starts clamd again, on the same port and socket, with the
    /// signatures it has now.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(NotStarted::PortTaken(why) | NotStarted::Failed(why)) = self.spawn_and_wait() {
            panic!("clamd did not start again on port {}:\n{why}", self.port);
        }
    }

    /// Adds a body signature (`name:0:*:hex_body`: any file type, anywhere
    /// in the file; `hex_body` may use clamd's wildcards) and returns once
    /// clamd scans with it. clamd reports it as `{name}.UNOFFICIAL`.
    pub fn add_signature(&self, name: &str, hex_body: &str) {
        let plain = |s: &str| !s.is_empty() && !s.contains(|c: char| c == ':' || c.is_whitespace());
        assert!(
            plain(name),
            "a signature name without ':' or spaces: {name:?}"
        );
        assert!(
            plain(hex_body),
            "a hex body without ':' or spaces: {hex_body:?}"
        );
        let version = {
            let mut signatures = self.signatures.lock().unwrap();
            signatures.version += 1;
            signatures.body.push(format!("{name}:0:*:{hex_body}"));
            self.write_database(&signatures);
            signatures.version
        };
        if self.running.is_none() {
            return;
        }
        let reply = self.command(b"zRELOAD\0");
        assert_eq!(
            reply.as_deref().ok(),
            Some("RELOADING"),
            "RELOAD: {reply:?}\n{}",
            self.log()
        );
        // clamd loads the new database beside the old one and then swaps:
        // once VERSION, asked of the engine in use, reports the new
        // version, every scan after it has the new signature.
        let deadline = Instant::now() + RELOAD_WITHIN;
        let want = format!("/{version}/");
        loop {
            if let Ok(reply) = self.command(b"zVERSION\0") {
                if reply.contains(&want) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "clamd did not load signature version {version} within {RELOAD_WITHIN:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("clamd.sock")
    }

    fn write_config(&self) {
        let dir = self.dir.path().display();
        let config = format!(
            "# A clamd of one test's own (helpdesk-testkit): everything it writes stays here.\n\
             # A child of the test, killed and waited for; it cannot daemonize away.\n\
             Foreground yes\n\
             LogFile {dir}/clamd.log\n\
             LogTime yes\n\
             # INSTREAM data is spooled to a file here before the scan.\n\
             TemporaryDirectory {dir}/tmp\n\
             DatabaseDirectory {dir}/db\n\
             LocalSocket {dir}/clamd.sock\n\
             # A stop is a kill, which leaves the socket file behind for the restart.\n\
             FixStaleSocket yes\n\
             TCPSocket {port}\n\
             TCPAddr 127.0.0.1\n\
             # The limits and reply format of Debian's packaged clamd.conf (clamd's\n\
             # own defaults are 100M, 100M and 400M, and no detection info).\n\
             StreamMaxLength 25M\n\
             MaxFileSize 25M\n\
             MaxScanSize 100M\n\
             ExtendedDetectionInfo yes\n\
             # No bytecode.cvd here: nothing to load or run (start time is the same).\n\
             Bytecode no\n",
            port = self.port
        );
        std::fs::write(self.dir.path().join("clamd.conf"), config).expect("write clamd.conf");
    }

    /// Writes `daily.cud` anew, beside the directory clamd reads and then
    /// into it, so that clamd never reads half a database.
    fn write_database(&self, signatures: &Signatures) {
        let staged = self.dir.path().join("daily.cud");
        std::fs::write(&staged, cud(signatures)).expect("write the signature database");
        std::fs::rename(&staged, self.dir.path().join("db/daily.cud"))
            .expect("install the signature database");
    }

    /// Spawns clamd and waits for PONG on both sockets; clamd's log when it
    /// exits or stays silent instead.
    fn spawn_and_wait(&mut self) -> Result<(), NotStarted> {
        let log_path = self.dir.path().join("clamd.log");
        let log_before = std::fs::metadata(&log_path).map_or(0, |m| m.len());
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("clamd.out"))
            .expect("clamd's output file");
        let began = Instant::now();
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(self.dir.path())
            .arg(&self.bin)
            .arg("--config-file")
            .arg(self.dir.path().join("clamd.conf"))
            .stdin(Stdio::piped())
            .stdout(out.try_clone().expect("clamd's output file"))
            .stderr(out)
            .spawn()
            .map_err(|e| NotStarted::Failed(format!("spawning sh to run clamd: {e}")))?;
        let stdin = watchdog.stdin.take().expect("the watchdog's stdin");
        self.running = Some(Running { watchdog, stdin });
        let deadline = began + START_WITHIN;
        loop {
            if self.answers_ping() {
                self.started_in = began.elapsed();
                return Ok(());
            }
            let exited = self
                .running
                .as_mut()
                .and_then(|r| r.watchdog.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.running = None;
                return Err(NotStarted::Failed(format!(
                    "clamd exited ({status}):\n{}",
                    self.log()
                )));
            }
            // clamd carries on without the TCP socket it could not bind.
            let log = std::fs::read(&log_path).unwrap_or_default();
            let this_start = String::from_utf8_lossy(log.get(log_before as usize..).unwrap_or(&[]));
            if this_start.contains("TCP: Cannot bind") {
                self.stop();
                return Err(NotStarted::PortTaken(self.log()));
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(NotStarted::Failed(format!(
                    "clamd did not answer PING within {START_WITHIN:?}:\n{}",
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether both sockets answer PING: briefly, since anything but
    /// clamd that holds the port would keep a patient PING waiting.
    fn answers_ping(&self) -> bool {
        let within = Duration::from_millis(500);
        let pong = |reply: std::io::Result<String>| reply.is_ok_and(|r| r == "PONG");
        pong(self.command_within(b"zPING\0", within))
            && pong(
                std::os::unix::net::UnixStream::connect(self.socket()).and_then(|stream| {
                    stream.set_read_timeout(Some(within))?;
                    exchange(stream, b"zPING\0")
                }),
            )
    }

    /// One command over TCP, its reply without the NUL.
    fn command(&self, command: &[u8]) -> std::io::Result<String> {
        self.command_within(command, REPLY_WITHIN)
    }

    fn command_within(&self, command: &[u8], within: Duration) -> std::io::Result<String> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let stream = std::net::TcpStream::connect_timeout(&addr, within)?;
        stream.set_read_timeout(Some(within))?;
        exchange(stream, command)
    }
}

enum NotStarted {
    /// Another process has the port.
    PortTaken(String),
    Failed(String),
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A client of its own, not the one under test: the kit's knowledge of
/// clamd does not rest on the code it checks.
fn exchange<S: Read + Write>(mut stream: S, command: &[u8]) -> std::io::Result<String> {
    stream.write_all(command)?;
    let mut reply = Vec::new();
    stream.take(4096).read_to_end(&mut reply)?;
    let end = reply.iter().position(|&b| b == 0).unwrap_or(reply.len());
    Ok(String::from_utf8_lossy(&reply[..end]).into_owned())
}

fn clamd_bin() -> Option<PathBuf> {
    let debian = Path::new("/usr/sbin/clamd");
    if debian.is_file() {
        return Some(debian.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("clamd"))
        .find(|path| path.is_file())
}

/// A free loopback port below the kernel's ephemeral range, which the
/// kernel never hands out by itself (to `bind(0)` or an outgoing
/// connection): the port stays free while clamd is stopped, for its
/// restart. Ports picked in this process are not picked again.
fn pick_port() -> u16 {
    static PICKED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u16, ephemeral_low.max(11_000));
    let span = u32::from(high - low);
    let start = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        (h.finish() % u64::from(span)) as u32
    };
    let mut picked = PICKED.lock().unwrap();
    for i in 0..span {
        let port = low + ((start + i) % span) as u16;
        if !picked.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            picked.insert(port);
            return port;
        }
    }
    panic!("no free loopback port from {low} to {high} for clamd");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eicar_is_the_standard_test_file() {
        assert_eq!(EICAR.len(), 68);
        assert_eq!(
            hex::encode(Sha256::digest(EICAR)),
            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
        );
    }
}
