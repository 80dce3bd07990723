//! Metadata stripping: every mode on every stripped type, whatever the bytes.
#![no_main]

use helpdesk_core::ImageType;
use helpdesk_media::{strip, StripMode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kind in [ImageType::Jpeg, ImageType::Png, ImageType::Webp] {
        for mode in [StripMode::Off, StripMode::Location, StripMode::All] {
            let Ok(stripped) = strip(kind, data, mode) else {
                // Off never reads the container, so it never fails.
                assert_ne!(mode, StripMode::Off);
                continue;
            };
            if !stripped.changed {
                assert_eq!(&stripped.bytes[..], data);
                assert!(stripped.removed.is_empty());
                continue;
            }
            assert_ne!(mode, StripMode::Off);
            assert!(!stripped.removed.is_empty());
            // What was written reads back, and has nothing left to remove.
            let again = strip(kind, &stripped.bytes, mode).expect("stripped output reads back");
            assert!(!again.changed, "{mode} removed {:?} twice", again.removed);
            // All removes everything Location would.
            if mode == StripMode::All {
                let located =
                    strip(kind, &stripped.bytes, StripMode::Location).expect("reads back");
                assert!(
                    !located.changed,
                    "location after all removed {:?}",
                    located.removed
                );
            }
        }
    }
});
