//! WebP: the EXIF and XMP chunks, and the VP8X flags that announce them.

use bytes::Bytes;
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;

use super::png::png_exif_header;
use super::*;

const WEBP_EXIF: [u8; 4] = *b"EXIF";
const WEBP_XMP: [u8; 4] = *b"XMP ";
const WEBP_VP8X: [u8; 4] = *b"VP8X";
/// The VP8X flags that say an EXIF or an XMP chunk is present.
const VP8X_EXIF: u8 = 0b0000_1000;
const VP8X_XMP: u8 = 0b0000_0100;

fn chunk_data(chunk: &RiffChunk) -> Option<&Bytes> {
    chunk.content().data()
}

/// Whether a WebP EXIF chunk starts with EXIF's own header (the format says
/// it must not; some writers put it in anyway).
fn webp_exif_header(data: &[u8]) -> usize {
    png_exif_header(data)
}

pub(super) fn strip(input: &Bytes, mode: StripMode) -> Result<Outcome, StripError> {
    let mut webp = WebP::from_bytes(input.clone()).map_err(|e| StripError::Webp(e.into()))?;
    let original = std::mem::take(webp.chunks_mut());
    let mut removed = Removed::default();

    let edits: Vec<Edit> = match mode {
        StripMode::Off => return Ok(None),
        StripMode::Location => original
            .iter()
            .map(|chunk| match (chunk.id(), chunk_data(chunk)) {
                (WEBP_EXIF, Some(data)) => {
                    let (header, tiff_bytes) = data.split_at(webp_exif_header(data));
                    exif_without_gps(tiff_bytes, header, &mut removed)
                }
                (WEBP_XMP, Some(data)) if mentions_gps(data) => {
                    removed.add("gps");
                    removed.add("xmp");
                    Edit::Drop
                }
                _ => Edit::Keep,
            })
            .collect(),
        StripMode::All => {
            let first_exif = original
                .iter()
                .position(|c| c.id() == WEBP_EXIF && chunk_data(c).is_some());
            let wanted = minimal_exif(
                first_exif
                    .and_then(|i| chunk_data(&original[i]))
                    .map(|data| &data[webp_exif_header(data)..]),
            );
            original
                .iter()
                .enumerate()
                .map(|(i, chunk)| match (chunk.id(), chunk_data(chunk)) {
                    (WEBP_EXIF, Some(data)) => {
                        let wanted = wanted.as_deref().filter(|_| Some(i) == first_exif);
                        exif_for_all(&data[webp_exif_header(data)..], data, wanted, &mut removed)
                    }
                    (WEBP_XMP, _) => {
                        removed.add("xmp");
                        Edit::Drop
                    }
                    _ => Edit::Keep,
                })
                .collect()
        }
    };

    if edits.iter().all(|edit| matches!(edit, Edit::Keep)) {
        return Ok(None);
    }
    let mut chunks: Vec<RiffChunk> = original
        .iter()
        .zip(edits)
        .filter_map(|(chunk, edit)| match edit {
            Edit::Keep => Some(chunk.clone()),
            Edit::Drop => None,
            Edit::Replace(data) => Some(RiffChunk::new(chunk.id(), RiffContent::Data(data))),
        })
        .collect();
    match_vp8x_flags(&mut chunks);
    *webp.chunks_mut() = chunks;
    Ok(Some((webp.encoder().bytes(), removed)))
}

/// The VP8X chunk's flags say which metadata chunks follow; after removing
/// some, the EXIF and XMP flags are set to what is left. (img-parts updates
/// only the EXIF and ICC flags, and only in its own setters.) Nothing else
/// in the chunk changes, and a file without VP8X stays without one.
fn match_vp8x_flags(chunks: &mut [RiffChunk]) {
    let has = |id: [u8; 4]| chunks.iter().any(|c| c.id() == id);
    let wanted =
        if has(WEBP_EXIF) { VP8X_EXIF } else { 0 } | if has(WEBP_XMP) { VP8X_XMP } else { 0 };
    let Some(vp8x) = chunks.iter_mut().find(|c| c.id() == WEBP_VP8X) else {
        return;
    };
    if let RiffContent::Data(data) = vp8x.content_mut() {
        if let Some(&flags) = data.first() {
            let new = (flags & !(VP8X_EXIF | VP8X_XMP)) | wanted;
            if new != flags {
                let mut edited = data.to_vec();
                edited[0] = new;
                *data = edited.into();
            }
        }
    }
}
