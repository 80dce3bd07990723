//! Decoding to [`Pixels`], bounded: JPEG by `jpeg-decoder` with DCT
//! scaling, the rest by the `image` crate under [`image::Limits`].

use std::io::Cursor;

use helpdesk_core::ImageType;
use image::{DynamicImage, ImageDecoder};
use jpeg_decoder::PixelFormat;

use super::probe::{image_format, jpeg_exif, jpeg_frame, JpegFrame};
use super::{Dimensions, Pixels, MAX_ALLOC, MAX_PIXELS, MAX_SIDE};

/// `full` is what the header says; `target` what the thumbnail will be.
pub(crate) fn decode(
    kind: ImageType,
    bytes: &[u8],
    full: Dimensions,
    target: Dimensions,
) -> Result<Pixels, String> {
    match kind {
        ImageType::Jpeg => jpeg(bytes, full, target),
        _ => other(kind, bytes),
    }
}

/// The DCT scaling denominator (8, 4, 2 or 1) for decoding `full` on the way
/// to `target`: the largest that leaves at least twice the target on both
/// sides, so the final resize still has pixels to filter (libvips's rule).
pub(crate) fn jpeg_shrink(full: Dimensions, target: Dimensions) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|&d| {
            full.width.div_ceil(d) >= 2 * target.width
                && full.height.div_ceil(d) >= 2 * target.height
        })
        .unwrap_or(1)
}

fn jpeg(bytes: &[u8], full: Dimensions, target: Dimensions) -> Result<Pixels, String> {
    // The probe has already checked this frame header; it is read again
    // here so that what is decoded is the frame that was checked.
    let frame = jpeg_frame(bytes).ok_or("no frame header")?;
    if frame.dimensions != full {
        return Err("another frame than the probed one".to_owned());
    }
    let orientation = jpeg_exif(bytes)
        .and_then(crate::tiff::orientation)
        .map_or(1, |o| o as u8);
    let shrink = jpeg_shrink(full, target);
    // libjpeg-turbo converts neither CMYK to RGB nor scales lossless
    // frames: jpeg-decoder does those.
    #[cfg(feature = "turbojpeg")]
    if frame.components != 4 && !frame.lossless {
        let (data, width, height) = turbo(bytes, full, shrink)?;
        return Ok(Pixels {
            data,
            width,
            height,
            alpha: false,
            orientation,
        });
    }
    let (data, width, height) = jpeg_decoder(bytes, frame, shrink)?;
    Ok(Pixels {
        data,
        width,
        height,
        alpha: false,
        orientation,
    })
}

/// RGB, its width and height, scaled by 1/`shrink` at decode.
fn jpeg_decoder(
    bytes: &[u8],
    frame: JpegFrame,
    shrink: u32,
) -> Result<(Vec<u8>, u32, u32), String> {
    let full = frame.dimensions;
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size((MAX_PIXELS * 4) as usize);
    decoder.read_info().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("no frame")?;
    if (u32::from(info.width), u32::from(info.height)) != (full.width, full.height) {
        return Err("the decoder read another size than the header's".to_owned());
    }
    if shrink > 1 && !frame.lossless {
        // u16: JPEG sides are 16-bit, and the scaled ones are smaller.
        let (w, h) = (
            full.width.div_ceil(shrink) as u16,
            full.height.div_ceil(shrink) as u16,
        );
        decoder.scale(w, h).map_err(|e| e.to_string())?;
    }
    let data = decoder.decode().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("no frame")?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let n = width as usize * height as usize;
    if data.len() != n * info.pixel_format.pixel_bytes() {
        return Err("the decoder returned a buffer of another size".to_owned());
    }
    let data = match info.pixel_format {
        PixelFormat::RGB24 => data,
        PixelFormat::L8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        // Native-endian samples of `precision` bits.
        PixelFormat::L16 => {
            let max = (1u32 << frame.precision) - 1;
            data.chunks_exact(2)
                .flat_map(|s| {
                    let v = u32::from(u16::from_ne_bytes([s[0], s[1]])).min(max);
                    [(v * 255 / max) as u8; 3]
                })
                .collect()
        }
        // jpeg-decoder undoes Adobe's inversion: these are ink amounts.
        PixelFormat::CMYK32 => data
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - u32::from(p[3]);
                p[..3]
                    .iter()
                    .map(move |&c| ((255 - u32::from(c)) * k / 255) as u8)
                    .collect::<Vec<_>>()
            })
            .collect(),
    };
    Ok((data, width, height))
}

/// [`jpeg_decoder`] by libjpeg-turbo 3 (the `turbojpeg` feature).
#[cfg(feature = "turbojpeg")]
fn turbo(bytes: &[u8], full: Dimensions, shrink: u32) -> Result<(Vec<u8>, u32, u32), String> {
    let e = |e: turbojpeg::Error| e.to_string();
    let factor = turbojpeg::ScalingFactor::new(1, shrink as usize);
    let mut d = turbojpeg::Decompressor::new().map_err(e)?;
    d.set_scaling_factor(factor).map_err(e)?;
    let header = d.read_header(bytes).map_err(e)?;
    if (header.width, header.height) != (full.width as usize, full.height as usize) {
        return Err("the decoder read another size than the header's".to_owned());
    }
    let header = header.scaled(factor);
    let (width, height) = (header.width, header.height);
    let mut data = vec![0u8; width * height * 3];
    let image = turbojpeg::Image {
        pixels: &mut data[..],
        width,
        pitch: width * 3,
        height,
        format: turbojpeg::PixelFormat::RGB,
    };
    d.decompress(bytes, image).map_err(e)?;
    Ok((data, width as u32, height as u32))
}

fn other(kind: ImageType, bytes: &[u8]) -> Result<Pixels, String> {
    let format = image_format(kind).ok_or("no decoder")?;
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let (w, h) = decoder.dimensions();
    if !(Dimensions {
        width: w,
        height: h,
    })
    .within_limits()
    {
        return Err(format!("the decoder read {w}x{h}"));
    }
    let orientation = decoder.orientation().map_or(1, |o| o.to_exif());
    // The first frame only: what from_decoder reads of an animation.
    let image = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    let (width, height) = (image.width(), image.height());
    let alpha = image.color().has_alpha();
    let data = if alpha {
        image.into_rgba8().into_raw()
    } else {
        image.into_rgb8().into_raw()
    };
    Ok(Pixels {
        data,
        width,
        height,
        alpha,
        orientation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(width: u32, height: u32) -> Dimensions {
        Dimensions { width, height }
    }

    #[test]
    fn jpeg_shrink_keeps_twice_the_target() {
        // 4000x3000 to 400x300: 1/8 would be 500x375, under 800x600.
        assert_eq!(jpeg_shrink(dims(4000, 3000), dims(400, 300)), 4);
        assert_eq!(jpeg_shrink(dims(4000, 3000), dims(200, 150)), 8);
        assert_eq!(jpeg_shrink(dims(4000, 3000), dims(1600, 1200)), 1);
        assert_eq!(jpeg_shrink(dims(6400, 4800), dims(1600, 1200)), 2);
        // Never when there is no resize at all.
        assert_eq!(jpeg_shrink(dims(100, 50), dims(100, 50)), 1);
    }
}
