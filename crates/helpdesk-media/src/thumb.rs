//! Thumbnails of stored images, for the inspector console.
//!
//! [`render`] makes one of three sizes ([`Width`]) of an image, fitted inside
//! a `w`×`w` box, never upscaled, EXIF orientation applied, first frame only;
//! [`probe`] reads the dimensions from the header alone; [`placeholder`] is
//! what to show instead when [`render`] refuses.
//!
//! # The box
//!
//! `?w=200|400|1600` names a square box: the longer side of the (oriented)
//! image becomes `w` and the other keeps the aspect ratio, so a portrait
//! photo is as tall at `w=400` as a landscape one is wide, and a tile grid
//! can size its cells without knowing the image. An image whose both sides
//! are `w` or less comes out at its own size. Since the box is square,
//! orientation only swaps the output's sides: the fit is computed once from
//! the header.
//!
//! # Output
//!
//! 200 and 400: lossless WebP (small images of screenshots stay crisp);
//! 1600: JPEG at quality 85 with 4:2:0 chroma, transparent pixels composed
//! on white. [`Width::content_type`] says which before rendering.
//!
//! # Limits, checked before any decode
//!
//! The header's dimensions are read first ([`probe`]) and the image is
//! refused ([`ThumbError::TooLarge`]) over [`MAX_SIDE`] pixels on a side or
//! [`MAX_PIXELS`] in all, and refused ([`ThumbError::UnreadableHeader`])
//! when they cannot be read: a 60,000 × 60,000 PNG of a few bytes costs its
//! header. The decoders are then bounded again: `jpeg-decoder` by its
//! output buffer limit, the `image` crate by [`image::Limits`] (the same
//! side limit, [`MAX_ALLOC`] in all). The worst case within the limits is a
//! 40 MP non-JPEG image (160 MB of RGBA while resized) or a 40 MP
//! progressive JPEG (whose DCT coefficients are all kept, 2 bytes each per
//! sample, up to 240 MB at 4:4:4): the caller bounds how many renders run
//! at once. A baseline JPEG costs what its scaled decode is: about 5.5 MB
//! for a 12 MP photo at `w=400`, 57 MB at `w=1600` (decoded whole, to keep
//! twice 1600); the same photo progressive at 4:2:0, 40 MB and 90 MB.
//!
//! # JPEG: shrink on load
//!
//! As libvips does, a JPEG is decoded straight to 1/2, 1/4 or 1/8 of its
//! size in the DCT domain, the smallest that keeps at least twice the
//! target size on both sides, and the rest is a Lanczos3 resize
//! (`fast_image_resize`). With the `turbojpeg` feature (which the server
//! binary turns on) the decoder is libjpeg-turbo 3, built from its bundled
//! source (needs cmake and nasm), except for CMYK and lossless frames,
//! which it cannot scale or convert; without it (this crate's default, so
//! that helpdesk-emulator builds with Rust alone) it is the pure-Rust
//! `jpeg-decoder` (`Decoder::scale`). `scripts/bench-thumbnails` measured,
//! 12 MP JPEG to `w=400`, medians beside vipsthumbnail writing lossless
//! WebP at effort 0: libjpeg-turbo 0.70 to 0.95x vips's time (0.70 and
//! 0.78 in quiet sittings), jpeg-decoder 0.88 to 1.09x, both about 5.5 MB
//! of peak RSS; `zune-jpeg`, which has no DCT scaling, 1.73 to 1.98x and
//! 41 MB.
//!
//! Other types (PNG, GIF, WebP, BMP, TIFF, ICO) go through the `image`
//! crate: its first frame for GIF, WebP and APNG, its orientation from the
//! EXIF it finds.
//!
//! # Hostile input
//!
//! Any bytes give an image or a [`ThumbError`], never a panic: the JPEG
//! header is checked before `jpeg-decoder` sees it (it panics on a
//! component count it does not know), and a panic from a decoder all the
//! same is caught and answered as [`ThumbError::Decode`].
//!
//! # Use
//!
//! Everything here is synchronous and CPU-bound: call it from a blocking
//! thread (`tokio::task::spawn_blocking`).
//!
//! ```
//! use helpdesk_media::thumb::{self, Width};
//!
//! fn tile(stored: &[u8], w: Width) -> thumb::Thumb {
//!     thumb::render(stored, w).unwrap_or_else(|_| thumb::placeholder(w))
//! }
//! # let t = tile(b"not an image", Width::W200);
//! # assert_eq!(t.content_type, "image/webp");
//! ```

mod decode;
mod encode;
mod placeholder;
mod probe;

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr;

use bytes::Bytes;
use helpdesk_core::ImageType;

pub use placeholder::placeholder;

/// The library that decodes JPEG in this build (see "JPEG: shrink on
/// load"), for the server's start-up log.
pub const JPEG_DECODER: &str = if cfg!(feature = "turbojpeg") {
    "libjpeg-turbo"
} else {
    "jpeg-decoder"
};

/// The longest side accepted, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// The most pixels accepted (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// What the `image` crate may allocate for one decode: a [`MAX_PIXELS`]
/// image at 4 bytes a pixel and room for its decoder's own buffers. A 40 MP
/// image at 16 bits a channel with alpha needs more, and is refused.
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// One of the thumbnail widths the console asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Width {
    W200,
    W400,
    W1600,
}

impl Width {
    /// Every width, smallest first.
    pub const ALL: [Width; 3] = [Width::W200, Width::W400, Width::W1600];

    /// The side of the square box the image is fitted in, in pixels.
    pub fn px(self) -> u32 {
        match self {
            Width::W200 => 200,
            Width::W400 => 400,
            Width::W1600 => 1600,
        }
    }

    /// The `Content-Type` of a thumbnail of this width (and of its placeholder).
    pub fn content_type(self) -> &'static str {
        match self {
            Width::W200 | Width::W400 => "image/webp",
            Width::W1600 => "image/jpeg",
        }
    }
}

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.px())
    }
}

/// A width other than 200, 400 or 1600.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a thumbnail is 200, 400 or 1600 pixels wide")]
pub struct InvalidWidth;

impl TryFrom<u32> for Width {
    type Error = InvalidWidth;
    fn try_from(px: u32) -> Result<Width, InvalidWidth> {
        Width::ALL
            .into_iter()
            .find(|w| w.px() == px)
            .ok_or(InvalidWidth)
    }
}

impl FromStr for Width {
    type Err = InvalidWidth;
    /// `"200"`, `"400"` or `"1600"`, as the query string has it.
    fn from_str(s: &str) -> Result<Width, InvalidWidth> {
        Width::ALL
            .into_iter()
            .find(|w| w.px().to_string() == s)
            .ok_or(InvalidWidth)
    }
}

/// An image's size as its header states it (before EXIF orientation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

impl Dimensions {
    pub fn pixels(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Within [`MAX_SIDE`] and [`MAX_PIXELS`].
    pub fn within_limits(self) -> bool {
        self.width <= MAX_SIDE && self.height <= MAX_SIDE && self.pixels() <= MAX_PIXELS
    }

    /// The size fitted inside a `side`×`side` box, never larger than itself.
    fn fit(self, side: u32) -> Dimensions {
        let longer = self.width.max(self.height);
        if longer <= side {
            return self;
        }
        let scale = |n: u32| {
            let scaled =
                (u64::from(n) * u64::from(side) + u64::from(longer) / 2) / u64::from(longer);
            (scaled as u32).clamp(1, side)
        };
        Dimensions {
            width: scale(self.width),
            height: scale(self.height),
        }
    }
}

impl fmt::Display for Dimensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// A rendered thumbnail (or a [`placeholder`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb {
    pub bytes: Bytes,
    /// `image/webp` or `image/jpeg`, as [`Width::content_type`] says.
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Why [`render`] gave no thumbnail. Every case is answered with a
/// [`placeholder`]; the variants are for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThumbError {
    /// Not one of the image types the service stores.
    #[error("not a recognised image type")]
    Unrecognized,
    /// The header is cut short or malformed, or states no size.
    #[error("the {kind:?} header cannot be read")]
    UnreadableHeader { kind: ImageType },
    /// Over [`MAX_SIDE`] or [`MAX_PIXELS`], by its header.
    #[error("a {kind:?} of {dimensions} is over the thumbnail limits ({MAX_SIDE} px a side, {MAX_PIXELS} px)")]
    TooLarge {
        kind: ImageType,
        dimensions: Dimensions,
    },
    /// The header was fine, the image data was not (or a limit was hit).
    #[error("the {kind:?} image cannot be decoded: {reason}")]
    Decode { kind: ImageType, reason: String },
    /// The thumbnail could not be written (not expected within the limits).
    #[error("the thumbnail cannot be encoded: {reason}")]
    Encode { reason: String },
}

/// The dimensions in the image's header, without decoding it.
pub fn probe(bytes: &[u8]) -> Result<Dimensions, ThumbError> {
    let kind = ImageType::sniff(bytes).ok_or(ThumbError::Unrecognized)?;
    probe::dimensions(kind, bytes).ok_or(ThumbError::UnreadableHeader { kind })
}

/// The image fitted inside a `width`×`width` box; see the module docs.
pub fn render(bytes: &[u8], width: Width) -> Result<Thumb, ThumbError> {
    let kind = ImageType::sniff(bytes).ok_or(ThumbError::Unrecognized)?;
    let dimensions = probe::dimensions(kind, bytes).ok_or(ThumbError::UnreadableHeader { kind })?;
    if !dimensions.within_limits() {
        return Err(ThumbError::TooLarge { kind, dimensions });
    }
    let target = dimensions.fit(width.px());
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        decode::decode(kind, bytes, dimensions, target)
    }))
    .unwrap_or_else(|_| Err("the decoder panicked".to_owned()))
    .map_err(|reason| ThumbError::Decode { kind, reason })?;
    let thumb = decoded
        .resize(target)
        .map_err(|reason| ThumbError::Decode { kind, reason })?;
    encode::encode(thumb.oriented(), width).map_err(|reason| ThumbError::Encode { reason })
}

/// Decoded pixels: 8-bit RGB, or RGBA when the image has alpha.
pub(crate) struct Pixels {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
    /// The EXIF orientation, 1 to 8, still to apply.
    pub orientation: u8,
}

impl Pixels {
    fn channels(&self) -> usize {
        if self.alpha {
            4
        } else {
            3
        }
    }

    /// Lanczos3 to `target` (in stored orientation), alpha premultiplied.
    fn resize(self, target: Dimensions) -> Result<Pixels, String> {
        use fast_image_resize as fr;
        let (w, h) = (target.width, target.height);
        if (self.width, self.height) == (w, h) {
            return Ok(self);
        }
        let pixel = if self.alpha {
            fr::PixelType::U8x4
        } else {
            fr::PixelType::U8x3
        };
        let src = fr::images::Image::from_vec_u8(self.width, self.height, self.data, pixel)
            .map_err(|e| format!("resize: {e}"))?;
        let mut dst = fr::images::Image::new(w, h, pixel);
        let options = fr::ResizeOptions::new()
            .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
        fr::Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| format!("resize: {e}"))?;
        Ok(Pixels {
            data: dst.into_vec(),
            width: w,
            height: h,
            ..self
        })
    }

    /// Turned and flipped as its orientation says, so it shows upright.
    fn oriented(self) -> Pixels {
        let (w, h, ch) = (self.width as usize, self.height as usize, self.channels());
        let transposed = matches!(self.orientation, 5..=8);
        if !(2..=8).contains(&self.orientation) {
            return self;
        }
        let (ow, oh) = if transposed { (h, w) } else { (w, h) };
        let mut out = vec![0u8; self.data.len()];
        for y in 0..oh {
            for x in 0..ow {
                // The stored pixel that shows at (x, y), per EXIF 2.3's
                // table of orientations (1 = stored row 0 at the top, left).
                let (sx, sy) = match self.orientation {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                let (s, d) = ((sy * w + sx) * ch, (y * ow + x) * ch);
                out[d..d + ch].copy_from_slice(&self.data[s..s + ch]);
            }
        }
        Pixels {
            data: out,
            width: ow as u32,
            height: oh as u32,
            orientation: 1,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(width: u32, height: u32) -> Dimensions {
        Dimensions { width, height }
    }

    #[test]
    fn the_longer_side_becomes_the_box_and_the_ratio_stays() {
        assert_eq!(dims(4000, 3000).fit(400), dims(400, 300));
        assert_eq!(dims(3000, 4000).fit(400), dims(300, 400));
        assert_eq!(dims(1000, 1000).fit(200), dims(200, 200));
        // Rounded to the nearest pixel, at least one.
        assert_eq!(dims(1000, 333).fit(200), dims(200, 67));
        assert_eq!(dims(16_384, 1).fit(200), dims(200, 1));
    }

    #[test]
    fn an_image_inside_the_box_keeps_its_size() {
        assert_eq!(dims(100, 50).fit(400), dims(100, 50));
        assert_eq!(dims(400, 400).fit(400), dims(400, 400));
    }

    #[test]
    fn widths_parse_from_the_query_and_nothing_else() {
        assert_eq!("400".parse(), Ok(Width::W400));
        assert_eq!(Width::try_from(1600), Ok(Width::W1600));
        for bad in ["", "0", "300", "0400", "+400", "400 ", "1600px"] {
            assert_eq!(bad.parse::<Width>(), Err(InvalidWidth), "{bad:?}");
        }
    }

    fn pixels(w: u32, h: u32, orientation: u8) -> Pixels {
        // Each pixel holds its own stored (x, y).
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[x as u8, y as u8, 0]);
            }
        }
        Pixels {
            data,
            width: w,
            height: h,
            alpha: false,
            orientation,
        }
    }

    #[test]
    fn each_orientation_puts_the_stored_top_left_where_exif_says() {
        // Where stored (0, 0) shows, in a 3x2 image, for orientations 1-8.
        let want = [
            (0, 0),
            (2, 0),
            (2, 1),
            (0, 1),
            (0, 0),
            (1, 0),
            (1, 2),
            (0, 2),
        ];
        for (o, (wx, wy)) in (1..=8).zip(want) {
            let p = pixels(3, 2, o).oriented();
            let at = |x: usize, y: usize| {
                let i = (y * p.width as usize + x) * 3;
                (p.data[i], p.data[i + 1])
            };
            assert_eq!(at(wx, wy), (0, 0), "orientation {o}");
            let size = if o >= 5 { (2, 3) } else { (3, 2) };
            assert_eq!((p.width, p.height), size, "orientation {o}");
        }
    }
}
