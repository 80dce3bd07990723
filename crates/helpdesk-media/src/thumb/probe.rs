//! Dimensions from the header alone. JPEG and PNG are read here (JPEG's
//! frame header is also checked for what `jpeg-decoder` would panic on,
//! and its EXIF found for the orientation);
//! the other types by the `image` crate's decoders, whose constructors read
//! the header and stop (the size limits are left off here so that an
//! oversized image is named too large, not unreadable).

use std::io::Cursor;

use helpdesk_core::ImageType;
use image::ImageDecoder;

use super::{Dimensions, MAX_ALLOC};

pub(crate) fn dimensions(kind: ImageType, bytes: &[u8]) -> Option<Dimensions> {
    let dims = match kind {
        ImageType::Jpeg => jpeg_frame(bytes)?.dimensions,
        ImageType::Png => png(bytes)?,
        _ => {
            let format = image_format(kind)?;
            let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
            let mut limits = image::Limits::no_limits();
            limits.max_alloc = Some(MAX_ALLOC);
            reader.limits(limits);
            let decoder = reader.into_decoder().ok()?;
            let (width, height) = decoder.dimensions();
            Dimensions { width, height }
        }
    };
    (dims.width > 0 && dims.height > 0).then_some(dims)
}

pub(crate) fn image_format(kind: ImageType) -> Option<image::ImageFormat> {
    Some(match kind {
        ImageType::Png => image::ImageFormat::Png,
        ImageType::Gif => image::ImageFormat::Gif,
        ImageType::Webp => image::ImageFormat::WebP,
        ImageType::Bmp => image::ImageFormat::Bmp,
        ImageType::Tiff => image::ImageFormat::Tiff,
        ImageType::Ico => image::ImageFormat::Ico,
        ImageType::Jpeg => return None,
    })
}

/// PNG's IHDR, which the format requires to come first.
fn png(b: &[u8]) -> Option<Dimensions> {
    if b.get(12..16)? != b"IHDR" || b.get(8..12)? != [0, 0, 0, 13] {
        return None;
    }
    let be = |at: usize| Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?));
    Some(Dimensions {
        width: be(16)?,
        height: be(20)?,
    })
}

/// What a JPEG's first frame header (SOFn) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JpegFrame {
    pub dimensions: Dimensions,
    /// Lossless (SOF3, 7, 11, 15): no DCT, so no scaling at decode.
    pub lossless: bool,
    /// Bits a sample: 8, or 2 to 16 when lossless.
    pub precision: u8,
    /// 1 (grey), 3 (YCbCr or RGB) or 4 (CMYK or YCCK).
    pub components: u8,
}

/// The first SOFn. `None` when the walk runs off the end or into a scan
/// first, when the height is left to a DNL marker (0), or when the frame
/// has a component count or precision `jpeg-decoder` does not decode
/// (12-bit DCT among them).
pub(crate) fn jpeg_frame(b: &[u8]) -> Option<JpegFrame> {
    let mut segments = JpegSegments::new(b)?;
    let (marker, segment) = segments
        .by_ref()
        .find(|(m, _)| matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC))?;
    sof(marker, segment)
}

/// The first EXIF (an APP1 starting `Exif\0\0`) before the first scan,
/// from its TIFF header on.
pub(crate) fn jpeg_exif(b: &[u8]) -> Option<&[u8]> {
    JpegSegments::new(b)?.find_map(|(m, s)| {
        if m == 0xE1 {
            s.strip_prefix(b"Exif\0\0")
        } else {
            None
        }
    })
}

/// The marker segments from SOI to the first scan (SOS), each as its marker
/// and its contents (after the length). Ends early, quietly, at anything
/// malformed: the callers then find nothing, and refuse.
struct JpegSegments<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> JpegSegments<'a> {
    fn new(b: &'a [u8]) -> Option<Self> {
        (b.get(..2)? == [0xFF, 0xD8]).then_some(JpegSegments { b, at: 2 })
    }
}

impl<'a> Iterator for JpegSegments<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let b = self.b;
        loop {
            if *b.get(self.at)? != 0xFF {
                return None;
            }
            // Fill bytes: any number of 0xFF before the marker code.
            while *b.get(self.at + 1)? == 0xFF {
                self.at += 1;
            }
            let marker = *b.get(self.at + 1)?;
            self.at += 2;
            match marker {
                // Standalone markers: no length.
                0x01 | 0xD0..=0xD7 => continue,
                // A scan, or the end, or another image's start.
                0xD8..=0xDA => {
                    self.at = b.len();
                    return None;
                }
                _ => {}
            }
            let len = usize::from(u16::from_be_bytes([*b.get(self.at)?, *b.get(self.at + 1)?]));
            let segment = b.get(self.at + 2..self.at + len.max(2))?;
            if len < 2 {
                return None;
            }
            self.at += len;
            return Some((marker, segment));
        }
    }
}

fn sof(marker: u8, s: &[u8]) -> Option<JpegFrame> {
    let precision = *s.first()?;
    let height = u16::from_be_bytes([*s.get(1)?, *s.get(2)?]);
    let width = u16::from_be_bytes([*s.get(3)?, *s.get(4)?]);
    let components = *s.get(5)?;
    let lossless = matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
    let precision_ok = if lossless {
        (2..=16).contains(&precision)
    } else {
        precision == 8
    };
    if !precision_ok
        || !matches!(components, 1 | 3 | 4)
        || s.len() != 6 + 3 * usize::from(components)
    {
        return None;
    }
    Some(JpegFrame {
        dimensions: Dimensions {
            width: width.into(),
            height: height.into(),
        },
        lossless,
        precision,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with(segments: &[u8]) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend_from_slice(segments);
        b
    }

    const SOF0_640X480: [u8; 19] = [
        0xFF, 0xC0, 0, 17, 8, 0x01, 0xE0, 0x02, 0x80, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    ];

    #[test]
    fn a_jpeg_frame_is_found_past_other_segments_and_fill_bytes() {
        let mut segs = vec![0xFF, 0xE0, 0, 4, b'J', b'F', 0xFF, 0xFF, 0xFF];
        segs.extend_from_slice(&SOF0_640X480[1..]);
        let frame = jpeg_frame(&jpeg_with(&segs)).unwrap();
        assert_eq!(
            frame.dimensions,
            Dimensions {
                width: 640,
                height: 480
            }
        );
        assert!(!frame.lossless);
    }

    #[test]
    fn a_jpeg_without_a_readable_frame_has_no_dimensions() {
        // Cut anywhere inside the frame header.
        let whole = jpeg_with(&SOF0_640X480);
        for cut in 0..whole.len() {
            assert_eq!(jpeg_frame(&whole[..cut]), None, "cut at {cut}");
        }
        // A scan first; a height left to DNL; two components; 12-bit baseline.
        assert_eq!(jpeg_frame(&jpeg_with(&[0xFF, 0xDA, 0, 2])), None);
        let mut dnl = SOF0_640X480;
        (dnl[5], dnl[6]) = (0, 0);
        assert_eq!(dimensions(ImageType::Jpeg, &jpeg_with(&dnl)), None);
        let mut two = SOF0_640X480;
        two[9] = 2;
        assert_eq!(jpeg_frame(&jpeg_with(&two)), None);
        let mut twelve = SOF0_640X480;
        twelve[4] = 12;
        assert_eq!(jpeg_frame(&jpeg_with(&twelve)), None);
    }
}
