//! Real images as a phone or camera uploads them, made here with libraries
//! (no binary file committed): `image` encodes the pixels, `kamadak-exif`'s
//! experimental writer builds the EXIF, `img-parts` puts the EXIF, XMP and
//! text where each container keeps them. And readers to check what an
//! image still holds, independent of helpdesk-media's own parsing.
//!
//! Every camera file carries the same facts: Make "Helpdesk Optics", Model
//! "HX-1", Orientation 6 (rotate 90° to show), a date, a GPS position
//! ([`LATITUDE`], [`LONGITUDE`]) in its EXIF, an XMP packet naming the
//! position too, and a comment or text ("taken at home", [`COMMENT`]).

use std::io::Cursor;

use bytes::Bytes;
use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{DynamicImage, ImageFormat};
use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::png::{Png, PngChunk};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;
use img_parts::ImageEXIF;

// For suites that do not depend on them, to name their types.
pub use exif;
pub use image::{self, RgbaImage};

/// GPS latitude 52° 31' 12.34" N, as the EXIF's three rationals
/// (numerator, denominator each).
pub const LATITUDE: [u32; 6] = [52, 1, 31, 1, 1234, 100];
/// GPS longitude 13° 24' 56.78" E.
pub const LONGITUDE: [u32; 6] = [13, 1, 24, 1, 5678, 100];
/// The camera's Make in every camera file.
pub const MAKE: &str = "Helpdesk Optics";
/// The JPEG comment (COM) and the PNG tEXt comment of the camera files.
pub const COMMENT: &[u8] = b"taken at home";

/// How a JPEG's APP1 says it holds XMP.
pub const XMP_NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
pub const XMP_WITH_GPS: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,31.2057N" exif:GPSLongitude="13,24.9463E"/></rdf:RDF></x:xmpmeta>"#;
pub const XMP_WITHOUT_GPS: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="helpdesk tests"/></rdf:RDF></x:xmpmeta>"#;

/// A picture with a different colour at every pixel, so that any change to
/// the pixel data shows.
pub fn picture(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        let v = (x * 37 + y * 91) as u8;
        image::Rgba([v, v.wrapping_mul(3), 255 - v, 255])
    })
}

/// `img` encoded as `format`, with no metadata at all.
pub fn encode(format: ImageFormat, img: &RgbaImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        // JPEG has no alpha.
        ImageFormat::Jpeg => DynamicImage::ImageRgba8(img.clone())
            .to_rgb8()
            .write_to(&mut out, format),
        // image's WebP encoder is lossless (VP8L).
        _ => img.write_to(&mut out, format),
    }
    .expect("encode");
    out.into_inner()
}

fn rationals(parts: [u32; 6]) -> Value {
    Value::Rational(
        parts
            .chunks(2)
            .map(|p| Rational {
                num: p[0],
                denom: p[1],
            })
            .collect(),
    )
}

/// An EXIF field of the primary image.
pub fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

/// An EXIF (a bare TIFF structure) as a camera writes one: Make, Model,
/// Orientation 6, a date, a GPS position and, if given, a thumbnail.
pub fn camera_exif(little_endian: bool, thumbnail: Option<&[u8]>) -> Vec<u8> {
    let fields = [
        field(Tag::Make, Value::Ascii(vec![MAKE.as_bytes().to_vec()])),
        field(Tag::Model, Value::Ascii(vec![b"HX-1".to_vec()])),
        field(Tag::Orientation, Value::Short(vec![6])),
        field(
            Tag::DateTimeOriginal,
            Value::Ascii(vec![b"2024:05:06 07:08:09".to_vec()]),
        ),
        field(Tag::GPSLatitudeRef, Value::Ascii(vec![b"N".to_vec()])),
        field(Tag::GPSLatitude, rationals(LATITUDE)),
        field(Tag::GPSLongitudeRef, Value::Ascii(vec![b"E".to_vec()])),
        field(Tag::GPSLongitude, rationals(LONGITUDE)),
    ];
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    if let Some(jpeg) = thumbnail {
        writer.set_jpeg(jpeg, In::THUMBNAIL);
    }
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, little_endian).expect("write EXIF");
    out.into_inner()
}

/// The GPS latitude as the rationals' bytes in an EXIF of that byte order;
/// a file without its position holds these bytes nowhere.
pub fn latitude_bytes(little_endian: bool) -> Vec<u8> {
    LATITUDE
        .iter()
        .flat_map(|n| {
            if little_endian {
                n.to_le_bytes()
            } else {
                n.to_be_bytes()
            }
        })
        .collect()
}

// JPEG

/// A 24×16 JPEG as a phone uploads it: JFIF, then a big-endian EXIF with
/// GPS and a thumbnail, XMP with GPS, and a comment; and the picture it
/// was encoded from (JPEG is lossy: compare decodes, see [`pixels`]).
pub fn camera_jpeg() -> (Vec<u8>, RgbaImage) {
    camera_jpeg_in(false)
}

/// [`camera_jpeg`] with its EXIF in either byte order.
pub fn camera_jpeg_in(little_endian: bool) -> (Vec<u8>, RgbaImage) {
    let img = picture(24, 16);
    let thumbnail = encode(ImageFormat::Jpeg, &picture(4, 4));
    let mut jpeg = Jpeg::from_bytes(encode(ImageFormat::Jpeg, &img).into()).expect("a JPEG");
    jpeg.set_exif(Some(camera_exif(little_endian, Some(&thumbnail)).into()));
    let at = jpeg
        .segments()
        .iter()
        .position(|s| s.marker() == markers::DQT)
        .expect("a DQT segment");
    let xmp = [XMP_NAMESPACE, XMP_WITH_GPS.as_bytes()].concat();
    jpeg.segments_mut().insert(
        at,
        JpegSegment::new_with_contents(markers::APP1, xmp.into()),
    );
    jpeg.segments_mut().insert(
        at + 1,
        JpegSegment::new_with_contents(markers::COM, Bytes::from_static(COMMENT)),
    );
    (jpeg.encoder().bytes().to_vec(), img)
}

/// A TIFF structure claiming 4 GB: IFD0 holds Orientation 6 and a GPS
/// pointer; the GPS IFD's latitude claims u32::MAX rationals at an offset
/// near 4 GiB, and its count of entries runs past the end. It ends with
/// the big-endian latitude.
pub fn exif_claiming_four_gigabytes() -> Vec<u8> {
    let mut b = b"MM\0*".to_vec();
    b.extend(8u32.to_be_bytes());
    b.extend(2u16.to_be_bytes());
    b.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    b.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    b.extend(0u32.to_be_bytes());
    // GPS IFD at 38.
    b.extend(0xFFFFu16.to_be_bytes());
    b.extend([0, 2, 0, 5]);
    b.extend(u32::MAX.to_be_bytes());
    b.extend(0xFFFF_FFF0u32.to_be_bytes());
    b.extend(latitude_bytes(false));
    b
}

/// A JPEG cut off inside its APP1: the segment's length says 65535 bytes,
/// fewer follow, and the EXIF in them is [`exif_claiming_four_gigabytes`].
pub fn truncated_jpeg_claiming_four_gigabytes() -> Vec<u8> {
    let mut input = vec![0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF];
    input.extend_from_slice(b"Exif\0\0");
    input.extend_from_slice(&exif_claiming_four_gigabytes());
    input
}

// PNG

/// A 20×10 PNG with an eXIf chunk (little-endian: GPS, Orientation 6,
/// Make), an iTXt XMP naming GPS and a tEXt comment; and its picture
/// (PNG is lossless: the decode is the picture).
pub fn camera_png() -> (Vec<u8>, RgbaImage) {
    let img = picture(20, 10);
    let mut png = Png::from_bytes(encode(ImageFormat::Png, &img).into()).expect("a PNG");
    png.set_exif(Some(camera_exif(true, None).into()));
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(XMP_WITH_GPS.as_bytes());
    let chunks = png.chunks_mut();
    chunks.insert(2, PngChunk::new(*b"iTXt", itxt.into()));
    chunks.insert(
        3,
        PngChunk::new(*b"tEXt", [&b"Comment\0"[..], COMMENT].concat().into()),
    );
    (png.encoder().bytes().to_vec(), img)
}

/// An 8×8 PNG with `n` tEXt chunks ("Comment", "note <i>") before its
/// IHDR's successors; and its picture.
pub fn png_with_text_chunks(n: usize) -> (Vec<u8>, RgbaImage) {
    let img = picture(8, 8);
    let mut png = Png::from_bytes(encode(ImageFormat::Png, &img).into()).expect("a PNG");
    for i in 0..n {
        let text = format!("Comment\0note {i}");
        png.chunks_mut()
            .insert(1, PngChunk::new(*b"tEXt", text.into_bytes().into()));
    }
    (png.encoder().bytes().to_vec(), img)
}

/// A PNG of `total_len` bytes with nothing to strip: a small picture and a
/// private ancillary chunk (`prVt`) of filler bytes. For comparing what
/// the server spends on a hostile file with what it spends on any file of
/// that size.
pub fn large_clean_png(total_len: usize) -> Vec<u8> {
    let small = encode(ImageFormat::Png, &picture(20, 10));
    // The chunk's length, kind and CRC are 12 bytes.
    let filler: Vec<u8> = (0..total_len - small.len() - 12)
        .map(|i| (i as u8).wrapping_mul(31))
        .collect();
    let mut png = Png::from_bytes(small.into()).expect("a PNG");
    png.chunks_mut()
        .insert(1, PngChunk::new(*b"prVt", filler.into()));
    let bytes = png.encoder().bytes().to_vec();
    assert_eq!(bytes.len(), total_len);
    bytes
}

/// The kinds of a PNG's chunks, in order.
pub fn png_chunk_kinds(bytes: &[u8]) -> Vec<[u8; 4]> {
    let png = Png::from_bytes(Bytes::copy_from_slice(bytes)).expect("a PNG");
    png.chunks().iter().map(PngChunk::kind).collect()
}

/// How many of a PNG's chunks are text (`tEXt`, `zTXt`, `iTXt`).
pub fn png_text_chunks(bytes: &[u8]) -> usize {
    png_chunk_kinds(bytes)
        .iter()
        .filter(|k| [b"tEXt", b"zTXt", b"iTXt"].contains(k))
        .count()
}

// WebP

/// VP8X's flag for an EXIF chunk.
pub const VP8X_EXIF: u8 = 0x08;
/// VP8X's flag for an XMP chunk.
pub const VP8X_XMP: u8 = 0x04;

/// A 12×9 lossless WebP, extended (VP8X) to carry a big-endian EXIF (GPS,
/// Orientation 6, Make) and an XMP naming GPS; and its picture.
pub fn camera_webp() -> (Vec<u8>, RgbaImage) {
    let img = picture(12, 9);
    let mut webp = WebP::from_bytes(encode(ImageFormat::WebP, &img).into()).expect("a WebP");
    // img-parts adds the VP8X chunk, with its EXIF flag.
    webp.set_exif(Some(camera_exif(false, None).into()));
    webp.chunks_mut().push(RiffChunk::new(
        *b"XMP ",
        RiffContent::Data(Bytes::from_static(XMP_WITH_GPS.as_bytes())),
    ));
    let mut bytes = webp.encoder().bytes().to_vec();
    let flags = vp8x_flags(&bytes).expect("a VP8X chunk");
    assert_eq!(flags & VP8X_EXIF, VP8X_EXIF);
    // The VP8X chunk comes first: its flags byte is at 20.
    bytes[20] |= VP8X_XMP;
    (bytes, img)
}

/// The flags byte of a WebP's VP8X chunk, if it has one.
pub fn vp8x_flags(bytes: &[u8]) -> Option<u8> {
    let webp = WebP::from_bytes(Bytes::copy_from_slice(bytes)).expect("a WebP");
    let vp8x = webp.chunk_by_id(*b"VP8X")?;
    vp8x.content().data()?.first().copied()
}

/// The ids of a WebP's chunks, in order.
pub fn webp_chunk_ids(bytes: &[u8]) -> Vec<[u8; 4]> {
    let webp = WebP::from_bytes(Bytes::copy_from_slice(bytes)).expect("a WebP");
    webp.chunks().iter().map(RiffChunk::id).collect()
}

// Readers

/// The EXIF of a JPEG, PNG or WebP as kamadak-exif reads it, if any.
pub fn read_exif(bytes: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()
}

/// How many GPS fields an EXIF reader finds in the image (0 without EXIF).
pub fn gps_fields(bytes: &[u8]) -> usize {
    read_exif(bytes).map_or(0, |exif| {
        exif.fields()
            .filter(|f| f.tag.context() == exif::Context::Gps)
            .count()
    })
}

/// The image's EXIF Orientation, if it has one.
pub fn orientation(bytes: &[u8]) -> Option<u32> {
    read_exif(bytes)?
        .get_field(Tag::Orientation, In::PRIMARY)?
        .value
        .get_uint(0)
}

/// The image's EXIF Make, if it has one.
pub fn make(bytes: &[u8]) -> Option<String> {
    ascii(&read_exif(bytes)?, Tag::Make)
}

/// An ASCII field of the primary image.
pub fn ascii(exif: &exif::Exif, tag: Tag) -> Option<String> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(v) => v.first().map(|s| String::from_utf8_lossy(s).into_owned()),
        _ => None,
    }
}

/// The pixels of a JPEG, PNG or WebP (its format guessed from its bytes),
/// as decoded, not rotated by its orientation.
pub fn pixels(bytes: &[u8]) -> RgbaImage {
    image::load_from_memory(bytes).expect("decode").to_rgba8()
}

/// Whether `needle` is anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// A zip bomb

/// `image` with a zip bomb appended, as a file that is an image to one
/// program and an archive to another (a polyglot): the archive holds as
/// many entries of 1 GiB of zeros each as fit within `max_len` bytes in all
/// (each deflates to about 1 MB). The archive's offsets count from the
/// start of the whole file, as a self-extracting archive's do, so `unzip`
/// lists it without complaint.
pub fn with_zip_bomb_after(image: &[u8], max_len: usize) -> Vec<u8> {
    const MIB: usize = 1 << 20;
    const COPIES: usize = 1024;
    let (block, mib_crc) = zeros_deflated(MIB);
    // CRC-32 of 1 GiB of zeros, doubled from 1 MiB's.
    let mut crc = mib_crc;
    let mut covered = MIB;
    while covered < COPIES * MIB {
        let same = crc.clone();
        crc.combine(&same);
        covered *= 2;
    }
    let crc = crc.finalize();
    // Blocks that are not final, then an empty final block (fixed codes).
    let data_len = block.len() * COPIES + 2;
    let name_len = |i: usize| format!("zeros-{i}.bin").len();
    let entry_len = |i: usize| 30 + name_len(i) + data_len + 46 + name_len(i);

    let mut file = image.to_vec();
    let mut entries = Vec::new();
    // Room for the next entry, its central entry, the others' and the end.
    while file.len() + entry_len(entries.len()) + central_len(&entries) + 22 <= max_len {
        let i = entries.len();
        let name = format!("zeros-{i}.bin");
        let offset = file.len() as u32;
        file.extend(0x0403_4b50u32.to_le_bytes());
        file.extend(local_or_central_fields(crc, data_len, COPIES * MIB, &name));
        file.extend(0u16.to_le_bytes()); // no extra field
        file.extend(name.as_bytes());
        for _ in 0..COPIES {
            file.extend_from_slice(&block);
        }
        file.extend([0x03, 0x00]);
        entries.push((name, offset));
    }
    assert!(!entries.is_empty(), "{max_len} bytes hold no 1 GiB entry");
    let central_at = file.len() as u32;
    for (name, offset) in &entries {
        file.extend(0x0201_4b50u32.to_le_bytes());
        file.extend(20u16.to_le_bytes()); // made by
        file.extend(local_or_central_fields(crc, data_len, COPIES * MIB, name));
        file.extend(0u16.to_le_bytes()); // no extra field
        file.extend(0u16.to_le_bytes()); // no comment
        file.extend(0u16.to_le_bytes()); // disk
        file.extend(0u16.to_le_bytes()); // internal attributes
        file.extend(0u32.to_le_bytes()); // external attributes
        file.extend(offset.to_le_bytes());
        file.extend(name.as_bytes());
    }
    let central_len = file.len() as u32 - central_at;
    file.extend(0x0605_4b50u32.to_le_bytes());
    file.extend(0u16.to_le_bytes());
    file.extend(0u16.to_le_bytes());
    file.extend((entries.len() as u16).to_le_bytes());
    file.extend((entries.len() as u16).to_le_bytes());
    file.extend(central_len.to_le_bytes());
    file.extend(central_at.to_le_bytes());
    file.extend(0u16.to_le_bytes());
    assert!(file.len() <= max_len);
    file
}

fn central_len(entries: &[(String, u32)]) -> usize {
    entries.iter().map(|(name, _)| 46 + name.len()).sum()
}

/// Version needed, flags, method (deflate), time, date, CRC-32, sizes and
/// the name's length: what a local header and a central entry share.
fn local_or_central_fields(crc: u32, compressed: usize, size: usize, name: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(20u16.to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend(8u16.to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend(0x21u16.to_le_bytes()); // 1980-01-01
    b.extend(crc.to_le_bytes());
    b.extend((compressed as u32).to_le_bytes());
    b.extend((size as u32).to_le_bytes());
    b.extend((name.len() as u16).to_le_bytes());
    b
}

/// `len` zeros as raw deflate blocks, none final, ending byte-aligned (a
/// sync flush): repeated, they inflate to zeros as long as one likes, since
/// every back-reference in them reaches only zeros. And their CRC-32.
fn zeros_deflated(len: usize) -> (Vec<u8>, crc32fast::Hasher) {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
    };
    let zeros = vec![0u8; len];
    let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(9, 0, 0));
    let mut out = vec![0u8; len / 64];
    let (status, used, written) = compress(&mut compressor, &zeros, &mut out, TDEFLFlush::Sync);
    assert_eq!((status, used), (TDEFLStatus::Okay, len));
    out.truncate(written);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&zeros);
    (out, crc)
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let body = [&kind[..], data].concat();
    [
        &(data.len() as u32).to_be_bytes()[..],
        &body,
        &crc32fast::hash(&body).to_be_bytes(),
    ]
    .concat()
}

/// A well-formed PNG claiming 60,000 × 60,000 RGBA (14.4 GB decoded): IHDR,
/// an IDAT of a few deflated zero bytes, IEND. A few dozen bytes.
pub fn png_bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    // zlib: a stored empty-ish block of zeros (the start of the first row).
    let idat = [
        0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x01,
    ];
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &chunk(b"IHDR", &ihdr),
        &chunk(b"IDAT", &idat),
        &chunk(b"IEND", &[]),
    ]
    .concat()
}

#[cfg(test)]
mod tests;
