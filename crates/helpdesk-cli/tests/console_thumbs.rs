//! The console's thumbnails over real HTTP: sizes and formats, EXIF
//! orientation, ETags, a decompression bomb refused cheaply with the
//! placeholder, and one decode for many concurrent cold requests.

use helpdesk_testkit::binary::*;
use helpdesk_testkit::photos::{self, encode, picture, png_bomb};
use image::ImageFormat;
use reqwest::header::{COOKIE, ETAG, IF_NONE_MATCH};

/// A server with its console and metrics; (server, console URL, session
/// cookie, metrics URL).
async fn console_with_session(dir: &std::path::Path) -> (Serving, String, String, String) {
    let server = serve(
        dir,
        &[
            "--console-listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let line = |prefix: &'static str| {
        let l = server.stdout_line(prefix, |l| l.starts_with(prefix));
        l[prefix.len()..].to_string()
    };
    let (url, link) = server.console_link();
    let metrics = line("helpdesk metrics on ");
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(link)
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_string();
    (server, url, session, metrics)
}

fn thumb_path(ticket: &str, msg: &str, index: u32, w: u32) -> String {
    format!("/tickets/{ticket}/messages/{msg}/images/{index}/thumb?w={w}")
}

async fn get(url: &str, session: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header(COOKIE, session)
        .send()
        .await
        .unwrap()
}

/// The counter `result` of the thumbnails family, from a scrape.
async fn thumbnails(metrics: &str, result: &str) -> u64 {
    let text = reqwest::get(metrics).await.unwrap().text().await.unwrap();
    let want = format!("helpdesk_console_thumbnails_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&want))
        .unwrap_or_else(|| panic!("no {want} in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn thumbnails_fit_their_box_never_upscale_turn_upright_and_answer_304() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, session, _) = console_with_session(dir.path()).await;
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let landscape = encode(ImageFormat::Png, &picture(800, 600));
    let small = encode(ImageFormat::Png, &picture(120, 90));
    // 24 x 16 pixels stored, Orientation 6: shown 16 wide, 24 high.
    let (rotated, _) = photos::camera_jpeg();
    let t = ticket_with_images(&c, &[landscape, small, rotated]).await;
    let at = [
        (t.image_msg.as_str(), 0),
        (t.post_msg.as_str(), 0),
        (t.post_msg.as_str(), 1),
    ];

    let cases = [
        (at[0], 200, ImageFormat::WebP, (200, 150)),
        (at[0], 400, ImageFormat::WebP, (400, 300)),
        (at[0], 1600, ImageFormat::Jpeg, (800, 600)),
        (at[1], 400, ImageFormat::WebP, (120, 90)),
        (at[2], 200, ImageFormat::WebP, (16, 24)),
    ];
    for ((msg, index), w, format, (width, height)) in cases {
        let res = get(
            &format!("{url}{}", thumb_path(&t.ticket, msg, index, w)),
            &session,
        )
        .await;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers().get("x-thumbnail").is_none(),
            "not the placeholder"
        );
        let etag = res.headers()[ETAG].to_str().unwrap().to_string();
        let bytes = res.bytes().await.unwrap();
        assert_eq!(image::guess_format(&bytes).unwrap(), format, "w={w}");
        let img = photos::pixels(&bytes);
        assert_eq!(
            (img.width(), img.height()),
            (width, height),
            "{msg}/{index} at w={w}"
        );

        let again = reqwest::Client::new()
            .get(format!("{url}{}", thumb_path(&t.ticket, msg, index, w)))
            .header(COOKIE, &session)
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
    // The ticket's page states each image's dimensions, as its header
    // does (the rotated JPEG's as stored).
    let page = get(&format!("{url}/tickets/{}", t.ticket), &session)
        .await
        .text()
        .await
        .unwrap();
    let stated: Vec<&str> = page
        .split("<dt>Dimensions</dt><dd>")
        .skip(1)
        .map(|s| s.split(" px</dd>").next().unwrap())
        .collect();
    assert_eq!(stated, ["800x600", "120x90", "24x16"]);
    let bad = get(
        &format!("{url}{}", thumb_path(&t.ticket, at[0].0, 0, 300)),
        &session,
    )
    .await;
    assert_eq!(bad.status(), 400);
    let missing = get(
        &format!("{url}{}", thumb_path(&t.ticket, at[0].0, 7, 200)),
        &session,
    )
    .await;
    assert_eq!(missing.status(), 404);
    server.terminate();
}

/// The server's peak resident set, KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_png_bomb_gets_the_placeholder_without_its_memory_and_twenty_cold_requests_make_one_thumbnail(
) {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, session, metrics) = console_with_session(dir.path()).await;
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let photo = encode(ImageFormat::Png, &picture(1200, 900));
    let t = ticket_with_images(&c, &[png_bomb(), photo]).await;

    let before = peak_rss_kib(server.child.id());
    let started = std::time::Instant::now();
    let res = get(
        &format!("{url}{}", thumb_path(&t.ticket, &t.image_msg, 0, 400)),
        &session,
    )
    .await;
    let took = started.elapsed();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-thumbnail"], "placeholder");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::WebP);
    let grown = peak_rss_kib(server.child.id()).saturating_sub(before);
    // Refused from its header: no decode, so no memory to speak of. (Its
    // time is helpdesk-media's thumb_bomb test's, in process: here it would
    // be a debug build's round trip on a loaded machine.)
    eprintln!("the bomb's placeholder: {took:?}, {grown} KiB of peak RSS");
    assert!(grown < 50 * 1024, "the bomb grew the server by {grown} KiB");
    assert_eq!(thumbnails(&metrics, "placeholder").await, 1);

    // Twenty at once for one cold key: one render, nineteen waited for it.
    let path = format!("{url}{}", thumb_path(&t.ticket, &t.post_msg, 0, 400));
    let all: Vec<_> = (0..20)
        .map(|_| {
            let (path, session) = (path.clone(), session.clone());
            tokio::spawn(async move { get(&path, &session).await.bytes().await.unwrap() })
        })
        .collect();
    let mut bodies = Vec::new();
    for one in all {
        bodies.push(one.await.unwrap());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "the same thumbnail to all"
    );
    assert_eq!(thumbnails(&metrics, "rendered").await, 1, "one decode");
    assert_eq!(thumbnails(&metrics, "cached").await, 19);
    // It was made on a thread that yields the CPU to the API's at once:
    // SCHED_IDLE.
    let policies = render_thread_policies(server.child.id());
    assert!(!policies.is_empty(), "no thumbnails-N thread");
    assert!(
        policies.iter().all(|p| *p == i64::from(libc::SCHED_IDLE)),
        "{policies:?}"
    );
    server.terminate();
}

/// The scheduling policy of each of the server's thumbnail threads (Linux).
fn render_thread_policies(pid: u32) -> Vec<i64> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim().starts_with("thumbnails-") {
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            // After "(comm)": state is field 3, policy field 41.
            let rest = &stat[stat.rfind(')').unwrap() + 2..];
            found.push(rest.split(' ').nth(38).unwrap().parse().unwrap());
        }
    }
    found
}
