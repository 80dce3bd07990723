//! `helpdesk`: the server, its administration, and the demo.

mod admin;
mod console;
mod demo;
mod faq_images;
mod fixtures;
mod images;
mod logging;
mod metrics;
mod migrate;
mod serve;
mod settings;
mod tickets;

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
    /// A TOML file of settings, keyed by long flag names with `_` for `-`
    /// (see deploy/helpdesk.example.toml); flags and the environment override it.
    #[arg(long, global = true, env = "HELPDESK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Where data lives; the same for `serve`, `admin` and `migrate`, so that
/// they can run at once.
#[derive(Args, Debug)]
pub struct StorageArgs {
    /// Directory for the embedded database, the image files and upload spools.
    #[arg(
        long,
        global = true,
        env = "HELPDESK_DATA_DIR",
        default_value = "./helpdesk-data"
    )]
    data_dir: PathBuf,
    /// Metadata database: sqlite://PATH or postgres://USER@HOST/DB (default:
    /// helpdesk.db in the data dir).
    #[arg(long, global = true, env = "HELPDESK_DATABASE_URL")]
    database_url: Option<String>,
    /// Image storage: file:///PATH or s3://BUCKET[/PREFIX] (default: blobs/
    /// in the data dir); S3 reads the AWS_* variables.
    #[arg(long, global = true, env = "HELPDESK_BLOB_URL")]
    blob_url: Option<String>,
}

impl StorageArgs {
    pub fn config(&self) -> StorageConfig {
        StorageConfig {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            blob_url: self.blob_url.clone(),
            durable: true,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(Box<serve::ServeArgs>),
    /// Provision and manage tenants, apps, helpdesks, images and signing
    /// keys; back up, restore and verify. Prints one JSON object.
    Admin {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Download a ticket's or an FAQ's images from Feishu or a helpdesk server.
    Images {
        #[command(subcommand)]
        command: images::ImagesCommand,
    },
    /// List, show and update tickets on Feishu or a helpdesk server.
    Tickets {
        #[command(subcommand)]
        command: tickets::TicketsCommand,
    },
    /// Copy every tenant, app, helpdesk, ticket, message, image and signing
    /// key from the backends the storage flags name to others, verifying each
    /// image's SHA-256. Interrupted, it finishes when run again.
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        args: migrate::MigrateArgs,
    },
    /// Check a fixtures file (see `serve --fixtures`) without storage.
    Fixtures {
        #[command(subcommand)]
        command: fixtures::FixturesCommand,
    },
    /// Print a shell completion script, e.g.
    /// `helpdesk completions bash > /etc/bash_completion.d/helpdesk`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// glibc's malloc showed as ~6% of a cached download's time in perf;
/// mimalloc's thread-local free lists cut it (see the README's figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Once to find the config file, then again with its values beneath
    // the flags and the environment.
    if let Some(path) = Cli::parse().config {
        if let Err(e) = settings::load(&path) {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `serve --log-format json` writes nothing but JSON lines, its last
    // error included.
    let json_errors = matches!(&cli.command, Command::Serve(args) if args.json_log());
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(*args).await,
            Command::Admin { storage, command } => {
                logging::init_for_tools();
                admin::run(&storage.config(), command).await
            }
            Command::Images { command } => {
                logging::init_for_tools();
                images::run(command).await
            }
            Command::Tickets { command } => {
                logging::init_for_tools();
                tickets::run(command).await
            }
            Command::Migrate { storage, args } => {
                logging::init_for_tools();
                migrate::run(&storage.config(), args).await
            }
            Command::Fixtures { command } => {
                logging::init_for_tools();
                fixtures::run(command)
            }
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
        Err(e) if json_errors => {
            eprintln!(
                "{}",
                serde_json::json!({"level": "ERROR", "message": format!("{e:#}")})
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every flag and argument of every command, with the path to it.
    fn args(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Option<String>)>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            out.push((
                format!("{path} --{}", arg.get_long().unwrap_or(id)),
                arg.get_help().map(|h| h.to_string()),
            ));
        }
        for sub in cmd.get_subcommands() {
            args(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn the_command_line_is_consistent_and_every_flag_has_help() {
        Cli::command().debug_assert();
        let mut all = Vec::new();
        args(&Cli::command(), "helpdesk", &mut all);
        let bare: Vec<&String> = all
            .iter()
            .filter(|(_, help)| help.as_deref().is_none_or(str::is_empty))
            .map(|(path, _)| path)
            .collect();
        assert!(bare.is_empty(), "flags without help: {bare:?}");
        assert!(all.len() > 40, "{}", all.len());
    }

    #[test]
    fn storage_flags_are_offered_only_where_they_are_used() {
        let cli = Cli::command();
        for name in ["serve", "admin", "migrate"] {
            let sub = cli.find_subcommand(name).unwrap();
            assert!(
                sub.get_arguments()
                    .any(|a| a.get_long() == Some("data-dir")),
                "{name}"
            );
        }
        for name in ["images", "tickets", "fixtures", "completions"] {
            let sub = cli.find_subcommand(name).unwrap();
            let mut all = Vec::new();
            args(sub, name, &mut all);
            assert!(
                all.iter()
                    .all(|(p, _)| !p.ends_with("--data-dir") && !p.ends_with("--database-url")),
                "{name}: {all:?}"
            );
        }
    }
}
