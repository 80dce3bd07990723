//! PNG: eXIf, XMP in iTXt, and the text chunks.

use bytes::Bytes;
use img_parts::png::{Png, PngChunk};

use super::*;

const PNG_EXIF: [u8; 4] = *b"eXIf";
const PNG_TEXT: [u8; 4] = *b"tEXt";
const PNG_ZTXT: [u8; 4] = *b"zTXt";
const PNG_ITXT: [u8; 4] = *b"iTXt";
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";
/// ImageMagick and ExifTool carry profiles PNG had no chunk for as hex in
/// text chunks named so, EXIF among them.
const RAW_PROFILE: &[u8] = b"Raw profile type ";
/// The most decompressed XMP one PNG may make us read; past it, compressed
/// XMP is treated as naming GPS. This bounds the work of a PNG of 10,000
/// small chunks that each inflate a thousandfold.
const INFLATE_BUDGET: usize = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PngPart {
    Exif,
    Xmp,
    /// A raw profile; what it holds is named by the label.
    RawProfile(&'static str),
    Text,
    Other,
}

fn png_keyword(contents: &[u8]) -> &[u8] {
    let end = contents
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(contents.len());
    &contents[..end]
}

fn png_part(chunk: &PngChunk) -> PngPart {
    let kind = chunk.kind();
    if kind == PNG_EXIF {
        return PngPart::Exif;
    }
    if ![PNG_TEXT, PNG_ZTXT, PNG_ITXT].contains(&kind) {
        return PngPart::Other;
    }
    let keyword = png_keyword(chunk.contents());
    if keyword == XMP_KEYWORD {
        return PngPart::Xmp;
    }
    match keyword
        .strip_prefix(RAW_PROFILE)
        .map(|t| t.to_ascii_lowercase())
    {
        Some(t) if t == b"exif" || t == b"app1" => PngPart::RawProfile("exif"),
        Some(t) if t == b"xmp" => PngPart::RawProfile("xmp"),
        Some(t) if t == b"iptc" || t == b"8bim" => PngPart::RawProfile("iptc"),
        _ => PngPart::Text,
    }
}

/// The PNG's eXIf is a bare TIFF structure, but some writers put EXIF's
/// own header in front of it.
pub(super) fn png_exif_header(contents: &[u8]) -> usize {
    if contents.starts_with(EXIF_HEADER) {
        EXIF_HEADER.len()
    } else {
        0
    }
}

/// The text of an XMP text chunk, inflated if compressed, or `None` when it
/// cannot be read within what is left of `budget`.
fn png_text(chunk: &PngChunk, budget: &mut usize) -> Option<Vec<u8>> {
    let contents = chunk.contents();
    let after_keyword = contents.get(png_keyword(contents).len() + 1..)?;
    let (compressed, data) = match chunk.kind() {
        PNG_TEXT => (false, after_keyword),
        // The compression method byte, then the zlib stream.
        PNG_ZTXT => (true, after_keyword.get(1..)?),
        _ => {
            // iTXt: the compression flag and method, then the language tag
            // and the translated keyword, each ending in a NUL.
            let flag = *after_keyword.first()?;
            let rest = after_keyword.get(2..)?;
            let lang_end = rest.iter().position(|&b| b == 0)?;
            let rest = &rest[lang_end + 1..];
            let translated_end = rest.iter().position(|&b| b == 0)?;
            (flag != 0, &rest[translated_end + 1..])
        }
    };
    if !compressed {
        return Some(data.to_vec());
    }
    match miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, *budget) {
        Ok(text) => {
            *budget -= text.len();
            Some(text)
        }
        Err(_) => {
            // How much work a failed inflate did is unknown; assume all of it.
            *budget = 0;
            None
        }
    }
}

pub(super) fn strip(input: &Bytes, mode: StripMode) -> Result<Outcome, StripError> {
    let mut png = Png::from_bytes(input.clone()).map_err(|e| StripError::Png(e.into()))?;
    let original = std::mem::take(png.chunks_mut());
    let parts: Vec<PngPart> = original.iter().map(png_part).collect();
    let mut removed = Removed::default();

    let edits: Vec<Edit> = match mode {
        StripMode::Off => return Ok(None),
        StripMode::Location => {
            let mut budget = INFLATE_BUDGET;
            original
                .iter()
                .zip(&parts)
                .map(|(chunk, part)| {
                    let contents = chunk.contents();
                    match part {
                        PngPart::Exif => {
                            let (header, tiff_bytes) = contents.split_at(png_exif_header(contents));
                            exif_without_gps(tiff_bytes, header, &mut removed)
                        }
                        PngPart::Xmp => match png_text(chunk, &mut budget) {
                            Some(text) if !mentions_gps(&text) => Edit::Keep,
                            Some(_) => {
                                removed.add("gps");
                                removed.add("xmp");
                                Edit::Drop
                            }
                            // Unreadable, so whether it names GPS is unknown.
                            None => {
                                removed.add("xmp");
                                Edit::Drop
                            }
                        },
                        // Hex-encoded EXIF or XMP: too costly to edit, and
                        // as likely as any to hold a position.
                        PngPart::RawProfile(what @ ("exif" | "xmp")) => {
                            removed.add(what);
                            Edit::Drop
                        }
                        PngPart::RawProfile(_) | PngPart::Text | PngPart::Other => Edit::Keep,
                    }
                })
                .collect()
        }
        StripMode::All => {
            let first_exif = parts.iter().position(|p| *p == PngPart::Exif);
            let wanted = minimal_exif(first_exif.map(|i| {
                let contents = original[i].contents();
                &contents[png_exif_header(contents)..]
            }));
            original
                .iter()
                .zip(&parts)
                .enumerate()
                .map(|(i, (chunk, part))| {
                    let contents = chunk.contents();
                    match part {
                        PngPart::Exif => {
                            let wanted = wanted.as_deref().filter(|_| Some(i) == first_exif);
                            exif_for_all(
                                &contents[png_exif_header(contents)..],
                                contents,
                                wanted,
                                &mut removed,
                            )
                        }
                        PngPart::Xmp => {
                            removed.add("xmp");
                            Edit::Drop
                        }
                        PngPart::RawProfile(what) => {
                            removed.add(what);
                            Edit::Drop
                        }
                        PngPart::Text => {
                            removed.add("text");
                            Edit::Drop
                        }
                        PngPart::Other => Edit::Keep,
                    }
                })
                .collect()
        }
    };

    if edits.iter().all(|edit| matches!(edit, Edit::Keep)) {
        return Ok(None);
    }
    *png.chunks_mut() = original
        .iter()
        .zip(edits)
        .filter_map(|(chunk, edit)| match edit {
            Edit::Keep => Some(chunk.clone()),
            Edit::Drop => None,
            Edit::Replace(contents) => Some(PngChunk::new(chunk.kind(), contents)),
        })
        .collect();
    Ok(Some((png.encoder().bytes(), removed)))
}
