//! A proxy between a client and the server that fails or cuts short the
//! answers to one path: how the SDK's and the CLI's retries are tested.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback TCP proxy in front of the server that can fail the first
/// requests to one path, or cut their answers short. One request per
/// connection: clients must not pool (see `no_pool`).
pub struct FaultProxy {
    pub base: String,
    /// Requests to the watched path, faulted or not.
    hits: Arc<AtomicUsize>,
}

#[derive(Clone, Copy)]
pub enum Fault {
    /// Answer the first `n` watched requests with HTTP 503.
    FailFirst(usize),
    /// Pass watched answers on only up to this many bytes, then close.
    Truncate(usize),
}

impl FaultProxy {
    /// How many requests to the watched path it has seen.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub async fn start(upstream: &str, path_prefix: &'static str, fault: Fault) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match client.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let request_line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let watched = request_line
                        .split(' ')
                        .nth(1)
                        .is_some_and(|p| p.starts_with(path_prefix));
                    let n = if watched {
                        counter.fetch_add(1, Ordering::SeqCst) + 1
                    } else {
                        0
                    };
                    if let (true, Fault::FailFirst(fails)) = (watched, fault) {
                        if n <= fails {
                            let body = r#"{"code":155000,"msg":"injected"}"#;
                            let answer = format!(
                                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = client.write_all(answer.as_bytes()).await;
                            return;
                        }
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    if server.write_all(&head).await.is_err() {
                        return;
                    }
                    match (watched, fault) {
                        (true, Fault::Truncate(limit)) => {
                            let mut passed = 0;
                            while passed < limit {
                                match server.read(&mut buf).await {
                                    Ok(0) | Err(_) => break,
                                    Ok(n) => {
                                        let n = n.min(limit - passed);
                                        if client.write_all(&buf[..n]).await.is_err() {
                                            break;
                                        }
                                        passed += n;
                                    }
                                }
                            }
                        }
                        _ => {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    }
                });
            }
        });
        FaultProxy { base, hits }
    }
}

/// A reqwest client that opens a new connection for every request.
pub fn no_pool() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}
