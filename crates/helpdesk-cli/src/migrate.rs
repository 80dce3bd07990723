//! `helpdesk migrate`: everything from the backends the storage flags name
//! to others, verified, resumable; the last line of stdout is the counts.

use anyhow::{bail, Context, Result};
use clap::Args;
use helpdesk_store::StorageConfig;

#[derive(Args)]
pub struct MigrateArgs {
    /// Where the metadata goes: postgres://USER@HOST/DB or sqlite://PATH.
    #[arg(long)]
    to_database_url: String,
    /// Where the images go: s3://BUCKET[/PREFIX] or file:///PATH.
    #[arg(long)]
    to_blob_url: String,
}

pub async fn run(source: &StorageConfig, args: MigrateArgs) -> Result<()> {
    let destination = StorageConfig {
        data_dir: source.data_dir.clone(),
        database_url: Some(args.to_database_url),
        blob_url: Some(args.to_blob_url),
        durable: true,
    };
    if destination.database_url == source.database_url && destination.blob_url == source.blob_url {
        bail!("the destination is the source: name other backends with --to-database-url and --to-blob-url");
    }
    let from = helpdesk_store::open(source)
        .await
        .context("opening the source (the storage flags)")?;
    let to = helpdesk_store::open(&destination)
        .await
        .context("opening the destination (--to-database-url, --to-blob-url)")?;
    let report = helpdesk_store::migrate::migrate(&from, &to, |table, rows| {
        eprintln!("migrate: {table}: {rows} rows");
    })
    .await
    .context("copying (run the same command again to finish)")?;
    for failure in &report.failures {
        eprintln!("migrate: failed: {failure}");
    }
    println!("{}", serde_json::to_string(&report.counts)?);
    if !report.failures.is_empty() {
        bail!(
            "{} object(s) could not be copied or verified (listed above): fix the source or the destination, then run the same command again",
            report.failures.len()
        );
    }
    Ok(())
}
