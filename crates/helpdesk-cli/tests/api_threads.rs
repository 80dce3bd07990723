//! `--api-threads`: the API's connections are served on threads of their
//! own, each new one by the thread serving the fewest, and every answer is
//! the same as on one runtime.

use helpdesk_testkit::binary::*;
use helpdesk_testkit::images::png;

/// The server's `api-N` threads: (name, nanoseconds each has run).
fn api_threads(pid: u32) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let comm = comm.trim();
        if comm.starts_with("api-") {
            // schedstat: time on the CPU (ns), time waiting, timeslices.
            let ran = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
            let ran = ran
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            found.push((comm.to_string(), ran));
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_connections_are_shared_by_the_three_api_threads_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--api-threads", "3"]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let c = party.client(&base);
    let ticket = open_ticket(&c).await;
    let bytes = png(4, 20_000);
    let msg = post_image(&c, &ticket, &bytes, "t.png").await;
    let caller = Caller::of(&party, &base).await;

    let names: Vec<String> = api_threads(server.child.id())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["api-0", "api-1", "api-2"]);
    let before = api_threads(server.child.id());

    // Thirty keep-alive connections (a client each), 100 downloads on each.
    let image = format!("{base}/open-apis/helpdesk/v1/ticket_images");
    let all: Vec<_> = (0..30)
        .map(|_| {
            let (image, ticket, msg) = (image.clone(), ticket.clone(), msg.clone());
            let (token, credential) = (caller.token.clone(), caller.credential.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut bodies = Vec::new();
                for _ in 0..100 {
                    let res = client
                        .get(&image)
                        .query(&[("ticket_id", &ticket), ("msg_id", &msg)])
                        .bearer_auth(&token)
                        .header("X-Lark-Helpdesk-Authorization", &credential)
                        .send()
                        .await
                        .expect("ticket_images");
                    assert_eq!(res.status(), 200);
                    bodies.push(res.bytes().await.unwrap());
                }
                bodies
            })
        })
        .collect();
    for one in all {
        for body in one.await.unwrap() {
            assert_eq!(&body[..], &bytes[..], "the image's bytes");
        }
    }

    // Ten connections each: every thread did a share of the work (a
    // thread left out would have run only microseconds).
    let after = api_threads(server.child.id());
    let ran: Vec<u64> = after
        .iter()
        .zip(&before)
        .map(|((_, a), (_, b))| a - b)
        .collect();
    let most = *ran.iter().max().unwrap();
    assert!(
        ran.iter().all(|r| *r * 10 >= most),
        "time each api thread ran, ns: {ran:?}"
    );
    let (status, _) = server.terminate();
    assert!(status.success(), "a clean stop");
}

#[test]
fn by_default_there_is_an_api_thread_per_core() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let cores = std::thread::available_parallelism().unwrap().get();
    // They start as the server begins to accept (just after it says where).
    wait_for("an api thread per core", || {
        api_threads(server.child.id()).len() == cores
    });
    assert_eq!(api_threads(server.child.id()).len(), cores);
    server.terminate();
}
