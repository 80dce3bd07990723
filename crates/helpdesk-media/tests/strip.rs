//! What a user of `serve --strip-metadata` sees: the position gone, the
//! rest kept as the mode says, the pixels identical, clean files untouched,
//! and hostile files answered without a panic.

use std::io::Cursor;

use bytes::Bytes;
use exif::experimental::Writer;
use exif::{In, Tag, Value};
use helpdesk_media::{strip, ImageType, Malformed, StripError, StripMode, Stripped};
// The camera-like files and the readers are shared with the CLI's
// end-to-end tests (crates/helpdesk-cli/tests/strip.rs).
use helpdesk_testkit::photos::{
    ascii, camera_exif, camera_jpeg, camera_jpeg_in, camera_png, camera_webp, contains, encode,
    exif_claiming_four_gigabytes, field, gps_fields, latitude_bytes, make, orientation, picture,
    png_chunk_kinds, png_with_text_chunks, read_exif, truncated_jpeg_claiming_four_gigabytes,
    vp8x_flags, webp_chunk_ids, MAKE, VP8X_EXIF, VP8X_XMP, XMP_NAMESPACE, XMP_WITHOUT_GPS,
    XMP_WITH_GPS,
};
use image::{DynamicImage, ImageFormat};
use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::png::{Png, PngChunk};
use img_parts::ImageEXIF;

fn decoded(bytes: &[u8], format: ImageFormat) -> DynamicImage {
    image::load_from_memory_with_format(bytes, format).unwrap()
}

fn assert_strips_to_nothing_more(kind: ImageType, stripped: &Stripped, mode: StripMode) {
    let again = strip(kind, &stripped.bytes, mode).unwrap();
    assert!(
        !again.changed,
        "stripping with {mode} again removed {:?}",
        again.removed
    );
    assert_eq!(again.bytes, stripped.bytes);
}

// JPEG

#[test]
fn location_removes_a_jpegs_gps_and_keeps_orientation_camera_thumbnail_and_pixels() {
    for little_endian in [false, true] {
        let (input, _) = camera_jpeg_in(little_endian);
        assert!(gps_fields(&input) > 0);

        let stripped = strip(ImageType::Jpeg, &input, StripMode::Location).unwrap();
        assert!(stripped.changed);
        assert_eq!(stripped.removed, ["gps", "xmp"]);

        let after = read_exif(&stripped.bytes).unwrap();
        assert_eq!(gps_fields(&stripped.bytes), 0);
        assert!(!contains(&stripped.bytes, &latitude_bytes(little_endian)));
        assert!(!contains(&stripped.bytes, b"GPSLatitude"));
        assert_eq!(orientation(&stripped.bytes), Some(6));
        assert_eq!(make(&stripped.bytes).as_deref(), Some(MAKE));
        assert_eq!(ascii(&after, Tag::Model).as_deref(), Some("HX-1"));
        // The thumbnail's offset still leads to the thumbnail.
        let at = after
            .get_field(Tag::JPEGInterchangeFormat, In::THUMBNAIL)
            .and_then(|f| f.value.get_uint(0))
            .unwrap() as usize;
        assert_eq!(&after.buf()[at..at + 2], [0xFF, 0xD8]);
        // The comment is not location.
        assert!(contains(&stripped.bytes, b"taken at home"));

        assert_eq!(
            decoded(&stripped.bytes, ImageFormat::Jpeg),
            decoded(&input, ImageFormat::Jpeg)
        );
        assert_strips_to_nothing_more(ImageType::Jpeg, &stripped, StripMode::Location);
    }
}

#[test]
fn all_leaves_a_jpeg_only_its_orientation_and_its_pixels() {
    let (input, _) = camera_jpeg();
    let stripped = strip(ImageType::Jpeg, &input, StripMode::All).unwrap();
    assert!(stripped.changed);
    assert_eq!(stripped.removed, ["gps", "exif", "xmp", "comment"]);

    let after = read_exif(&stripped.bytes).unwrap();
    assert_eq!(orientation(&stripped.bytes), Some(6));
    assert_eq!(after.fields().count(), 1, "only Orientation is left");
    assert_eq!(make(&stripped.bytes), None);
    assert!(!contains(&stripped.bytes, b"Helpdesk Optics"));
    assert!(!contains(&stripped.bytes, b"taken at home"));
    assert!(!contains(&stripped.bytes, b"xmpmeta"));
    // JFIF is kept: it is not metadata about the picture's taking.
    assert!(contains(&stripped.bytes, b"JFIF\0"));

    assert_eq!(
        decoded(&stripped.bytes, ImageFormat::Jpeg),
        decoded(&input, ImageFormat::Jpeg)
    );
    assert_strips_to_nothing_more(ImageType::Jpeg, &stripped, StripMode::All);
}

#[test]
fn all_writes_no_exif_when_the_orientation_is_the_default() {
    let img = picture(8, 8);
    let mut jpeg = Jpeg::from_bytes(encode(ImageFormat::Jpeg, &img).into()).unwrap();
    let fields = [
        field(Tag::Make, Value::Ascii(vec![b"Cam".to_vec()])),
        field(Tag::Orientation, Value::Short(vec![1])),
    ];
    let mut writer = Writer::new();
    fields.iter().for_each(|f| writer.push_field(f));
    let mut exif = Cursor::new(Vec::new());
    writer.write(&mut exif, false).unwrap();
    jpeg.set_exif(Some(exif.into_inner().into()));
    let input = jpeg.encoder().bytes();

    let stripped = strip(ImageType::Jpeg, &input, StripMode::All).unwrap();
    assert_eq!(stripped.removed, ["exif"]);
    assert!(read_exif(&stripped.bytes).is_none());
}

#[test]
fn a_jpeg_with_a_clean_xmp_keeps_it_under_location() {
    let img = picture(8, 8);
    let mut jpeg = Jpeg::from_bytes(encode(ImageFormat::Jpeg, &img).into()).unwrap();
    let xmp = [XMP_NAMESPACE, XMP_WITHOUT_GPS.as_bytes()].concat();
    jpeg.segments_mut()
        .insert(1, JpegSegment::new_with_contents(markers::APP1, xmp.into()));
    let input = jpeg.encoder().bytes();

    let stripped = strip(ImageType::Jpeg, &input, StripMode::Location).unwrap();
    assert!(!stripped.changed);
    assert_eq!(stripped.bytes, input);

    let all = strip(ImageType::Jpeg, &input, StripMode::All).unwrap();
    assert_eq!(all.removed, ["xmp"]);
    assert!(!contains(&all.bytes, b"CreatorTool"));
}

/// A multi-picture JPEG: the MPF segment after an XMP segment, and a second
/// image after the first, found by an offset relative to the MPF header.
fn multi_picture_jpeg(second: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    let first = encode(ImageFormat::Jpeg, &picture(16, 16));
    let mpf = |first_size: u32, second_offset: u32| {
        let mut c = b"MPF\0MM\0*".to_vec();
        c.extend(8u32.to_be_bytes());
        c.extend(1u16.to_be_bytes());
        c.extend(0xB002u16.to_be_bytes());
        c.extend(7u16.to_be_bytes());
        c.extend(32u32.to_be_bytes());
        c.extend(26u32.to_be_bytes()); // entries right after this IFD
        c.extend(0u32.to_be_bytes());
        for (size, offset) in [(first_size, 0), (second.len() as u32, second_offset)] {
            c.extend(0u32.to_be_bytes());
            c.extend(size.to_be_bytes());
            c.extend(offset.to_be_bytes());
            c.extend(0u32.to_be_bytes());
        }
        c
    };
    let build = |first_size, second_offset| {
        let mut jpeg = Jpeg::from_bytes(first.clone().into()).unwrap();
        jpeg.set_exif(Some(camera_exif(false, None).into()));
        let xmp = [XMP_NAMESPACE, XMP_WITH_GPS.as_bytes()].concat();
        let segments = jpeg.segments_mut();
        segments.insert(2, JpegSegment::new_with_contents(markers::APP1, xmp.into()));
        let contents = mpf(first_size, second_offset);
        segments.insert(
            3,
            JpegSegment::new_with_contents(markers::APP2, contents.into()),
        );
        segments.insert(
            4,
            JpegSegment::new_with_contents(markers::COM, Bytes::from_static(b"after the MPF")),
        );
        jpeg.encoder().bytes().to_vec()
    };
    let draft = build(0, 0);
    let header = draft.windows(4).position(|w| w == b"MPF\0").unwrap() + 4;
    let mut file = build(draft.len() as u32, (draft.len() - header) as u32);
    file.extend_from_slice(&second);
    (file, second)
}

/// The (first image's size, second image's offset) an MPF segment lists,
/// and where its header is.
fn mpf_entries(file: &[u8]) -> (usize, usize, usize) {
    let header = file.windows(4).position(|w| w == b"MPF\0").unwrap() + 4;
    let at = |pos: usize| {
        u32::from_be_bytes(file[header + pos..header + pos + 4].try_into().unwrap()) as usize
    };
    (header, at(26 + 4), at(26 + 16 + 8))
}

#[test]
fn a_multi_picture_jpeg_still_finds_its_second_image_after_stripping() {
    let (input, second) = multi_picture_jpeg(encode(ImageFormat::Jpeg, &picture(4, 4)));
    let (header, first_size, offset) = mpf_entries(&input);
    assert_eq!(&input[header + offset..], &second[..]);
    assert_eq!(first_size, input.len() - second.len());

    for mode in [StripMode::Location, StripMode::All] {
        let stripped = strip(ImageType::Jpeg, &input, mode).unwrap();
        assert!(stripped.changed);
        assert!(stripped.bytes.len() < input.len());
        let (header, first_size, offset) = mpf_entries(&stripped.bytes);
        assert_eq!(&stripped.bytes[header + offset..], &second[..], "{mode}");
        assert_eq!(first_size, stripped.bytes.len() - second.len(), "{mode}");
        assert_strips_to_nothing_more(ImageType::Jpeg, &stripped, mode);
    }
}

#[test]
fn the_second_picture_of_a_multi_picture_jpeg_loses_its_gps_in_place() {
    let (second, _) = camera_jpeg_in(true);
    let (input, _) = multi_picture_jpeg(second.clone());
    for mode in [StripMode::Location, StripMode::All] {
        let stripped = strip(ImageType::Jpeg, &input, mode).unwrap();
        assert!(stripped.removed.contains(&"gps"));
        let (header, _, offset) = mpf_entries(&stripped.bytes);
        let after = &stripped.bytes[header + offset..];
        // Edited where it lies: same length, same pixels, no position.
        assert_eq!(after.len(), second.len());
        assert!(!contains(after, &latitude_bytes(true)));
        assert!(!contains(after, b"GPSLatitude"));
        assert_eq!(gps_fields(after), 0);
        assert_eq!(make(after).as_deref(), Some(MAKE));
        assert_eq!(
            decoded(after, ImageFormat::Jpeg),
            decoded(&second, ImageFormat::Jpeg)
        );
        assert_strips_to_nothing_more(ImageType::Jpeg, &stripped, mode);
    }
}

// PNG

#[test]
fn location_removes_a_pngs_gps_and_keeps_orientation_text_and_pixels() {
    let (input, img) = camera_png();
    assert!(gps_fields(&input) > 0);

    let stripped = strip(ImageType::Png, &input, StripMode::Location).unwrap();
    assert_eq!(stripped.removed, ["gps", "xmp"]);
    assert_eq!(gps_fields(&stripped.bytes), 0);
    assert!(!contains(&stripped.bytes, &latitude_bytes(true)));
    assert!(!contains(&stripped.bytes, b"GPSLatitude"));
    assert_eq!(orientation(&stripped.bytes), Some(6));
    assert_eq!(make(&stripped.bytes).as_deref(), Some(MAKE));
    assert!(contains(&stripped.bytes, b"taken at home"));

    let pixels = decoded(&stripped.bytes, ImageFormat::Png);
    assert_eq!(pixels, decoded(&input, ImageFormat::Png));
    assert_eq!(pixels.to_rgba8(), img);
    assert_strips_to_nothing_more(ImageType::Png, &stripped, StripMode::Location);
}

#[test]
fn all_leaves_a_png_only_its_orientation_and_its_pixels() {
    let (input, img) = camera_png();
    let stripped = strip(ImageType::Png, &input, StripMode::All).unwrap();
    assert_eq!(stripped.removed, ["gps", "exif", "xmp", "text"]);
    let after = read_exif(&stripped.bytes).unwrap();
    assert_eq!(orientation(&stripped.bytes), Some(6));
    assert_eq!(after.fields().count(), 1);
    let kinds = png_chunk_kinds(&stripped.bytes);
    assert!(!kinds.contains(b"tEXt") && !kinds.contains(b"iTXt"));
    assert_eq!(kinds.iter().filter(|k| *k == b"eXIf").count(), 1);

    assert_eq!(decoded(&stripped.bytes, ImageFormat::Png).to_rgba8(), img);
    assert_strips_to_nothing_more(ImageType::Png, &stripped, StripMode::All);
}

#[test]
fn a_png_with_ten_thousand_text_chunks_finishes_with_the_right_answer() {
    let (input, img) = png_with_text_chunks(10_000);

    let location = strip(ImageType::Png, &input, StripMode::Location).unwrap();
    assert!(!location.changed, "text is not location");
    assert_eq!(location.bytes, input);

    let all = strip(ImageType::Png, &input, StripMode::All).unwrap();
    assert_eq!(all.removed, ["text"]);
    assert!(!png_chunk_kinds(&all.bytes).contains(b"tEXt"));
    assert_eq!(decoded(&all.bytes, ImageFormat::Png).to_rgba8(), img);
}

#[test]
fn compressed_xmp_past_the_inflate_budget_is_removed_unread() {
    let img = picture(8, 8);
    let mut png = Png::from_bytes(encode(ImageFormat::Png, &img).into()).unwrap();
    // Each inflates to 1 MiB of spaces from about a kilobyte: 40 of them
    // are more than the 16 MiB one image may cost.
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![b' '; 1 << 20], 9);
    for _ in 0..40 {
        let mut ztxt = b"XML:com.adobe.xmp\0\0".to_vec();
        ztxt.extend_from_slice(&bomb);
        png.chunks_mut()
            .insert(1, PngChunk::new(*b"zTXt", ztxt.into()));
    }
    let input = png.encoder().bytes();

    let stripped = strip(ImageType::Png, &input, StripMode::Location).unwrap();
    assert_eq!(stripped.removed, ["xmp"]);
    let kept = png_chunk_kinds(&stripped.bytes)
        .iter()
        .filter(|k| *k == b"zTXt")
        .count();
    assert!((1..40).contains(&kept), "{kept} of 40 read and kept");
    assert_eq!(decoded(&stripped.bytes, ImageFormat::Png).to_rgba8(), img);
}

// WebP

#[test]
fn location_removes_a_webps_gps_and_keeps_orientation_camera_and_pixels() {
    let (input, img) = camera_webp();
    assert!(gps_fields(&input) > 0);

    let stripped = strip(ImageType::Webp, &input, StripMode::Location).unwrap();
    assert_eq!(stripped.removed, ["gps", "xmp"]);
    assert_eq!(gps_fields(&stripped.bytes), 0);
    assert!(!contains(&stripped.bytes, &latitude_bytes(false)));
    assert_eq!(orientation(&stripped.bytes), Some(6));
    assert_eq!(make(&stripped.bytes).as_deref(), Some(MAKE));
    // The XMP chunk is gone, and VP8X says so.
    assert!(!webp_chunk_ids(&stripped.bytes).contains(b"XMP "));
    assert_eq!(
        vp8x_flags(&stripped.bytes).map(|f| f & (VP8X_EXIF | VP8X_XMP)),
        Some(VP8X_EXIF)
    );

    assert_eq!(decoded(&stripped.bytes, ImageFormat::WebP).to_rgba8(), img);
    assert_strips_to_nothing_more(ImageType::Webp, &stripped, StripMode::Location);
}

#[test]
fn all_leaves_a_webp_only_its_orientation_and_its_pixels() {
    let (input, img) = camera_webp();
    let stripped = strip(ImageType::Webp, &input, StripMode::All).unwrap();
    assert_eq!(stripped.removed, ["gps", "exif", "xmp"]);
    let after = read_exif(&stripped.bytes).unwrap();
    assert_eq!(orientation(&stripped.bytes), Some(6));
    assert_eq!(after.fields().count(), 1);
    assert!(!webp_chunk_ids(&stripped.bytes).contains(b"XMP "));
    assert_eq!(
        vp8x_flags(&stripped.bytes).map(|f| f & (VP8X_EXIF | VP8X_XMP)),
        Some(VP8X_EXIF)
    );

    assert_eq!(decoded(&stripped.bytes, ImageFormat::WebP).to_rgba8(), img);
    assert_strips_to_nothing_more(ImageType::Webp, &stripped, StripMode::All);
}

// Files with nothing to remove, and files not stripped

#[test]
fn a_file_without_metadata_comes_back_byte_identical_and_unchanged() {
    let img = picture(10, 10);
    for (kind, format) in [
        (ImageType::Jpeg, ImageFormat::Jpeg),
        (ImageType::Png, ImageFormat::Png),
        (ImageType::Webp, ImageFormat::WebP),
    ] {
        let input = encode(format, &img);
        for mode in [StripMode::Off, StripMode::Location, StripMode::All] {
            let stripped = strip(kind, &input, mode).unwrap();
            assert!(!stripped.changed, "{kind:?} {mode}");
            assert!(stripped.removed.is_empty());
            assert_eq!(stripped.bytes, input, "{kind:?} {mode}");
        }
    }
}

#[test]
fn off_keeps_every_byte_of_a_camera_file() {
    let (input, _) = camera_jpeg();
    let stripped = strip(ImageType::Jpeg, &input, StripMode::Off).unwrap();
    assert!(!stripped.changed);
    assert_eq!(stripped.bytes, input);
}

#[test]
fn types_other_than_jpeg_png_and_webp_pass_through_unchanged() {
    // A GIF with a comment extension, a TIFF with a GPS pointer: passed as
    // they are, whatever they hold.
    let gif =
        b"GIF89a\x01\0\x01\0\0\0\0\x21\xFE\x05at home\0\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;"
            .to_vec();
    let tiff = camera_exif(false, None);
    for (kind, input) in [
        (ImageType::Gif, gif),
        (ImageType::Tiff, tiff),
        (ImageType::Bmp, b"BM not really".to_vec()),
        (ImageType::Ico, vec![0, 0, 1, 0]),
    ] {
        for mode in [StripMode::Location, StripMode::All] {
            let stripped = strip(kind, &input, mode).unwrap();
            assert!(!stripped.changed);
            assert_eq!(stripped.bytes, input);
        }
    }
}

#[test]
fn strip_modes_read_and_print_as_the_flag_spells_them() {
    for (text, mode) in [
        ("off", StripMode::Off),
        ("location", StripMode::Location),
        ("all", StripMode::All),
    ] {
        assert_eq!(text.parse::<StripMode>(), Ok(mode));
        assert_eq!(mode.to_string(), text);
    }
    assert_eq!(StripMode::default(), StripMode::Location);
    let err = "gps".parse::<StripMode>().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"unknown strip mode "gps": expected off, location or all"#
    );
}

// Hostile files

#[test]
fn a_truncated_jpeg_whose_exif_claims_four_gigabytes_is_a_clear_error() {
    let input = truncated_jpeg_claiming_four_gigabytes();
    for mode in [StripMode::Location, StripMode::All] {
        let err = strip(ImageType::Jpeg, &input, mode).unwrap_err();
        assert_eq!(err, StripError::Jpeg(Malformed::Truncated));
        assert_eq!(
            err.to_string(),
            "the JPEG's segments cannot be read: a length runs past the end of the file"
        );
    }
}

#[test]
fn a_whole_jpeg_whose_exif_claims_four_gigabytes_loses_its_gps_within_the_file() {
    let img = picture(8, 8);
    let mut jpeg = Jpeg::from_bytes(encode(ImageFormat::Jpeg, &img).into()).unwrap();
    jpeg.set_exif(Some(exif_claiming_four_gigabytes().into()));
    let input = jpeg.encoder().bytes();

    let stripped = strip(ImageType::Jpeg, &input, StripMode::Location).unwrap();
    assert_eq!(stripped.removed, ["gps"]);
    assert_eq!(stripped.bytes.len(), input.len());
    assert!(!contains(&stripped.bytes, &latitude_bytes(false)));
    assert_eq!(orientation(&stripped.bytes), Some(6));
    assert_strips_to_nothing_more(ImageType::Jpeg, &stripped, StripMode::Location);
    assert_eq!(
        decoded(&stripped.bytes, ImageFormat::Jpeg),
        decoded(&input, ImageFormat::Jpeg)
    );
}

#[test]
fn an_exif_whose_ifds_loop_still_finishes_and_loses_its_gps() {
    // IFD0 at 8 -> IFD1 at 26 -> IFD0 again; IFD1 holds the GPS pointer.
    let mut b = b"II*\0".to_vec();
    b.extend(8u32.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    b.extend(26u32.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 44, 0, 0, 0]);
    b.extend(8u32.to_le_bytes());
    // GPS IFD at 44, pointing at itself as its next IFD.
    b.extend(1u16.to_le_bytes());
    b.extend([2, 0, 5, 0, 3, 0, 0, 0, 62, 0, 0, 0]);
    b.extend(44u32.to_le_bytes());
    b.extend(latitude_bytes(true));
    let mut png = Png::from_bytes(encode(ImageFormat::Png, &picture(4, 4)).into()).unwrap();
    png.set_exif(Some(b.into()));
    let input = png.encoder().bytes();

    let stripped = strip(ImageType::Png, &input, StripMode::Location).unwrap();
    assert_eq!(stripped.removed, ["gps"]);
    assert!(!contains(&stripped.bytes, &latitude_bytes(true)));
    assert_strips_to_nothing_more(ImageType::Png, &stripped, StripMode::Location);
}

/// A small deterministic generator, so failures replay.
struct Lcg(u64);

impl Lcg {
    fn byte(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u8
    }
}

#[test]
fn garbage_after_a_valid_signature_is_an_error_not_a_panic() {
    let mut rng = Lcg(7);
    let mut garbage = |len: usize, avoid: u8| -> Vec<u8> {
        (0..len)
            .map(|_| loop {
                let b = rng.byte();
                if b != avoid {
                    break b;
                }
            })
            .collect()
    };
    // A JPEG's segments start at an 0xFF byte: garbage without one never
    // starts a segment, and the file ends inside its search.
    let jpeg = [&[0xFF, 0xD8][..], &garbage(4096, 0xFF)].concat();
    let png = [&b"\x89PNG\r\n\x1a\n"[..], &garbage(4096, 0)].concat();
    let webp = [&b"RIFF\x00\x10\x00\x00WEBP"[..], &garbage(4096, 0)].concat();
    for (kind, input) in [
        (ImageType::Jpeg, jpeg),
        (ImageType::Png, png),
        (ImageType::Webp, webp),
    ] {
        for mode in [StripMode::Location, StripMode::All] {
            let err = strip(kind, &input, mode).unwrap_err();
            assert!(err.to_string().contains("cannot be read"), "{err}");
        }
    }
}

#[test]
fn random_bytes_after_every_signature_never_panic_and_strip_once() {
    let mut rng = Lcg(42);
    let signatures: [(ImageType, &[u8]); 3] = [
        (ImageType::Jpeg, &[0xFF, 0xD8, 0xFF]),
        (ImageType::Png, b"\x89PNG\r\n\x1a\n"),
        (ImageType::Webp, b"RIFF\x40\x00\x00\x00WEBP"),
    ];
    for round in 0..3000 {
        let (kind, signature) = signatures[round % 3];
        let len = usize::from(rng.byte()) % 64;
        let mut input = signature.to_vec();
        input.extend((0..len).map(|_| rng.byte()));
        for mode in [StripMode::Location, StripMode::All] {
            if let Ok(stripped) = strip(kind, &input, mode) {
                assert_strips_to_nothing_more(kind, &stripped, mode);
            }
        }
    }
}

/// The fuzzer's seeds (fuzz/seeds/strip) are the files these tests build;
/// run this to write them again after changing the builders:
/// `cargo test -p helpdesk-media --test strip -- --ignored`.
#[test]
#[ignore = "writes fuzz/seeds/strip; run by hand"]
fn writes_the_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/strip");
    std::fs::create_dir_all(&dir).unwrap();
    let img = picture(6, 4);
    let seeds = [
        ("camera.jpg", camera_jpeg().0),
        ("camera-le.jpg", camera_jpeg_in(true).0),
        (
            "multi-picture.jpg",
            multi_picture_jpeg(camera_jpeg_in(true).0).0,
        ),
        ("camera.png", camera_png().0),
        ("camera.webp", camera_webp().0),
        ("clean.jpg", encode(ImageFormat::Jpeg, &img)),
        ("clean.png", encode(ImageFormat::Png, &img)),
        ("clean.webp", encode(ImageFormat::WebP, &img)),
    ];
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
