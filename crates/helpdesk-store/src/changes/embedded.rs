//! Announcements on the embedded backend: every server listens on a Unix
//! socket of its own, `<pid>-<random>.sock` in `.helpdesk-changes/` beside
//! the SQLite database file (the random part keeps two servers apart that
//! share a data dir from containers where both are pid 1). The announcer
//! connects to each, writes `changed\n` and waits for `ok\n`, which the
//! server writes once its tick returned.
//!
//! A socket file nobody listens on (its server crashed) refuses the
//! connection: the announcer removes it. A server binds under another name
//! and renames the socket into place once it listens, so that an announcer
//! never mistakes a socket that is still being set up for a stale one.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{Changes, Listening, Report, Tick};

/// The directory of sockets, beside the database file.
pub const DIR: &str = ".helpdesk-changes";

/// The longest path a Unix socket can be bound at: `sun_path` holds 108
/// bytes on Linux (104 on the BSDs), the last one a NUL.
#[cfg(target_os = "linux")]
pub const MAX_SOCKET_PATH: usize = 107;
#[cfg(not(target_os = "linux"))]
pub const MAX_SOCKET_PATH: usize = 103;

const MESSAGE: &[u8] = b"changed\n";
const ACK: &[u8] = b"ok\n";

/// The servers sharing one SQLite database file.
pub struct Embedded {
    dir: PathBuf,
}

impl Embedded {
    /// For the database file at `database`.
    pub fn beside(database: &Path) -> Embedded {
        let parent = database.parent().unwrap_or(Path::new(""));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        Embedded {
            dir: parent.join(DIR),
        }
    }

    /// Where the servers' sockets are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(unix)]
#[async_trait]
impl Changes for Embedded {
    async fn listen(&self, tick: Tick) -> Listening {
        match unix::bind(&self.dir) {
            Ok((listener, path)) => {
                let (stop, stopped) = tokio::sync::oneshot::channel();
                tokio::spawn(unix::serve(listener, tick, stopped));
                Listening {
                    _stop: Some(stop),
                    socket: Some(path),
                }
            }
            Err(why) => {
                tracing::warn!(
                    "admin changes reach this server only at its next poll (every 250 ms): {why}"
                );
                Listening::nothing()
            }
        }
    }

    async fn announce(&self) -> Report {
        unix::announce(&self.dir).await
    }
}

#[cfg(not(unix))]
#[async_trait]
impl Changes for Embedded {
    async fn listen(&self, _tick: Tick) -> Listening {
        Listening::nothing()
    }

    async fn announce(&self) -> Report {
        Report::default()
    }
}

#[cfg(unix)]
mod unix {
    use std::io::ErrorKind;
    use std::path::{Path, PathBuf};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{UnixListener, UnixStream};
    use tokio::sync::oneshot;

    use super::{ACK, MAX_SOCKET_PATH, MESSAGE};
    use crate::changes::{Report, Straggler, Tick, ANSWER_WITHIN};

    /// Binds this process's socket in `dir`; why not, when it cannot.
    pub(super) fn bind(dir: &Path) -> Result<(UnixListener, PathBuf), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let name = format!(
            "{}-{}",
            std::process::id(),
            &super::super::announcement_id()[..8]
        );
        let path = dir.join(format!("{name}.sock"));
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(format!(
                "the socket path {} is longer than the {MAX_SOCKET_PATH} bytes a Unix socket's may be: give a shorter --data-dir",
                path.display()
            ));
        }
        let binding = dir.join(format!("{name}.binding"));
        let _ = std::fs::remove_file(&binding);
        let listener = UnixListener::bind(&binding)
            .map_err(|e| format!("cannot listen on {}: {e}", binding.display()))?;
        if let Err(e) = std::fs::rename(&binding, &path) {
            let _ = std::fs::remove_file(&binding);
            return Err(format!("cannot move {} into place: {e}", path.display()));
        }
        Ok((listener, path))
    }

    /// Answers every connection until `stopped`.
    pub(super) async fn serve(
        listener: UnixListener,
        tick: Tick,
        mut stopped: oneshot::Receiver<()>,
    ) {
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(answer(stream, tick.clone()));
                    }
                    Err(e) => {
                        // Out of file descriptors, typically: the poll
                        // covers what is missed meanwhile.
                        tracing::warn!(error = %e, "cannot accept an announcement of a change");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
            }
        }
    }

    /// Reads the announcement, ticks, acknowledges.
    async fn answer(mut stream: UnixStream, tick: Tick) {
        let mut message = Vec::with_capacity(MESSAGE.len());
        let read = tokio::time::timeout(ANSWER_WITHIN, async {
            let mut buf = [0u8; 16];
            while !message.ends_with(b"\n") && message.len() < 64 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => message.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        if read.is_err() || message != MESSAGE {
            return;
        }
        tick().await;
        let _ = stream.write_all(ACK).await;
    }

    enum Told {
        Acknowledged,
        /// Its file went away meanwhile: that server stopped.
        Gone,
        /// Nobody listens on it.
        Stale,
        Late(String),
    }

    pub(super) async fn announce(dir: &Path) -> Report {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            // No server ever listened here.
            Err(e) if e.kind() == ErrorKind::NotFound => return Report::default(),
            Err(e) => {
                return Report {
                    failed: Some(format!("cannot read {}: {e}", dir.display())),
                    ..Report::default()
                }
            }
        };
        let sockets: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sock"))
            .collect();
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        let told = futures::future::join_all(sockets.iter().map(|path| async move {
            match tokio::time::timeout_at(deadline, tell(path)).await {
                Ok(told) => told,
                Err(_) => Told::Late(format!("no answer within {} s", ANSWER_WITHIN.as_secs())),
            }
        }))
        .await;
        let mut report = Report::default();
        for (path, told) in sockets.iter().zip(told) {
            match told {
                Told::Acknowledged => report.acknowledged += 1,
                Told::Gone => {}
                Told::Stale => {
                    if std::fs::remove_file(path).is_ok() {
                        report.removed.push(path.display().to_string());
                    }
                }
                Told::Late(reason) => report.stragglers.push(Straggler {
                    server: describe(path),
                    reason,
                }),
            }
        }
        report
    }

    async fn tell(path: &Path) -> Told {
        let mut stream = match UnixStream::connect(path).await {
            Ok(stream) => stream,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return Told::Stale,
            Err(e) if e.kind() == ErrorKind::NotFound => return Told::Gone,
            Err(e) => return Told::Late(format!("cannot connect: {e}")),
        };
        if let Err(e) = stream.write_all(MESSAGE).await {
            return Told::Late(format!("cannot write to it: {e}"));
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 16];
        while !answer.ends_with(b"\n") && answer.len() < 64 {
            match stream.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) => return Told::Late(format!("cannot read its answer: {e}")),
            }
        }
        if answer == ACK {
            Told::Acknowledged
        } else {
            Told::Late(format!(
                "it answered {:?}",
                String::from_utf8_lossy(&answer)
            ))
        }
    }

    /// "the server with pid 123 (socket …)"
    fn describe(path: &Path) -> String {
        let pid = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.split('-').next())
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        match pid {
            Some(pid) => format!("the server with pid {pid} (socket {})", path.display()),
            None => format!("the server at socket {}", path.display()),
        }
    }
}
