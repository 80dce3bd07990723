//! Parsing the two credentials a helpdesk call carries.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;

/// The token of `Authorization: Bearer <token>`; `None` when the header is not
/// of that form.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// A helpdesk id and token, as `X-Lark-Helpdesk-Authorization` carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpdeskCredential {
    pub helpdesk_id: String,
    pub token: String,
}

/// Decodes `X-Lark-Helpdesk-Authorization`: base64 of `helpdesk_id:token`,
/// bare (Go, Java, Python) or as `Bearer <base64>` (Node).
pub fn helpdesk_credential(header: &str) -> Option<HelpdeskCredential> {
    let v = header.trim();
    let b64 = bearer(v).unwrap_or(v);
    let raw = STANDARD
        .decode(b64)
        .or_else(|_| STANDARD_NO_PAD.decode(b64))
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, token) = s.split_once(':')?;
    (!id.is_empty() && !token.is_empty()).then(|| HelpdeskCredential {
        helpdesk_id: id.to_string(),
        token: token.to_string(),
    })
}

/// The header value a client sends for a helpdesk: bare base64.
pub fn encode_helpdesk_credential(helpdesk_id: &str, token: &str) -> String {
    STANDARD.encode(format!("{helpdesk_id}:{token}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_forms() {
        assert_eq!(bearer("Bearer t-abc"), Some("t-abc"));
        assert_eq!(bearer("bearer t-abc"), Some("t-abc"));
        assert_eq!(bearer("Basic t-abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("t-abc"), None);
    }

    #[test]
    fn both_helpdesk_header_forms_decode() {
        let bare = encode_helpdesk_credential("7001", "ht-x:y");
        let want = HelpdeskCredential {
            helpdesk_id: "7001".into(),
            token: "ht-x:y".into(),
        };
        assert_eq!(helpdesk_credential(&bare), Some(want.clone()));
        assert_eq!(helpdesk_credential(&format!("Bearer {bare}")), Some(want));
        assert_eq!(helpdesk_credential("not base64!"), None);
        assert_eq!(helpdesk_credential(&STANDARD.encode("nocolon")), None);
        assert_eq!(helpdesk_credential(&STANDARD.encode(":tok")), None);
    }
}
