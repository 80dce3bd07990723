//! The thumbnail's file: lossless WebP for 200 and 400, JPEG for 1600.

use bytes::Bytes;
use image::codecs::webp::WebPEncoder;
use image::ExtendedColorType;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::{Pixels, Thumb, Width};

/// JPEG quality for the 1600 size.
const JPEG_QUALITY: u8 = 85;

pub(crate) fn encode(p: Pixels, width: Width) -> Result<Thumb, String> {
    let mut out = Vec::new();
    match width {
        Width::W200 | Width::W400 => {
            let color = if p.alpha {
                ExtendedColorType::Rgba8
            } else {
                ExtendedColorType::Rgb8
            };
            WebPEncoder::new_lossless(&mut out)
                .encode(&p.data, p.width, p.height, color)
                .map_err(|e| format!("webp: {e}"))?;
        }
        Width::W1600 => {
            let rgb = if p.alpha { on_white(&p.data) } else { p.data };
            let (w, h) = (u16::try_from(p.width), u16::try_from(p.height));
            let (Ok(w), Ok(h)) = (w, h) else {
                return Err("jpeg: too large".to_owned());
            };
            let mut encoder = Encoder::new(&mut out, JPEG_QUALITY);
            encoder.set_sampling_factor(SamplingFactor::F_2_2);
            // The standard Huffman tables: jpeg-encoder's optimized ones
            // decode wrong (green) in zune-jpeg, the image crate's
            // decoder, for a flat image (a one-symbol table).
            encoder
                .encode(&rgb, w, h, ColorType::Rgb)
                .map_err(|e| format!("jpeg: {e}"))?;
        }
    }
    Ok(Thumb {
        bytes: Bytes::from(out),
        content_type: width.content_type(),
        width: p.width,
        height: p.height,
    })
}

/// RGBA composed over white, as RGB: JPEG has no alpha, and a transparent
/// screenshot's black-on-transparent text reads on white.
fn on_white(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            let mix = move |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
            [mix(p[0]), mix(p[1]), mix(p[2])]
        })
        .collect()
}
