//! Thumbnails: any bytes give a thumbnail inside the box or a refusal,
//! never a panic, and an image the probe finds over the limits is refused
//! before decoding. The last byte picks the width.
#![no_main]

use helpdesk_media::thumb::{self, ThumbError, Width};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let width = Width::ALL[usize::from(data.last().copied().unwrap_or(0)) % 3];
    let probed = thumb::probe(data);
    match thumb::render(data, width) {
        Ok(t) => {
            let d = probed.expect("a rendered image was probed");
            assert!(d.within_limits());
            assert!(t.width.max(t.height) <= width.px() && t.width > 0 && t.height > 0);
            assert!(t.width.max(t.height) <= d.width.max(d.height), "upscaled");
            assert_eq!(t.content_type, width.content_type());
        }
        Err(ThumbError::TooLarge { dimensions, .. }) => {
            assert_eq!(probed, Ok(dimensions));
            assert!(!dimensions.within_limits());
        }
        Err(_) => {}
    }
});
