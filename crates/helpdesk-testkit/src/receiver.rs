//! An app's event receiver for tests: a loopback HTTP server that checks
//! each delivery the way Feishu's SDKs do, with code of its own (not the
//! server's): the signature over timestamp, nonce, key and body, then
//! AES-256-CBC decryption under the SHA-256 of the encrypt key. It answers
//! url_verification with the challenge, and events as its script says.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the receiver answers one event.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// This status, with this text as the body (text/plain).
    Reply(u16, &'static str),
    /// This status, with a body of this many `x`.
    Large(u16, usize),
    /// Never answers (until the connection is dropped).
    Hang,
}

/// One event as it arrived, opened.
#[derive(Debug, Clone)]
pub struct Received {
    pub document: Value,
    /// The header names as they were spelt on the wire.
    pub header_names: Vec<String>,
}

impl Received {
    pub fn event_id(&self) -> &str {
        self.document["header"]["event_id"].as_str().unwrap_or("")
    }
    pub fn event_type(&self) -> &str {
        self.document["header"]["event_type"].as_str().unwrap_or("")
    }
}

struct Inner {
    encrypt_key: String,
    verification_token: String,
    /// Answers for the next events, in order; then 200.
    script: VecDeque<Answer>,
    received: Vec<Received>,
    /// What was wrong with a delivery (a bad signature, say).
    faults: Vec<String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    /// The accept loop, until `stop`.
    accepting: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

impl Receiver {
    pub async fn start(encrypt_key: &str, verification_token: &str) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook/event", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            encrypt_key: encrypt_key.into(),
            verification_token: verification_token.into(),
            script: VecDeque::new(),
            received: Vec::new(),
            faults: Vec::new(),
        }));
        let shared = inner.clone();
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(conn, shared.clone()));
            }
        });
        Receiver {
            url,
            inner,
            accepting: Arc::new(Mutex::new(Some(accepting))),
        }
    }

    /// Stops listening: from now on a connection to `url` is refused.
    /// Connections already open stay.
    pub async fn stop(&self) {
        let accepting = self.accepting.lock().unwrap().take();
        if let Some(task) = accepting {
            task.abort();
            // Cancelled, the task has dropped the listener.
            let _ = task.await;
        }
    }

    /// The next events get these answers, in order.
    pub fn script(&self, answers: &[Answer]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .extend(answers.iter().copied());
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    pub fn faults(&self) -> Vec<String> {
        self.inner.lock().unwrap().faults.clone()
    }

    /// Waits (up to `limit`) until `n` events were received; returns them.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let start = std::time::Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < limit,
                "{} of {n} events within {limit:?}: {:?}; faults {:?}",
                got.len(),
                got.iter()
                    .map(|r| r.event_type().to_string())
                    .collect::<Vec<_>>(),
                self.faults()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Opens a body: checks the signature (when encrypted) and decrypts.
fn open(inner: &Inner, head: &str, body: &[u8]) -> Result<Value, String> {
    let outer: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Some(sealed) = outer.get("encrypt").and_then(Value::as_str) else {
        if !inner.encrypt_key.is_empty() {
            return Err("not encrypted, with an encrypt key set".into());
        }
        return Ok(outer);
    };
    let key = &inner.encrypt_key;
    {
        let ts = header(head, "X-Lark-Request-Timestamp").unwrap_or("");
        let nonce = header(head, "X-Lark-Request-Nonce").unwrap_or("");
        let sig = header(head, "X-Lark-Signature").unwrap_or("");
        let mut h = Sha256::new();
        h.update(format!("{ts}{nonce}{key}").as_bytes());
        h.update(body);
        if hex::encode(h.finalize()) != sig {
            return Err("bad signature".into());
        }
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|e| format!("bad base64: {e}"))?;
    if raw.len() < 32 || raw.len() % 16 != 0 {
        return Err("bad ciphertext length".into());
    }
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let (iv, data) = raw.split_at(16);
    let mut buf = data.to_vec();
    let plain = cbc::Decryptor::<aes::Aes256>::new(&digest.into(), iv.into())
        .decrypt_padded_mut::<Pkcs7>(&mut buf)
        .map_err(|_| "bad padding".to_string())?;
    serde_json::from_slice(plain).map_err(|e| format!("decrypted, not JSON: {e}"))
}

/// A 200 with a JSON body.
fn json(text: &str) -> (u16, &'static str, String) {
    (200, "application/json", text.to_string())
}

async fn serve(mut conn: tokio::net::TcpStream, inner: Arc<Mutex<Inner>>) {
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // One request: head, then Content-Length bytes.
        let (head, body) = loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&pending[..end]).to_string();
                let len: usize = header(&head, "content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if pending.len() >= end + 4 + len {
                    let body = pending[end + 4..end + 4 + len].to_vec();
                    pending.drain(..end + 4 + len);
                    break (head, body);
                }
            }
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        let answer = {
            let mut inner = inner.lock().unwrap();
            match open(&inner, &head, &body) {
                Err(fault) => {
                    inner.faults.push(fault);
                    Err(400)
                }
                Ok(doc) if doc["type"] == "url_verification" => {
                    if doc["token"] != inner.verification_token.as_str() {
                        inner
                            .faults
                            .push("url_verification with a wrong token".into());
                        Err(400)
                    } else {
                        Ok(json(
                            &serde_json::json!({"challenge": doc["challenge"]}).to_string(),
                        ))
                    }
                }
                Ok(doc) => {
                    if doc["header"]["token"] != inner.verification_token.as_str() {
                        inner.faults.push("an event with a wrong token".into());
                    }
                    let header_names = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| Some(l.split_once(':')?.0.to_string()))
                        .collect();
                    let answer = inner.script.pop_front().unwrap_or(Answer::Status(200));
                    inner.received.push(Received {
                        document: doc,
                        header_names,
                    });
                    match answer {
                        Answer::Status(200) => Ok(json("{\"msg\":\"success\"}")),
                        Answer::Status(s) => Err(s),
                        Answer::Reply(s, text) => Ok((s, "text/plain; charset=utf-8", text.into())),
                        Answer::Large(s, n) => Ok((s, "text/plain", "x".repeat(n))),
                        Answer::Hang => Err(0),
                    }
                }
            }
        };
        let (status, content_type, text) = match answer {
            Ok(reply) => reply,
            Err(0) => {
                // Hold the connection open and silent.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Err(s) => (s, "application/json", "{\"msg\":\"no\"}".to_string()),
        };
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if conn.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
