//! A ticket's images as files: the names they are saved under and the
//! `manifest.json` beside them. `helpdesk images export` writes them into a
//! directory, the console's `/tickets/{id}/images.zip` into a zip; both
//! write the same manifest.

use serde::{Deserialize, Serialize};

/// One image of the manifest.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The message's `id`.
    pub message_id: String,
    /// The message's `om_…` id.
    pub message_om_id: String,
    pub created_at: i64,
    pub index: u32,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
}

/// `manifest.json`: a ticket's images in message order, then by index.
#[derive(Serialize, Deserialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub ticket_id: String,
    pub images: Vec<ManifestEntry>,
}

/// The name an image is saved under: `<created_at>_<message id>_<index>.<ext>`,
/// safe on every OS (ASCII letters, digits, `-`, `_` and `.` only).
pub fn file_name(created_at: i64, message_id: &str, index: u32, ext: &str) -> String {
    format!("{created_at}_{}_{index}.{}", clean(message_id), clean(ext))
}

/// `s` with everything but ASCII letters, digits, `-` and `_` made `_`.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_on_every_os() {
        assert_eq!(
            file_name(17, "7315191998975914854", 2, "png"),
            "17_7315191998975914854_2.png"
        );
        assert_eq!(file_name(1, "../x", 0, "p/g"), "1____x_0.p_g");
    }
}
