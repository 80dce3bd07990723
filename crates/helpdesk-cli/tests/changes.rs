//! Admin changes seen at once: when an `admin` command returns, every server
//! on the same storage answers the new way to the very next request, with
//! no sleep between (a socket per server beside the SQLite file; `LISTEN`/
//! `NOTIFY` on PostgreSQL). A server that does not acknowledge is named on
//! stderr and the command still returns; the poll stays the fallback.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use helpdesk_store::changes::postgres::{APPLICATION_NAME, CHANNEL};
use helpdesk_testkit::binary::*;
use helpdesk_testkit::{backend, Backend};
use serde_json::Value;

/// `helpdesk admin ARGS`, which must succeed: its JSON, its stderr and how
/// long it took.
fn admin_timed(data: &Path, args: &[&str]) -> (Value, String, Duration) {
    let started = Instant::now();
    let out = Command::new(bin())
        .arg("admin")
        .args(helpdesk_testkit::config_args(&helpdesk_testkit::storage(
            data,
        )))
        .args(args)
        .output()
        .expect("run admin");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "admin {args:?} failed: {stderr}");
    let json = serde_json::from_slice(&out.stdout).expect("one JSON object");
    (json, stderr, took)
}

/// The sockets servers listen on in the embedded data dir `data`.
fn sockets(data: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data.join(".helpdesk-changes")) else {
        return Vec::new();
    };
    let mut all: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sock"))
        .collect();
    all.sort();
    all
}

fn embedded_pass(test: &str) -> bool {
    if backend() == Backend::Embedded {
        return true;
    }
    eprintln!("SKIPPED {test}: it is about the embedded backend's sockets");
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_storage_answer_an_admin_delete_and_a_revocation_at_the_very_next_request(
) {
    // Embedded: two servers sharing one data dir; in the postgres-s3 pass,
    // two replicas on one database and bucket.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let servers = [serve(data, &[]), serve(data, &[])];
    let party = provision(data);
    let c = party.client(&servers[0].base);
    let ticket = open_ticket(&c).await;
    let first = post_image(&c, &ticket, &png(11, 20_000), "first.png").await;
    let second = post_image(&c, &ticket, &png(12, 20_000), "second.png").await;
    let caller = Caller::of(&party, &servers[0].base).await;
    // Both servers hold both downloads in their caches.
    for server in &servers {
        for msg in [&first, &second] {
            assert_eq!(caller.image(&server.base, &ticket, msg).await.0, 200);
            assert_eq!(caller.image(&server.base, &ticket, msg).await.0, 200);
        }
    }

    let (_, stderr, _) = admin_timed(
        data,
        &["image", "delete", "--ticket", &ticket, "--msg", &first],
    );
    assert_eq!(stderr, "", "every server acknowledged");
    for server in &servers {
        let (_, code, _, _) = caller.image(&server.base, &ticket, &first).await;
        assert_eq!(code, 154404, "deleted, on {}", server.base);
    }

    let (_, stderr, _) = admin_timed(data, &["app", "revoke-tokens", "--app", &party.app_id]);
    assert_eq!(stderr, "", "every server acknowledged");
    for server in &servers {
        let (_, code, _, _) = caller.image(&server.base, &ticket, &second).await;
        assert_eq!(code, 99991663, "revoked, on {}", server.base);
    }
    // A new token works at once on both.
    let renewed = Caller::of(&party, &servers[1].base).await;
    for server in &servers {
        assert_eq!(renewed.image(&server.base, &ticket, &second).await.0, 200);
    }
    for server in servers {
        server.terminate();
    }
}

/// What listens for announcements but never acknowledges one: a socket that
/// accepts and never answers (embedded), or a connection that LISTENs under
/// the servers' name (PostgreSQL). Dropped, it stops.
enum Deaf {
    Socket(
        #[allow(dead_code)] std::os::unix::net::UnixListener,
        PathBuf,
    ),
    Postgres(#[allow(dead_code)] sqlx::PgConnection, i32),
}

impl Deaf {
    async fn start(data: &Path) -> Deaf {
        let storage = helpdesk_testkit::storage(data);
        match storage.database_url {
            None => {
                let dir = data.join(".helpdesk-changes");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join("4242-deafdeaf.sock");
                let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
                // The kernel completes connections up to the backlog; nobody
                // ever accepts, reads or answers them.
                Deaf::Socket(listener, path)
            }
            Some(url) => {
                use sqlx::ConnectOptions;
                let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
                let mut conn = options
                    .application_name(APPLICATION_NAME)
                    .connect()
                    .await
                    .unwrap();
                sqlx::query(&format!("LISTEN \"{CHANNEL}\""))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                Deaf::Postgres(conn, pid)
            }
        }
    }

    /// How the admin command names it.
    fn named(&self) -> String {
        match self {
            Deaf::Socket(_, path) => format!("pid 4242 (socket {})", path.display()),
            Deaf::Postgres(_, pid) => format!("PostgreSQL connection {pid} "),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_does_not_acknowledge_is_named_on_stderr_and_the_command_still_returns() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let server = serve(data, &[]);
    let party = provision(data);
    let c = party.client(&server.base);
    let ticket = open_ticket(&c).await;
    let msg = post_image(&c, &ticket, &png(13, 20_000), "shot.png").await;
    let caller = Caller::of(&party, &server.base).await;
    assert_eq!(caller.image(&server.base, &ticket, &msg).await.0, 200);
    let deaf = Deaf::start(data).await;

    let (deleted, stderr, took) = admin_timed(
        data,
        &["image", "delete", "--ticket", &ticket, "--msg", &msg],
    );
    eprintln!("admin returned after {took:?}");
    assert!(deleted["deleted"].is_array(), "{deleted}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one line, for the one that did not answer: {stderr}"
    );
    assert!(lines[0].contains(&deaf.named()), "{stderr}");
    assert!(
        lines[0].contains("did not acknowledge the change")
            && lines[0].contains("at its next poll, within 250 ms"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "bounded: {took:?}");
    // The server that did answer answers the new way already.
    assert_eq!(caller.image(&server.base, &ticket, &msg).await.1, 154404);
    drop(deaf);
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_left_by_a_crashed_server_is_removed_by_the_next_admin_change_and_a_stopped_server_removes_its_own(
) {
    if !embedded_pass("a_socket_left_by_a_crashed_server_is_removed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let party = provision(data);
    let crashed = serve(data, &[]);
    let left = sockets(data);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(&format!("{}-", crashed.child.id())));
    crashed.kill();
    assert_eq!(sockets(data), left, "kill -9 leaves its socket");

    let live = serve(data, &[]);
    assert_eq!(sockets(data).len(), 2);
    let (_, stderr, _) = admin_timed(data, &["app", "revoke-tokens", "--app", &party.app_id]);
    assert_eq!(stderr, "", "a stale socket is no server to complain about");
    let now = sockets(data);
    assert_eq!(now.len(), 1, "the stale socket is gone: {now:?}");
    assert!(!now.contains(&left[0]));

    live.terminate();
    assert_eq!(
        sockets(data),
        Vec::<PathBuf>::new(),
        "SIGTERM removes its own"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_dir_too_deep_for_a_socket_path_falls_back_to_the_poll() {
    if !embedded_pass("a_data_dir_too_deep_for_a_socket_path_falls_back_to_the_poll") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d".repeat(60)).join("e".repeat(60));
    std::fs::create_dir_all(&data).unwrap();
    let server = serve(&data, &[]);
    let party = provision(&data);
    let c = party.client(&server.base);
    let ticket = open_ticket(&c).await;
    let msg = post_image(&c, &ticket, &png(14, 20_000), "shot.png").await;
    let caller = Caller::of(&party, &server.base).await;
    assert_eq!(caller.image(&server.base, &ticket, &msg).await.0, 200);
    let (_, stderr, _) = admin_timed(
        &data,
        &["image", "delete", "--ticket", &ticket, "--msg", &msg],
    );
    assert_eq!(stderr, "", "no socket, nobody to wait for");
    within(
        Duration::from_secs(1),
        "the poll sees the delete",
        || async { caller.image(&server.base, &ticket, &msg).await.1 == 154404 },
    )
    .await;
    let (_, log) = server.terminate();
    assert!(
        log.contains("admin changes reach this server only at its next poll")
            && log.contains("longer than the 107 bytes"),
        "{log}"
    );
}

/// The backend pids of the servers' listening connections on `url`.
async fn listening_pids(url: &str) -> Vec<i32> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let mut pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(APPLICATION_NAME)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    pids.sort_unstable();
    pids
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_whose_listening_connection_was_cut_listens_again() {
    if !helpdesk_testkit::scale_out_pass(
        "a_replica_whose_listening_connection_was_cut_listens_again",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let url = helpdesk_testkit::storage(data).database_url.unwrap();
    let servers = [serve(data, &[]), serve(data, &[])];
    let party = provision(data);
    let before = listening_pids(&url).await;
    assert_eq!(
        before.len(),
        2,
        "one listening connection a replica: {before:?}"
    );

    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        for pid in &before {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    // Both make their connection again (the poll covers the time between).
    within(Duration::from_secs(10), "both listen again", || async {
        let now = listening_pids(&url).await;
        now.len() == 2 && now.iter().all(|p| !before.contains(p))
    })
    .await;

    let c = party.client(&servers[0].base);
    let ticket = open_ticket(&c).await;
    let msg = post_image(&c, &ticket, &png(15, 20_000), "shot.png").await;
    let caller = Caller::of(&party, &servers[0].base).await;
    for server in &servers {
        assert_eq!(caller.image(&server.base, &ticket, &msg).await.0, 200);
    }
    let (_, stderr, _) = admin_timed(
        data,
        &["image", "delete", "--ticket", &ticket, "--msg", &msg],
    );
    assert_eq!(stderr, "", "both acknowledged");
    for server in &servers {
        assert_eq!(caller.image(&server.base, &ticket, &msg).await.1, 154404);
    }
    for server in servers {
        server.terminate();
    }
}
