//! `admin app …`: apps, their secrets and tokens, and where their events
//! go (the URL checked with Feishu's url_verification first).

use anyhow::{bail, Result};
use clap::{Subcommand, ValueEnum};
use helpdesk_core::{ids, scope};
use helpdesk_store::provision::create_app;
use helpdesk_store::{secret, App, AppChange, AppKind, Entity, EventConfig, StoreError, Stores};
use serde_json::{json, Value};

use super::{announce, explain, print};

/// What an app is, as Feishu's developer console has it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Self-built: may call helpdesk APIs.
    Custom,
    /// From the app store: may not.
    Store,
}

/// The scopes this server checks.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    /// Read and write tickets, messages and images.
    #[value(name = "helpdesk:all")]
    HelpdeskAll,
    /// Read tickets, messages and images.
    #[value(name = "helpdesk:all:readonly")]
    HelpdeskReadonly,
    /// Upload images.
    #[value(name = "im:resource")]
    ImResource,
}

impl ScopeArg {
    pub(super) fn name(self) -> &'static str {
        match self {
            ScopeArg::HelpdeskAll => scope::HELPDESK_ALL,
            ScopeArg::HelpdeskReadonly => scope::HELPDESK_READONLY,
            ScopeArg::ImResource => scope::IM_RESOURCE,
        }
    }
}

#[derive(Subcommand)]
pub enum AppCommand {
    /// Prints {"app_id": ..., "app_secret": ...}; the secret is shown only now.
    Create {
        /// The tenant_key of the tenant that owns the app.
        #[arg(long)]
        tenant: String,
        /// A name for people to read.
        #[arg(long)]
        name: String,
        /// Only custom apps may call helpdesk APIs.
        #[arg(long, value_enum, default_value_t = KindArg::Custom)]
        kind: KindArg,
        /// A scope to grant (repeat); default helpdesk:all and im:resource.
        #[arg(long = "scope", value_enum)]
        scopes: Vec<ScopeArg>,
    },
    /// Prints {"apps": [...]}, oldest first; never a secret.
    List {
        /// Only this tenant's apps.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Prints the app; never its secret.
    Show {
        /// The app_id.
        #[arg(long)]
        app: String,
    },
    /// Prints {"app_id": ..., "app_secret": ...} with a new secret; the old
    /// one stops getting tokens at once. Tokens issued before stay valid
    /// (add `revoke-tokens` to end them too).
    RotateSecret {
        /// The app_id.
        #[arg(long)]
        app: String,
    },
    /// The app gets no tokens, and the tokens it holds are refused.
    Disable {
        /// The app_id.
        #[arg(long)]
        app: String,
    },
    /// Undoes `disable`; tokens issued before it work again until they expire.
    Enable {
        /// The app_id.
        #[arg(long)]
        app: String,
    },
    /// Refuses every token the app holds now.
    RevokeTokens {
        /// The app_id.
        #[arg(long)]
        app: String,
    },
    /// Where the app's events go, as Feishu's developer console sets it.
    /// The URL must first answer Feishu's url_verification request with its
    /// challenge. Prints the setting, never the key or the token.
    Events {
        /// The app_id.
        #[arg(long)]
        app: String,
        /// The app's event receiver; '' turns delivery off.
        #[arg(long)]
        url: String,
        /// Encrypt every event (AES-256-CBC) and sign it with this key.
        #[arg(long, default_value = "")]
        encrypt_key: String,
        /// Sent in every event's header.token, for the receiver to check.
        #[arg(long, default_value = "")]
        verification_token: String,
    },
}

pub(super) async fn run(stores: &Stores, command: AppCommand) -> Result<()> {
    let meta = stores.meta.as_ref();
    match command {
        AppCommand::Create {
            tenant,
            name,
            kind,
            scopes,
        } => {
            let kind = match kind {
                KindArg::Custom => AppKind::Custom,
                KindArg::Store => AppKind::Store,
            };
            let scopes: Vec<String> = scopes.iter().map(|s| s.name().to_string()).collect();
            let created = create_app(meta, &tenant, &name, kind, &scopes)
                .await
                .map_err(explain)?;
            print(json!({"app_id": created.app.app_id, "app_secret": created.app_secret}));
        }
        AppCommand::List { tenant } => {
            let apps: Vec<Value> = meta
                .apps(tenant.as_deref())
                .await?
                .iter()
                .map(app_json)
                .collect();
            print(json!({ "apps": apps }));
        }
        AppCommand::Show { app } => {
            let found = meta
                .app(&app)
                .await?
                .ok_or_else(|| explain(StoreError::not_found(Entity::App, app)))?;
            print(app_json(&found));
        }
        AppCommand::RotateSecret { app } => {
            let app_secret = ids::app_secret();
            meta.update_app(&app, AppChange::Secret(&secret::digest(&app_secret)))
                .await
                .map_err(explain)?;
            announce(stores).await;
            print(json!({"app_id": app, "app_secret": app_secret}));
        }
        AppCommand::Disable { app } => {
            meta.update_app(&app, AppChange::Disabled(true))
                .await
                .map_err(explain)?;
            announce(stores).await;
            print(json!({"app_id": app, "disabled": true}));
        }
        AppCommand::Enable { app } => {
            meta.update_app(&app, AppChange::Disabled(false))
                .await
                .map_err(explain)?;
            announce(stores).await;
            print(json!({"app_id": app, "disabled": false}));
        }
        AppCommand::RevokeTokens { app } => {
            meta.revoke_tokens(&app).await.map_err(explain)?;
            announce(stores).await;
            print(json!({"app_id": app, "tokens_revoked": true}));
        }
        AppCommand::Events {
            app,
            url,
            encrypt_key,
            verification_token,
        } => {
            if meta.app(&app).await?.is_none() {
                return Err(explain(StoreError::not_found(Entity::App, app)));
            }
            let config = if url.is_empty() {
                None
            } else {
                let config = EventConfig {
                    url,
                    encrypt_key,
                    verification_token,
                };
                verify_event_url(&config).await?;
                Some(config)
            };
            meta.set_event_config(&app, config.as_ref())
                .await
                .map_err(explain)?;
            announce(stores).await;
            print(match config {
                None => json!({"app_id": app, "url": null}),
                Some(c) => json!({
                    "app_id": app,
                    "url": c.url,
                    "encrypted": !c.encrypt_key.is_empty(),
                    "verification_token": !c.verification_token.is_empty(),
                }),
            });
        }
    }
    Ok(())
}

/// Sends Feishu's url_verification request (sealed as events will be) and
/// checks that the challenge comes back.
async fn verify_event_url(config: &EventConfig) -> Result<()> {
    let challenge = helpdesk_core::events::event_id();
    let request = json!({
        "challenge": challenge,
        "token": config.verification_token,
        "type": "url_verification",
    });
    let http = helpdesk_server::event_client(std::time::Duration::from_secs(10))?;
    let url = &config.url;
    let fix = "make it answer Feishu's url_verification with the challenge (the SDKs' event dispatchers do), then run this again";
    let res = helpdesk_server::post_sealed(&http, url, &request, &config.encrypt_key)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {url} ({}): {fix}", e.without_url()))?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if body.get("challenge").and_then(Value::as_str) != Some(challenge.as_str()) {
        bail!("{url} did not return the challenge (HTTP {status}): {fix}");
    }
    Ok(())
}

fn app_json(app: &App) -> Value {
    json!({
        "app_id": app.app_id,
        "tenant_key": app.tenant_key,
        "name": app.name,
        "kind": app.kind.as_str(),
        "scopes": app.scopes,
        "disabled": app.disabled,
    })
}
