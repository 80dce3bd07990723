//! Log ids: a UTC timestamp `YYYYMMDDHHMMSS` and 20 upper-case hex digits, as
//! Feishu's look. One per request, in `X-Tt-Logid`, the error body and the log.

use std::fmt;
use std::sync::Arc;

use rand::Rng;

#[derive(Clone, Debug)]
pub struct LogId(Arc<str>);

impl LogId {
    pub fn new() -> LogId {
        let secs = helpdesk_store::now();
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        let mut rng = rand::thread_rng();
        let id = format!(
            "{y:04}{mo:02}{d:02}{:02}{:02}{:02}{:08X}{:012X}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60,
            rng.gen::<u32>(),
            rng.gen::<u64>() & 0xFFFF_FFFF_FFFF
        );
        LogId(id.into())
    }

    pub fn as_str(&self) -> &str {
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
        f.write_str(&self.0)
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
    fn shape() {
        let id = LogId::new();
        assert_eq!(id.as_str().len(), 34);
        assert!(id.as_str()[..14].bytes().all(|b| b.is_ascii_digit()));
        assert!(id.as_str()[14..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
    }
}
