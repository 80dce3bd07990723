//! JPEG: APP1 (EXIF, XMP and extended XMP), APP13, COM and the MPF
//! segment's offsets; the other pictures of a multi-picture file.

use bytes::Bytes;
use img_parts::jpeg::{markers, Jpeg, JpegSegment};

use super::*;

const XMP_MAIN: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
/// An extended XMP segment's header: the namespace, a 32-byte GUID, the
/// full length and this portion's offset.
const XMP_EXTENSION_HEADER: usize = XMP_EXTENSION.len() + 32 + 4 + 4;
const PHOTOSHOP: &[u8] = b"Photoshop 3.0\0";
const MPF: &[u8] = b"MPF\0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JpegPart {
    Exif,
    Xmp,
    XmpExtension,
    Comment,
    Photoshop,
    Mpf,
    Other,
}

fn jpeg_part(segment: &JpegSegment) -> JpegPart {
    let contents = segment.contents();
    match segment.marker() {
        markers::APP1
            if contents.len() >= EXIF_HEADER.len() && contents.starts_with(EXIF_PREFIX) =>
        {
            JpegPart::Exif
        }
        markers::APP1 if contents.starts_with(XMP_MAIN) => JpegPart::Xmp,
        markers::APP1 if contents.starts_with(XMP_EXTENSION) => JpegPart::XmpExtension,
        markers::COM => JpegPart::Comment,
        markers::APP13 if contents.starts_with(PHOTOSHOP) => JpegPart::Photoshop,
        markers::APP2 if contents.starts_with(MPF) => JpegPart::Mpf,
        _ => JpegPart::Other,
    }
}

/// Whether the JPEG's XMP, main or extended, names a GPS property. The
/// extended portions are read together, in file order, so that a property
/// split across two segments is still seen.
fn jpeg_xmp_mentions_gps(segments: &[JpegSegment], parts: &[JpegPart]) -> bool {
    let mut extended = Vec::new();
    for (segment, part) in segments.iter().zip(parts) {
        match part {
            JpegPart::Xmp if mentions_gps(&segment.contents()[XMP_MAIN.len()..]) => return true,
            JpegPart::XmpExtension => extended.extend_from_slice(
                segment
                    .contents()
                    .get(XMP_EXTENSION_HEADER..)
                    .unwrap_or_default(),
            ),
            _ => {}
        }
    }
    mentions_gps(&extended)
}

pub(super) fn strip(input: &Bytes, mode: StripMode) -> Result<Outcome, StripError> {
    let mut jpeg = Jpeg::from_bytes(input.clone()).map_err(|e| StripError::Jpeg(e.into()))?;
    let original = std::mem::take(jpeg.segments_mut());
    let parts: Vec<JpegPart> = original.iter().map(jpeg_part).collect();
    let mut removed = Removed::default();

    let edits: Vec<Edit> = match mode {
        StripMode::Off => return Ok(None),
        StripMode::Location => {
            let xmp_gps = jpeg_xmp_mentions_gps(&original, &parts);
            original
                .iter()
                .zip(&parts)
                .map(|(segment, part)| {
                    let contents = segment.contents();
                    match part {
                        JpegPart::Exif => {
                            let (header, tiff_bytes) = contents.split_at(EXIF_HEADER.len());
                            exif_without_gps(tiff_bytes, header, &mut removed)
                        }
                        JpegPart::Xmp | JpegPart::XmpExtension if xmp_gps => {
                            removed.add("gps");
                            removed.add("xmp");
                            Edit::Drop
                        }
                        _ => Edit::Keep,
                    }
                })
                .collect()
        }
        StripMode::All => {
            let first_exif = parts.iter().position(|p| *p == JpegPart::Exif);
            let wanted = minimal_exif(
                first_exif.map(|i| &original[i].contents()[EXIF_HEADER.len()..]),
            )
            .map(|tiff_bytes| {
                let mut contents = EXIF_HEADER.to_vec();
                contents.extend_from_slice(&tiff_bytes);
                contents
            });
            original
                .iter()
                .zip(&parts)
                .enumerate()
                .map(|(i, (segment, part))| {
                    let contents = segment.contents();
                    match part {
                        JpegPart::Exif => {
                            let wanted = wanted.as_deref().filter(|_| Some(i) == first_exif);
                            exif_for_all(
                                &contents[EXIF_HEADER.len()..],
                                contents,
                                wanted,
                                &mut removed,
                            )
                        }
                        JpegPart::Xmp | JpegPart::XmpExtension => {
                            removed.add("xmp");
                            Edit::Drop
                        }
                        JpegPart::Comment => {
                            removed.add("comment");
                            Edit::Drop
                        }
                        JpegPart::Photoshop => {
                            removed.add("iptc");
                            Edit::Drop
                        }
                        JpegPart::Mpf | JpegPart::Other => Edit::Keep,
                    }
                })
                .collect()
        }
    };

    if edits.iter().all(|edit| matches!(edit, Edit::Keep)) {
        return Ok(other_pictures_without_gps(input, &mut removed).map(|bytes| (bytes, removed)));
    }
    let mut segments: Vec<JpegSegment> = original
        .iter()
        .zip(edits)
        .filter_map(|(segment, edit)| match edit {
            Edit::Keep => Some(segment.clone()),
            Edit::Drop => None,
            Edit::Replace(contents) => {
                Some(JpegSegment::new_with_contents(segment.marker(), contents))
            }
        })
        .collect();
    keep_mpf_offsets(&original, &mut segments);
    *jpeg.segments_mut() = segments;
    let bytes = jpeg.encoder().bytes();
    let bytes = other_pictures_without_gps(&bytes, &mut removed).unwrap_or(bytes);
    Ok(Some((bytes, removed)))
}

/// Where `part`, a zero-copy slice img-parts made of `file`, lies in it;
/// `None` if it is not one (checked, not assumed).
fn position_in(file: &Bytes, part: &[u8]) -> Option<usize> {
    let at = (part.as_ptr() as usize).checked_sub(file.as_ptr() as usize)?;
    (file.get(at..at.checked_add(part.len())?)? == part).then_some(at)
}

/// The other pictures of a multi-picture JPEG (an MPO's second frame, a
/// phone's gain or depth map) sit after the first one's end, where they
/// are carried as they are. Their own EXIF can hold a GPS IFD, and their
/// XMP GPS properties; both are removed in place, so that no picture moves
/// and the MPF offsets stay right: the GPS IFD as in the first picture, the
/// XMP packet by blanking it with spaces (a packet of only spaces is empty).
/// Whatever else they hold is kept under every mode.
///
/// Only pictures lying after the first picture's segments, and not
/// overlapping one another, are edited, so that an edit in one cannot
/// change what is read in another: stripping stays a fixed point.
///
/// Returns the edited file, or `None` when nothing was edited.
fn other_pictures_without_gps(file: &Bytes, removed: &mut Removed) -> Option<Bytes> {
    let first = Jpeg::from_bytes(file.clone()).ok()?;
    let mpf = first
        .segments()
        .iter()
        .find(|s| jpeg_part(s) == JpegPart::Mpf)?;
    let header = position_in(file, mpf.contents())? + MPF.len();
    // The first picture's entropy data starts right after its scan header;
    // the other pictures are inside it, where no segment of the first is.
    let scan = first.segments().iter().find(|s| s.has_entropy())?;
    let first_end = position_in(file, scan.contents())? + scan.contents().len();

    let mut pictures: Vec<(usize, usize)> = tiff::mp_entries(&mpf.contents()[MPF.len()..])
        .into_iter()
        .filter(|&(_, offset)| offset != 0)
        .filter_map(|(size, offset)| {
            let start = header.checked_add(usize::try_from(offset).ok()?)?;
            let end = start
                .saturating_add(usize::try_from(size).ok()?)
                .min(file.len());
            (start >= first_end && start < end).then_some((start, end))
        })
        .collect();
    pictures.sort_unstable();
    let mut apart = Vec::with_capacity(pictures.len());
    for (start, end) in pictures {
        match apart.last() {
            Some(&(_, last_end)) if start < last_end => {}
            _ => apart.push((start, end)),
        }
    }

    let mut edited: Option<Vec<u8>> = None;
    for (start, end) in apart {
        let Ok(picture) = Jpeg::from_bytes(file.slice(start..end)) else {
            continue;
        };
        let parts: Vec<JpegPart> = picture.segments().iter().map(jpeg_part).collect();
        let xmp_gps = jpeg_xmp_mentions_gps(picture.segments(), &parts);
        for (segment, part) in picture.segments().iter().zip(&parts) {
            let contents = segment.contents();
            let (skip, is_gps) = match part {
                JpegPart::Exif => (
                    EXIF_HEADER.len(),
                    tiff::has_gps(&contents[EXIF_HEADER.len()..]),
                ),
                JpegPart::Xmp => (XMP_MAIN.len(), xmp_gps),
                JpegPart::XmpExtension => (XMP_EXTENSION_HEADER.min(contents.len()), xmp_gps),
                _ => continue,
            };
            let Some(at) = position_in(file, contents).filter(|_| is_gps) else {
                continue;
            };
            let buf = edited.get_or_insert_with(|| file.to_vec());
            let Some(bytes) = buf.get_mut(at + skip..at + contents.len()) else {
                continue;
            };
            removed.add("gps");
            if *part == JpegPart::Exif {
                if tiff::remove_gps(bytes) == GpsRemoval::Tangled {
                    // No TIFF header, so nothing for any reader to find.
                    bytes.fill(0);
                }
            } else {
                removed.add("xmp");
                bytes.fill(b' ');
            }
        }
    }
    edited.map(Bytes::from)
}

/// The encoded size of the segments before and after the MPF segment.
fn mpf_split(segments: &[JpegSegment]) -> Option<(usize, usize)> {
    let at = segments
        .iter()
        .position(|s| jpeg_part(s) == JpegPart::Mpf)?;
    let len = |segments: &[JpegSegment]| segments.iter().map(JpegSegment::len).sum::<usize>();
    Some((len(&segments[..at]), len(&segments[at + 1..])))
}

/// Multi-picture JPEGs (phones' HDR gain maps and depth maps, stereo MPO)
/// find their other images by offsets in the MPF segment, relative to that
/// segment; removing segments after it moves the images, so the offsets,
/// and the first image's size, are updated the way img-parts does for the
/// edits it makes itself.
fn keep_mpf_offsets(before: &[JpegSegment], after: &mut [JpegSegment]) {
    let (Some((old_before, old_after)), Some((new_before, new_after))) =
        (mpf_split(before), mpf_split(after))
    else {
        return;
    };
    let offset_delta = new_after as i64 - old_after as i64;
    let size_delta = offset_delta + (new_before as i64 - old_before as i64);
    if size_delta == 0 && offset_delta == 0 {
        return;
    }
    if let Some(segment) = after.iter_mut().find(|s| jpeg_part(s) == JpegPart::Mpf) {
        if let Some(contents) = tiff::update_mpf(segment.contents(), size_delta, offset_delta) {
            *segment = JpegSegment::new_with_contents(markers::APP2, contents.into());
        }
    }
}
