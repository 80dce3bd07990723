//! `helpdesk`: the server, its administration, and the demo.

mod admin;
mod demo;
mod images;
mod migrate;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use helpdesk_store::StorageConfig;

#[derive(Parser)]
#[command(
    name = "helpdesk",
    version,
    about = "A self-hostable, Feishu-compatible helpdesk ticket-image service"
)]
struct Cli {
    #[command(flatten)]
    storage: StorageArgs,
    #[command(subcommand)]
    command: Command,
}

/// Where data lives; the same for `serve` and `admin`, so both can run at once.
#[derive(Args, Debug)]
struct StorageArgs {
    /// Directory for the embedded database, the image files and upload spools.
    #[arg(
        long,
        global = true,
        env = "HELPDESK_DATA_DIR",
        default_value = "./helpdesk-data"
    )]
    data_dir: PathBuf,
    /// Metadata database URL (default: sqlite in the data dir).
    #[arg(long, global = true, env = "HELPDESK_DATABASE_URL")]
    database_url: Option<String>,
    /// Blob storage URL (default: files in the data dir).
    #[arg(long, global = true, env = "HELPDESK_BLOB_URL")]
    blob_url: Option<String>,
}

impl StorageArgs {
    fn config(&self) -> StorageConfig {
        StorageConfig {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            blob_url: self.blob_url.clone(),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// Provision tenants, apps and helpdesks, and delete images. Prints one JSON object.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Download a ticket's images from Feishu or a helpdesk server.
    Images {
        #[command(subcommand)]
        command: images::ImagesCommand,
    },
    /// Copy every tenant, app, helpdesk, ticket, message, image and signing
    /// key from the backends the storage flags name to others, verifying each
    /// image's SHA-256. Interrupted, it finishes when run again.
    Migrate(migrate::MigrateArgs),
    /// Print a shell completion script, e.g.
    /// `helpdesk completions bash > /etc/bash_completion.d/helpdesk`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// glibc's malloc showed as ~6% of a cached download's time in perf;
/// mimalloc's thread-local free lists cut it (see the README's figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let storage = cli.storage.config();
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(&storage, args).await,
            Command::Admin { command } => admin::run(&storage, command).await,
            Command::Images { command } => images::run(command).await,
            Command::Migrate(args) => migrate::run(&storage, args).await,
            Command::Completions { shell } => {
                use clap::CommandFactory;
                clap_complete::generate(
                    shell,
                    &mut Cli::command(),
                    "helpdesk",
                    &mut std::io::stdout(),
                );
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
