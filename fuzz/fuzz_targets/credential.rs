//! The Authorization and X-Lark-Helpdesk-Authorization headers.
#![no_main]

use helpdesk_core::auth::{bearer, encode_helpdesk_credential, helpdesk_credential};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = bearer(text);
    if let Some(c) = helpdesk_credential(text) {
        // What decodes, re-encodes to something that decodes the same.
        let again = helpdesk_credential(&encode_helpdesk_credential(&c.helpdesk_id, &c.token))
            .expect("a re-encoded credential decodes");
        assert_eq!((again.helpdesk_id, again.token), (c.helpdesk_id, c.token));
    }
});
