//! Access tokens: checking any string, and reading the app id a log line
//! names. Only tokens this signer issued verify.
#![no_main]

use helpdesk_store::tokens::{claimed_app_id, SigningKey, TokenKind, TokenSigner, TOKEN_LIFETIME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let signer = TokenSigner::new(vec![
        SigningKey {
            id: "0000".into(),
            key: b"first".to_vec(),
        },
        SigningKey {
            id: "0001".into(),
            key: b"second".to_vec(),
        },
    ]);
    let _ = claimed_app_id(text);
    for kind in [TokenKind::Tenant, TokenKind::App, TokenKind::User] {
        assert!(
            signer.verify(kind, text, 1_000).is_none(),
            "a forged token verified: {text:?}"
        );
    }
    // Whatever app id it carries, an issued token verifies with its claims.
    let issued = signer.issue(TokenKind::Tenant, text, 0, 1_000, TOKEN_LIFETIME);
    let claims = signer
        .verify(TokenKind::Tenant, &issued.token, 1_000)
        .expect("issued verifies");
    assert_eq!(claims.app_id, text);
    assert_eq!(claimed_app_id(&issued.token).as_deref(), Some(text));
    // A user token names its app and user; app ids never hold a colon.
    if !text.contains(':') {
        let issued = signer.issue_user(text, "ou_fuzz", 0, 1_000, TOKEN_LIFETIME);
        let claims = signer
            .verify(TokenKind::User, &issued.token, 1_000)
            .expect("issued verifies");
        assert_eq!((claims.app_id.as_str(), claims.user.as_str()), (text, "ou_fuzz"));
        assert_eq!(claimed_app_id(&issued.token).as_deref(), Some(text));
        assert!(signer.verify(TokenKind::Tenant, &issued.token, 1_000).is_none());
    }
});
