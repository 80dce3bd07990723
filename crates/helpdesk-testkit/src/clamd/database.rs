//! The signature database a test's clamd reads: one unsigned container,
//! `daily.cud`, rewritten whole at each change.

use sha2::{Digest, Sha256};

/// The database's contents: rewritten whole at each change.
pub(super) struct Signatures {
    pub(super) version: u32,
    /// Lines of `daily.ndb`: `Name:0:*:hex`.
    pub(super) body: Vec<String>,
    /// Lines of `daily.hsb`: `sha256:size:Name`.
    pub(super) hashes: Vec<String>,
}

/// An unsigned ClamAV database container (`.cud`): a 512-byte header
/// line, then an uncompressed tar of COPYING (which tells clamd it is not
/// gzipped), the `.info` index clamd checks each file against, and the
/// signature files.
pub(super) fn cud(signatures: &Signatures) -> Vec<u8> {
    let lines = |v: &[String]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
    let files = [
        ("daily.ndb", lines(&signatures.body)),
        ("daily.hsb", lines(&signatures.hashes)),
    ];
    let built = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let count = signatures.body.len() + signatures.hashes.len();
    // ClamAV-VDB:build time:version:signatures:functionality level:md5:
    // digital signature:builder:build time in seconds. clamd checks neither
    // the MD5 nor the signature of a .cud, but wants every field.
    let header = format!(
        "ClamAV-VDB:{built}:{}:{count}:1:{}:unsigned:helpdesk-testkit:{built}",
        signatures.version,
        "0".repeat(32)
    );
    let mut info = format!("{header}\n");
    for (name, body) in &files {
        info += &format!(
            "{name}:{}:{}\n",
            body.len(),
            hex::encode(Sha256::digest(body))
        );
    }
    let mut out = format!("{header:<512}").into_bytes();
    tar_entry(
        &mut out,
        "COPYING",
        b"Test signatures of helpdesk-testkit.\n",
        built,
    );
    tar_entry(&mut out, "daily.info", info.as_bytes(), built);
    for (name, body) in &files {
        tar_entry(&mut out, name, body.as_bytes(), built);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

/// One ustar entry: a regular file.
fn tar_entry(out: &mut Vec<u8>, name: &str, body: &[u8], mtime: u64) {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", body.len()).as_bytes());
    header[136..148].copy_from_slice(format!("{:011o}\0", mtime).as_bytes());
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    // The checksum is summed with its own field as spaces.
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(body);
    out.resize(out.len().next_multiple_of(512), 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_a_header_then_whole_tar_blocks() {
        let db = cud(&Signatures {
            version: 7,
            body: vec!["A:0:*:00".into()],
            hashes: vec![],
        });
        assert!(db.starts_with(b"ClamAV-VDB:"));
        assert_eq!(db.len() % 512, 0);
        let header = String::from_utf8_lossy(&db[..512]);
        assert_eq!(header.trim_end().split(':').nth(2), Some("7"));
        assert!(db[512..].starts_with(b"COPYING"));
    }
}
