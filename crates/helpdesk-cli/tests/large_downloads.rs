//! Large kept images are sent from their file (crates/helpdesk-server/src/
//! sendfile.rs): what arrives is still exactly the image, every time, to a
//! client that reads slowly, and on a keep-alive connection whose next
//! answers are something else.

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
async fn a_large_image_sent_from_its_file_arrives_whole_to_fast_slow_and_pipelined_clients() {
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
    // path's, from the file.
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

/// The one file of `len` bytes under `dir`'s blob store (embedded storage
/// keeps each image in a file named by its hash).
fn blob_file(dir: &std::path::Path, len: usize) -> std::path::PathBuf {
    let mut found = Vec::new();
    let mut todo = vec![dir.join("blobs")];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if std::fs::metadata(&path).unwrap().len() == len as u64 {
                found.push(path);
            }
        }
    }
    assert_eq!(
        found.len(),
        1,
        "one blob of {len} bytes in {}",
        dir.display()
    );
    found.pop().unwrap()
}

/// Rewrites `path` in place (same inode, so an open descriptor sees it).
fn overwrite(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_kept_image_is_sent_from_its_file_while_that_is_whole_and_from_memory_otherwise() {
    // Local files on every pass: sendfile needs them.
    let dir = tempfile::tempdir().unwrap();
    let storage = helpdesk_testkit::storage_on(&helpdesk_testkit::Backend::Embedded, dir.path());
    let server = serve(&storage, &[]);
    let copying = serve(&storage, &["--sendfile", "off"]);
    let party = provision(&storage);
    let c = party.client(&server.base);
    let ticket = open_ticket(&c).await;
    let large = noise(11, 1024 * 1024);
    let msg = post_image(&c, &ticket, &large, "large.png").await;
    let file = blob_file(dir.path(), large.len());
    let download = |base: String| {
        let (ticket, msg) = (ticket.clone(), msg.clone());
        let party = &party;
        async move {
            let caller = Caller::of(party, &base).await;
            let (status, _, _, body) = caller.image(&base, &ticket, &msg).await;
            assert_eq!(status, 200);
            body
        }
    };
    // Both keep it (the first download decides, the second is the fast
    // path's).
    for base in [&server.base, &copying.base] {
        for _ in 0..2 {
            assert!(download(base.clone()).await == large);
        }
    }

    // The blob's file is trusted to hold its hash's bytes: changed in place
    // (which only a disk fault or an operator could do), what the kernel
    // sends is the file, and that shows sendfile is what sends it; with
    // `--sendfile off` the kept copy in memory is what goes out.
    let changed: Vec<u8> = large.iter().map(|b| b ^ 0x5a).collect();
    overwrite(&file, &changed);
    assert!(
        download(server.base.clone()).await == changed,
        "a 1 MiB kept image was not sent from its file"
    );
    assert!(
        download(copying.base.clone()).await == large,
        "--sendfile off sent the file"
    );

    // A file that is not the image's size (here, cut short) is not used:
    // the kept bytes are the answer, whole.
    overwrite(&file, &large[..large.len() / 2]);
    assert!(
        download(server.base.clone()).await == large,
        "a short file cut the answer"
    );
    // Nor one that is gone.
    std::fs::remove_file(&file).unwrap();
    assert!(
        download(server.base.clone()).await == large,
        "a missing file broke the answer"
    );
    std::fs::write(&file, &large).unwrap();

    // Clients that hang up halfway through a file's bytes leave the server
    // answering the next.
    let addr = server.base.trim_start_matches("http://").to_string();
    let caller = Caller::of(&party, &server.base).await;
    let req = format!(
        "GET /open-apis/helpdesk/v1/ticket_images?ticket_id={ticket}&msg_id={msg} HTTP/1.1\r\n\
         Host: {addr}\r\nAuthorization: Bearer {}\r\nX-Lark-Helpdesk-Authorization: {}\r\n\r\n",
        caller.token, caller.credential
    );
    tokio::task::spawn_blocking(move || {
        for _ in 0..20 {
            let mut conn = TcpStream::connect(&addr).unwrap();
            conn.write_all(req.repeat(3).as_bytes()).unwrap();
            let mut buf = vec![0u8; 100 * 1024];
            conn.read_exact(&mut buf).unwrap();
        }
    })
    .await
    .unwrap();
    assert!(download(server.base.clone()).await == large);
    copying.terminate();
    server.terminate();
}
