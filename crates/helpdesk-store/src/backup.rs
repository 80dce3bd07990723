//! Backup, restore and verify.
//!
//! A backup is a data dir of its own: `helpdesk.db`, a consistent snapshot
//! of the embedded database taken while writers go on (`VACUUM INTO`), the
//! objects its rows name under `blobs/`, and `backup.json`. So a backup can
//! be served as it is, restored into an empty data dir, or moved to
//! PostgreSQL and S3 with `migrate`. It holds the signing keys and the
//! secrets' digests: keep it as you keep the data dir.
//!
//! `verify` works on every backend: each live image's object must be there,
//! with its size and SHA-256.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use futures::StreamExt;

use crate::migrate::{copy_object, digest};
use crate::records::{Record, RecordKind};
use crate::{BlobStore, ObjectBlobs, Result, StoreError, Stores};

/// The file that marks a directory as a backup, and says what it holds.
pub const MANIFEST: &str = "backup.json";
const DATABASE: &str = "helpdesk.db";
const BLOBS: &str = "blobs";

/// What a backup or a restore copied.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Copied {
    /// Seconds since the epoch when the snapshot was taken.
    pub snapshot_at: i64,
    /// Objects the snapshot's rows name, all copied and verified.
    pub objects: u64,
    pub bytes: u64,
    /// Objects deleted (with every image using them) between the snapshot
    /// and their copy: the backup marks those images deleted, as they are.
    pub deleted_meanwhile: u64,
}

/// The objects the rows of a snapshot name: (sha256, size).
fn snapshot_blobs(database: &Path) -> Result<Vec<(String, u64)>> {
    let conn = rusqlite::Connection::open(database)?;
    let mut statement = conn.prepare("SELECT sha256, size FROM blobs ORDER BY sha256")?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Marks every image of these objects deleted in the snapshot, and forgets
/// the objects: they were deleted after the snapshot was taken.
fn forget_in_snapshot(database: &Path, gone: &[String], now: i64) -> Result<()> {
    let mut conn = rusqlite::Connection::open(database)?;
    let tx = conn.transaction()?;
    for sha256 in gone {
        for table in ["images", "message_images"] {
            tx.execute(
                &format!(
                    "UPDATE {table} SET deleted_at = ?1 WHERE sha256 = ?2 AND deleted_at IS NULL"
                ),
                rusqlite::params![now, sha256],
            )?;
        }
        tx.execute("DELETE FROM blobs WHERE sha256 = ?1", [sha256])?;
    }
    tx.commit()?;
    Ok(())
}

/// `dir` made if needed; `Invalid` unless it is empty.
fn empty_dir(dir: &Path, what: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    if std::fs::read_dir(dir)?.next().is_some() {
        return Err(StoreError::Invalid(format!(
            "{} is not empty: {what} needs an empty or new directory",
            dir.display()
        )));
    }
    Ok(())
}

/// Copies every object the rows of `database` name from `from` to the
/// `blobs/` of `dir`, verified; returns the copy and the objects `from`
/// did not have.
async fn copy_objects(
    from: &dyn BlobStore,
    database: &Path,
    dir: &Path,
    mut progress: impl FnMut(u64),
) -> Result<(Copied, Vec<String>)> {
    let to = ObjectBlobs::local(&dir.join(BLOBS))?;
    let spool = dir.join("tmp");
    std::fs::create_dir_all(&spool)?;
    let mut copied = Copied::default();
    let mut missing = Vec::new();
    for (sha256, size) in snapshot_blobs(database)? {
        match copy_object(from, &to, &spool, &sha256, size).await {
            Ok(_) => {
                copied.objects += 1;
                copied.bytes += size;
                progress(copied.objects);
            }
            Err(StoreError::NotFound { .. }) => missing.push(sha256),
            Err(e) => return Err(e),
        }
    }
    std::fs::remove_dir_all(&spool)?;
    Ok((copied, missing))
}

/// Takes a backup of `from` (the embedded backend) into `out`, a new or
/// empty directory, while servers go on serving; `progress` hears of every
/// object copied.
pub async fn backup(from: &Stores, out: &Path, progress: impl FnMut(u64)) -> Result<Copied> {
    empty_dir(out, "a backup")?;
    let database = out.join(DATABASE);
    let snapshot_at = crate::now();
    from.meta.snapshot_into(&database).await?;
    let (mut copied, gone) = copy_objects(from.blobs.as_ref(), &database, out, progress).await?;
    // An object can go only once no live row uses it (see `BlobClaim`), so
    // these were deleted after the snapshot: the backup says so too.
    forget_in_snapshot(&database, &gone, crate::now())?;
    copied.snapshot_at = snapshot_at;
    copied.deleted_meanwhile = gone.len() as u64;
    let manifest = serde_json::to_vec_pretty(&copied).map_err(std::io::Error::other)?;
    write_durably(&out.join(MANIFEST), &manifest)?;
    Ok(copied)
}

/// Fills `data_dir`, which must be empty, from the backup in `from`, every
/// object verified.
pub async fn restore(from: &Path, data_dir: &Path, progress: impl FnMut(u64)) -> Result<Copied> {
    let manifest = std::fs::read(from.join(MANIFEST)).map_err(|_| {
        StoreError::Invalid(format!(
            "{} is not a backup: it has no {MANIFEST} (make one with `helpdesk admin backup --out DIR`)",
            from.display()
        ))
    })?;
    let taken: Copied = serde_json::from_slice(&manifest)
        .map_err(|e| StoreError::Invalid(format!("{}: {e}", from.join(MANIFEST).display())))?;
    empty_dir(data_dir, "a restore")?;
    let database = data_dir.join(DATABASE);
    // A copy through SQLite, so that a backup that was served (and so has a
    // WAL beside it) comes back whole.
    let conn = rusqlite::Connection::open(from.join(DATABASE))?;
    conn.execute("VACUUM INTO ?1", [path_str(&database)?])?;
    drop(conn);
    let source = ObjectBlobs::local(&from.join(BLOBS))?;
    let (mut copied, missing) = copy_objects(&source, &database, data_dir, progress).await?;
    if !missing.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the backup lacks {} object(s) its rows name, e.g. {}: it is damaged",
            missing.len(),
            missing[0]
        )));
    }
    copied.snapshot_at = taken.snapshot_at;
    Ok(copied)
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| StoreError::Invalid(format!("{} is not UTF-8", path.display())))
}

fn write_durably(path: &PathBuf, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// What `verify` found.
#[derive(Debug, Default, serde::Serialize)]
pub struct Verified {
    /// Live images (uploads and message images) checked.
    pub images: u64,
    /// Distinct objects they use, each read whole and hashed (unless quick).
    pub objects: u64,
    pub bytes: u64,
    /// Objects a live image uses that storage does not have.
    pub missing: Vec<String>,
    /// Objects whose size or SHA-256 is not what the rows say.
    pub corrupt: Vec<String>,
    /// Stored objects no live image uses (removed at the next `serve` start
    /// when a row still names them; left alone otherwise).
    pub unreferenced: Vec<String>,
}

impl Verified {
    /// True when every live image can be served as it was uploaded.
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty()
    }
}

/// Checks that every live image has its object, of the right size and
/// (with `deep`, reading every object once) SHA-256, and lists stored
/// objects no live image uses; `progress` hears of each object.
pub async fn verify(
    stores: &Stores,
    deep: bool,
    mut progress: impl FnMut(u64),
) -> Result<Verified> {
    let mut report = Verified::default();
    // sha256 -> size, of every live image.
    let mut live: BTreeMap<String, u64> = BTreeMap::new();
    for kind in [RecordKind::Images, RecordKind::MessageImages] {
        let mut after = None;
        loop {
            let page = stores.meta.export(kind, after.as_ref(), 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.cursor());
            for record in page {
                let (sha256, size, deleted) = match record {
                    Record::Image(r) => (r.sha256, r.size, r.deleted_at.is_some()),
                    Record::MessageImage(r) => (r.sha256, r.size, r.deleted_at.is_some()),
                    _ => continue,
                };
                if !deleted {
                    report.images += 1;
                    live.insert(sha256, size as u64);
                }
            }
        }
    }
    for (sha256, size) in &live {
        report.objects += 1;
        progress(report.objects);
        match stores.blobs.stat(sha256).await? {
            None => report.missing.push(sha256.clone()),
            Some(stored) if stored != *size => report.corrupt.push(sha256.clone()),
            Some(_) if !deep => report.bytes += size,
            Some(_) => match digest(stores.blobs.as_ref(), sha256).await {
                Ok(d) if d == *sha256 => report.bytes += size,
                Ok(_) => report.corrupt.push(sha256.clone()),
                Err(StoreError::NotFound { .. }) => report.missing.push(sha256.clone()),
                Err(e) => return Err(e),
            },
        }
    }
    let mut stored = stores.blobs.list();
    let mut seen = HashSet::new();
    while let Some(name) = stored.next().await {
        let name = name?;
        if !live.contains_key(&name) && seen.insert(name.clone()) {
            report.unreferenced.push(name);
        }
    }
    Ok(report)
}
