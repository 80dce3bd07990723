//! Any bytes give a thumbnail or a refusal, never a panic: every seed file
//! of each type, cut short at many lengths and garbled at many places.

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};

use helpdesk_media::thumb::{self, Width};
use helpdesk_testkit::photos::{camera_jpeg, camera_png, camera_webp, picture};
use image::codecs::gif::GifEncoder;
use image::{DynamicImage, Frame, ImageFormat};

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let img = DynamicImage::from(picture(24, 16));
    let encode = |format| {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    };
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        for _ in 0..2 {
            encoder.encode_frame(Frame::new(picture(24, 16))).unwrap();
        }
    }
    let mut progressive = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut progressive, 80);
    encoder.set_progressive(true);
    encoder
        .encode(img.to_rgb8().as_raw(), 24, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    vec![
        ("jpeg", camera_jpeg().0),
        ("progressive jpeg", progressive),
        ("png", camera_png().0),
        ("webp", camera_webp().0),
        ("gif", gif),
        ("bmp", encode(ImageFormat::Bmp)),
        ("tiff", encode(ImageFormat::Tiff)),
        ("ico", encode(ImageFormat::Ico)),
    ]
}

/// xorshift64: the same garbling on every run.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn try_all(bytes: &[u8]) {
    let _ = thumb::probe(bytes);
    let _ = thumb::render(bytes, Width::W200);
}

#[test]
fn truncated_and_garbled_images_never_panic() {
    // render catches a decoder's panic; the hook still sees it, and counts.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));
    let mut state = 0x2545_F491_4F6C_DD1D;
    let mut tried = 0;
    for (name, seed) in seeds() {
        assert!(
            thumb::render(&seed, Width::W200).is_ok(),
            "the {name} seed renders"
        );
        let step = (seed.len() / 64).max(1);
        for cut in (0..seed.len()).step_by(step) {
            try_all(&seed[..cut]);
            tried += 1;
        }
        for _ in 0..400 {
            let mut bytes = seed.clone();
            for _ in 0..1 + next(&mut state) % 4 {
                let at = (next(&mut state) % bytes.len() as u64) as usize;
                bytes[at] = match next(&mut state) % 3 {
                    0 => 0xFF,
                    1 => 0x00,
                    _ => next(&mut state) as u8,
                };
            }
            try_all(&bytes);
            tried += 1;
        }
    }
    assert!(tried > 1000);
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "a decoder panicked (see above)"
    );
}

/// The `thumb` fuzz target's seeds: these files.
#[test]
#[ignore = "writes fuzz/seeds/thumb; run after changing a seed"]
fn writes_the_fuzz_seeds() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/thumb");
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in seeds() {
        std::fs::write(format!("{dir}/{}", name.replace(' ', "-")), bytes).unwrap();
    }
}
