//! `helpdesk admin …`: each command prints one JSON object on stdout.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use helpdesk_core::ids::MessageRef;
use helpdesk_store::cleanup;
use helpdesk_store::provision::{create_app, create_helpdesk};
use helpdesk_store::{AppKind, StorageConfig, StoreError};
use serde_json::json;

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
    /// Images posted in ticket messages.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// The key that signs access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Prints {"tenant_key": ...}.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum AppCommand {
    /// Prints {"app_id": ..., "app_secret": ...}; the secret is shown only now.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// custom (self-built) or store; only custom apps may call helpdesk APIs.
        #[arg(long, default_value = "custom")]
        kind: String,
        /// A scope to grant (repeat); default helpdesk:all and im:resource.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// Refuses every token the app holds now, on every running server within a second.
    RevokeTokens {
        #[arg(long)]
        app: String,
    },
}

#[derive(Subcommand)]
pub enum HelpdeskCommand {
    /// Prints {"helpdesk_id": ..., "helpdesk_token": ...}; the token is shown only now.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ImageCommand {
    /// Deletes a message's image (all of them without --index); its bytes
    /// leave storage once no other message uses them.
    Delete {
        #[arg(long)]
        ticket: String,
        /// The message's id or message_id.
        #[arg(long)]
        msg: String,
        /// Which image of a post, from 0.
        #[arg(long)]
        index: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Replaces the signing key: every token issued so far stops working, on
    /// every running server within a second.
    Rotate,
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

/// One line a person can act on, for the errors an operator can cause.
fn explain(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::NotFound(what) if what.starts_with("tenant") => {
            anyhow::anyhow!(
                "{what} not found: create one with `helpdesk admin tenant create --name NAME`"
            )
        }
        StoreError::NotFound(what) => anyhow::anyhow!("{what} not found"),
        e => anyhow::Error::new(e),
    }
}

pub async fn run(storage: &StorageConfig, command: AdminCommand) -> Result<()> {
    let stores = helpdesk_store::open(storage)
        .await
        .context("opening storage")?;
    let meta = stores.meta.as_ref();
    match command {
        AdminCommand::Tenant {
            command: TenantCommand::Create { name },
        } => {
            let tenant = meta.create_tenant(&name).await?;
            print(json!({"tenant_key": tenant.tenant_key}));
        }
        AdminCommand::App {
            command:
                AppCommand::Create {
                    tenant,
                    name,
                    kind,
                    scopes,
                },
        } => {
            let Some(kind) = AppKind::parse(&kind) else {
                bail!("--kind is custom or store, not {kind:?}");
            };
            let created = create_app(meta, &tenant, &name, kind, &scopes)
                .await
                .map_err(explain)?;
            print(json!({"app_id": created.app.app_id, "app_secret": created.app_secret}));
        }
        AdminCommand::App {
            command: AppCommand::RevokeTokens { app },
        } => {
            meta.revoke_tokens(&app).await.map_err(explain)?;
            print(json!({"app_id": app, "tokens_revoked": true}));
        }
        AdminCommand::Helpdesk {
            command: HelpdeskCommand::Create { tenant, name },
        } => {
            let created = create_helpdesk(meta, &tenant, &name)
                .await
                .map_err(explain)?;
            print(
                json!({"helpdesk_id": created.helpdesk.helpdesk_id, "helpdesk_token": created.helpdesk_token}),
            );
        }
        AdminCommand::Image {
            command: ImageCommand::Delete { ticket, msg, index },
        } => {
            let deleted = cleanup::delete_images(
                meta,
                stores.blobs.as_ref(),
                &ticket,
                MessageRef::parse(&msg),
                index,
            )
            .await
            .map_err(explain)?;
            print(json!({"deleted": deleted}));
        }
        AdminCommand::Keys {
            command: KeysCommand::Rotate,
        } => {
            meta.rotate_signing_key().await?;
            print(json!({"rotated": true}));
        }
    }
    Ok(())
}
