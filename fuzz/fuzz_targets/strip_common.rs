// The invariants every stripper keeps, whatever the bytes: included by
// strip_jpeg.rs, strip_png.rs and strip_webp.rs (one target per stripper,
// so that each learns its own format).

use helpdesk_core::ImageType;
use helpdesk_media::{strip, StripMode};

fn check(kind: ImageType, data: &[u8]) {
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
