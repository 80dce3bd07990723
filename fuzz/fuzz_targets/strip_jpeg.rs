//! Metadata stripping of JPEG: every mode, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("strip_common.rs");

fuzz_target!(|data: &[u8]| check(ImageType::Jpeg, data));
