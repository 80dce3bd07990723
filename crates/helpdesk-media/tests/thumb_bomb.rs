//! A decompression bomb costs its header: refused fast, without the memory
//! its claimed size would take (a PNG, then a GIF, a BMP and a JPEG). Alone in its test binary, so that the
//! process's peak RSS is this test's.

use std::time::{Duration, Instant};

use helpdesk_media::thumb::{self, Dimensions, ThumbError, Width};
use helpdesk_media::ImageType;

use helpdesk_testkit::photos::png_bomb;

/// A small image of `format`, its header then patched by `patch`.
fn patched(format: image::ImageFormat, patch: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(2, 2)
        .write_to(&mut out, format)
        .unwrap();
    let mut bytes = out.into_inner();
    patch(&mut bytes);
    bytes
}

/// The same claim in the other types' headers: a GIF's logical screen, a
/// BMP's DIB header, a JPEG's frame header.
fn other_bombs() -> Vec<(ImageType, Vec<u8>)> {
    let side = 60_000u16.to_le_bytes();
    let gif = patched(image::ImageFormat::Gif, |b| {
        b[6..8].copy_from_slice(&side);
        b[8..10].copy_from_slice(&side);
    });
    let bmp = patched(image::ImageFormat::Bmp, |b| {
        b[18..22].copy_from_slice(&60_000i32.to_le_bytes());
        b[22..26].copy_from_slice(&60_000i32.to_le_bytes());
    });
    let jpeg = patched(image::ImageFormat::Jpeg, |b| {
        let sof = b.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        b[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
        b[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    });
    vec![
        (ImageType::Gif, gif),
        (ImageType::Bmp, bmp),
        (ImageType::Jpeg, jpeg),
    ]
}

/// Peak RSS (VmHWM) in KiB after resetting it to the current RSS.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_60000_square_bomb_is_refused_in_milliseconds_without_its_memory() {
    let bomb = png_bomb();
    assert!(bomb.len() < 100, "{} bytes", bomb.len());
    let claimed = Dimensions {
        width: 60_000,
        height: 60_000,
    };
    assert_eq!(thumb::probe(&bomb), Ok(claimed));
    // Linux: writing 5 resets the peak to the current RSS.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmHWM:");
    for w in Width::ALL {
        let started = Instant::now();
        let refused = thumb::render(&bomb, w);
        // A header check takes microseconds; 100 ms is the bound,
        // far from any scheduling noise.
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "w={w}: {:?}",
            started.elapsed()
        );
        assert_eq!(
            refused,
            Err(ThumbError::TooLarge {
                kind: ImageType::Png,
                dimensions: claimed
            })
        );
    }
    let bombs = other_bombs();
    for (kind, bomb) in &bombs {
        let started = Instant::now();
        let refused = thumb::render(bomb, Width::W400);
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{kind:?}: {:?}",
            started.elapsed()
        );
        assert_eq!(
            refused,
            Err(ThumbError::TooLarge {
                kind: *kind,
                dimensions: claimed
            })
        );
    }
    let grown = status_kib("VmHWM:").saturating_sub(before);
    assert!(grown < 50 * 1024, "peak RSS grew {grown} KiB");
}
