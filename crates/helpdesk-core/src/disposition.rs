//! `Content-Disposition` for downloads, readable by every SDK.
//!
//! Python, Go and Java prefer `filename*` (RFC 6266 / RFC 5987); Java's parser
//! throws on any character outside RFC 5987 attr-chars that is not
//! percent-encoded, so everything else is encoded. The quoted `filename` is an
//! ASCII fallback for clients that read only that.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 5987 attr-char, minus ALPHA / DIGIT which NON_ALPHANUMERIC already keeps.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>`.
pub fn attachment(file_name: &str) -> String {
    let name = safe_file_name(file_name);
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii,
        utf8_percent_encode(&name, ATTR_CHAR)
    )
}

/// A file name safe to hand to any file system: no path separators, no control
/// characters, no leading dots, at most 200 bytes. Empty input gives `image`.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, ':' | '*' | '?' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = out.trim().trim_start_matches('.').to_string();
    out = trimmed;
    while out.len() > 200 {
        out.pop();
    }
    if out.is_empty() {
        "image".to_string()
    } else {
        out
    }
}

/// The stored name for an upload: the client's stem, our extension (the one the
/// bytes really are).
pub fn upload_file_name(client_name: Option<&str>, extension: &str) -> String {
    let safe = safe_file_name(client_name.unwrap_or(""));
    let stem = match safe.rfind('.') {
        Some(dot) if dot > 0 => &safe[..dot],
        _ => safe.as_str(),
    };
    format!("{stem}.{extension}")
}

/// The file name a `Content-Disposition` header carries: `filename*`
/// (RFC 5987, UTF-8) when present, else `filename`; made safe for any file
/// system with [`safe_file_name`].
pub fn parse_file_name(header: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for part in header.split(';').skip(1) {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                // charset'language'percent-encoded
                let mut pieces = value.splitn(3, '\'');
                let charset = pieces.next().unwrap_or("");
                let encoded = pieces.nth(1).unwrap_or("");
                if charset.eq_ignore_ascii_case("utf-8") {
                    extended = percent_encoding::percent_decode_str(encoded)
                        .decode_utf8()
                        .ok()
                        .map(|c| c.into_owned());
                }
            }
            "filename" => plain = Some(value.trim_matches('"').replace("\\\"", "\"")),
            _ => {}
        }
    }
    extended
        .or(plain)
        .filter(|n| !n.is_empty())
        .map(|n| safe_file_name(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_we_write_we_read_back() {
        for name in ["截图.png", "say \"hi\" now.png", "a b.png", "plain.gif"] {
            assert_eq!(parse_file_name(&attachment(name)).as_deref(), Some(name));
        }
        assert_eq!(
            parse_file_name("attachment; filename=\"x.png\"").as_deref(),
            Some("x.png")
        );
        assert_eq!(
            parse_file_name("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd").as_deref(),
            Some("passwd")
        );
        assert_eq!(parse_file_name("attachment"), None);
    }

    #[test]
    fn chinese_name_is_percent_encoded_with_an_ascii_fallback() {
        assert_eq!(
            attachment("截图.png"),
            "attachment; filename=\"__.png\"; filename*=UTF-8''%E6%88%AA%E5%9B%BE.png"
        );
    }

    #[test]
    fn quotes_spaces_and_slashes_never_break_the_header() {
        let h = attachment("my \"best\" shot/../a b.png");
        // A slash is a path: only the last component is kept.
        assert_eq!(
            h,
            "attachment; filename=\"a b.png\"; filename*=UTF-8''a%20b.png"
        );
        let h = attachment("say \"hi\" now.png");
        assert_eq!(
            h,
            "attachment; filename=\"say _hi_ now.png\"; filename*=UTF-8''say%20%22hi%22%20now.png"
        );
        let h = attachment("back\\slash;semi=colon%.gif");
        assert!(!h.contains('/'));
        assert!(
            h.ends_with("filename*=UTF-8''slash%3Bsemi%3Dcolon%25.gif"),
            "{h}"
        );
    }

    #[test]
    fn encoded_part_holds_only_rfc5987_attr_chars() {
        let h = attachment("a\u{0}b\tc é 😀 ()<>@,;:\"[]?={}.png");
        let encoded = h.split("UTF-8''").nth(1).unwrap();
        assert!(encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)));
    }

    #[test]
    fn upload_names_take_the_sniffed_extension() {
        assert_eq!(upload_file_name(Some("截图.jpg"), "png"), "截图.png");
        assert_eq!(
            upload_file_name(Some("C:\\Users\\me\\shot"), "gif"),
            "shot.gif"
        );
        assert_eq!(
            upload_file_name(Some("../../etc/passwd"), "png"),
            "passwd.png"
        );
        assert_eq!(upload_file_name(Some(".hidden"), "png"), "hidden.png");
        assert_eq!(upload_file_name(None, "webp"), "image.webp");
    }
}
