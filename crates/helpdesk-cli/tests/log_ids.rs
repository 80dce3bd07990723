//! Log ids stay unique across replicas and restarts: each process draws a
//! random prefix once and counts its requests (crates/helpdesk-server/src/
//! logid.rs), so two servers on one storage, and a server started again,
//! never hand out the same `X-Tt-Logid`.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;

use helpdesk_testkit::binary::*;

const ID_HEADER: &[u8] = b"X-Tt-Logid: ";
const BATCH: usize = 1000;

/// `n` log ids from `base`, over one keep-alive connection, pipelined.
fn log_ids(base: &str, n: usize) -> Vec<String> {
    let addr = base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut ids = Vec::with_capacity(n);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while ids.len() < n {
        let batch = BATCH.min(n - ids.len());
        conn.write_all(request.repeat(batch).as_bytes()).unwrap();
        let want = ids.len() + batch;
        while ids.len() < want {
            let read = conn.read(&mut buf).unwrap();
            assert!(read > 0, "the server closed the connection");
            pending.extend_from_slice(&buf[..read]);
            // Take every complete id; keep what may be the start of one.
            let mut consumed = 0;
            while let Some(at) = find(&pending[consumed..], ID_HEADER) {
                let start = consumed + at + ID_HEADER.len();
                if pending.len() < start + 34 {
                    break;
                }
                ids.push(String::from_utf8(pending[start..start + 34].to_vec()).unwrap());
                consumed = start + 34;
            }
            let keep_from = consumed.max(pending.len().saturating_sub(ID_HEADER.len() + 34));
            pending.drain(..keep_from);
        }
    }
    ids
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn well_formed(id: &str) -> bool {
    id.len() == 34
        && id[..14].bytes().all(|b| b.is_ascii_digit())
        && id[14..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

#[test]
fn two_servers_and_a_restart_never_hand_out_the_same_log_id_over_100000_requests() {
    let dir = tempfile::tempdir().unwrap();
    let a = serve(dir.path(), &[]);
    let b = serve(dir.path(), &[]);
    let (base_a, base_b) = (a.base.clone(), b.base.clone());
    let from_a = std::thread::spawn(move || log_ids(&base_a, 50_000));
    let from_b = log_ids(&base_b, 50_000);
    let from_a = from_a.join().unwrap();
    a.terminate();
    let again = serve(dir.path(), &[]);
    let from_again = log_ids(&again.base, 10_000);
    // Serving does not stop its process when dropped.
    b.terminate();
    again.terminate();

    let all: Vec<&String> = from_a.iter().chain(&from_b).chain(&from_again).collect();
    assert_eq!(all.len(), 110_000);
    if let Some(bad) = all.iter().find(|id| !well_formed(id)) {
        panic!("a log id is not Feishu's shape (14 digits, 20 upper-case hex): {bad}");
    }
    let distinct: HashSet<&str> = all.iter().map(|id| id.as_str()).collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "{} log ids were handed out twice",
        all.len() - distinct.len()
    );
    // Each process's ids share its prefix, and the three prefixes differ.
    let prefix = |ids: &[String]| ids[0][14..26].to_string();
    let prefixes: HashSet<String> = [prefix(&from_a), prefix(&from_b), prefix(&from_again)].into();
    assert_eq!(prefixes.len(), 3);
    for ids in [&from_a, &from_b, &from_again] {
        assert!(ids.iter().all(|id| id[14..26] == ids[0][14..26]));
    }
}
