//! scripts/bench-thumbnails's helper.
//!
//!   thumbs-bench photo OUT.jpg        a 4000x3000 photo-like JPEG (q90, 4:2:0)
//!   thumbs-bench screenshot OUT.png   a 4000x3000 screenshot-like PNG
//!   thumbs-bench render WHO IN W OUT  one cold render, timed in-process
//!
//! WHO is `ours` (helpdesk_media::thumb::render, the library as the server
//! calls it: JPEG by libjpeg-turbo 3, with the default `turbojpeg` feature
//! that turns on helpdesk-media's as the server binary does, or by
//! jpeg-decoder when built with --no-default-features), or
//! `zune`: zune-jpeg (through image; it has no DCT scaling, so a full
//! decode) in the same pipeline after the decode (Lanczos3 by
//! fast_image_resize, lossless WebP by image). It prints one line:
//!   ms MS rss_kib KIB decode_ms D size WxH bytes N
//! MS is the render alone (the input already read); KIB how far the peak
//! RSS rose above the RSS just before it; D the decode's part (candidates
//! only, else -).

use std::time::Instant;

use fast_image_resize as fr;
use helpdesk_media::thumb::{self, Width};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_else(|| usage());
    match arg(1) {
        "photo" => std::fs::write(arg(2), photo()).expect("write"),
        "screenshot" => std::fs::write(arg(2), screenshot()).expect("write"),
        "render" => render(arg(2), arg(3), arg(4), arg(5)),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: thumbs-bench photo OUT | screenshot OUT | render ours|zune IN 200|400|1600 OUT");
    std::process::exit(2)
}

/// xorshift64: the same inputs on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

const W: u32 = 4000;
const H: u32 = 3000;

/// Smooth gradients and broad shapes (sky, ground, light), a fine texture
/// stronger towards the bottom (grass, fabric), and sensor noise of ±12: at
/// q90 and 4:2:0, about 3.6 MB, a phone's 12 MP photo.
fn photo() -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut px = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f32 / W as f32, y as f32 / H as f32);
            let base = [
                40.0 + 150.0 * fy + 30.0 * (fx * 7.0).sin(),
                80.0 + 100.0 * fx * (1.0 - fy),
                160.0 - 90.0 * fy + 40.0 * ((fx + fy) * 11.0).cos(),
            ];
            let texture = (x as f32 * 0.37).sin() * (y as f32 * 0.23).cos() * 18.0 * fy;
            for c in base {
                let noise = rng.below(25) as f32 - 12.0;
                px.push((c + texture + noise).clamp(0.0, 255.0) as u8);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder.encode(&px, W as u16, H as u16, jpeg_encoder::ColorType::Rgb).expect("encode");
    out
}

/// A desktop: flat background, windows with title bars and sidebars, lines
/// of "text" (dark runs of glyph-sized blocks with 1 px strokes, sharp
/// edges), buttons. Lossless, RGB, PNG's default compression.
fn screenshot() -> Vec<u8> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut img = image::RgbImage::from_pixel(W, H, image::Rgb([236, 239, 243]));
    let fill = |img: &mut image::RgbImage, x0: u32, y0: u32, w: u32, h: u32, c: [u8; 3]| {
        for y in y0..(y0 + h).min(H) {
            for x in x0..(x0 + w).min(W) {
                img.put_pixel(x, y, image::Rgb(c));
            }
        }
    };
    for _ in 0..9 {
        let (wx, wy) = (rng.below(W - 1400), rng.below(H - 1000));
        let (ww, wh) = (900 + rng.below(500), 600 + rng.below(400));
        fill(&mut img, wx, wy, ww, wh, [255, 255, 255]);
        fill(&mut img, wx, wy, ww, 36, [52, 58, 70]);
        fill(&mut img, wx, wy + 36, 180, wh - 36, [246, 247, 249]);
        let mut line_y = wy + 56;
        while line_y + 14 < wy + wh {
            let mut x = wx + 200;
            let end = wx + ww - 20 - rng.below(300);
            while x + 12 < end {
                // A word: glyphs 5-9 px wide, 11 px tall, drawn as strokes.
                for _ in 0..2 + rng.below(7) {
                    let gw = 5 + rng.below(5);
                    for s in 0..3 {
                        let sx = x + rng.below(gw);
                        fill(&mut img, sx, line_y + s * 4, 1 + rng.below(2), 3 + rng.below(8), [30, 34, 40]);
                    }
                    x += gw + 1;
                }
                x += 6;
            }
            line_y += 20;
            if rng.below(9) == 0 {
                fill(&mut img, wx + 200, line_y, 90, 26, [25, 118, 210]);
                line_y += 36;
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("encode");
    out.into_inner()
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).expect("field");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("KiB")
}

fn render(who: &str, input: &str, width: &str, output: &str) {
    let bytes = std::fs::read(input).expect("read input");
    let width: Width = width.parse().unwrap_or_else(|_| usage());
    // Writing 5 resets the peak RSS to the current RSS (Linux).
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let (thumb, decode_ms) = match who {
        "ours" => (thumb::render(&bytes, width).expect("render"), None),
        _ => candidate(who, &bytes, width),
    };
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let grown = status_kib("VmHWM:").saturating_sub(before);
    std::fs::write(output, &thumb.bytes).expect("write output");
    let decode = decode_ms.map_or("-".to_owned(), |d: f64| format!("{d:.1}"));
    println!(
        "ms {ms:.1} rss_kib {grown} decode_ms {decode} size {}x{} bytes {}",
        thumb.width,
        thumb.height,
        thumb.bytes.len()
    );
}

/// The pipeline of `ours` after the decode, with another JPEG decoder.
fn candidate(who: &str, bytes: &[u8], width: Width) -> (thumb::Thumb, Option<f64>) {
    let started = Instant::now();
    let (px, w, h) = match who {
        "zune" => {
            let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).expect("decode");
            let (w, h) = (img.width(), img.height());
            (img.into_rgb8().into_raw(), w, h)
        }
        _ => usage(),
    };
    let decode_ms = started.elapsed().as_secs_f64() * 1e3;
    let full = thumb::probe(bytes).expect("probe");
    let scale = f64::from(width.px()) / f64::from(full.width.max(full.height));
    let (tw, th) = if scale < 1.0 {
        ((f64::from(full.width) * scale).round() as u32, (f64::from(full.height) * scale).round() as u32)
    } else {
        (full.width, full.height)
    };
    let src = fr::images::Image::from_vec_u8(w, h, px, fr::PixelType::U8x3).expect("image");
    let mut dst = fr::images::Image::new(tw, th, fr::PixelType::U8x3);
    let options = fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new().resize(&src, &mut dst, &options).expect("resize");
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(dst.buffer(), tw, th, image::ExtendedColorType::Rgb8)
        .expect("webp");
    let thumb = thumb::Thumb { bytes: out.into(), content_type: "image/webp", width: tw, height: th };
    (thumb, Some(decode_ms))
}
