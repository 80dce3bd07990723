//! Log ids: a UTC timestamp `YYYYMMDDHHMMSS` and 20 upper-case hex digits, as
//! Feishu's look. One per request, in `X-Tt-Logid`, the error body and the log.
//!
//! The 20 digits are a random prefix drawn once per process (48 bits) and
//! a counter (32 bits). Within a process the counter makes every id unique
//! (it wraps after 2^32 requests, by when the timestamp has moved on); two
//! processes, replicas or a restart, differ in their prefix unless 48
//! random bits happen to agree. Written into a fixed buffer: no `format!`,
//! no random number and no allocation per request.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use rand::Rng;

const LEN: usize = 34;
const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogId([u8; LEN]);

/// This process's 12 hex digits.
fn prefix() -> &'static [u8; 12] {
    static PREFIX: OnceLock<[u8; 12]> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let bits: u64 = rand::thread_rng().gen::<u64>();
        let mut out = [0u8; 12];
        for (i, b) in out.iter_mut().enumerate() {
            *b = HEX[((bits >> (44 - 4 * i)) & 0xF) as usize];
        }
        out
    })
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// The second last written and its 14 digits: they change once a second.
    static STAMP: std::cell::Cell<(i64, [u8; 14])> = const { std::cell::Cell::new((i64::MIN, [0; 14])) };
}

/// `YYYYMMDDHHMMSS` of `secs` since the epoch, UTC.
fn stamp(secs: i64) -> [u8; 14] {
    let (cached, digits) = STAMP.get();
    if cached == secs {
        return digits;
    }
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut out = [0u8; 14];
    let y = y.clamp(0, 9999) as u32;
    put_digits(&mut out[0..4], y);
    put_digits(&mut out[4..6], mo);
    put_digits(&mut out[6..8], d);
    put_digits(&mut out[8..10], (sod / 3600) as u32);
    put_digits(&mut out[10..12], (sod / 60 % 60) as u32);
    put_digits(&mut out[12..14], (sod % 60) as u32);
    STAMP.set((secs, out));
    out
}

/// `n` in decimal, zero-padded to fill `out`.
pub(crate) fn put_digits(out: &mut [u8], mut n: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

impl LogId {
    pub fn new() -> LogId {
        LogId::at(helpdesk_store::now())
    }

    /// The next id, stamped with `secs` since the epoch (now, read by the
    /// caller once for the whole request).
    pub fn at(secs: i64) -> LogId {
        let mut id = [0u8; LEN];
        id[..14].copy_from_slice(&stamp(secs));
        id[14..26].copy_from_slice(prefix());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        for (i, b) in id[26..].iter_mut().enumerate() {
            *b = HEX[((n >> (28 - 4 * i)) & 0xF) as usize];
        }
        LogId(id)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and letters are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Default for LogId {
    fn default() -> Self {
        LogId::new()
    }
}

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogId({})", self.as_str())
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_722), (2023, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn stamps() {
        assert_eq!(&stamp(0), b"19700101000000");
        assert_eq!(&stamp(1_703_980_799), b"20231230235959");
        assert_eq!(&stamp(951_782_400 + 3_723), b"20000229010203");
    }

    #[test]
    fn shape() {
        let id = LogId::new();
        assert_eq!(id.as_str().len(), 34);
        assert!(id.as_str()[..14].bytes().all(|b| b.is_ascii_digit()));
        assert!(id.as_str()[14..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
        let now = helpdesk_store::now();
        let (y, mo, d) = civil_from_days(now.div_euclid(86_400));
        assert!(id.as_str().starts_with(&format!("{y:04}{mo:02}{d:02}")));
    }

    #[test]
    fn one_process_never_repeats_and_keeps_its_prefix() {
        let ids: Vec<LogId> = (0..10_000).map(|_| LogId::new()).collect();
        let distinct: std::collections::HashSet<&[u8]> =
            ids.iter().map(|id| &id.as_bytes()[14..]).collect();
        assert_eq!(distinct.len(), ids.len());
        assert!(ids
            .iter()
            .all(|id| id.as_bytes()[14..26] == ids[0].as_bytes()[14..26]));
    }
}
