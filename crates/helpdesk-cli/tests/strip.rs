//! Metadata stripping through real processes: a phone's JPEG, PNG and WebP
//! are uploaded, posted in a ticket and downloaded, and come back without
//! their position (`serve` strips `location` by default), with nothing but
//! their orientation (`--strip-metadata all`), or byte for byte
//! (`--strip-metadata off`), and always with the same pixels. A clean file
//! is stored as it came and deduplicated. Hostile files (a truncated JPEG
//! whose EXIF claims 4 GB, a PNG with 10,000 text chunks, a zip bomb after
//! a PNG) each get a clear answer, and the server's peak RSS grows by less
//! than 50 MB. The files are built by helpdesk-testkit's `photos` and read
//! back with libraries independent of the server's (kamadak-exif, image).
//! Runs on both backends.

use helpdesk_testkit::binary::*;
use helpdesk_testkit::photos::image::ImageFormat;
use helpdesk_testkit::photos::*;
use helpdesk_testkit::{object_count, open};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a download answered.
struct Download {
    status: u16,
    etag: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// A server and the tenant it serves.
struct Setup {
    server: Serving,
    client: helpdesk_client::Client,
    caller: Caller,
}

async fn setup(dir: &std::path::Path, extra: &[&str]) -> Setup {
    let server = serve(dir, extra);
    let party = provision(dir);
    let client = party.client(&server.base);
    let caller = Caller::of(&party, &server.base).await;
    Setup {
        server,
        client,
        caller,
    }
}

impl Setup {
    /// Uploads `bytes`, posts them as an image message in a new ticket and
    /// downloads them with `ticket_images`.
    async fn round_trip(&self, bytes: &[u8], name: &str) -> Download {
        let ticket = open_ticket(&self.client).await;
        let msg = post_image(&self.client, &ticket, bytes, name).await;
        self.download(&ticket, &msg).await
    }

    async fn download(&self, ticket: &str, msg: &str) -> Download {
        let res = reqwest::Client::new()
            .get(format!(
                "{}/open-apis/helpdesk/v1/ticket_images",
                self.server.base
            ))
            .query(&[("ticket_id", ticket), ("msg_id", msg)])
            .bearer_auth(&self.caller.token)
            .header("X-Lark-Helpdesk-Authorization", &self.caller.credential)
            .send()
            .await
            .expect("ticket_images");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let (etag, content_type) = (header("etag"), header("content-type"));
        Download {
            status: res.status().as_u16(),
            etag,
            content_type,
            bytes: res.bytes().await.expect("body").to_vec(),
        }
    }

    /// `POST /open-apis/im/v1/images` as raw HTTP: the status and the body.
    async fn upload(&self, bytes: Vec<u8>, name: &str) -> (u16, Value) {
        let token = self.client.tenant_access_token().await.unwrap();
        let form = reqwest::multipart::Form::new()
            .text("image_type", "message")
            .part(
                "image",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        let res = reqwest::Client::new()
            .post(format!("{}/open-apis/im/v1/images", self.server.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    /// Round trips `bytes` as [`Setup::round_trip`] does, and measures
    /// what that raised the server's peak resident set by, in KiB: its
    /// `VmHWM` before, and after or the highest `VmRSS` sampled meanwhile
    /// every millisecond, whichever is higher (the kernel updates `VmHWM`
    /// lazily: a peak given back before it is read can be missing from it).
    /// Prints the figures (run with `--nocapture` to see them).
    async fn measured_round_trip(&self, what: &str, bytes: &[u8], name: &str) -> (Download, u64) {
        let pid = self.server.child.id();
        let before = status_kib(pid, "VmHWM:");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut highest = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    highest = highest.max(status_kib(pid, "VmRSS:"));
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                highest
            })
        };
        let started = std::time::Instant::now();
        let back = self.round_trip(bytes, name).await;
        let took = started.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let sampled = sampler.join().unwrap();
        let after = status_kib(pid, "VmHWM:").max(sampled);
        let grown = after.saturating_sub(before);
        println!("{what}: peak RSS {before} KiB -> {after} KiB (+{grown} KiB) in {took:?}");
        (back, grown)
    }

    /// A clean image through the whole path, so that what the first
    /// request sets up (pools, caches) is in the RSS measured before.
    async fn warm_up(&self) {
        let clean = encode(ImageFormat::Png, &picture(16, 16));
        let back = self.round_trip(&clean, "warm.png").await;
        assert_eq!((back.status, back.bytes), (200, clean));
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.server.log).unwrap_or_default()
    }
}

/// A `/proc/<pid>/status` figure, in KiB.
fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {status}"))
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn quoted_sha256(bytes: &[u8]) -> String {
    format!("\"{}\"", sha256(bytes))
}

/// 50 MB, in the KiB `/proc` counts in.
const RSS_GROWTH_LIMIT_KIB: u64 = 50_000_000 / 1024;

fn assert_rss_growth_under_50_mb(grown: u64, what: &str) {
    assert!(
        grown < RSS_GROWTH_LIMIT_KIB,
        "{what}: the server's peak RSS grew by {grown} KiB"
    );
}

/// A camera file as the testkit's photos build it.
struct CameraFile {
    /// As in its content type: `image/{kind}`.
    kind: &'static str,
    bytes: Vec<u8>,
    picture: RgbaImage,
    /// The byte order of its EXIF.
    little_endian: bool,
}

fn camera_files() -> [CameraFile; 3] {
    let file = |kind, (bytes, picture), little_endian| CameraFile {
        kind,
        bytes,
        picture,
        little_endian,
    };
    [
        file("jpeg", camera_jpeg(), false),
        file("png", camera_png(), true),
        file("webp", camera_webp(), false),
    ]
}

/// What `location` must leave of a camera file: no GPS field, the position
/// nowhere in the bytes, no XMP (it named the position), Orientation 6 and
/// the Make kept, the comment kept, the same pixels; and the download's
/// ETag is the SHA-256 of the stripped bytes.
async fn assert_location_round_trip(kind: &str, name: &str) {
    let CameraFile {
        bytes: input,
        picture: img,
        little_endian,
        ..
    } = camera_files().into_iter().find(|f| f.kind == kind).unwrap();
    assert!(gps_fields(&input) > 0, "{kind}: the file has a position");
    assert_eq!(orientation(&input), Some(6));
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[]).await;

    let back = s.round_trip(&input, name).await;
    assert_eq!(back.status, 200, "{kind}");
    assert_eq!(back.content_type, format!("image/{kind}"));
    let got = &back.bytes;
    assert_eq!(gps_fields(got), 0, "{kind}: a GPS field is left");
    assert!(!contains(got, &latitude_bytes(little_endian)), "{kind}");
    assert!(!contains(got, b"GPSLatitude"), "{kind}: the XMP is left");
    assert_eq!(orientation(got), Some(6), "{kind}");
    assert_eq!(make(got).as_deref(), Some(MAKE), "{kind}");
    if kind != "webp" {
        assert!(contains(got, COMMENT), "{kind}: a comment is not location");
    }
    assert_eq!(pixels(got), pixels(&input), "{kind}: the pixels changed");
    if kind != "jpeg" {
        assert_eq!(pixels(got), img, "{kind}: lossless");
    }
    assert_eq!(back.etag, quoted_sha256(got), "{kind}: stored as stripped");
    assert_ne!(back.etag, quoted_sha256(&input), "{kind}");
    assert!(got.len() < input.len());
    s.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_jpeg_comes_back_without_gps_with_its_pixels_and_orientation() {
    assert_location_round_trip("jpeg", "IMG_0001.jpg").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_png_comes_back_without_gps_with_its_pixels_and_orientation() {
    assert_location_round_trip("png", "Screenshot.png").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_webp_comes_back_without_gps_with_its_pixels_and_orientation() {
    assert_location_round_trip("webp", "IMG_0002.webp").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_strip_all_only_the_orientation_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &["--strip-metadata", "all"]).await;
    for CameraFile {
        kind, bytes: input, ..
    } in camera_files()
    {
        let back = s.round_trip(&input, &format!("photo.{kind}")).await;
        assert_eq!(back.status, 200, "{kind}");
        let got = &back.bytes;
        assert_eq!(orientation(got), Some(6), "{kind}");
        let exif = read_exif(got).unwrap();
        assert_eq!(exif.fields().count(), 1, "{kind}: only Orientation is left");
        assert_eq!(make(got), None, "{kind}");
        assert_eq!(gps_fields(got), 0, "{kind}");
        assert!(!contains(got, MAKE.as_bytes()), "{kind}");
        assert!(!contains(got, COMMENT), "{kind}: the comment is left");
        assert!(!contains(got, b"xmpmeta"), "{kind}: the XMP is left");
        match kind {
            "png" => assert_eq!(png_text_chunks(got), 0),
            "webp" => {
                assert!(!webp_chunk_ids(got).contains(b"XMP "));
                assert_eq!(
                    vp8x_flags(got).map(|f| f & (VP8X_EXIF | VP8X_XMP)),
                    Some(VP8X_EXIF)
                );
            }
            _ => {}
        }
        assert_eq!(pixels(got), pixels(&input), "{kind}: the pixels changed");
        assert_eq!(back.etag, quoted_sha256(got), "{kind}");
    }
    s.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn with_strip_off_every_byte_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &["--strip-metadata", "off"]).await;
    for CameraFile {
        kind, bytes: input, ..
    } in camera_files()
    {
        let back = s.round_trip(&input, &format!("photo.{kind}")).await;
        assert_eq!(back.status, 200, "{kind}");
        assert!(back.bytes == input, "{kind}: not byte-identical");
        assert!(gps_fields(&back.bytes) > 0, "{kind}");
        assert_eq!(back.etag, quoted_sha256(&input), "{kind}");
    }
    s.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_image_is_stored_byte_for_byte_and_deduplicated_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[]).await;
    let clean = encode(ImageFormat::Jpeg, &picture(32, 24));
    assert_eq!(read_exif(&clean).map(|e| e.fields().count()), None);

    let first = s.round_trip(&clean, "clean.jpg").await;
    let second = s.round_trip(&clean, "again.jpg").await;
    for back in [&first, &second] {
        assert_eq!(back.status, 200);
        assert!(back.bytes == clean, "not byte for byte");
        assert_eq!(back.etag, quoted_sha256(&clean));
    }
    assert_eq!(object_count(&open(dir.path()).await).await, 1);
    s.server.terminate();
}

// Hostile files

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_jpeg_whose_exif_claims_four_gigabytes_is_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[]).await;
    s.warm_up().await;
    let input = truncated_jpeg_claiming_four_gigabytes();

    let what = "a truncated JPEG whose EXIF claims 4 GB";
    let pid = s.server.child.id();
    let before = status_kib(pid, "VmHWM:");
    let started = std::time::Instant::now();
    let (status, body) = s.upload(input.clone(), "cut.jpg").await;
    let grown = status_kib(pid, "VmHWM:").saturating_sub(before);
    println!("{what}: peak RSS +{grown} KiB in {:?}", started.elapsed());
    assert_rss_growth_under_50_mb(grown, what);

    // Its segments cannot be read, so its EXIF cannot be removed: refused,
    // saying why, rather than stored with whatever position it holds.
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(234001)),
        "{body}"
    );
    let text = body.to_string();
    assert!(
        text.contains("cannot be removed")
            && text.contains(
                "the JPEG's segments cannot be read: a length runs past the end of the file"
            ),
        "{text}"
    );
    assert!(spool_files(dir.path()).is_empty());
    assert!(
        s.log()
            .contains("upload refused: its metadata cannot be removed"),
        "{}",
        s.log()
    );
    // And goes on stripping what it can read.
    let (phone, _) = camera_jpeg();
    let next = s.round_trip(&phone, "next.jpg").await;
    assert_eq!((next.status, gps_fields(&next.bytes)), (200, 0));
    assert_eq!(orientation(&next.bytes), Some(6));
    s.server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_png_with_ten_thousand_text_chunks_keeps_them_under_location_and_loses_them_under_all() {
    let (input, img) = png_with_text_chunks(10_000);
    assert_eq!(png_text_chunks(&input), 10_000);
    for mode in ["location", "all"] {
        let dir = tempfile::tempdir().unwrap();
        let s = setup(dir.path(), &["--strip-metadata", mode]).await;
        s.warm_up().await;

        let what = format!("a PNG with 10,000 tEXt chunks under {mode}");
        let (back, grown) = s.measured_round_trip(&what, &input, "notes.png").await;
        assert_rss_growth_under_50_mb(grown, &what);

        assert_eq!(back.status, 200, "{mode}");
        assert_eq!(pixels(&back.bytes), img, "{mode}");
        assert_eq!(back.etag, quoted_sha256(&back.bytes), "{mode}");
        if mode == "location" {
            // Text is not location: nothing to remove, stored as it came.
            assert!(back.bytes == input, "location changed it");
        } else {
            assert_eq!(png_text_chunks(&back.bytes), 0, "all left text");
            assert_eq!(
                png_chunk_kinds(&back.bytes),
                png_chunk_kinds(&encode(ImageFormat::Png, &img))
            );
        }
        s.server.terminate();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_png_with_a_zip_bomb_after_it_is_never_inflated_and_loses_the_bomb_when_stripped() {
    // Just under the default --max-image-bytes (10 MiB): nine 1 GiB
    // entries of zeros.
    const SIZE: usize = 10_000_000;
    let clean = encode(ImageFormat::Png, &picture(20, 10));
    let clean_bomb = with_zip_bomb_after(&clean, SIZE);
    let (camera, img) = camera_png();
    let camera_bomb = with_zip_bomb_after(&camera, SIZE);
    assert!(clean_bomb.len() > 9_000_000 && camera_bomb.len() > 9_000_000);

    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[]).await;
    s.warm_up().await;
    // The first upload of this size raises the peak by itself (spooling,
    // reading the file to strip it, storing it), whatever the file holds:
    // measured here, not asserted, so that what is asserted is what a bomb
    // costs beyond any file of its size.
    let ordinary = large_clean_png(clean_bomb.len());
    let what = "the first 10 MB upload, a clean PNG";
    let (back, _) = s.measured_round_trip(what, &ordinary, "large.png").await;
    assert!(back.bytes == ordinary);

    // Nothing in the PNG to remove: stored as it came, bomb and all; the
    // server never opens it.
    let what = "10 MB: a clean PNG and a zip bomb";
    let (back, grown) = s.measured_round_trip(what, &clean_bomb, "bomb.png").await;
    assert_rss_growth_under_50_mb(grown, what);
    assert_eq!(back.status, 200);
    assert!(back.bytes == clean_bomb, "stored as it came");
    assert_eq!(back.etag, quoted_sha256(&clean_bomb));

    // A PNG with a position: stripped, and what follows its IEND (the
    // bomb) is not carried over.
    let what = "10 MB: a camera PNG and a zip bomb";
    let (back, grown) = s
        .measured_round_trip(what, &camera_bomb, "bomb-gps.png")
        .await;
    assert_rss_growth_under_50_mb(grown, what);
    assert_eq!(back.status, 200);
    let got = &back.bytes;
    assert!(got.len() < camera.len(), "{} bytes back", got.len());
    assert!(got.ends_with(b"IEND\xae\x42\x60\x82"), "nothing after IEND");
    assert_eq!(gps_fields(got), 0);
    assert_eq!(orientation(got), Some(6));
    assert_eq!(pixels(got), img);
    assert_eq!(back.etag, quoted_sha256(got));

    // The same bomb past the limit is refused as too large, unopened.
    let (status, body) = s
        .upload(with_zip_bomb_after(&clean, 11 << 20), "big.png")
        .await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(234006)),
        "{body}"
    );
    s.server.terminate();
}

/// Camera files whose structure the stripper cannot read, each still
/// holding its position where an EXIF reader finds it.
fn unreadable_camera_files() -> Vec<(&'static str, Vec<u8>)> {
    let (png, _) = camera_png();
    let (jpeg, _) = camera_jpeg();
    let (webp, _) = camera_webp();
    let mut wrong_crc = png.clone();
    let last = wrong_crc.len() - 1;
    wrong_crc[last] ^= 1;
    // The main image's last DQT (the thumbnail in the EXIF has its own).
    let dqt = jpeg.windows(2).rposition(|w| w == [0xFF, 0xDB]).unwrap();
    vec![
        ("a PNG whose IEND has a wrong CRC", wrong_crc),
        ("a PNG cut off in its IDAT", png[..png.len() - 20].to_vec()),
        ("a JPEG cut off before its scan", jpeg[..dqt + 10].to_vec()),
        (
            "a WebP cut off in its last chunk",
            webp[..webp.len() - 10].to_vec(),
        ),
    ]
}

/// A PNG with a wrong CRC and a WebP cut short still decode (with `image`,
/// and in browsers), and a reader finds the GPS of any of them: each must
/// be refused, or stored without its position.
#[tokio::test(flavor = "multi_thread")]
async fn a_camera_file_whose_structure_does_not_parse_is_not_stored_with_its_gps() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), &[]).await;
    let mut leaks = Vec::new();
    for (what, input) in unreadable_camera_files() {
        assert!(gps_fields(&input) > 0, "{what}: it has a position");
        let (status, body) = s.upload(input.clone(), "photo").await;
        if body["code"] != 0 {
            // Refused: fine.
            assert_eq!(status, 400, "{what}: {body}");
            continue;
        }
        let ticket = open_ticket(&s.client).await;
        let key = body["data"]["image_key"].as_str().unwrap().to_string();
        let msg = s
            .client
            .create_message(
                &ticket,
                &helpdesk_client::MessageContent::Image { image_key: key },
            )
            .await
            .unwrap();
        let back = s.download(&ticket, &msg).await;
        let latitude = [false, true]
            .iter()
            .any(|le| contains(&back.bytes, &latitude_bytes(*le)));
        if gps_fields(&back.bytes) > 0 || latitude {
            leaks.push(format!(
                "{what}: {} GPS fields read back, latitude bytes stored: {latitude}",
                gps_fields(&back.bytes)
            ));
        }
    }
    assert!(
        leaks.is_empty(),
        "stored with their position:\n{}",
        leaks.join("\n")
    );
    s.server.terminate();
}
