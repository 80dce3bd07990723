//! Content-Disposition: the header written for any stored file name must
//! parse back to a safe name, and parsing any header must not panic.
#![no_main]

use helpdesk_core::disposition::{attachment, parse_file_name, safe_file_name, upload_file_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_file_name(&text);
    let safe = safe_file_name(&text);
    assert!(!safe.contains('/') && !safe.contains('\\') && !safe.contains('\0'), "{safe:?}");
    let stored = upload_file_name(Some(&text), "png");
    let header = attachment(&stored);
    assert!(header.is_ascii(), "{header:?}");
    assert!(!header.contains('\r') && !header.contains('\n'));
    if let Some(back) = parse_file_name(&header) {
        assert!(!back.contains('/') && !back.contains('\\'), "{back:?}");
    }
});
