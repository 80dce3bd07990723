//! `serve --fixtures`, `admin fixtures apply` and `fixtures check`: the CLI
//! around `helpdesk_store::fixtures`, and the marks a data dir keeps of how
//! it was made (which `admin reset` reads).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use helpdesk_store::fixtures::{Applied, Fixtures};
use helpdesk_store::{StorageConfig, Stores};
use serde_json::json;

/// In a data dir: the absolute path of the fixtures file last applied.
const DECLARED: &str = "fixtures.path";
/// In a data dir `serve --ephemeral` made.
const EPHEMERAL: &str = ".ephemeral";

#[derive(Subcommand)]
pub enum FixturesCommand {
    /// Checks a fixtures file without storage: the images it names are read
    /// and sniffed. Prints what it declares; exits 1 naming the first
    /// problem's line and key.
    Check {
        /// A TOML file (JSON when its name ends in .json).
        file: PathBuf,
    },
}

/// Reads and checks a file; its error is one line naming the file, the line
/// and the key.
pub fn load(path: &Path) -> Result<Fixtures> {
    helpdesk_store::fixtures::load(path)
        .map_err(|e| anyhow::anyhow!("{e} (nothing was applied; see deploy/fixtures.example.toml)"))
}

/// Applies checked fixtures and marks the data dir as declared by them.
pub async fn apply(
    stores: &Stores,
    storage: &StorageConfig,
    fixtures: &Fixtures,
) -> Result<Applied> {
    let applied = fixtures
        .apply(stores.meta.as_ref(), stores.blobs.as_ref())
        .await
        .with_context(|| format!("applying the fixtures {}", fixtures.path.display()))?;
    let path = std::fs::canonicalize(&fixtures.path).unwrap_or_else(|_| fixtures.path.clone());
    std::fs::write(
        storage.data_dir.join(DECLARED),
        path.to_string_lossy().as_bytes(),
    )
    .with_context(|| format!("writing {} in the data dir", DECLARED))?;
    tracing::info!(
        file = %fixtures.path.display(),
        changed = applied.changed,
        "fixtures applied"
    );
    Ok(applied)
}

/// The fixtures file this data dir was last made to hold, if any.
pub fn declared(data_dir: &Path) -> Option<PathBuf> {
    std::fs::read_to_string(data_dir.join(DECLARED))
        .ok()
        .map(|p| PathBuf::from(p.trim()))
}

pub fn mark_ephemeral(data_dir: &Path) -> Result<()> {
    std::fs::write(data_dir.join(EPHEMERAL), b"removed when its server stops\n")
        .context("marking the ephemeral data dir")
}

pub fn is_ephemeral(data_dir: &Path) -> bool {
    data_dir.join(EPHEMERAL).exists()
}

pub fn run(command: FixturesCommand) -> Result<()> {
    match command {
        FixturesCommand::Check { file } => {
            let fixtures = load(&file)?;
            println!(
                "{}",
                json!({"ok": true, "file": file.display().to_string(), "declares": fixtures.summary()})
            );
            Ok(())
        }
    }
}
