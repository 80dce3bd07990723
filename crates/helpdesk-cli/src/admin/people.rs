//! `admin user …` and `admin agent …`: a tenant's people, a helpdesk's
//! agents, and an agent's user_access_token for an app.

use anyhow::{bail, Result};
use clap::Subcommand;
use helpdesk_store::{Entity, MetadataStore, StoreError, Stores};
use serde_json::json;

use super::{announce, explain, print};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Prints {"open_id": "ou_...", ...}.
    Create {
        /// The tenant_key of the user's tenant.
        #[arg(long)]
        tenant: String,
        /// The name tickets show.
        #[arg(long)]
        name: String,
        /// The user's e-mail address.
        #[arg(long, default_value = "")]
        email: String,
    },
}

#[derive(Subcommand)]
pub enum AgentCommand {
    /// Makes a user of the helpdesk's tenant who serves in it; prints
    /// {"agent_id": "ou_...", ...}.
    Create {
        /// The helpdesk the agent serves in.
        #[arg(long)]
        helpdesk: String,
        /// The name tickets show.
        #[arg(long)]
        name: String,
        /// The agent's e-mail address.
        #[arg(long, default_value = "")]
        email: String,
    },
    /// Prints {"agents": [...]}, oldest first.
    List {
        /// The helpdesk whose agents to list.
        #[arg(long)]
        helpdesk: String,
    },
    /// Refuses the agent's user access tokens from the next request on, and
    /// gives it no new tickets.
    Disable {
        /// The agent's id (its open_id).
        #[arg(long)]
        agent: String,
    },
    /// Lets a disabled agent work again (its earlier tokens too, if unexpired).
    Enable {
        /// The agent's id (its open_id).
        #[arg(long)]
        agent: String,
    },
    /// Prints {"user_access_token": "u-...", "expires_in": 7200}: the agent's
    /// token for calls Feishu's SDKs make as a user (ticket update, custom
    /// fields), valid 2 hours on every replica; `app revoke-tokens` and
    /// `agent disable` refuse it.
    Token {
        /// The agent's id (its open_id).
        #[arg(long)]
        agent: String,
        /// The app the token is for: a custom app of the agent's tenant.
        #[arg(long)]
        app: String,
    },
}

pub(super) async fn user(meta: &dyn MetadataStore, command: UserCommand) -> Result<()> {
    let UserCommand::Create {
        tenant,
        name,
        email,
    } = command;

    let user = meta
        .create_user(&tenant, &name, &email)
        .await
        .map_err(explain)?;
    print(
        json!({"open_id": user.open_id, "tenant_key": user.tenant_key, "name": user.name, "email": user.email}),
    );
    Ok(())
}

pub(super) async fn agent(stores: &Stores, command: AgentCommand) -> Result<()> {
    let meta = stores.meta.as_ref();
    match command {
        AgentCommand::Create {
            helpdesk,
            name,
            email,
        } => {
            let agent = meta
                .create_agent(&helpdesk, &name, &email)
                .await
                .map_err(explain)?;
            print(json!(agent));
        }
        AgentCommand::List { helpdesk } => {
            let agents = meta.agents(&helpdesk).await?;
            print(json!({ "agents": agents }));
        }
        AgentCommand::Disable { agent } => {
            meta.set_agent_disabled(&agent, true)
                .await
                .map_err(explain)?;
            announce(stores).await;
            print(json!({"agent_id": agent, "disabled": true}));
        }
        AgentCommand::Enable { agent } => {
            meta.set_agent_disabled(&agent, false)
                .await
                .map_err(explain)?;
            announce(stores).await;
            print(json!({"agent_id": agent, "disabled": false}));
        }
        AgentCommand::Token { agent, app } => {
            let found = meta
                .agent(&agent)
                .await?
                .ok_or_else(|| explain(StoreError::not_found(Entity::Agent, &agent)))?;
            if found.disabled {
                bail!("agent {agent} is disabled: enable it with `helpdesk admin agent enable --agent {agent}` first");
            }
            let app_row = meta
                .app(&app)
                .await?
                .ok_or_else(|| explain(StoreError::not_found(Entity::App, &app)))?;
            let helpdesk_tenant = meta
                .helpdesks(None)
                .await?
                .into_iter()
                .find(|h| h.helpdesk_id == found.helpdesk_id)
                .map(|h| h.tenant_key);
            if helpdesk_tenant.as_deref() != Some(app_row.tenant_key.as_str()) {
                bail!("app {app} is not of agent {agent}'s tenant: give an app of the tenant that owns helpdesk {}", found.helpdesk_id);
            }
            if app_row.disabled {
                bail!("app {app} is disabled: enable it with `helpdesk admin app enable --app {app}` first");
            }
            let signer = helpdesk_store::tokens::TokenSigner::new(meta.signing_keys().await?);
            let issued = signer.issue_user(
                &app,
                &agent,
                app_row.tokens_not_before,
                helpdesk_store::now(),
                helpdesk_store::tokens::TOKEN_LIFETIME,
            );
            print(json!({
                "user_access_token": issued.token,
                "expires_in": issued.expire,
                "agent_id": agent,
                "app_id": app,
            }));
        }
    }
    Ok(())
}
