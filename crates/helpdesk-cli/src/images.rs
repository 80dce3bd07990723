//! `helpdesk images …`: download a ticket's or an FAQ's images from Feishu
//! or from a helpdesk server, through the Rust SDK. The FAQ's export is in
//! `faq_images.rs`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use futures::{StreamExt, TryStreamExt};
use helpdesk_client::{Client, Error, ListMessages, TicketMessage};
use helpdesk_core::wire::code;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where the API is and who calls it (`images` and `tickets`).
#[derive(Args, Debug)]
pub(crate) struct Remote {
    /// The API's base URL.
    #[arg(long, env = "HELPDESK_BASE_URL", default_value = helpdesk_client::FEISHU_BASE_URL)]
    pub(crate) base_url: String,
    /// The app's app_id (cli_...).
    #[arg(long, env = "HELPDESK_APP_ID")]
    app_id: String,
    /// Prefer the environment variable: a flag shows in the process list.
    #[arg(long, env = "HELPDESK_APP_SECRET", hide_env_values = true)]
    app_secret: String,
    /// The helpdesk's id.
    #[arg(long, env = "HELPDESK_HELPDESK_ID")]
    helpdesk_id: String,
    /// The helpdesk's token; prefer the environment variable.
    #[arg(long, env = "HELPDESK_HELPDESK_TOKEN", hide_env_values = true)]
    helpdesk_token: String,
}

impl Remote {
    pub(crate) fn client(&self) -> Result<Client> {
        Ok(Client::builder(&self.app_id, &self.app_secret)
            .base_url(&self.base_url)
            .helpdesk(&self.helpdesk_id, &self.helpdesk_token)
            .build()?)
    }
}

#[derive(Subcommand)]
pub enum ImagesCommand {
    /// Download one image of a ticket's message (--ticket, --msg) or of an
    /// FAQ's answer (--faq, --key).
    Get {
        #[command(flatten)]
        remote: Remote,
        /// The ticket's id.
        #[arg(long, required_unless_present = "faq", conflicts_with = "faq")]
        ticket: Option<String>,
        /// The message's id or message_id.
        #[arg(long, required_unless_present = "faq", conflicts_with = "faq")]
        msg: Option<String>,
        /// Which image of a post, from 0; not needed for an image message.
        #[arg(long, conflicts_with = "faq")]
        index: Option<u32>,
        /// The FAQ's id (with --key).
        #[arg(long, requires = "key")]
        faq: Option<String>,
        /// The image_key of an image element of the FAQ's answer.
        #[arg(long, requires = "faq")]
        key: Option<String>,
        /// Where to write it (`-` for stdout); default: the server's file name.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Download every image of every message of a ticket (--ticket), or every
    /// image of an FAQ's answer (--faq), into a directory, with a
    /// manifest.json; a re-run downloads only what is missing or changed.
    Export {
        #[command(flatten)]
        remote: Remote,
        /// The ticket's id.
        #[arg(long, required_unless_present = "faq", conflicts_with = "faq")]
        ticket: Option<String>,
        /// The FAQ's id: its answer's image elements, in order.
        #[arg(long)]
        faq: Option<String>,
        /// The directory to fill (made if missing).
        #[arg(long)]
        out: PathBuf,
        /// Downloads at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
}

/// The errors a person can act on, in one line with what to do.
pub(crate) fn explain(e: Error, base_url: &str) -> anyhow::Error {
    match &e {
        Error::Api(api)
            if matches!(
                api.code,
                code::TOKEN_INVALID_PARAM | code::APP_SECRET_INVALID
            ) =>
        {
            anyhow!("the app id or secret was refused ({e}): check HELPDESK_APP_ID and HELPDESK_APP_SECRET")
        }
        Error::Api(api) if api.code == code::FORBIDDEN => {
            anyhow!("access refused ({e}): check HELPDESK_HELPDESK_ID and HELPDESK_HELPDESK_TOKEN, and that the app is a custom app of the helpdesk's tenant")
        }
        Error::Api(api) if api.code == code::SCOPE_REQUIRED => {
            anyhow!("{e}: grant the app that scope")
        }
        Error::Transport { url, source } => {
            // reqwest nests the cause several levels down; the innermost says it.
            let cause = helpdesk_core::error::root_cause(source);
            anyhow!("cannot reach {url}: {cause}: check --base-url / HELPDESK_BASE_URL ({base_url}) and the network")
        }
        _ => anyhow::Error::new(e),
    }
}

pub async fn run(command: ImagesCommand) -> Result<()> {
    match command {
        ImagesCommand::Get {
            remote,
            ticket,
            msg,
            index,
            faq,
            key,
            output,
        } => {
            let client = remote.client()?;
            let image = match (faq, key, ticket, msg) {
                (Some(faq), Some(key), _, _) => client.faq_image(&faq, &key).await,
                (_, _, Some(ticket), Some(msg)) => client.ticket_image(&ticket, &msg, index).await,
                _ => bail!("give --ticket with --msg, or --faq with --key"),
            }
            .map_err(|e| explain(e, &remote.base_url))?;
            if output.as_deref() == Some(Path::new("-")) {
                let mut stdout = tokio::io::stdout();
                let mut stream = std::pin::pin!(image.bytes_stream());
                while let Some(chunk) = stream.next().await {
                    tokio::io::AsyncWriteExt::write_all(&mut stdout, &chunk?).await?;
                }
                tokio::io::AsyncWriteExt::flush(&mut stdout).await?;
                return Ok(());
            }
            let path = output.unwrap_or_else(|| {
                PathBuf::from(image.file_name.clone().unwrap_or_else(|| "image".into()))
            });
            let written = image.save(&path).await?;
            eprintln!("saved {} ({written} bytes)", path.display());
            Ok(())
        }
        ImagesCommand::Export {
            remote,
            ticket,
            faq,
            out,
            concurrency,
        } => match (faq, ticket) {
            (Some(faq), _) => {
                crate::faq_images::export(&remote, &faq, &out, concurrency.into()).await
            }
            (None, Some(ticket)) => export(&remote, &ticket, &out, concurrency.into()).await,
            (None, None) => bail!("give --ticket or --faq"),
        },
    }
}

/// One line of manifest.json.
type Entry = helpdesk_core::export::ManifestEntry;
type Manifest = helpdesk_core::export::Manifest;

/// One image to fetch.
struct Job {
    message: TicketMessage,
    /// What to send as `index` (none for an image message).
    index: Option<u32>,
}

impl Job {
    fn position(&self) -> u32 {
        self.index.unwrap_or(0)
    }
}

enum Done {
    Downloaded(Entry),
    Unchanged(Entry),
}

pub(crate) async fn sha256_of(path: &Path) -> std::io::Result<(u64, String)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let size = std::io::copy(&mut file, &mut hasher)?;
        Ok((size, hex::encode(hasher.finalize())))
    })
    .await
    .map_err(std::io::Error::other)?
}

pub(crate) use helpdesk_core::export::clean;
use helpdesk_core::export::file_name;

/// The extension to save a download under: its content type's, else its
/// file name's, else `bin`.
pub(crate) fn extension_of(image: &helpdesk_client::TicketImage) -> String {
    image
        .extension()
        .map(str::to_string)
        .or_else(|| {
            image
                .file_name
                .as_deref()
                .and_then(|n| n.rsplit_once('.'))
                .map(|(_, e)| e.to_string())
        })
        .unwrap_or_else(|| "bin".into())
}

/// Writes `value` as `path` atomically (a temporary file, then a rename).
pub(crate) async fn write_manifest(path: &Path, value: &impl Serialize) -> Result<()> {
    let tmp = path.with_file_name(".manifest.json.partial");
    tokio::fs::write(&tmp, serde_json::to_vec_pretty(value)?).await?;
    tokio::fs::rename(&tmp, path).await?;
    Ok(())
}

async fn fetch(
    client: &Client,
    ticket: &str,
    out: &Path,
    job: &Job,
    before: Option<&Entry>,
) -> Result<Done> {
    if let Some(prev) = before {
        let path = out.join(&prev.file_name);
        if let Ok((size, sha)) = sha256_of(&path).await {
            if size == prev.size && sha == prev.sha256 {
                return Ok(Done::Unchanged(prev.clone()));
            }
        }
    }
    let image = client
        .ticket_image(ticket, &job.message.id, job.index)
        .await?;
    let content_type = image.content_type.clone().unwrap_or_default();
    let ext = extension_of(&image);
    let name = file_name(
        job.message.created_at,
        &job.message.id,
        job.position(),
        &ext,
    );
    let path = out.join(&name);
    image.save(&path).await?;
    let (size, sha256) = sha256_of(&path)
        .await
        .with_context(|| format!("reading back {}", path.display()))?;
    Ok(Done::Downloaded(Entry {
        message_id: job.message.id.clone(),
        message_om_id: job.message.message_id.clone(),
        created_at: job.message.created_at,
        index: job.position(),
        file_name: name,
        size,
        sha256,
        content_type,
    }))
}

async fn export(remote: &Remote, ticket: &str, out: &Path, concurrency: usize) -> Result<()> {
    let client = remote.client()?;
    let messages: Vec<TicketMessage> = client
        .messages(ticket, ListMessages::default())
        .try_collect()
        .await
        .map_err(|e| explain(e, &remote.base_url))?;
    let jobs: Vec<Job> = messages
        .into_iter()
        .flat_map(|m| {
            m.image_indexes().into_iter().map(move |index| Job {
                message: m.clone(),
                index,
            })
        })
        .collect();
    tokio::fs::create_dir_all(out)
        .await
        .with_context(|| format!("creating {}", out.display()))?;
    let manifest_path = out.join("manifest.json");
    let previous: HashMap<(String, u32), Entry> = match tokio::fs::read(&manifest_path).await {
        Ok(bytes) => serde_json::from_slice::<Manifest>(&bytes)
            .map(|m| {
                m.images
                    .into_iter()
                    .map(|e| ((e.message_id.clone(), e.index), e))
                    .collect()
            })
            .unwrap_or_default(),
        Err(_) => HashMap::new(),
    };

    let total = jobs.len();
    let progress = Progress::new(total as u64);
    let results: Vec<(&Job, Result<Done>)> = futures::stream::iter(jobs.iter())
        .map(|job| {
            let client = &client;
            let previous = &previous;
            let progress = &progress;
            async move {
                let before = previous.get(&(job.message.id.clone(), job.position()));
                let result = fetch(client, ticket, out, job, before).await;
                progress.finished(&job_label(job), result.as_ref().map(done_line));
                (job, result)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    progress.clear();

    let mut entries = Vec::new();
    let mut failures = Vec::new();
    let (mut downloaded, mut unchanged, mut bytes) = (0, 0, 0u64);
    for (job, result) in results {
        match result {
            Ok(Done::Downloaded(e)) => {
                downloaded += 1;
                bytes += e.size;
                entries.push(e);
            }
            Ok(Done::Unchanged(e)) => {
                unchanged += 1;
                entries.push(e);
            }
            Err(e) => failures.push(format!(
                "message {} image {}: {e:#}",
                job.message.id,
                job.position()
            )),
        }
    }
    // The ticket's own order: as listed, then by index.
    let order: HashMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.message.id.as_str(), i))
        .rev()
        .collect();
    entries.sort_by_key(|e| (order.get(e.message_id.as_str()).copied(), e.index));
    let manifest = Manifest {
        ticket_id: ticket.to_string(),
        images: entries,
    };
    write_manifest(&manifest_path, &manifest).await?;

    eprintln!(
        "{total} image(s): {downloaded} downloaded ({bytes} bytes), {unchanged} already present, {} failed; manifest: {}",
        failures.len(),
        manifest_path.display()
    );
    for f in &failures {
        eprintln!("failed: {f}");
    }
    if !failures.is_empty() {
        bail!(
            "{} of {total} image(s) could not be downloaded (listed above)",
            failures.len()
        );
    }
    Ok(())
}

fn job_label(job: &Job) -> String {
    format!("message {} image {}", job.message.id, job.position())
}

/// What a progress line says of a finished download, and its bytes.
fn done_line(done: &Done) -> (String, u64) {
    match done {
        Done::Downloaded(e) => (format!("saved {} ({} bytes)", e.file_name, e.size), e.size),
        Done::Unchanged(e) => (format!("unchanged {}", e.file_name), 0),
    }
}

/// A progress bar on a terminal, plain lines elsewhere.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

impl Progress {
    pub(crate) fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} images, {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            total,
            done: Default::default(),
            bytes: Default::default(),
        }
    }

    /// One download finished: `result` is what to say of it and the bytes
    /// it wrote, or its error; `label` names it in a failure's line.
    pub(crate) fn finished(&self, label: &str, result: Result<(String, u64), &anyhow::Error>) {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.done.fetch_add(1, SeqCst) + 1;
        let (what, size) = match result {
            Ok(done) => done,
            Err(e) => (format!("FAILED {label}: {e:#}"), 0),
        };
        let bytes = self.bytes.fetch_add(size, SeqCst) + size;
        match &self.bar {
            Some(bar) => {
                bar.set_position(n);
                bar.set_message(format!("{bytes} bytes"));
            }
            None => eprintln!("[{n}/{}] {what}", self.total),
        }
    }

    pub(crate) fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
