//! Bytes that sniff as images, distinct per seed. The server never decodes
//! images, so a valid signature and a body are all a test needs.

/// PNG's signature and IHDR, then `len` bytes that differ per seed.
pub fn png(seed: u8, len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

/// JPEG's SOI and APP0 markers, then `len` bytes that differ per seed.
pub fn jpeg(seed: u8, len: usize) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(17).wrapping_add(seed)));
    v
}
