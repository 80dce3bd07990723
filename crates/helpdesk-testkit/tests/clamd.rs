//! The clamd client (helpdesk_store::scan) against a real clamd of the
//! test's own (helpdesk_testkit::clamd), and against peers that misbehave.
//!
//! Without clamd installed these fail, saying how to install it; with
//! HELPDESK_TEST_NO_CLAMD=1 the ones that need it are skipped.

use std::time::{Duration, Instant};

use helpdesk_store::scan::{ScanError, Scanner, Verdict};
use helpdesk_testkit::clamd::{Clamd, EICAR, EICAR_SIGNATURE};
use helpdesk_testkit::images::{jpeg, png};

fn scanner(addr: &str) -> Scanner {
    Scanner::new(addr.parse().unwrap())
}

fn infected(signature: &str) -> Verdict {
    Verdict::Infected {
        signature: signature.to_string(),
    }
}

/// EICAR `at` bytes into an image of `len` bytes, zeros around it.
fn image_with_eicar_at(at: usize, len: usize) -> Vec<u8> {
    let mut image = png(1, 0);
    image.resize(len, 0);
    image[at..at + EICAR.len()].copy_from_slice(EICAR);
    image
}

#[tokio::test]
async fn a_clean_image_is_clean() {
    let Some(clamd) = Clamd::start_unless_skipped("a_clean_image_is_clean") else {
        return;
    };
    println!(
        "clamd answered PING {:?} after it was spawned",
        clamd.started_in()
    );
    let scanner = scanner(&clamd.addr_tcp());
    scanner.ping().await.unwrap();
    assert_eq!(
        scanner.scan_bytes(&png(1, 4096)).await.unwrap(),
        Verdict::Clean
    );
    assert_eq!(scanner.scan_bytes(b"").await.unwrap(), Verdict::Clean);
}

#[tokio::test]
async fn the_version_names_our_signature_version() {
    let Some(clamd) = Clamd::start_unless_skipped("the_version_names_our_signature_version") else {
        return;
    };
    let version = scanner(&clamd.addr_tcp()).version().await.unwrap();
    assert!(version.starts_with("ClamAV "), "{version}");
    assert_eq!(version.split('/').nth(1), Some("1"), "{version}");
}

#[tokio::test]
async fn the_bare_eicar_file_is_infected_with_our_signature() {
    let Some(clamd) =
        Clamd::start_unless_skipped("the_bare_eicar_file_is_infected_with_our_signature")
    else {
        return;
    };
    let verdict = scanner(&clamd.addr_tcp()).scan_bytes(EICAR).await.unwrap();
    assert_eq!(verdict, infected(EICAR_SIGNATURE));
}

#[tokio::test]
async fn an_eicar_string_inside_an_image_is_infected_across_a_chunk_boundary() {
    let Some(clamd) = Clamd::start_unless_skipped(
        "an_eicar_string_inside_an_image_is_infected_across_a_chunk_boundary",
    ) else {
        return;
    };
    // 1 MiB in, starting 30 bytes before the end of the 16th 64 KiB chunk.
    let at = 16 * helpdesk_store::scan::CHUNK - 30;
    let image = image_with_eicar_at(at, at + 512 * 1024);
    let verdict = scanner(&clamd.addr_tcp()).scan_bytes(&image).await.unwrap();
    assert_eq!(verdict, infected(EICAR_SIGNATURE));
}

#[tokio::test]
async fn an_eicar_string_after_a_jpeg_is_infected_from_a_file() {
    let Some(clamd) =
        Clamd::start_unless_skipped("an_eicar_string_after_a_jpeg_is_infected_from_a_file")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.jpg");
    let mut image = jpeg(2, 300_000);
    image.extend_from_slice(EICAR);
    std::fs::write(&path, &image).unwrap();
    let scanner = scanner(&clamd.addr_tcp());
    assert_eq!(
        scanner.scan_file(&path).await.unwrap(),
        infected(EICAR_SIGNATURE)
    );
    std::fs::write(&path, jpeg(2, 300_000)).unwrap();
    assert_eq!(scanner.scan_file(&path).await.unwrap(), Verdict::Clean);
}

#[tokio::test]
async fn the_unix_socket_gives_the_same_verdicts() {
    let Some(clamd) = Clamd::start_unless_skipped("the_unix_socket_gives_the_same_verdicts") else {
        return;
    };
    let scanner = scanner(&clamd.addr_unix());
    scanner.ping().await.unwrap();
    assert_eq!(
        scanner.scan_bytes(&png(3, 100_000)).await.unwrap(),
        Verdict::Clean
    );
    let image = image_with_eicar_at(70_000, 200_000);
    assert_eq!(
        scanner.scan_bytes(&image).await.unwrap(),
        infected(EICAR_SIGNATURE)
    );
}

#[tokio::test]
async fn a_stopped_clamd_is_unreachable_and_scans_again_once_restarted() {
    let Some(mut clamd) = Clamd::start_unless_skipped(
        "a_stopped_clamd_is_unreachable_and_scans_again_once_restarted",
    ) else {
        return;
    };
    let tcp = scanner(&clamd.addr_tcp());
    let unix = scanner(&clamd.addr_unix());
    let image = png(4, 10_000);
    assert_eq!(tcp.scan_bytes(&image).await.unwrap(), Verdict::Clean);

    clamd.stop();
    for scanner in [&tcp, &unix] {
        let error = scanner.scan_bytes(&image).await.unwrap_err();
        assert!(
            matches!(error, ScanError::Unreachable { .. }),
            "{}: {error:?}",
            scanner.addr()
        );
        assert!(error.is_unavailable());
        assert!(
            error.to_string().contains(&scanner.addr().to_string()),
            "{error}"
        );
        assert!(matches!(
            scanner.ping().await,
            Err(ScanError::Unreachable { .. })
        ));
    }

    clamd.restart();
    println!(
        "clamd answered PING {:?} after its restart",
        clamd.started_in()
    );
    for scanner in [&tcp, &unix] {
        assert_eq!(scanner.scan_bytes(&image).await.unwrap(), Verdict::Clean);
        assert_eq!(
            scanner.scan_bytes(EICAR).await.unwrap(),
            infected(EICAR_SIGNATURE)
        );
    }
}

#[test]
fn a_restart_on_a_port_taken_meanwhile_fails_saying_so() {
    let Some(mut clamd) =
        Clamd::start_unless_skipped("a_restart_on_a_port_taken_meanwhile_fails_saying_so")
    else {
        return;
    };
    clamd.stop();
    let addr = clamd.addr_tcp();
    let port = addr.rsplit(':').next().unwrap();
    let _taken = std::net::TcpListener::bind(format!("127.0.0.1:{port}")).unwrap();
    let began = Instant::now();
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| clamd.restart()));
    let why = failed.unwrap_err();
    let why = why.downcast_ref::<String>().unwrap();
    assert!(why.contains("Cannot bind"), "{why}");
    assert!(began.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_new_signature_turns_a_clean_image_infected_under_a_new_version() {
    let Some(mut clamd) = Clamd::start_unless_skipped(
        "a_new_signature_turns_a_clean_image_infected_under_a_new_version",
    ) else {
        return;
    };
    let scanner = scanner(&clamd.addr_tcp());
    let mut image = png(5, 50_000);
    image.extend_from_slice(b"tEXtComment\0found to be bad after it was stored");
    image.extend_from_slice(&png(6, 50_000));
    let before = scanner.version().await.unwrap();
    assert_eq!(scanner.scan_bytes(&image).await.unwrap(), Verdict::Clean);

    let began = Instant::now();
    clamd.add_signature(
        "Helpdesk.Test.Late",
        &hex::encode("found to be bad after it was stored"),
    );
    println!("clamd reloaded in {:?}", began.elapsed());
    let after = scanner.version().await.unwrap();
    assert_ne!(before, after);
    assert_eq!(after.split('/').nth(1), Some("2"), "{after}");
    assert_eq!(clamd.signature_version(), 2);
    assert_eq!(
        scanner.scan_bytes(&image).await.unwrap(),
        infected("Helpdesk.Test.Late.UNOFFICIAL")
    );
    assert_eq!(
        scanner.scan_bytes(EICAR).await.unwrap(),
        infected(EICAR_SIGNATURE)
    );

    // A restart keeps what was added.
    clamd.restart();
    assert_eq!(
        scanner.version().await.unwrap().split('/').nth(1),
        Some("2")
    );
    assert_eq!(
        scanner.scan_bytes(&image).await.unwrap(),
        infected("Helpdesk.Test.Late.UNOFFICIAL")
    );
}

#[tokio::test]
async fn a_signature_added_while_clamd_is_stopped_is_there_when_it_restarts() {
    let Some(mut clamd) = Clamd::start_unless_skipped(
        "a_signature_added_while_clamd_is_stopped_is_there_when_it_restarts",
    ) else {
        return;
    };
    clamd.stop();
    clamd.add_signature("Helpdesk.Test.WhileDown", &hex::encode("added while down"));
    clamd.restart();
    let verdict = scanner(&clamd.addr_tcp())
        .scan_bytes(b"it was added while down, then")
        .await
        .unwrap();
    assert_eq!(verdict, infected("Helpdesk.Test.WhileDown.UNOFFICIAL"));
}

#[tokio::test]
async fn an_eicar_file_zipped_after_an_image_is_infected() {
    let Some(clamd) =
        Clamd::start_unless_skipped("an_eicar_file_zipped_after_an_image_is_infected")
    else {
        return;
    };
    // Deflated, EICAR's bytes are not in the upload: only unzipping finds it.
    let zip = zip::one_file(
        "eicar.com",
        &zip::deflate_literals(EICAR),
        EICAR.len() as u64,
        zip::crc32(EICAR),
    );
    assert!(!zip.windows(EICAR.len()).any(|w| w == EICAR));
    let mut upload = png(8, 2048);
    upload.extend_from_slice(&zip);
    let scanner = scanner(&clamd.addr_tcp());
    assert_eq!(
        scanner.scan_bytes(&zip).await.unwrap(),
        infected(EICAR_SIGNATURE),
        "the bare zip"
    );
    assert_eq!(
        scanner.scan_bytes(&upload).await.unwrap(),
        infected(EICAR_SIGNATURE),
        "the zip after an image"
    );
}

#[tokio::test]
async fn a_ten_megabyte_zip_bomb_after_an_image_gets_an_answer_in_bounded_time_and_memory() {
    let Some(clamd) = Clamd::start_unless_skipped(
        "a_ten_megabyte_zip_bomb_after_an_image_gets_an_answer_in_bounded_time_and_memory",
    ) else {
        return;
    };
    let (deflated, inflated) = zip::deflate_zeros(10 * 1024 * 1024);
    let honest = zip::one_file(
        "zeros.bin",
        &deflated,
        inflated,
        zip::crc32_of_zeros(inflated),
    );
    // The classic trick: headers that claim a small file, to pass size checks.
    let liar = zip::one_file("small.bin", &deflated, 1000, zip::crc32_of_zeros(1000));
    let after_image = |zip: &[u8]| [png(9, 2048).as_slice(), zip].concat();
    let scanner = scanner(&clamd.addr_tcp()).with_timeout(Duration::from_secs(60));
    for (what, upload) in [
        ("the bare zip", honest.clone()),
        ("the zip after an image", after_image(&honest)),
        ("the lying zip after an image", after_image(&liar)),
    ] {
        let began = Instant::now();
        let verdict = scanner.scan_bytes(&upload).await;
        println!(
            "{what}: {} bytes inflating to {inflated}: {verdict:?} in {:?}",
            upload.len(),
            began.elapsed()
        );
        assert!(verdict.is_ok(), "{what}: {verdict:?}\n{}", clamd.log());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.png");
    std::fs::write(&path, after_image(&honest)).unwrap();
    let began = Instant::now();
    let verdict = scanner.scan_file(&path).await;
    println!("from a file: {verdict:?} in {:?}", began.elapsed());
    assert!(verdict.is_ok(), "{verdict:?}\n{}", clamd.log());
    scanner.ping().await.unwrap();
    if let Some(peak) = clamd.peak_memory() {
        println!("clamd's peak memory: {} MiB", peak / (1024 * 1024));
        assert!(peak < 512 * 1024 * 1024, "clamd held {peak} bytes");
    }
}

#[tokio::test]
async fn a_file_at_the_stream_limit_is_scanned() {
    let Some(clamd) = Clamd::start_unless_skipped("a_file_at_the_stream_limit_is_scanned") else {
        return;
    };
    let image = image_with_eicar_at(1000, 200_000);
    let scanner = scanner(&clamd.addr_tcp()).with_stream_max(image.len() as u64);
    assert_eq!(
        scanner.scan_bytes(&image).await.unwrap(),
        infected(EICAR_SIGNATURE)
    );
}

#[tokio::test]
async fn a_file_over_the_stream_limit_is_refused_without_connecting() {
    // Nothing listens on port 1: connecting would be Unreachable.
    let scanner = scanner("clamd:127.0.0.1:1").with_stream_max(1000);
    let error = scanner.scan_bytes(&[0; 1001]).await.unwrap_err();
    assert!(
        matches!(error, ScanError::TooLarge { max: 1000 }),
        "{error:?}"
    );
    assert!(!error.is_unavailable());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.png");
    std::fs::write(&path, png(1, 1000)).unwrap();
    let error = scanner.scan_file(&path).await.unwrap_err();
    assert!(
        matches!(error, ScanError::TooLarge { max: 1000 }),
        "{error:?}"
    );
    assert!(matches!(
        scanner.scan_bytes(&[0; 1000]).await,
        Err(ScanError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn a_stream_over_clamds_own_limit_is_refused_by_clamd() {
    let Some(clamd) =
        Clamd::start_unless_skipped("a_stream_over_clamds_own_limit_is_refused_by_clamd")
    else {
        return;
    };
    // Told more than the 25M clamd takes.
    let told = 64 * 1024 * 1024;
    let scanner = scanner(&clamd.addr_tcp()).with_stream_max(told);
    let error = scanner
        .scan_bytes(&vec![0; 26 * 1024 * 1024])
        .await
        .unwrap_err();
    assert!(
        matches!(error, ScanError::ClamdLimit { told: t } if t == told),
        "{error:?}"
    );
    assert!(!error.is_unavailable());
    scanner.ping().await.unwrap();
}

#[tokio::test]
async fn a_missing_file_is_an_io_error_naming_it() {
    let error = scanner("clamd:127.0.0.1:1")
        .scan_file(std::path::Path::new("/nonexistent/upload.png"))
        .await
        .unwrap_err();
    assert!(matches!(error, ScanError::Io(_)), "{error:?}");
    assert!(
        error.to_string().contains("/nonexistent/upload.png"),
        "{error}"
    );
}

/// A peer on a loopback port that reads what it is sent and answers
/// `reply` (then keeps the connection open), or nothing.
async fn fake_clamd(reply: Option<Vec<u8>>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("clamd:{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = [0; 1024];
                let _ = conn.read(&mut buf).await;
                if let Some(reply) = reply {
                    let _ = conn.write_all(&reply).await;
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_peer_that_never_answers_times_out() {
    let addr = fake_clamd(None).await;
    let scanner = scanner(&addr).with_timeout(Duration::from_millis(300));
    let began = Instant::now();
    let error = scanner.scan_bytes(b"hello").await.unwrap_err();
    assert!(matches!(error, ScanError::Timeout(_)), "{error:?}");
    assert!(error.is_unavailable());
    assert!(began.elapsed() < Duration::from_secs(5));
    assert!(matches!(scanner.ping().await, Err(ScanError::Timeout(_))));
}

#[tokio::test]
async fn a_peer_that_talks_without_end_is_cut_off() {
    let addr = fake_clamd(Some(vec![b'A'; 1024 * 1024])).await;
    let error = scanner(&addr).ping().await.unwrap_err();
    assert!(matches!(error, ScanError::Protocol(_)), "{error:?}");
    assert!(error.to_string().contains("4096"), "{error}");
}

#[tokio::test]
async fn a_peer_that_is_not_clamd_is_a_protocol_error() {
    let addr = fake_clamd(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n\0".to_vec())).await;
    let scanner = scanner(&addr);
    for error in [
        scanner.ping().await.unwrap_err(),
        scanner.version().await.unwrap_err(),
        scanner.scan_bytes(b"hello").await.unwrap_err(),
    ] {
        assert!(matches!(error, ScanError::Protocol(_)), "{error:?}");
    }
}

/// Just enough zip and deflate to build archives clamd unpacks: one file,
/// deflated with the fixed Huffman codes.
mod zip {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }

    impl Bits {
        fn new() -> Bits {
            Bits {
                out: Vec::new(),
                acc: 0,
                n: 0,
            }
        }

        /// `len` bits of `value`, least significant first (deflate's
        /// order for everything but Huffman codes).
        fn put(&mut self, value: u32, len: u32) {
            self.acc |= u64::from(value) << self.n;
            self.n += len;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }

        /// A Huffman code: most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            self.put(code.reverse_bits() >> (32 - len), len);
        }

        fn finish(mut self) -> Vec<u8> {
            if self.n > 0 {
                self.out.push(self.acc as u8);
            }
            self.out
        }
    }

    fn literal(bits: &mut Bits, byte: u8) {
        match byte {
            0..=143 => bits.code(0x30 + u32::from(byte), 8),
            _ => bits.code(0x190 + u32::from(byte) - 144, 9),
        }
    }

    fn fixed_block() -> Bits {
        let mut bits = Bits::new();
        bits.put(1, 1); // the last block
        bits.put(1, 2); // fixed Huffman codes
        bits
    }

    fn end_of_block(mut bits: Bits) -> Vec<u8> {
        bits.code(0, 7);
        bits.finish()
    }

    /// `data` as literals: deflate that does not compress.
    pub fn deflate_literals(data: &[u8]) -> Vec<u8> {
        let mut bits = fixed_block();
        for &byte in data {
            literal(&mut bits, byte);
        }
        end_of_block(bits)
    }

    /// About `size` bytes of deflate inflating to as many zeros as fit:
    /// one literal zero, then copies of 258 bytes at distance 1 (13 bits
    /// each). Returns the deflate and how much it inflates to.
    pub fn deflate_zeros(size: usize) -> (Vec<u8>, u64) {
        let copies = (size * 8 - 3 - 8 - 7) / 13;
        let mut bits = fixed_block();
        literal(&mut bits, 0);
        for _ in 0..copies {
            bits.code(0xC5, 8); // length 258: symbol 285
            bits.code(0, 5); // distance 1: code 0
        }
        (end_of_block(bits), 1 + 258 * copies as u64)
    }

    const CRC_POLY: u32 = 0xEDB8_8320;

    pub fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (CRC_POLY & (crc & 1).wrapping_neg());
            }
        }
        !crc
    }

    /// The CRC-32 of `n` zero bytes without feeding them one by one (a
    /// gigabyte and more): a zero byte acts on the CRC's register as a
    /// linear map, raised to the n-th power by squaring.
    pub fn crc32_of_zeros(n: u64) -> u32 {
        type Map = [u32; 32];
        fn apply(map: &Map, v: u32) -> u32 {
            (0..32)
                .filter(|i| v >> i & 1 == 1)
                .fold(0, |acc, i| acc ^ map[i])
        }
        fn compose(a: &Map, b: &Map) -> Map {
            std::array::from_fn(|i| apply(a, b[i]))
        }
        let zero_byte: Map = std::array::from_fn(|i| {
            let mut crc = 1u32 << i;
            for _ in 0..8 {
                crc = (crc >> 1) ^ (CRC_POLY & (crc & 1).wrapping_neg());
            }
            crc
        });
        let mut power = zero_byte;
        let mut total: Map = std::array::from_fn(|i| 1 << i);
        let mut n = n;
        while n > 0 {
            if n & 1 == 1 {
                total = compose(&power, &total);
            }
            power = compose(&power, &power);
            n >>= 1;
        }
        !apply(&total, !0)
    }

    /// A zip holding one deflated file.
    pub fn one_file(name: &str, deflated: &[u8], size: u64, crc: u32) -> Vec<u8> {
        let size = u32::try_from(size).expect("no zip64 here");
        let csize = u32::try_from(deflated.len()).expect("no zip64 here");
        let name_len = name.len() as u16;
        // Version 2.0, no flags, deflate, 1980-01-01 00:00, CRC and sizes.
        let common = |v: &mut Vec<u8>| {
            for half in [20u16, 0, 8, 0, 0x21] {
                v.extend_from_slice(&half.to_le_bytes());
            }
            for word in [crc, csize, size] {
                v.extend_from_slice(&word.to_le_bytes());
            }
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // no extra field
        };
        let mut zip = 0x0403_4b50u32.to_le_bytes().to_vec();
        common(&mut zip);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(deflated);
        let central_at = zip.len() as u32;
        zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        zip.extend_from_slice(&20u16.to_le_bytes()); // made by 2.0
        common(&mut zip);
        // No comment, disk 0, no attributes, the local header at 0.
        for half in [0u16, 0, 0] {
            zip.extend_from_slice(&half.to_le_bytes());
        }
        zip.extend_from_slice(&0u32.to_le_bytes());
        zip.extend_from_slice(&0u32.to_le_bytes());
        zip.extend_from_slice(name.as_bytes());
        let central_len = zip.len() as u32 - central_at;
        zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        for half in [0u16, 0, 1, 1] {
            zip.extend_from_slice(&half.to_le_bytes());
        }
        zip.extend_from_slice(&central_len.to_le_bytes());
        zip.extend_from_slice(&central_at.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip
    }

    #[test]
    fn the_crc_of_zeros_matches_the_crc_byte_by_byte() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        for n in [0, 1, 2, 7, 258, 1000, 65_537] {
            assert_eq!(crc32_of_zeros(n), crc32(&vec![0; n as usize]), "{n}");
        }
    }
}
