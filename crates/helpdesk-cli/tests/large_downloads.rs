//! Large kept images through the front's fast path: what arrives is
//! exactly the image, every time, to a client that reads slowly, and on a
//! keep-alive connection whose answers in between are something else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use helpdesk_testkit::binary::*;

/// A PNG signature, then `len` bytes that never repeat in a short period
/// (an offset off by any amount would show).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut x = seed | 1;
    v.extend((0..len).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 24) as u8
    }));
    v
}

/// One response read off `conn`: its status and body (by Content-Length),
/// reading in small pieces with pauses when `slow`.
fn response(conn: &mut TcpStream, pending: &mut Vec<u8>, slow: bool) -> (u16, Vec<u8>) {
    let mut buf = vec![0u8; if slow { 4096 } else { 256 * 1024 }];
    let mut fill = |pending: &mut Vec<u8>| {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed the connection");
        pending.extend_from_slice(&buf[..n]);
        if slow {
            std::thread::sleep(Duration::from_micros(200));
        }
    };
    let head_end = loop {
        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        fill(pending);
    };
    let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("Content-Length")
        .trim()
        .parse()
        .unwrap();
    while pending.len() < head_end + length {
        fill(pending);
    }
    let body = pending[head_end..head_end + length].to_vec();
    pending.drain(..head_end + length);
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_kept_image_arrives_whole_to_fast_slow_and_pipelined_clients() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let c = party.client(&base);
    let ticket = open_ticket(&c).await;
    let large = noise(7, 3 * 1024 * 1024 + 123);
    let small = noise(9, 2000);
    let large_msg = post_image(&c, &ticket, &large, "large.png").await;
    let small_msg = post_image(&c, &ticket, &small, "small.png").await;
    let caller = Caller::of(&party, &base).await;
    // The first download decides and keeps it; the next ones are the fast
    // path's.
    for _ in 0..3 {
        let (status, _, _, body) = caller.image(&base, &ticket, &large_msg).await;
        assert_eq!(status, 200);
        assert!(body == large, "the large image came back changed");
    }

    let addr = base.trim_start_matches("http://").to_string();
    let request = |msg: &str| {
        format!(
            "GET /open-apis/helpdesk/v1/ticket_images?ticket_id={ticket}&msg_id={msg} HTTP/1.1\r\n\
             Host: {addr}\r\nAuthorization: Bearer {}\r\nX-Lark-Helpdesk-Authorization: {}\r\n\r\n",
            caller.token, caller.credential
        )
    };
    let (large_req, small_req) = (request(&large_msg), request(&small_msg));
    let missing = format!("GET /open-apis/nothing HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        for slow in [false, true] {
            let mut conn = TcpStream::connect(&addr).unwrap();
            // Pipelined: the large image, something small, the large again,
            // a 404, the large once more.
            let all = [&large_req, &small_req, &large_req, &missing, &large_req];
            conn.write_all(
                all.iter()
                    .map(|r| r.as_str())
                    .collect::<String>()
                    .as_bytes(),
            )
            .unwrap();
            let mut pending = Vec::new();
            let want: [(u16, Option<&[u8]>); 5] = [
                (200, Some(&large)),
                (200, Some(&small)),
                (200, Some(&large)),
                (404, None),
                (200, Some(&large)),
            ];
            for (i, (status, body)) in want.into_iter().enumerate() {
                let (got_status, got) = response(&mut conn, &mut pending, slow);
                assert_eq!(got_status, status, "answer {i} (slow reader: {slow})");
                if let Some(body) = body {
                    assert!(
                        got == body,
                        "answer {i} came back changed (slow reader: {slow})"
                    );
                }
            }
        }
    })
    .await
    .unwrap();
    server.terminate();
}
