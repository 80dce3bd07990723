//! The image types Feishu accepts, recognised from their bytes alone.

/// An image type recognised by its magic bytes. The client's declared type and
/// file name are never consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Jpeg,
    Gif,
    Webp,
    Bmp,
    Tiff,
    Ico,
}

impl ImageType {
    /// How many leading bytes `sniff` needs to decide.
    pub const SNIFF_LEN: usize = 32;

    /// Recognise the type from the first bytes of a file (at least
    /// [`ImageType::SNIFF_LEN`] of them when the file is that long).
    pub fn sniff(b: &[u8]) -> Option<ImageType> {
        if b.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(ImageType::Png);
        }
        if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(ImageType::Jpeg);
        }
        if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
            return Some(ImageType::Gif);
        }
        if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
            return Some(ImageType::Webp);
        }
        if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
            return Some(ImageType::Tiff);
        }
        // BMP: "BM", then a DIB header whose size is one of the known versions.
        if b.len() >= 18 && b.starts_with(b"BM") {
            let dib = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
            if matches!(dib, 12 | 40 | 52 | 56 | 64 | 108 | 124) {
                return Some(ImageType::Bmp);
            }
        }
        // ICO: reserved 0, type 1, at least one image, entry's reserved byte 0.
        if b.len() >= 22 && b[0..4] == [0, 0, 1, 0] {
            let count = u16::from_le_bytes([b[4], b[5]]);
            if count > 0 && b[6 + 3] == 0 {
                return Some(ImageType::Ico);
            }
        }
        None
    }

    /// The `Content-Type` served for it.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Gif => "image/gif",
            ImageType::Webp => "image/webp",
            ImageType::Bmp => "image/bmp",
            ImageType::Tiff => "image/tiff",
            ImageType::Ico => "image/x-icon",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Jpeg => "jpg",
            ImageType::Gif => "gif",
            ImageType::Webp => "webp",
            ImageType::Bmp => "bmp",
            ImageType::Tiff => "tiff",
            ImageType::Ico => "ico",
        }
    }

    /// The type whose `mime()` this is.
    pub fn from_mime(mime: &str) -> Option<ImageType> {
        [
            ImageType::Png,
            ImageType::Jpeg,
            ImageType::Gif,
            ImageType::Webp,
            ImageType::Bmp,
            ImageType::Tiff,
            ImageType::Ico,
        ]
        .into_iter()
        .find(|t| t.mime() == mime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_type_and_rejects_the_rest() {
        let mut bmp = b"BM".to_vec();
        bmp.extend([0u8; 12]);
        bmp.extend(40u32.to_le_bytes());
        let mut ico = vec![0, 0, 1, 0, 1, 0, 16, 16, 0, 0];
        ico.extend([0u8; 12]);
        let cases: &[(&[u8], Option<ImageType>)] = &[
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some(ImageType::Png)),
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some(ImageType::Jpeg)),
            (b"GIF89a\x01\0\x01\0", Some(ImageType::Gif)),
            (b"RIFF\x24\0\0\0WEBPVP8 ", Some(ImageType::Webp)),
            (b"II*\0\x08\0\0\0", Some(ImageType::Tiff)),
            (b"MM\0*\0\0\0\x08", Some(ImageType::Tiff)),
            (&bmp, Some(ImageType::Bmp)),
            (&ico, Some(ImageType::Ico)),
            (b"%PDF-1.7", None),
            (b"BMnot really a bitmap at all", None),
            (b"<svg xmlns=", None),
            (b"", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(ImageType::sniff(bytes), *want, "{bytes:?}");
        }
    }
}
