//! Slow and idle clients: time limits on headers, bodies and idle
//! keep-alive connections, and the connection cap that closes the idlest
//! first. None of them stops normal requests from being served.

use std::time::{Duration, Instant};

use helpdesk_testkit::binary::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// A multipart upload whose body trickles in, a byte every 300 ms, after
/// a real head and the start of the image part.
async fn trickle_upload(base: String, token: String) -> (u16, Value) {
    let mut s = TcpStream::connect(addr(&base)).await.unwrap();
    let head = format!(
        "POST /open-apis/im/v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n\
         --B\r\nContent-Disposition: form-data; name=\"image_type\"\r\n\r\nmessage\r\n\
         --B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\nGIF89a"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        tokio::select! {
            n = s.read(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&answer[..end]).to_lowercase();
                        let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                        if answer.len() >= end + 4 + len { break; }
                    }
                }
            },
            _ = tokio::time::sleep(Duration::from_millis(300)) => {
                if s.write_all(b"x").await.is_err() { break; }
            }
        }
    }
    let text = String::from_utf8_lossy(&answer).to_string();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_idle_connections_and_twenty_slow_uploads_do_not_stop_normal_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &["--body-timeout", "3s", "--header-timeout", "3s"],
    );
    let base = server.base.clone();
    let party = provision(dir.path());
    let c = party.client(&base);
    let ticket = open_ticket(&c).await;
    let bytes = png(9, 5000);
    let msg = post_image(&c, &ticket, &bytes, "n.png").await;
    let caller = Caller::of(&party, &base).await;

    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(TcpStream::connect(addr(&base)).await.unwrap());
    }
    let slow: Vec<_> = (0..20)
        .map(|_| tokio::spawn(trickle_upload(base.clone(), caller.token.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Normal requests, while all of that is open.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let start = Instant::now();
        let (status, _, _, body) = caller.image(&base, &ticket, &msg).await;
        assert_eq!(status, 200);
        assert!(body == bytes);
        slowest = slowest.max(start.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a normal download took {slowest:?}"
    );

    // The trickling uploads are cut off with the upload API's error, and
    // leave no spool file behind.
    for s in slow {
        let (status, body) = s.await.unwrap();
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], 234001, "{body}");
        assert!(
            body["error"]["details"][0]["value"]
                .as_str()
                .unwrap()
                .contains("did not arrive within 3 s"),
            "{body}"
        );
    }
    let spools = spool_files(dir.path());
    assert!(spools.is_empty(), "spool files left: {spools:?}");
    // Connections that never sent a header are closed by the header timeout.
    let mut closed = 0;
    for mut s in idle.drain(..100) {
        let mut b = [0u8; 64];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 100, "silent connections are closed");
    server.terminate();
}

/// One keep-alive request on a new connection, left open.
async fn keep_alive(base: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr(base)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("\"ok\"") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    s
}

/// True when the server has closed the connection.
async fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 16];
    matches!(
        tokio::time::timeout(Duration::from_millis(200), s.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_connection_cap_the_idlest_keep_alive_connections_go_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--max-connections", "30"]);
    let base = server.base.clone();
    let mut conns = Vec::new();
    for _ in 0..30 {
        conns.push(keep_alive(&base).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Ten more: each closes the idlest, and is served.
    for _ in 0..10 {
        conns.push(keep_alive(&base).await);
    }
    let mut gone = Vec::new();
    for (i, s) in conns.iter_mut().enumerate() {
        if closed(s).await {
            gone.push(i);
        }
    }
    assert_eq!(
        gone,
        (0..10).collect::<Vec<_>>(),
        "the ten oldest idle ones closed"
    );
    let (status, _) = probe(&base).await;
    assert_eq!(status, 200);
    server.terminate();
}

async fn probe(base: &str) -> (u16, String) {
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--idle-timeout", "1s"]);
    let mut s = keep_alive(&server.base).await;
    assert!(!closed(&mut s).await, "still open at first");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(closed(&mut s).await, "closed once idle past the timeout");
    server.terminate();
}
