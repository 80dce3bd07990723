//! The `helpdesk admin` command line: every subcommand and flag, with its
//! help. What each does is in `admin/mod.rs`; the app, user and agent
//! commands are in `apps.rs` and `people.rs`, beside what they do.

use std::path::PathBuf;

use clap::Subcommand;

use super::apps::AppCommand;
use super::people::{AgentCommand, UserCommand};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Tenants: the companies that own apps and helpdesks.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Apps: what calls the API, with an app_id and app_secret.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Helpdesks: each has an id and a token, sent as X-Lark-Helpdesk-Authorization.
    Helpdesk {
        #[command(subcommand)]
        command: HelpdeskCommand,
    },
    /// Users of a tenant: the people tickets name (guests and agents).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Agents: users who serve in a helpdesk, and their user access tokens.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Images posted in ticket messages.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// Events recorded for apps: what was delivered, what failed.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// The keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Fixtures: tenants, apps, helpdesks, tickets and more with known ids.
    Fixtures {
        #[command(subcommand)]
        command: AdminFixturesCommand,
    },
    /// Removes tickets, messages, images, FAQs and events (of one tenant,
    /// or all), keeping tenants, apps, helpdesks, agents and fields, so
    /// that a suite can start each test clean; then makes the data dir's
    /// fixtures hold again. Needs --yes unless the data dir is ephemeral or
    /// was made by fixtures.
    Reset {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// Yes, remove them.
        #[arg(long)]
        yes: bool,
    },
    /// The audit trail: every change made by admin, retention, erasure,
    /// quarantine and the API's deletes.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Rescans stored images with clamd (after a signature update); bytes
    /// it finds infected are quarantined: their images answer as deleted
    /// (154404) until `admin quarantine release` or `purge`. Prints what it
    /// scanned and quarantined.
    Scan {
        /// clamd's address: clamd:HOST:PORT or clamd:/path/to/clamd.sock.
        #[arg(long, env = "HELPDESK_SCAN", value_name = "clamd:ADDR")]
        scan: String,
        /// Only images stored since then: a duration ago (`24h`, `7d`) or
        /// an RFC 3339 time (`2026-12-01T00:00:00Z`).
        #[arg(long, value_name = "T")]
        since: Option<String>,
    },
    /// A customer's data: erase what a guest's tickets hold, on request.
    Guest {
        #[command(subcommand)]
        command: GuestCommand,
    },
    /// Tokens that sign in to the inspector console (`serve --console`).
    ConsoleToken {
        #[command(subcommand)]
        command: ConsoleTokenCommand,
    },
    /// Images a scan quarantined.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
    /// Copies the embedded store (database snapshot and images) into DIR
    /// while servers keep serving. DIR holds the signing keys and secret
    /// digests: keep it as safe as the data dir.
    Backup {
        /// A new or empty directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Fills the data dir, which must be empty, from a backup, verifying
    /// every image's SHA-256.
    Restore {
        /// A directory `admin backup` wrote.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
    },
    /// Reads every live image's object and checks its size and SHA-256, on
    /// any backend; lists objects no image uses. Exits 1 if any is missing
    /// or corrupt.
    Verify {
        /// Check sizes only, without reading the objects.
        #[arg(long)]
        quick: bool,
    },
}

#[derive(Subcommand)]
pub enum AdminFixturesCommand {
    /// Makes storage hold a fixtures file now, running servers included;
    /// what it does not name is untouched. Prints what changed.
    Apply {
        /// A TOML file (JSON when its name ends in .json).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Prints {"tenant_key": ...}.
    Create {
        /// A name for people to read.
        #[arg(long)]
        name: String,
    },
    /// Prints {"tenants": [...]}, oldest first.
    List,
    /// Sets a tenant's limits; prints them as `show` does.
    Set {
        /// The tenant's key.
        #[arg(long)]
        tenant: String,
        /// The most bytes its live uploaded images may hold (`none`: no
        /// limit); an upload past it is refused with 234902.
        #[arg(long, value_name = "N|none")]
        max_bytes: Option<String>,
        /// How long the images of its messages are kept (`30d`, `12h`,
        /// `90s`; `none`: the server's --retain).
        #[arg(long, value_name = "DURATION|none")]
        retain: Option<String>,
    },
    /// Prints a tenant's limits and what it uses:
    /// {"tenant_key", "used_bytes", "max_bytes", "retain"}.
    Show {
        /// The tenant's key.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Prints the entries as JSON lines, oldest first, each with `at`
    /// (RFC 3339), `actor` (admin, retention, scan, or an app id),
    /// `action`, and the tenant, target and detail where there are.
    List {
        /// Entries since then: a duration ago (`24h`) or an RFC 3339 time.
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum GuestCommand {
    /// Deletes every image of every ticket the guest started (whoever
    /// posted it: a customer's screenshots reach the helpdesk through
    /// agents too), and with --messages the text of their messages.
    /// Prints what it removed; running it again removes nothing more.
    Erase {
        /// The tenant whose helpdesks the guest's tickets are in.
        #[arg(long)]
        tenant: String,
        /// The guest's open_id (ou_...).
        #[arg(long, value_name = "OPEN_ID")]
        open_id: String,
        /// Also empty the text of every message of those tickets.
        #[arg(long)]
        messages: bool,
        /// Print what it would remove, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum ConsoleTokenCommand {
    /// Prints {"token": ..., "token_id": ...}: sign in at the console's
    /// /login?token=TOKEN. The token is shown once and kept as its SHA-256.
    Create {
        /// Sees this tenant only (anything of another answers 404); without
        /// it, every tenant.
        #[arg(long, value_name = "TENANT_KEY")]
        tenant: Option<String>,
        /// May look but not act (no redelivery).
        #[arg(long)]
        read_only: bool,
    },
    /// Prints {"console_tokens": [...]}, revoked ones included (never the
    /// tokens).
    List,
    /// Ends the token and every session it opened, at their next request.
    Revoke {
        /// As `console-token list` shows it (ct_...).
        #[arg(long, value_name = "ID")]
        token_id: String,
    },
}

#[derive(Subcommand)]
pub enum QuarantineCommand {
    /// Prints {"quarantined": [...]}: the bytes, the signature that
    /// matched, and the images each hides.
    List,
    /// Serves the images of these bytes again (a false positive).
    Release {
        /// The quarantined bytes' SHA-256, as `quarantine list` shows it.
        #[arg(long, value_name = "SHA256")]
        sha256: String,
    },
    /// Deletes every image with these bytes for good, and the bytes.
    Purge {
        /// The quarantined bytes' SHA-256, as `quarantine list` shows it.
        #[arg(long, value_name = "SHA256")]
        sha256: String,
    },
}

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Prints {"events": [...]}: an app's events, newest first.
    List {
        /// The app_id.
        #[arg(long)]
        app: String,
        /// Only those whose retry schedule is spent.
        #[arg(long)]
        failed: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Prints {"event": {...}, "attempts": [...]}: one event (its payload,
    /// state and next retry) and each delivery attempt kept, oldest first
    /// (the headers sent; the answer's status, headers and first 64 KiB of
    /// body, as text when UTF-8, else base64; or the error).
    Show {
        /// The event_id.
        #[arg(long, visible_alias = "event-id")]
        event: String,
    },
    /// Sends an event again from now, on a fresh retry schedule: a new
    /// attempt of the same event_id, numbered after the others.
    Redeliver {
        /// The event_id.
        #[arg(long, visible_alias = "event-id")]
        event: String,
    },
}

#[derive(Subcommand)]
pub enum HelpdeskCommand {
    /// Prints {"helpdesk_id": ..., "helpdesk_token": ...}; the token is shown only now.
    Create {
        /// The tenant_key of the tenant that owns the helpdesk.
        #[arg(long)]
        tenant: String,
        /// A name for people to read.
        #[arg(long)]
        name: String,
    },
    /// Prints {"helpdesks": [...]}, oldest first; never a token.
    List {
        /// Only this tenant's helpdesks.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Prints {"helpdesk_id": ..., "helpdesk_token": ...} with a new token;
    /// the old credential stops working at once.
    RotateToken {
        /// The helpdesk_id.
        #[arg(long)]
        helpdesk: String,
    },
}

#[derive(Subcommand)]
pub enum ImageCommand {
    /// Deletes a message's image (all of them without --index), or with
    /// --key an uploaded image (im/v1 image get and the FAQs holding it then
    /// answer it deleted; messages that posted it keep theirs); its bytes
    /// leave storage once nothing else uses them.
    Delete {
        /// The ticket_id.
        #[arg(long, required_unless_present = "key", conflicts_with = "key")]
        ticket: Option<String>,
        /// The message's id or message_id.
        #[arg(long, required_unless_present = "key", conflicts_with = "key")]
        msg: Option<String>,
        /// Which image of a post, from 0.
        #[arg(long, conflicts_with = "key")]
        index: Option<u32>,
        /// An uploaded image's image_key (img_v3_...).
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Signs new tokens with a new key; tokens signed by earlier keys stay
    /// valid until they expire, unless --revoke.
    Rotate {
        /// Also refuse every token issued so far.
        #[arg(long)]
        revoke: bool,
    },
}
