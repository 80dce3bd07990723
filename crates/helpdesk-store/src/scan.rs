//! A client for ClamAV's daemon, clamd: PING, VERSION and INSTREAM over TCP
//! or a Unix socket.
//!
//! Every exchange opens its own connection and closes it: clamd serves one
//! command per connection anyway (without IDSESSION), and a scanner that
//! holds nothing open needs no reconnecting when clamd restarts.
//!
//! Only the null-terminated `z` forms of the commands are used, so that a
//! reply ends at a NUL wherever the peer's lines would not.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How much INSTREAM data goes in one chunk.
pub const CHUNK: usize = 64 * 1024;
/// The StreamMaxLength of Debian's packaged clamd.conf (clamd's compiled-in
/// default is larger, 100M): a server not told otherwise assumes the smaller.
pub const DEFAULT_STREAM_MAX: u64 = 25 * 1024 * 1024;
/// How long one exchange may take, from connecting to the verdict.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest reply read: clamd's are one short line, and a peer that is
/// not clamd must not make us allocate.
const REPLY_MAX: usize = 4096;

/// Where clamd listens: `clamd:HOST:PORT` or `clamd:/absolute/path.sock`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScannerAddr(Endpoint);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

/// A scanner address that is neither of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid scanner address {given:?}: {why}; expected clamd:HOST:PORT \
     (for example clamd:127.0.0.1:3310) or clamd:/absolute/path/to/clamd.sock"
)]
pub struct ScannerAddrError {
    given: String,
    why: &'static str,
}

impl FromStr for ScannerAddr {
    type Err = ScannerAddrError;

    fn from_str(given: &str) -> Result<ScannerAddr, ScannerAddrError> {
        let fail = |why| ScannerAddrError {
            given: given.to_string(),
            why,
        };
        let rest = given
            .strip_prefix("clamd:")
            .ok_or_else(|| fail("it does not start with clamd:"))?;
        if rest.starts_with('/') {
            return Ok(ScannerAddr(Endpoint::Unix(PathBuf::from(rest))));
        }
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| fail("it names no port, and no absolute socket path"))?;
        let host = match host.strip_prefix('[') {
            Some(inner) => inner
                .strip_suffix(']')
                .ok_or_else(|| fail("the host's [ has no ]"))?,
            // Unbracketed, "::1:3310" would be ambiguous.
            None if host.contains(':') => {
                return Err(fail(
                    "an IPv6 host goes in brackets, as in clamd:[::1]:3310",
                ))
            }
            None => host,
        };
        if host.is_empty() {
            return Err(fail("the host is empty"));
        }
        let port = match port.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(fail("the port is not a number from 1 to 65535")),
        };
        Ok(ScannerAddr(Endpoint::Tcp {
            host: host.to_string(),
            port,
        }))
    }
}

impl fmt::Display for ScannerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Endpoint::Tcp { host, port } if host.contains(':') => {
                write!(f, "clamd:[{host}]:{port}")
            }
            Endpoint::Tcp { host, port } => write!(f, "clamd:{host}:{port}"),
            Endpoint::Unix(path) => write!(f, "clamd:{}", path.display()),
        }
    }
}

/// What clamd says of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// `signature` is the name clamd reports, as in
    /// `Win.Test.EICAR_HDB-1` (signatures of a database of one's own end in
    /// `.UNOFFICIAL`).
    Infected {
        signature: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("clamd at {addr} is unreachable ({source}): start clamd, or point the server at the address it listens on")]
    Unreachable {
        addr: String,
        #[source]
        source: io::Error,
    },
    /// Refused here, before connecting.
    #[error("the file is over {max} bytes, the most clamd takes in a stream (its StreamMaxLength): refuse it, or raise StreamMaxLength in clamd.conf and tell the server")]
    TooLarge { max: u64 },
    /// Refused by clamd: its StreamMaxLength is below what we were told.
    #[error("clamd refused the stream as over its StreamMaxLength, which is below the {told} bytes the server was told: tell the server clamd's StreamMaxLength")]
    ClamdLimit { told: u64 },
    /// clamd answered something other than a verdict, or nothing.
    #[error("clamd: {0}: see clamd's log")]
    Protocol(String),
    #[error("clamd gave no verdict within {0:?}: check clamd's load and its MaxScanTime")]
    Timeout(Duration),
    #[error("i/o while scanning: {0}: retry once clamd is back")]
    Io(#[from] io::Error),
}

impl ScanError {
    /// Whether clamd could give no verdict for reasons of its own (down,
    /// slow, broken) rather than because of the file: the failures that a
    /// server's scan-failure policy decides on.
    pub fn is_unavailable(&self) -> bool {
        !matches!(
            self,
            ScanError::TooLarge { .. } | ScanError::ClamdLimit { .. }
        )
    }
}

/// A clamd to scan with.
#[derive(Debug, Clone)]
pub struct Scanner {
    addr: ScannerAddr,
    chunk: usize,
    stream_max: u64,
    timeout: Duration,
}

/// A TCP or Unix stream to clamd.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

impl Scanner {
    /// Chunks of [`CHUNK`], a stream limit of [`DEFAULT_STREAM_MAX`], and
    /// [`DEFAULT_TIMEOUT`] for each exchange.
    pub fn new(addr: ScannerAddr) -> Scanner {
        Scanner {
            addr,
            chunk: CHUNK,
            stream_max: DEFAULT_STREAM_MAX,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// clamd's StreamMaxLength, in bytes: larger files are refused here.
    pub fn with_stream_max(self, bytes: u64) -> Scanner {
        Scanner {
            stream_max: bytes,
            ..self
        }
    }

    /// How long one exchange may take, from connecting to the verdict.
    pub fn with_timeout(self, timeout: Duration) -> Scanner {
        Scanner { timeout, ..self }
    }

    pub fn addr(&self) -> &ScannerAddr {
        &self.addr
    }

    pub fn stream_max(&self) -> u64 {
        self.stream_max
    }

    /// Answers when clamd does.
    pub async fn ping(&self) -> Result<(), ScanError> {
        let reply = self.command(b"zPING\0").await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(ScanError::Protocol(format!("answered {reply:?} to PING")))
        }
    }

    /// clamd's version and its signatures', as in
    /// `ClamAV 1.4.6/27500/Tue Dec  1 09:28:02 2026`: a verdict holds for as
    /// long as this does. Without an official daily database it is only
    /// `ClamAV 1.4.6`, the same across signature updates.
    pub async fn version(&self) -> Result<String, ScanError> {
        let reply = self.command(b"zVERSION\0").await?;
        if reply.starts_with("ClamAV ") {
            Ok(reply)
        } else {
            Err(ScanError::Protocol(format!(
                "answered {reply:?} to VERSION"
            )))
        }
    }

    /// Streams the file at `path` to clamd, in chunks.
    pub async fn scan_file(&self, path: &Path) -> Result<Verdict, ScanError> {
        let in_context = |e: io::Error| {
            ScanError::Io(io::Error::new(
                e.kind(),
                format!("reading {}: {e}", path.display()),
            ))
        };
        let mut file = tokio::fs::File::open(path).await.map_err(in_context)?;
        let size = file.metadata().await.map_err(in_context)?.len();
        self.check_size(size)?;
        self.within_timeout(async {
            let mut conn = self.connect().await?;
            let conn = conn.as_mut();
            let mut frame = self.start_instream(conn).await?;
            let mut sent = 0u64;
            loop {
                let n = file.read(&mut frame[4..]).await.map_err(in_context)?;
                if n == 0 {
                    break;
                }
                sent += n as u64;
                // The file grew after it was measured.
                self.check_size(sent)?;
                self.send_chunk(conn, &mut frame, n).await?;
            }
            self.finish_instream(conn).await
        })
        .await
    }

    /// Streams `bytes` to clamd, in chunks.
    pub async fn scan_bytes(&self, bytes: &[u8]) -> Result<Verdict, ScanError> {
        self.check_size(bytes.len() as u64)?;
        self.within_timeout(async {
            let mut conn = self.connect().await?;
            let conn = conn.as_mut();
            let mut frame = self.start_instream(conn).await?;
            for piece in bytes.chunks(self.chunk) {
                frame[4..4 + piece.len()].copy_from_slice(piece);
                self.send_chunk(conn, &mut frame, piece.len()).await?;
            }
            self.finish_instream(conn).await
        })
        .await
    }

    fn check_size(&self, size: u64) -> Result<(), ScanError> {
        if size > self.stream_max {
            Err(ScanError::TooLarge {
                max: self.stream_max,
            })
        } else {
            Ok(())
        }
    }

    async fn within_timeout<T>(
        &self,
        exchange: impl std::future::Future<Output = Result<T, ScanError>>,
    ) -> Result<T, ScanError> {
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(ScanError::Timeout(self.timeout)))
    }

    async fn connect(&self) -> Result<Box<dyn Connection>, ScanError> {
        let unreachable = |source| ScanError::Unreachable {
            addr: self.addr.to_string(),
            source,
        };
        match &self.addr.0 {
            Endpoint::Tcp { host, port } => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(unreachable)?;
                // The end of a stream is a 4-byte write: without this it can
                // wait for the ACK of the chunk before it.
                stream.set_nodelay(true)?;
                Ok(Box::new(stream))
            }
            #[cfg(unix)]
            Endpoint::Unix(path) => Ok(Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(unreachable)?,
            )),
            #[cfg(not(unix))]
            Endpoint::Unix(_) => Err(unreachable(io::Error::new(
                io::ErrorKind::Unsupported,
                "Unix sockets need a Unix",
            ))),
        }
    }

    async fn command(&self, command: &[u8]) -> Result<String, ScanError> {
        self.within_timeout(async {
            let mut conn = self.connect().await?;
            conn.write_all(command).await?;
            read_reply(conn.as_mut()).await
        })
        .await
    }

    /// Sends INSTREAM; returns the buffer a chunk is framed in: its 4-byte
    /// length, then room for the data.
    async fn start_instream(&self, conn: &mut dyn Connection) -> Result<Vec<u8>, ScanError> {
        conn.write_all(b"zINSTREAM\0").await?;
        Ok(vec![0; 4 + self.chunk])
    }

    /// Sends the first `n` data bytes of `frame`.
    async fn send_chunk(
        &self,
        conn: &mut dyn Connection,
        frame: &mut [u8],
        n: usize,
    ) -> Result<(), ScanError> {
        // n is at most the chunk size, which a u32 holds.
        frame[..4].copy_from_slice(&(n as u32).to_be_bytes());
        match conn.write_all(&frame[..4 + n]).await {
            Ok(()) => Ok(()),
            Err(error) => Err(self.refused_midway(conn, error).await),
        }
    }

    async fn finish_instream(&self, conn: &mut dyn Connection) -> Result<Verdict, ScanError> {
        if let Err(error) = conn.write_all(&[0; 4]).await {
            return Err(self.refused_midway(conn, error).await);
        }
        let reply = read_reply(conn).await?;
        verdict(parse_reply(&reply), self.stream_max)
    }

    /// clamd answers before the end of the stream, and closes, when it
    /// refuses it (over its own size limit): that answer, not the broken
    /// pipe it leaves, says why.
    async fn refused_midway(&self, conn: &mut dyn Connection, error: io::Error) -> ScanError {
        match read_reply(conn).await {
            Ok(reply) => match verdict(parse_reply(&reply), self.stream_max) {
                Err(refused) => refused,
                Ok(_) => {
                    ScanError::Protocol(format!("answered {reply:?} before the end of the stream"))
                }
            },
            Err(_) => ScanError::Io(error),
        }
    }
}

/// One reply, up to its NUL (or the end of the connection).
async fn read_reply(conn: &mut dyn Connection) -> Result<String, ScanError> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            if reply.is_empty() {
                return Err(ScanError::Protocol(
                    "closed the connection without answering (did it stop?)".into(),
                ));
            }
            break;
        }
        let end = buf[..n].iter().position(|&b| b == 0);
        reply.extend_from_slice(&buf[..end.unwrap_or(n)]);
        if reply.len() > REPLY_MAX {
            return Err(ScanError::Protocol(format!(
                "answered more than {REPLY_MAX} bytes without ending its reply"
            )));
        }
        if end.is_some() {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&reply).trim_end().to_string())
}

/// What an INSTREAM reply says.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Clean,
    Found(String),
    SizeLimit,
    Error(String),
    Unexpected(String),
}

fn parse_reply(reply: &str) -> Reply {
    if reply.starts_with("INSTREAM size limit exceeded") {
        return Reply::SizeLimit;
    }
    if let Some(rest) = reply.strip_prefix("stream: ") {
        if rest == "OK" {
            return Reply::Clean;
        }
        if let Some(name) = rest.strip_suffix(" FOUND") {
            let name = without_detection_info(name);
            if !name.is_empty() {
                return Reply::Found(name.to_string());
            }
        }
    }
    match reply.strip_suffix(" ERROR") {
        Some(error) => Reply::Error(error.to_string()),
        None => Reply::Unexpected(reply.to_string()),
    }
}

/// With `ExtendedDetectionInfo yes` (as Debian ships it) clamd follows the
/// name with the file's hash and size, `Name(0123abcd...:68)`: the
/// signature is the name alone.
fn without_detection_info(name: &str) -> &str {
    let Some(open) = name.rfind('(') else {
        return name;
    };
    let info = &name[open + 1..];
    let Some((hash, size)) = info.strip_suffix(')').and_then(|i| i.split_once(':')) else {
        return name;
    };
    let is_hash = !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit());
    let is_size = !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit());
    if is_hash && is_size {
        &name[..open]
    } else {
        name
    }
}

fn verdict(reply: Reply, told: u64) -> Result<Verdict, ScanError> {
    match reply {
        Reply::Clean => Ok(Verdict::Clean),
        Reply::Found(signature) => Ok(Verdict::Infected { signature }),
        Reply::SizeLimit => Err(ScanError::ClamdLimit { told }),
        Reply::Error(error) => Err(ScanError::Protocol(format!("could not scan: {error}"))),
        Reply::Unexpected(reply) => Err(ScanError::Protocol(format!(
            "answered {reply:?}, which is no verdict"
        ))),
    }
}

#[cfg(test)]
mod tests;
