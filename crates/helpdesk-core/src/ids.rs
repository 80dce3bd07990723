//! Identifier formats, shaped like Feishu's so that clients that validate or
//! log them see what they expect.

use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;

fn hex(n_bytes: usize) -> String {
    let mut buf = vec![0u8; n_bytes];
    rand::thread_rng().fill(&mut buf[..]);
    hex::encode(buf)
}

/// Feishu's numeric ids: 19 decimal digits, leading 7.
fn numeric_id() -> String {
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(19);
    s.push('7');
    for _ in 0..18 {
        s.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    s
}

/// `736588c9260f175d`
pub fn tenant_key() -> String {
    hex(8)
}
/// `cli_a1b2c3d4e5f60718`
pub fn app_id() -> String {
    format!("cli_{}", hex(8))
}
/// 32 alphanumeric characters, shown once at creation.
pub fn app_secret() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
}
/// `ct_` and 16 hex digits: names a console token in lists and the audit.
pub fn console_token_id() -> String {
    format!("ct_{}", hex(8))
}
/// `hdc_` and 64 hex digits, shown once at creation.
pub fn console_token() -> String {
    format!("hdc_{}", hex(32))
}
/// 19 digits.
pub fn helpdesk_id() -> String {
    numeric_id()
}
/// `ht-` and 32 hex digits, shown once at creation.
pub fn helpdesk_token() -> String {
    format!("ht-{}", hex(16))
}
/// 19 digits.
pub fn ticket_id() -> String {
    numeric_id()
}
/// `oc_` and 32 hex digits.
pub fn chat_id() -> String {
    format!("oc_{}", hex(16))
}
/// A message's `id`: 19 digits.
pub fn message_pk() -> String {
    numeric_id()
}
/// An audit entry's id, which a copy keeps (so copying twice adds nothing):
/// `aud_` and 32 hex digits.
pub fn audit_id() -> String {
    format!("aud_{}", hex(16))
}
/// A message's `message_id`: `om_` and 32 hex digits.
pub fn message_id() -> String {
    format!("om_{}", hex(16))
}
/// A user's `open_id` (guests and agents): `ou_` and 32 hex digits.
pub fn open_id() -> String {
    format!("ou_{}", hex(16))
}
/// A ticket customized field's id: 19 digits.
pub fn field_id() -> String {
    numeric_id()
}
/// `img_v3_` and 32 hex digits.
pub fn image_key() -> String {
    format!("img_v3_{}", hex(16))
}

/// Which of its two ids a client used to name a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRef<'a> {
    /// The numeric `id`.
    Id(&'a str),
    /// The `om_…` `message_id`.
    MessageId(&'a str),
}

impl<'a> MessageRef<'a> {
    /// Clients send either id as `msg_id`; the `om_` prefix tells them apart.
    pub fn parse(s: &'a str) -> MessageRef<'a> {
        if s.starts_with("om_") {
            MessageRef::MessageId(s)
        } else {
            MessageRef::Id(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(tenant_key().len(), 16);
        assert!(app_id().starts_with("cli_") && app_id().len() == 20);
        assert_eq!(app_secret().len(), 32);
        let t = ticket_id();
        assert!(t.len() == 19 && t.bytes().all(|b| b.is_ascii_digit()));
        assert!(message_id().starts_with("om_"));
        assert_eq!(MessageRef::parse("om_ab"), MessageRef::MessageId("om_ab"));
        assert_eq!(MessageRef::parse("7123"), MessageRef::Id("7123"));
    }
}
