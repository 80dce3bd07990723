//! Creating tenants, apps and helpdesks: the secrets are made here, returned
//! once, and only their digests are stored.

use helpdesk_core::{ids, scope};

use crate::{secret, App, AppKind, DirectoryRepo, Helpdesk, NewApp, Result, StoreError};

/// A new app and its secret, which is not kept anywhere.
pub struct CreatedApp {
    pub app: App,
    pub app_secret: String,
}

/// A new helpdesk and its token, which is not kept anywhere.
pub struct CreatedHelpdesk {
    pub helpdesk: Helpdesk,
    pub helpdesk_token: String,
}

/// Creates an app; with no scopes named it gets `helpdesk:all` and `im:resource`.
pub async fn create_app(
    directory: &dyn DirectoryRepo,
    tenant_key: &str,
    name: &str,
    kind: AppKind,
    scopes: &[String],
) -> Result<CreatedApp> {
    let scopes: Vec<String> = if scopes.is_empty() {
        scope::DEFAULT_APP_SCOPES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        scopes.to_vec()
    };
    if let Some(bad) = scopes.iter().find(|s| !scope::is_valid(s)) {
        return Err(StoreError::Invalid(format!(
            "{bad:?} is not a scope name (like helpdesk:all)"
        )));
    }
    let app_secret = ids::app_secret();
    let app = directory
        .create_app(NewApp {
            tenant_key,
            name,
            kind,
            scopes: &scopes,
            secret_sha256: &secret::digest(&app_secret),
        })
        .await?;
    Ok(CreatedApp { app, app_secret })
}

/// Creates a helpdesk in a tenant.
pub async fn create_helpdesk(
    directory: &dyn DirectoryRepo,
    tenant_key: &str,
    name: &str,
) -> Result<CreatedHelpdesk> {
    let helpdesk_token = ids::helpdesk_token();
    let helpdesk = directory
        .create_helpdesk(tenant_key, name, &secret::digest(&helpdesk_token))
        .await?;
    Ok(CreatedHelpdesk {
        helpdesk,
        helpdesk_token,
    })
}
