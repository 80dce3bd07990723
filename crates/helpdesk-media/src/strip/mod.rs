//! Stripping metadata out of JPEG, PNG and WebP containers.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use helpdesk_core::ImageType;

use crate::tiff::{self, GpsRemoval};

mod jpeg;
mod png;
mod webp;

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
        (_, ImageType::Jpeg) => jpeg::strip(&input, mode)?,
        (_, ImageType::Png) => png::strip(&input, mode)?,
        (_, ImageType::Webp) => webp::strip(&input, mode)?,
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
