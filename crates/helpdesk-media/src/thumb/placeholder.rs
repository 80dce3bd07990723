//! The image shown instead of a thumbnail that was refused: a grey square
//! of the box's size with a picture glyph (a frame, a hill, a sun) in its
//! middle, drawn once per width on first use and kept.

use std::sync::OnceLock;

use super::{encode, Pixels, Thumb, Width};

const BACKGROUND: [u8; 3] = [0xEE, 0xF0, 0xF2];
const INK: [u8; 3] = [0xB4, 0xBB, 0xC4];

/// A `width`×`width` placeholder, in the format a thumbnail of that width
/// has ([`Width::content_type`]). Cheap after the first call per width
/// (the bytes are shared).
pub fn placeholder(width: Width) -> Thumb {
    static MADE: [OnceLock<Thumb>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = Width::ALL.iter().position(|w| *w == width).unwrap_or(0);
    MADE[i].get_or_init(|| draw(width)).clone()
}

fn draw(width: Width) -> Thumb {
    let side = width.px();
    let n = side as f32;
    // The glyph: a frame 40% of the box wide and 30% high, centred.
    let (fw, fh) = (0.40 * n, 0.30 * n);
    let (left, top) = ((n - fw) / 2.0, (n - fh) / 2.0);
    let stroke = (n / 80.0).max(1.0);
    let sun = (left + 0.72 * fw, top + 0.32 * fh, 0.10 * fw);
    let mut data = Vec::with_capacity((side * side * 3) as usize);
    for y in 0..side {
        for x in 0..side {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let (u, v) = (px - left, py - top);
            let inside = (0.0..fw).contains(&u) && (0.0..fh).contains(&v);
            let frame = inside && (u < stroke || v < stroke || fw - u < stroke || fh - v < stroke);
            // A hill: peaks at 40% across, 35% down; its sides slope at 1.
            let hill = inside && v > 0.35 * fh + (u - 0.40 * fw).abs();
            let (dx, dy) = (px - sun.0, py - sun.1);
            let sun = dx * dx + dy * dy < sun.2 * sun.2;
            data.extend_from_slice(if frame || hill || sun {
                &INK
            } else {
                &BACKGROUND
            });
        }
    }
    let pixels = Pixels {
        data,
        width: side,
        height: side,
        alpha: false,
        orientation: 1,
    };
    // A constant image of at most 1600x1600 always encodes.
    encode::encode(pixels, width).expect("the placeholder encodes")
}
