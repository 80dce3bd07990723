//! Stripping metadata out of JPEG, PNG and WebP containers.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use helpdesk_core::ImageType;
use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::png::{Png, PngChunk};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;

use crate::tiff::{self, GpsRemoval};

/// How much metadata an image keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StripMode {
    /// Images are stored exactly as uploaded.
    Off,
    /// GPS positions are removed: the GPS IFD of every EXIF, and every XMP
    /// packet that names a GPS property. Everything else is kept.
    #[default]
    Location,
    /// EXIF, XMP, comments, IPTC and text chunks are removed. ICC profiles
    /// are kept, and so is a non-default Orientation, in an EXIF of its own.
    All,
}

impl StripMode {
    /// The name `FromStr` reads and `Display` writes.
    pub fn as_str(self) -> &'static str {
        match self {
            StripMode::Off => "off",
            StripMode::Location => "location",
            StripMode::All => "all",
        }
    }
}

impl fmt::Display for StripMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strip mode other than `off`, `location` or `all`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strip mode {0:?}: expected off, location or all")]
pub struct ParseStripModeError(String);

impl FromStr for StripMode {
    type Err = ParseStripModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(StripMode::Off),
            "location" => Ok(StripMode::Location),
            "all" => Ok(StripMode::All),
            other => Err(ParseStripModeError(other.to_owned())),
        }
    }
}

/// The image after stripping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// The image to store. When `changed` is false these are the input's
    /// bytes exactly, so identical clean uploads still deduplicate.
    pub bytes: Bytes,
    /// Whether anything was removed.
    pub changed: bool,
    /// What was removed, each kind once, in this order: `"gps"` (a GPS IFD,
    /// or an XMP packet naming GPS properties), `"exif"`, `"xmp"`, `"iptc"`
    /// (a JPEG's Photoshop segment), `"comment"` (a JPEG COM segment),
    /// `"text"` (a PNG text chunk). Empty when `changed` is false.
    pub removed: Vec<&'static str>,
}

/// Why an image's container could not be read. The pixels are never
/// decoded, so this is about the structure around them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripError {
    #[error("the JPEG's segments cannot be read: {0}")]
    Jpeg(Malformed),
    #[error("the PNG's chunks cannot be read: {0}")]
    Png(Malformed),
    #[error("the WebP's chunks cannot be read: {0}")]
    Webp(Malformed),
}

/// What is wrong with a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("it does not start with the format's signature")]
    Signature,
    #[error("a chunk's CRC does not match its contents")]
    Checksum,
    #[error("a length runs past the end of the file")]
    Truncated,
}

impl From<img_parts::Error> for Malformed {
    fn from(e: img_parts::Error) -> Self {
        match e {
            img_parts::Error::WrongSignature => Malformed::Signature,
            img_parts::Error::BadCRC => Malformed::Checksum,
            img_parts::Error::Truncated => Malformed::Truncated,
        }
    }
}

/// Strip `input`, an image of type `kind` (as [`ImageType::sniff`] named
/// it), as `mode` says. See [`strip_bytes`], which this copies `input` for.
pub fn strip(kind: ImageType, input: &[u8], mode: StripMode) -> Result<Stripped, StripError> {
    strip_bytes(kind, Bytes::copy_from_slice(input), mode)
}

/// Strip `input`, an image of type `kind`, as `mode` says, without copying
/// it when nothing changes.
///
/// JPEG, PNG and WebP are stripped; every other type, and every type under
/// [`StripMode::Off`], comes back unchanged. Pixel data is never decoded or
/// re-encoded: only metadata segments and chunks are removed or rewritten.
pub fn strip_bytes(kind: ImageType, input: Bytes, mode: StripMode) -> Result<Stripped, StripError> {
    let outcome = match (mode, kind) {
        (StripMode::Off, _) => None,
        (_, ImageType::Jpeg) => jpeg(&input, mode)?,
        (_, ImageType::Png) => png(&input, mode)?,
        (_, ImageType::Webp) => webp(&input, mode)?,
        (_, ImageType::Gif | ImageType::Bmp | ImageType::Tiff | ImageType::Ico) => None,
    };
    Ok(match outcome {
        Some((bytes, removed)) => Stripped {
            bytes,
            changed: true,
            removed: removed.into_list(),
        },
        None => Stripped {
            bytes: input,
            changed: false,
            removed: Vec::new(),
        },
    })
}

/// The kinds removed, recorded once each.
#[derive(Debug, Default)]
struct Removed(Vec<&'static str>);

const REMOVED_ORDER: [&str; 6] = ["gps", "exif", "xmp", "iptc", "comment", "text"];

impl Removed {
    fn add(&mut self, what: &'static str) {
        if !self.0.contains(&what) {
            self.0.push(what);
        }
    }

    fn into_list(mut self) -> Vec<&'static str> {
        self.0
            .sort_by_key(|what| REMOVED_ORDER.iter().position(|w| w == what));
        self.0
    }
}

/// What becomes of one segment or chunk.
enum Edit {
    Keep,
    Drop,
    Replace(Bytes),
}

/// The result of stripping one container: `None` when nothing changed.
type Outcome = Option<(Bytes, Removed)>;

/// EXIF's own header before the TIFF structure. The sixth byte is a pad
/// that some writers fill with something else, so only five are matched.
const EXIF_PREFIX: &[u8] = b"Exif\0";
const EXIF_HEADER: &[u8] = b"Exif\0\0";

/// What Location does to one EXIF (the TIFF structure, after any header).
fn exif_without_gps(tiff_bytes: &[u8], header: &[u8], removed: &mut Removed) -> Edit {
    let mut edited = tiff_bytes.to_vec();
    match tiff::remove_gps(&mut edited) {
        GpsRemoval::None => Edit::Keep,
        GpsRemoval::Removed => {
            removed.add("gps");
            let mut contents = header.to_vec();
            contents.extend_from_slice(&edited);
            Edit::Replace(contents.into())
        }
        GpsRemoval::Tangled => {
            removed.add("gps");
            removed.add("exif");
            Edit::Drop
        }
    }
}

/// What All does to one EXIF: the first one becomes `wanted` (the minimal
/// EXIF with the orientation, header included) when there is one to keep;
/// every other goes.
fn exif_for_all(
    tiff_bytes: &[u8],
    contents: &[u8],
    wanted: Option<&[u8]>,
    removed: &mut Removed,
) -> Edit {
    if wanted == Some(contents) {
        return Edit::Keep;
    }
    if tiff::has_gps(tiff_bytes) {
        removed.add("gps");
    }
    removed.add("exif");
    match wanted {
        Some(wanted) => Edit::Replace(Bytes::copy_from_slice(wanted)),
        None => Edit::Drop,
    }
}

/// The minimal EXIF All keeps for an image whose first EXIF is `tiff_bytes`:
/// only an Orientation other than 1 (the default) is worth a segment.
fn minimal_exif(tiff_bytes: Option<&[u8]>) -> Option<Vec<u8>> {
    let orientation = tiff::orientation(tiff_bytes?)?;
    (orientation != 1).then(|| tiff::minimal_with_orientation(orientation))
}

/// Whether an XMP packet names a GPS property: `exif:GPSLatitude` and the
/// like, under whatever prefix the packet binds the namespace to. XMP may be
/// UTF-8 or, rarely, UTF-16: the second needle matches UTF-16 of either byte
/// order. UTF-32, which XMP also allows, is not looked for.
fn mentions_gps(xmp: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 2] = [b":GPS", b":\0G\0P\0S"];
    NEEDLES
        .iter()
        .any(|needle| xmp.windows(needle.len()).any(|w| w == *needle))
}

// JPEG

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

fn jpeg(input: &Bytes, mode: StripMode) -> Result<Outcome, StripError> {
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

// PNG

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
fn png_exif_header(contents: &[u8]) -> usize {
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

fn png(input: &Bytes, mode: StripMode) -> Result<Outcome, StripError> {
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

// WebP

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

fn webp(input: &Bytes, mode: StripMode) -> Result<Outcome, StripError> {
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
