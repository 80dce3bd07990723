//! The tokens FAQ search matches on, the same for every backend: words
//! (letters and digits, lower-cased), and for text written without spaces
//! (Chinese, Japanese, Korean) every character and every pair of
//! neighbours. SQLite's FTS5 and PostgreSQL's `simple` text search index
//! these tokens as they are, so `登录` finds `无法登录系统` on both, which
//! neither's own tokenizer would.

/// Written without spaces between words.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF        // Hiragana, Katakana
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0x20000..=0x2FFFF) // CJK extensions B and later
}

/// Runs of word characters: (text, written without spaces).
fn runs(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for c in text.chars() {
        let kind = if unspaced(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (kind, out.last_mut()) {
            (None, _) => out.push((String::new(), false)),
            (Some(k), Some((run, rk))) if *rk == k || run.is_empty() => {
                run.extend(c.to_lowercase());
                *rk = k;
            }
            (Some(k), _) => out.push((c.to_lowercase().collect(), k)),
        }
    }
    out.retain(|(r, _)| !r.is_empty());
    out
}

/// A document's tokens, space-separated: what is stored and indexed.
pub fn document(text: &str) -> String {
    let mut tokens = Vec::new();
    for (run, cjk) in runs(text) {
        if !cjk {
            tokens.push(run);
            continue;
        }
        let chars: Vec<char> = run.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            tokens.push(c.to_string());
            if let Some(next) = chars.get(i + 1) {
                tokens.push(format!("{c}{next}"));
            }
        }
    }
    tokens.join(" ")
}

/// A query's tokens, every one of which a match holds: words, and the pairs
/// of an unspaced run (its one character when it has one).
pub fn query(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for (run, cjk) in runs(text) {
        let chars: Vec<char> = run.chars().collect();
        if !cjk || chars.len() == 1 {
            tokens.push(run);
            continue;
        }
        for pair in chars.windows(2) {
            tokens.push(pair.iter().collect());
        }
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(doc: &str, q: &str) -> bool {
        let doc: Vec<String> = document(doc).split(' ').map(str::to_string).collect();
        let q = query(q);
        !q.is_empty() && q.iter().all(|t| doc.contains(t))
    }

    #[test]
    fn chinese_is_found_by_any_part_and_words_by_word() {
        assert!(finds("无法登录系统，怎么办？", "登录"));
        assert!(finds("无法登录系统，怎么办？", "登录系统"));
        assert!(finds("无法登录系统", "登"));
        assert!(!finds("无法登录系统", "注册"));
        assert!(!finds("无法登录系统", "统无"));
        assert!(finds("Reset your VPN password", "vpn PASSWORD"));
        assert!(!finds("Reset your VPN password", "pass"));
        assert!(finds("VPN 密码重置 guide", "密码 vpn"));
        assert!(query("  ,,, ").is_empty());
    }

    #[test]
    fn mixed_runs_split_where_the_script_changes() {
        assert_eq!(document("VPN连接"), "vpn 连 连接 接");
        assert_eq!(query("ログイン"), ["イン", "グイ", "ログ"]);
    }
}
