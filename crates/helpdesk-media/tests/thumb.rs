//! What the console shows of a stored image: the right size and format,
//! upright, its first frame, and a refusal (never a decode) for an image
//! over the limits or whose header cannot be read.

use std::io::Cursor;

use helpdesk_media::thumb::{self, Dimensions, ThumbError, Width, MAX_SIDE};
use helpdesk_media::ImageType;
use helpdesk_testkit::photos::{camera_jpeg, camera_png, camera_webp};
use image::codecs::gif::GifEncoder;
use image::{DynamicImage, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

const RED: [u8; 3] = [220, 30, 30];
const GREY: [u8; 3] = [128, 128, 128];

fn encoded(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    encoded(
        RgbImage::from_pixel(width, height, Rgb(GREY)).into(),
        ImageFormat::Png,
    )
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    let (w, h) = (img.width() as u16, img.height() as u16);
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// A grey `w`×`h` picture whose top-left 1/4×1/4 is red.
fn red_top_left(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb(if x < w / 4 && y < h / 4 { RED } else { GREY })
    })
}

/// `jpeg` with an EXIF (APP1) right after SOI holding only `orientation`.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let payload = [&b"Exif\0\0"[..], &tiff].concat();
    let len = (payload.len() + 2) as u16;
    [
        &jpeg[..2],
        &[0xFF, 0xE1],
        &len.to_be_bytes(),
        &payload,
        &jpeg[2..],
    ]
    .concat()
}

fn decoded(t: &thumb::Thumb) -> DynamicImage {
    image::load_from_memory(&t.bytes).unwrap()
}

fn size(t: &thumb::Thumb) -> (u32, u32) {
    (t.width, t.height)
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 24)
}

#[test]
fn an_image_smaller_than_the_box_keeps_its_size() {
    for w in Width::ALL {
        assert_eq!(
            size(&thumb::render(&png(100, 50), w).unwrap()),
            (100, 50),
            "w={w}"
        );
    }
    let t = thumb::render(&jpeg(&red_top_left(100, 50)), Width::W400).unwrap();
    assert_eq!(size(&t), (100, 50));
    assert_eq!(decoded(&t).to_rgb8().dimensions(), (100, 50));
}

#[test]
fn landscape_and_portrait_fit_inside_the_box_keeping_their_ratio() {
    for (w, h, box_, want) in [
        (1000, 500, Width::W400, (400, 200)),
        (500, 1000, Width::W400, (200, 400)),
        (1000, 1000, Width::W200, (200, 200)),
        (3000, 1000, Width::W1600, (1600, 533)),
    ] {
        let t = thumb::render(&png(w, h), box_).unwrap();
        assert_eq!(size(&t), want, "{w}x{h} at {box_}");
        assert_eq!(decoded(&t).to_rgb8().dimensions(), want);
    }
    // JPEG goes another way (scaled at decode): the same sizes.
    let t = thumb::render(&jpeg(&red_top_left(1200, 900)), Width::W200).unwrap();
    assert_eq!(size(&t), (200, 150));
    let t = thumb::render(&jpeg(&red_top_left(900, 1200)), Width::W400).unwrap();
    assert_eq!(size(&t), (300, 400));
}

#[test]
fn an_exif_rotated_jpeg_comes_out_upright() {
    let stored = jpeg(&red_top_left(400, 300));
    // 6: the stored top is the shown right (turn 90° clockwise); 8: the
    // other way; the stored top-left corner shows top-right and bottom-left.
    for (orientation, corner) in [(6, (290, 10)), (8, (10, 390))] {
        let t = thumb::render(&with_orientation(&stored, orientation), Width::W1600).unwrap();
        assert_eq!(size(&t), (300, 400), "orientation {orientation}");
        let img = decoded(&t).to_rgb8();
        assert_eq!(img.dimensions(), (300, 400));
        assert!(
            near(img.get_pixel(corner.0, corner.1).0, RED),
            "orientation {orientation}: red corner moved"
        );
        assert!(near(img.get_pixel(150, 200).0, GREY));
        for (x, y) in [(10, 10), (290, 10), (10, 390), (290, 390)] {
            let red = near(img.get_pixel(x, y).0, RED);
            assert_eq!(
                red,
                (x, y) == corner,
                "orientation {orientation} at ({x}, {y})"
            );
        }
    }
    // The header's size is the stored one.
    assert_eq!(
        thumb::probe(&with_orientation(&stored, 6)),
        Ok(Dimensions {
            width: 400,
            height: 300
        })
    );
}

#[test]
fn a_phones_jpeg_png_and_webp_with_orientation_6_come_out_portrait() {
    for (bytes, stored) in [camera_jpeg(), camera_png(), camera_webp()] {
        let t = thumb::render(&bytes, Width::W400).unwrap();
        assert_eq!(
            size(&t),
            (stored.height(), stored.width()),
            "{:?}",
            ImageType::sniff(&bytes)
        );
    }
}

/// A PNG of the given size in its header, cut right after IHDR: what a
/// bomb looks like, and enough for the check that comes before decoding.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut b = png(1, 1);
    b[16..20].copy_from_slice(&width.to_be_bytes());
    b[20..24].copy_from_slice(&height.to_be_bytes());
    b.truncate(33);
    b
}

#[test]
fn over_16384_pixels_a_side_or_40_megapixels_is_refused_before_decoding() {
    // A real 16,385-pixel-wide PNG, and its 16,384-pixel sibling, which renders.
    let refused = thumb::render(&png(MAX_SIDE + 1, 1), Width::W200);
    let dimensions = Dimensions {
        width: 16_385,
        height: 1,
    };
    assert_eq!(
        refused,
        Err(ThumbError::TooLarge {
            kind: ImageType::Png,
            dimensions
        })
    );
    assert_eq!(
        size(&thumb::render(&png(MAX_SIDE, 1), Width::W200).unwrap()),
        (200, 1)
    );
    let tall = thumb::render(&png_header(1, 16_385), Width::W400);
    assert!(matches!(tall, Err(ThumbError::TooLarge { .. })), "{tall:?}");
    // 40,008,000 pixels is refused; 40,000,000 is let through to the decoder
    // (which finds no image data in this header-only file).
    let over = thumb::render(&png_header(8000, 5001), Width::W1600);
    assert!(matches!(over, Err(ThumbError::TooLarge { .. })), "{over:?}");
    let at = thumb::render(&png_header(8000, 5000), Width::W1600);
    assert!(matches!(at, Err(ThumbError::Decode { .. })), "{at:?}");
    // A JPEG whose frame header claims 16,385 wide.
    let mut big = jpeg(&red_top_left(64, 48));
    let sof = big.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    big[sof + 7..sof + 9].copy_from_slice(&16_385u16.to_be_bytes());
    let refused = thumb::render(&big, Width::W400);
    assert!(
        matches!(
            refused,
            Err(ThumbError::TooLarge {
                kind: ImageType::Jpeg,
                ..
            })
        ),
        "{refused:?}"
    );
}

#[test]
fn a_header_that_cannot_be_read_is_refused() {
    let whole = jpeg(&red_top_left(64, 48));
    let sof = whole.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    for (what, bytes, kind) in [
        (
            "a PNG cut inside IHDR",
            png(10, 10)[..20].to_vec(),
            ImageType::Png,
        ),
        (
            "a PNG without IHDR first",
            [&png(10, 10)[..12], b"IDAT", &[0; 13]].concat(),
            ImageType::Png,
        ),
        ("a PNG of width 0", png_header(0, 10), ImageType::Png),
        (
            "a JPEG cut before its frame header",
            whole[..sof + 4].to_vec(),
            ImageType::Jpeg,
        ),
        (
            "a GIF of its signature only",
            b"GIF89a".to_vec(),
            ImageType::Gif,
        ),
        (
            "a WebP of its RIFF header only",
            b"RIFF\x04\0\0\0WEBP".to_vec(),
            ImageType::Webp,
        ),
    ] {
        assert_eq!(
            thumb::probe(&bytes),
            Err(ThumbError::UnreadableHeader { kind }),
            "{what}"
        );
        assert_eq!(
            thumb::render(&bytes, Width::W200),
            Err(ThumbError::UnreadableHeader { kind }),
            "{what}"
        );
    }
    assert_eq!(
        thumb::render(b"%PDF-1.7", Width::W200),
        Err(ThumbError::Unrecognized)
    );
}

fn is_lossless_webp(b: &[u8]) -> bool {
    // RIFF, WEBP, then a VP8L chunk (lossless; lossy is "VP8 ").
    b.len() > 16 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" && &b[12..16] == b"VP8L"
}

#[test]
fn widths_200_and_400_are_lossless_webp_and_1600_is_jpeg() {
    let source = png(2000, 1000);
    for w in Width::ALL {
        let t = thumb::render(&source, w).unwrap();
        assert_eq!(t.content_type, w.content_type());
        let img = decoded(&t).to_rgb8();
        assert_eq!(img.dimensions(), size(&t));
        if w == Width::W1600 {
            assert_eq!(t.content_type, "image/jpeg");
            assert_eq!(&t.bytes[..3], [0xFF, 0xD8, 0xFF]);
            assert!(near(img.get_pixel(5, 5).0, GREY));
        } else {
            assert_eq!(t.content_type, "image/webp");
            assert!(is_lossless_webp(&t.bytes), "w={w}");
            // Lossless: a flat grey stays exactly that grey.
            assert!(img.pixels().all(|p| p.0 == GREY), "w={w}");
        }
    }
}

#[test]
fn transparency_stays_in_webp_and_is_white_in_jpeg() {
    let clear = RgbaImage::from_pixel(300, 300, Rgba([0, 0, 0, 0]));
    let source = encoded(clear.into(), ImageFormat::Png);
    let webp = decoded(&thumb::render(&source, Width::W200).unwrap()).to_rgba8();
    assert_eq!(webp.get_pixel(100, 100).0[3], 0);
    let jpeg = decoded(&thumb::render(&source, Width::W1600).unwrap()).to_rgb8();
    assert!(near(jpeg.get_pixel(100, 100).0, [255, 255, 255]));
}

/// An animated WebP (VP8X, ANIM, one ANMF a frame) of lossless frames of
/// these colours, each covering the whole `w`x`h` canvas.
fn animated_webp(w: u32, h: u32, colours: [[u8; 3]; 2]) -> Vec<u8> {
    let u24 = |v: u32| v.to_le_bytes()[..3].to_vec();
    let chunk = |id: &[u8; 4], data: &[u8]| {
        let pad = if data.len() % 2 == 1 { &[0u8][..] } else { &[] };
        [&id[..], &(data.len() as u32).to_le_bytes(), data, pad].concat()
    };
    let vp8x = [vec![0x02, 0, 0, 0], u24(w - 1), u24(h - 1)].concat();
    let mut body = [
        &b"WEBP"[..],
        &chunk(b"VP8X", &vp8x),
        &chunk(b"ANIM", &[0; 6]),
    ]
    .concat();
    for colour in colours {
        let still = encoded(
            RgbImage::from_pixel(w, h, Rgb(colour)).into(),
            ImageFormat::WebP,
        );
        // x, y, width - 1, height - 1, duration, flags; then the still's
        // VP8L chunk, all that follows its "WEBP".
        let header = [u24(0), u24(0), u24(w - 1), u24(h - 1), u24(100), vec![0]].concat();
        body.extend(chunk(b"ANMF", &[&header[..], &still[12..]].concat()));
    }
    [&b"RIFF"[..], &(body.len() as u32).to_le_bytes(), &body].concat()
}

#[test]
fn an_animated_gif_or_webp_shows_its_first_frame() {
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        for colour in [[250, 0, 0, 255], [0, 0, 250, 255]] {
            let frame = Frame::new(RgbaImage::from_pixel(40, 30, Rgba(colour)));
            encoder.encode_frame(frame).unwrap();
        }
    }
    let webp = animated_webp(40, 30, [[250, 0, 0], [0, 0, 250]]);
    for (what, bytes) in [("gif", gif), ("webp", webp)] {
        let t = thumb::render(&bytes, Width::W400).unwrap();
        assert_eq!(size(&t), (40, 30), "{what}");
        let img = decoded(&t).to_rgb8();
        assert!(
            near(img.get_pixel(20, 15).0, [250, 0, 0]),
            "{what}: {:?}",
            img.get_pixel(20, 15)
        );
    }
}

#[test]
fn every_stored_type_renders() {
    let img = DynamicImage::from(red_top_left(64, 32));
    let rgba = DynamicImage::from(img.to_rgba8());
    for (format, source) in [
        (ImageFormat::Png, &img),
        (ImageFormat::Gif, &rgba),
        (ImageFormat::WebP, &img),
        (ImageFormat::Bmp, &img),
        (ImageFormat::Tiff, &img),
        (ImageFormat::Ico, &rgba),
    ] {
        let bytes = encoded(source.clone(), format);
        assert_eq!(
            thumb::probe(&bytes),
            Ok(Dimensions {
                width: 64,
                height: 32
            }),
            "{format:?}"
        );
        let t = thumb::render(&bytes, Width::W400).unwrap();
        let out = decoded(&t).to_rgb8();
        assert_eq!(out.dimensions(), (64, 32), "{format:?}");
        assert!(
            near(out.get_pixel(2, 2).0, RED) && near(out.get_pixel(60, 30).0, GREY),
            "{format:?}"
        );
    }
}

#[test]
fn the_placeholder_fills_the_box_in_the_widths_format() {
    for w in Width::ALL {
        let p = thumb::placeholder(w);
        assert_eq!((p.width, p.height), (w.px(), w.px()));
        assert_eq!(p.content_type, w.content_type());
        let img = decoded(&p).to_rgb8();
        assert_eq!(img.dimensions(), (w.px(), w.px()));
        // Not blank: the glyph in the middle differs from the corner.
        let (corner, middle) = (
            img.get_pixel(1, 1).0,
            img.get_pixel(w.px() / 2, w.px() / 2 + w.px() / 10).0,
        );
        assert!(!near(corner, middle), "w={w}: {corner:?} {middle:?}");
        assert!(p.bytes.len() < 64 * 1024, "w={w}: {} bytes", p.bytes.len());
        assert_eq!(thumb::placeholder(w), p);
    }
}
