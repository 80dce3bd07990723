//! The TIFF structure that EXIF is made of, read and edited in place.
//!
//! Every read goes through `get`, so a length or offset claimed by the file
//! can only ever select bytes that exist: nothing is allocated from a claimed
//! size, and a claim past the end is cut to what is there.
//!
//! Edits never move a byte that they do not remove: removing the GPS IFD
//! deletes one 12-byte entry from the IFD that points to it (shifting the
//! rest of that IFD, which is position independent) and zeroes the GPS
//! entries and their values where they lie. Every other offset in the file,
//! maker notes and thumbnails included, stays valid.

use std::ops::Range;

pub(crate) const TAG_ORIENTATION: u16 = 0x0112;
pub(crate) const TAG_GPS_IFD: u16 = 0x8825;
/// The MP Entry tag of an MPF segment's MP Index IFD.
pub(crate) const TAG_MP_ENTRY: u16 = 0xB002;

/// IFD0, IFD1 (the thumbnail) and a few more are all real files have; the
/// cap bounds the walk of a chain that a hostile file makes long.
const MAX_IFDS: usize = 16;
/// How many times removal is repeated when hostile overlapping IFDs make
/// one pass uncover another GPS pointer. Real files need one.
const MAX_PASSES: usize = 4;
const ENTRY_LEN: usize = 12;

#[derive(Debug, Clone, Copy)]
struct Header {
    big_endian: bool,
    ifd0: usize,
}

fn header(buf: &[u8]) -> Option<Header> {
    let big_endian = match buf.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let ifd0 = u32_at(buf, 4, big_endian)?;
    Some(Header {
        big_endian,
        ifd0: usize::try_from(ifd0).ok()?,
    })
}

fn u16_at(buf: &[u8], pos: usize, big_endian: bool) -> Option<u16> {
    let bytes: [u8; 2] = buf.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    })
}

fn u32_at(buf: &[u8], pos: usize, big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = buf.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

fn put_u16(buf: &mut [u8], pos: usize, value: u16, big_endian: bool) {
    let bytes = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    if let Some(slot) = pos.checked_add(2).and_then(|end| buf.get_mut(pos..end)) {
        slot.copy_from_slice(&bytes);
    }
}

fn put_u32(buf: &mut [u8], pos: usize, value: u32, big_endian: bool) {
    let bytes = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    if let Some(slot) = pos.checked_add(4).and_then(|end| buf.get_mut(pos..end)) {
        slot.copy_from_slice(&bytes);
    }
}

/// The size in bytes of one value of a TIFF field type; `None` for a type
/// the specification does not define (its values cannot be located).
fn type_size(field_type: u16) -> Option<u64> {
    match field_type {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

/// An IFD as far as it lies inside the buffer.
#[derive(Debug, Clone, Copy)]
struct Ifd {
    offset: usize,
    /// The count the file claims.
    count: u16,
    /// The entries that fit: a count running past the end is cut, as the
    /// lenient readers that would still find a GPS pointer there do.
    entries: usize,
    /// Where the next-IFD offset is, when the whole IFD fits.
    next_at: Option<usize>,
}

impl Ifd {
    fn read(buf: &[u8], offset: usize, big_endian: bool) -> Option<Ifd> {
        let count = u16_at(buf, offset, big_endian)?;
        let room = buf.len().saturating_sub(offset + 2) / ENTRY_LEN;
        let entries = usize::from(count).min(room);
        let end = offset + 2 + ENTRY_LEN * entries;
        let next_at = (entries == usize::from(count) && end + 4 <= buf.len()).then_some(end);
        Some(Ifd {
            offset,
            count,
            entries,
            next_at,
        })
    }

    fn entry_at(&self, index: usize) -> usize {
        self.offset + 2 + ENTRY_LEN * index
    }

    /// The end of the entries and of the next-IFD offset, if present.
    fn end(&self) -> usize {
        self.entry_at(self.entries) + if self.next_at.is_some() { 4 } else { 0 }
    }

    fn find(&self, buf: &[u8], tag: u16, big_endian: bool) -> Option<usize> {
        (0..self.entries)
            .map(|i| self.entry_at(i))
            .find(|&at| u16_at(buf, at, big_endian) == Some(tag))
    }
}

/// The IFDs of the main chain (IFD0, IFD1, ...), each once, at most
/// `MAX_IFDS` of them.
fn chain(buf: &[u8], header: Header) -> Vec<Ifd> {
    let mut ifds: Vec<Ifd> = Vec::new();
    let mut offset = header.ifd0;
    // offset 0 ends the chain; an offset seen before is a loop.
    while offset != 0 && ifds.len() < MAX_IFDS && ifds.iter().all(|ifd| ifd.offset != offset) {
        let Some(ifd) = Ifd::read(buf, offset, header.big_endian) else {
            break;
        };
        ifds.push(ifd);
        offset = match ifd
            .next_at
            .and_then(|at| u32_at(buf, at, header.big_endian))
            .and_then(|next| usize::try_from(next).ok())
        {
            Some(next) => next,
            None => break,
        };
    }
    ifds
}

/// The bytes a field's values occupy, cut to the buffer; `None` when they
/// sit inside the entry itself (four bytes or fewer) or cannot be located.
fn out_of_line_values(buf: &[u8], entry: usize, big_endian: bool) -> Option<Range<usize>> {
    let field_type = u16_at(buf, entry + 2, big_endian)?;
    let count = u32_at(buf, entry + 4, big_endian)?;
    let len = type_size(field_type)?.checked_mul(u64::from(count))?;
    if len <= 4 {
        return None;
    }
    let start = u64::from(u32_at(buf, entry + 8, big_endian)?);
    let end = start.saturating_add(len);
    let cap = buf.len() as u64;
    let (start, end) = (start.min(cap), end.min(cap));
    Some(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

/// The Orientation of the primary image (IFD0), when it is one of the eight
/// the specification defines.
pub(crate) fn orientation(buf: &[u8]) -> Option<u16> {
    let header = header(buf)?;
    let ifd0 = chain(buf, header).into_iter().next()?;
    let entry = ifd0.find(buf, TAG_ORIENTATION, header.big_endian)?;
    let field_type = u16_at(buf, entry + 2, header.big_endian)?;
    let count = u32_at(buf, entry + 4, header.big_endian)?;
    if field_type != 3 || count == 0 {
        return None;
    }
    let value = u16_at(buf, entry + 8, header.big_endian)?;
    (1..=8).contains(&value).then_some(value)
}

/// Whether any IFD of the main chain points to a GPS IFD.
pub(crate) fn has_gps(buf: &[u8]) -> bool {
    let Some(header) = header(buf) else {
        return false;
    };
    chain(buf, header)
        .iter()
        .any(|ifd| ifd.find(buf, TAG_GPS_IFD, header.big_endian).is_some())
}

/// What removing the GPS IFD did to an EXIF buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GpsRemoval {
    /// There was no GPS IFD.
    None,
    /// Removed in place; the buffer keeps its length and every other field.
    Removed,
    /// The structure is so tangled (IFDs overlapping one another) that no
    /// bounded number of edits leaves it without a GPS pointer: the caller
    /// must drop the whole EXIF.
    Tangled,
}

/// Remove every GPS IFD pointer from the main chain, and zero the GPS IFDs
/// and their values, without moving anything else.
pub(crate) fn remove_gps(buf: &mut [u8]) -> GpsRemoval {
    if !has_gps(buf) {
        return GpsRemoval::None;
    }
    for _ in 0..MAX_PASSES {
        if !remove_gps_once(buf) {
            return GpsRemoval::Tangled;
        }
        if !has_gps(buf) {
            return GpsRemoval::Removed;
        }
    }
    GpsRemoval::Tangled
}

/// One pass of [`remove_gps`]; false when the file points to more distinct
/// GPS IFDs than a real one has, which would make zeroing them all cost
/// the product of their counts.
fn remove_gps_once(buf: &mut [u8]) -> bool {
    let Some(header) = header(buf) else {
        return true;
    };
    let big_endian = header.big_endian;
    let mut targets: Vec<u32> = Vec::new();
    for stale in chain(buf, header) {
        // Read again: in a hostile file an earlier IFD's edit may have
        // overwritten this one.
        let Some(ifd) = Ifd::read(buf, stale.offset, big_endian) else {
            continue;
        };
        // Every pointer entry goes (a file may repeat it) in one pass that
        // moves the other entries up, in their order.
        let mut kept = 0;
        for i in 0..ifd.entries {
            let at = ifd.entry_at(i);
            if u16_at(buf, at, big_endian) == Some(TAG_GPS_IFD) {
                targets.extend(u32_at(buf, at + 8, big_endian));
                continue;
            }
            if kept != i {
                buf.copy_within(at..at + ENTRY_LEN, ifd.entry_at(kept));
            }
            kept += 1;
        }
        let gone = ifd.entries - kept;
        if gone == 0 {
            continue;
        }
        let mut new_end = ifd.entry_at(kept);
        if let Some(next_at) = ifd.next_at {
            buf.copy_within(next_at..next_at + 4, new_end);
            new_end += 4;
        }
        buf[new_end..ifd.end()].fill(0);
        // `gone` entries were counted, so the count is at least that.
        put_u16(buf, ifd.offset, ifd.count - gone as u16, big_endian);
    }

    targets.sort_unstable();
    targets.dedup();
    if targets.len() > MAX_IFDS {
        return false;
    }
    // Zero each GPS IFD and its values. Ranges are merged first so that a
    // hostile IFD of 65,535 entries each claiming the whole buffer costs one
    // pass over the buffer, not 65,535.
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for target in targets {
        let Ok(offset) = usize::try_from(target) else {
            continue;
        };
        let Some(ifd) = Ifd::read(buf, offset, big_endian) else {
            continue;
        };
        ranges.push(ifd.offset..ifd.end());
        ranges.extend(
            (0..ifd.entries).filter_map(|i| out_of_line_values(buf, ifd.entry_at(i), big_endian)),
        );
    }
    ranges.sort_by_key(|range| range.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    for range in merged {
        if let Some(bytes) = buf.get_mut(range) {
            bytes.fill(0);
        }
    }
    true
}

/// An EXIF holding nothing but `orientation`: the TIFF header, an IFD0 of
/// one entry and no next IFD, big-endian as the specification's examples.
pub(crate) fn minimal_with_orientation(orientation: u16) -> Vec<u8> {
    let mut buf = Vec::with_capacity(26);
    buf.extend_from_slice(b"MM\0*");
    buf.extend_from_slice(&8u32.to_be_bytes());
    buf.extend_from_slice(&1u16.to_be_bytes());
    buf.extend_from_slice(&TAG_ORIENTATION.to_be_bytes());
    buf.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    buf.extend_from_slice(&1u32.to_be_bytes());
    buf.extend_from_slice(&orientation.to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&0u32.to_be_bytes());
    buf
}

/// The (size, offset) of each image an MPF segment's TIFF structure lists,
/// in order; offsets are relative to the start of that structure, and the
/// first image, the one holding the segment, has offset 0.
pub(crate) fn mp_entries(buf: &[u8]) -> Vec<(u32, u32)> {
    let Some(header) = header(buf) else {
        return Vec::new();
    };
    let big_endian = header.big_endian;
    let Some(values) = chain(buf, header)
        .into_iter()
        .next()
        .and_then(|ifd| ifd.find(buf, TAG_MP_ENTRY, big_endian))
        .and_then(|entry| out_of_line_values(buf, entry, big_endian))
    else {
        return Vec::new();
    };
    let end = values.end;
    values
        .step_by(16)
        .take_while(|at| at + 16 <= end)
        .map_while(|at| {
            Some((
                u32_at(buf, at + 4, big_endian)?,
                u32_at(buf, at + 8, big_endian)?,
            ))
        })
        .collect()
}

/// The contents of an MPF segment ("MPF\0" and a TIFF structure) after the
/// first image grew by `size_delta` bytes, `offset_delta` of them after the
/// MPF segment, so that the other images it lists are still found. `None`
/// when the segment cannot be read or the new values do not fit.
pub(crate) fn update_mpf(contents: &[u8], size_delta: i64, offset_delta: i64) -> Option<Vec<u8>> {
    const MP_HEADER: usize = 4;
    let mut tiff = contents.get(MP_HEADER..)?.to_vec();
    let header = header(&tiff)?;
    let big_endian = header.big_endian;
    let ifd = chain(&tiff, header).into_iter().next()?;
    let entry = ifd.find(&tiff, TAG_MP_ENTRY, big_endian)?;
    let values = out_of_line_values(&tiff, entry, big_endian)?;
    // Each MP Entry is 16 bytes: attribute, size, offset, two dependents.
    let mut at = values.start;
    let mut first = true;
    while at + 16 <= values.end {
        let size = u32_at(&tiff, at + 4, big_endian)?;
        let offset = u32_at(&tiff, at + 8, big_endian)?;
        if first && offset == 0 {
            // The first image's size is informational; a wrong one is kept.
            if let Ok(size) = u32::try_from(i64::from(size) + size_delta) {
                put_u32(&mut tiff, at + 4, size, big_endian);
            }
        } else if offset != 0 {
            let offset = u32::try_from(i64::from(offset) + offset_delta).ok()?;
            put_u32(&mut tiff, at + 8, offset, big_endian);
        }
        first = false;
        at += 16;
    }
    let mut out = contents.get(..MP_HEADER)?.to_vec();
    out.extend_from_slice(&tiff);
    Some(out)
}

#[cfg(test)]
mod tests;
