//! Image sniffing: the type an upload's first bytes name.
#![no_main]

use helpdesk_core::ImageType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(t) = ImageType::sniff(data) {
        assert_eq!(ImageType::from_mime(t.mime()), Some(t));
        assert!(!t.extension().is_empty());
    }
});
