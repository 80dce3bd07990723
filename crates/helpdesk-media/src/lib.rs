//! Strips metadata from uploaded images without touching their pixels, and
//! makes thumbnails of stored ones.
//!
//! - [`strip`]: metadata out, pixels untouched (below).
//! - [`thumb`]: 200, 400 and 1600 px thumbnails for the inspector console
//!   ([`thumb::render`], [`thumb::probe`], [`thumb::placeholder`]): the
//!   header's size checked before any decode, JPEG scaled at decode, EXIF
//!   orientation applied, the first frame of an animation; see its docs.
//!
//! # Stripping
//!
//! [`strip`] takes an image, the [`ImageType`] that
//! [`ImageType::sniff`] named it, and a [`StripMode`]:
//!
//! - [`StripMode::Off`]: the image is returned as it came.
//! - [`StripMode::Location`] (the default): GPS positions go. The GPS IFD is
//!   removed from the EXIF of a JPEG (APP1), a PNG (`eXIf`) and a WebP
//!   (`EXIF`), and every other EXIF field stays where it was. An XMP packet
//!   that names any GPS property (`exif:GPSLatitude` and the like, under any
//!   prefix) is removed whole: editing XMP's RDF in place is not worth its
//!   risk, and the EXIF, which holds the same facts that matter (orientation,
//!   camera, dates), stays. In a PNG, a compressed XMP chunk that cannot be
//!   inflated within a budget is removed too, and so are the hex "Raw
//!   profile type exif/APP1/xmp" text chunks ImageMagick writes.
//! - [`StripMode::All`]: EXIF, XMP (with JPEG's extended XMP), JPEG comments
//!   (COM) and Photoshop/IPTC segments (APP13), and PNG text chunks (`tEXt`,
//!   `zTXt`, `iTXt`) and `eXIf` go. ICC profiles stay, since they change the
//!   colours shown; so do JFIF, Adobe's APP14 (it says how to convert the
//!   colours) and the MPF segment of a multi-picture JPEG. A non-default
//!   Orientation stays too, since viewers rotate by it: it is written back
//!   as a minimal EXIF holding nothing else.
//!
//! Only JPEG, PNG and WebP are stripped. GIF, BMP, TIFF and ICO pass through
//! unchanged in every mode (a TIFF's own IFDs can hold GPS; they are kept).
//!
//! ## Lossless
//!
//! Pixel data is never decoded or re-encoded: segments and chunks are
//! removed or replaced, and the compressed image data is copied as it was.
//! Decoding the image before and after gives the same pixels. When nothing
//! needs removing, [`Stripped::bytes`] are the input's bytes exactly and
//! [`Stripped::changed`] is false, so deduplication of clean uploads is
//! unaffected. When something is removed, bytes the container ignores
//! (JPEG fill bytes between segments, anything after a PNG's `IEND` or past
//! a WebP's RIFF length) are not carried over.
//!
//! ## Bad input
//!
//! A container that cannot be read (a wrong signature, a length running past
//! the end, a PNG chunk whose CRC is wrong) is a [`StripError`]; nothing
//! panics. Every length or offset read from the file only selects bytes
//! that are there, so no allocation is sized by a claim: a JPEG whose EXIF
//! claims 4 GB costs what the file is. IFD chains are walked once each,
//! loops included, and at most 16 deep; compressed PNG XMP is inflated up to
//! 16 MiB per image in all. The caller caps the input's size.
//!
//! ## Libraries, and why
//!
//! The containers are read and written by `img-parts`, which keeps every
//! segment and chunk it does not edit as the original bytes (zero-copy),
//! checks every length against the input, and carries the JPEG's entropy
//! data, everything after the first scan header, untouched. On top of it:
//!
//! - EXIF is edited by a small TIFF IFD editor of our own (`tiff.rs`), in
//!   place. `kamadak-exif`'s `experimental::Writer` rebuilds the whole EXIF
//!   from parsed fields: the maker note (whose offsets are often relative to
//!   the file) would break, fields of types it does not know are dropped,
//!   and any field it fails to parse fails the image. `little_exif` sizes
//!   buffers by the lengths the file claims (`vec![0; chunk_length]`) and
//!   brings Brotli and an XML parser with it. Removing GPS needs neither:
//!   one 12-byte pointer entry is deleted from IFD0 and the GPS IFD and its
//!   values are zeroed where they lie, so every other offset stays valid.
//!   `kamadak-exif` is kept as an independent reader in the tests.
//! - img-parts updates WebP's VP8X flags only for the EXIF and ICC chunks
//!   and only in its own setters, so the EXIF and XMP flags are set here
//!   after every edit.
//! - img-parts updates a multi-picture JPEG's MPF offsets only in its own
//!   setters, so they are updated here after every edit, the same way.
//!
//! ## Other pictures in a JPEG
//!
//! The other pictures of a multi-picture JPEG (an MPO's second frame, a
//! phone's gain map or depth map) lose their GPS too, in place: their GPS
//! IFD is removed as in the first picture, and an XMP packet of theirs that
//! names GPS is blanked with spaces, so no picture moves and the MPF offsets
//! stay right. Their other metadata is kept under every mode, since a gain
//! map's XMP is what makes it one.
//!
//! ## Known limits
//!
//! A thumbnail inside EXIF, a maker note, and anything appended after the
//! image (a motion photo's video) are carried as they are, whatever they
//! hold. Removing XMP under `all` also removes the Ultra HDR directory in
//! the first picture's XMP, so such images show as their SDR base picture.

mod strip;
pub mod thumb;
mod tiff;

pub use helpdesk_core::ImageType;
pub use strip::{
    strip, strip_bytes, Malformed, ParseStripModeError, StripError, StripMode, Stripped,
};
