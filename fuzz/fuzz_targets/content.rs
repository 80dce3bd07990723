//! Message content JSON: the image keys of text, image and post messages.
#![no_main]

use helpdesk_core::content::{image_keys, MessageType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for t in [MessageType::Text, MessageType::Image, MessageType::Post] {
        if let Ok(keys) = image_keys(t, text) {
            // An image message names exactly one image.
            if t == MessageType::Image {
                assert_eq!(keys.len(), 1);
            }
            assert!(keys.iter().all(|k| !k.is_empty()));
        }
    }
});
