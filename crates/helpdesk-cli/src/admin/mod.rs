//! `helpdesk admin …`: each command prints one JSON object on stdout. A
//! command that changes what running servers answer tells them before it
//! prints (`announce`): when it returns, they answer the new way. One that
//! did not acknowledge within 2 s is named on stderr; it sees the change at
//! its next poll of the store's change counter.

use anyhow::{bail, Context, Result};
use helpdesk_core::ids::{self, MessageRef};
use helpdesk_store::provision::create_helpdesk;
use helpdesk_store::{backup, cleanup, secret};
use helpdesk_store::{Entity, Helpdesk, StorageConfig, StoreError, Stores};
use serde_json::{json, Value};

mod apps;
mod args;
mod audit;
mod events;
mod people;
mod safety;
pub use args::*;

/// What the command printed last, for its audit entry's ids.
static PRINTED: std::sync::Mutex<Option<Value>> = std::sync::Mutex::new(None);

fn print(value: Value) {
    println!("{value}");
    if let Ok(mut last) = PRINTED.lock() {
        *last = Some(value);
    }
}

/// Tells every server on `stores`' storage of the change this command
/// committed, and waits for them (at most 2 s); names on stderr each one
/// that did not acknowledge. For every command that changes what a running
/// server answers, before it prints its result.
pub(crate) async fn announce(stores: &Stores) {
    let report = helpdesk_store::changes::announce(stores).await;
    for line in report.complaints() {
        eprintln!("{line}");
    }
}

/// One line a person can act on, for the errors an operator can cause.
fn explain(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::NotFound { entity, id } => {
            let next = match entity {
                Entity::Tenant => ": list them with `helpdesk admin tenant list`, or create one with `helpdesk admin tenant create --name NAME`",
                Entity::App => ": list them with `helpdesk admin app list`",
                Entity::Helpdesk => ": list them with `helpdesk admin helpdesk list`",
                Entity::Message => " in that ticket: list its messages through the API (GET /open-apis/helpdesk/v1/tickets/TICKET/messages)",
                Entity::Event => ": list an app's events with `helpdesk admin events list --app APP`",
                Entity::Agent => ": list a helpdesk's agents with `helpdesk admin agent list --helpdesk H`",
                Entity::Image => ": give the image_key POST /open-apis/im/v1/images returned (img_v3_...)",
                Entity::Quarantine => ": list what is quarantined with `helpdesk admin quarantine list`",
                Entity::ConsoleToken => ": list them with `helpdesk admin console-token list`",
                _ => "",
            };
            anyhow::anyhow!("{entity} {id:?} not found{next}")
        }
        StoreError::Invalid(what) => anyhow::anyhow!("{what}"),
        e => anyhow::Error::new(e),
    }
}

fn helpdesk_json(helpdesk: &Helpdesk) -> Value {
    json!({
        "helpdesk_id": helpdesk.helpdesk_id,
        "tenant_key": helpdesk.tenant_key,
        "name": helpdesk.name,
    })
}

/// Progress of a long copy or check, on stderr, every 100 objects.
fn progress(what: &'static str) -> impl FnMut(u64) {
    move |n| {
        if n % 100 == 0 {
            eprintln!("{what}: {n} objects");
        }
    }
}

pub async fn run(storage: &StorageConfig, command: AdminCommand) -> Result<()> {
    // A restore must find the data dir empty: open nothing in it first.
    if let AdminCommand::Restore { from } = &command {
        if storage.database_url.is_some() || storage.blob_url.is_some() {
            bail!("restore fills an embedded data dir; to restore into other backends, run `helpdesk migrate --data-dir BACKUP_DIR --to-database-url ... --to-blob-url ...`");
        }
        let restored = backup::restore(from, &storage.data_dir, progress("restore"))
            .await
            .map_err(explain)?;
        // The data dir was empty, so no server can have been serving it;
        // told all the same, as every change is.
        let servers =
            helpdesk_store::changes::Embedded::beside(&storage.data_dir.join("helpdesk.db"));
        for line in helpdesk_store::changes::Changes::announce(&servers)
            .await
            .complaints()
        {
            eprintln!("{line}");
        }
        print(json!({"restored": restored}));
        return Ok(());
    }
    let stores = helpdesk_store::open(storage)
        .await
        .context("opening storage")?;
    let change = audit::of(&command);
    execute(storage, &stores, command).await?;
    if let Some(change) = change {
        let printed = PRINTED.lock().ok().and_then(|mut p| p.take());
        audit::record(stores.meta.as_ref(), change, printed.as_ref())
            .await
            .context("the change is made, but recording it in the audit trail failed")?;
    }
    Ok(())
}

async fn execute(storage: &StorageConfig, stores: &Stores, command: AdminCommand) -> Result<()> {
    let meta = stores.meta.as_ref();
    match command {
        AdminCommand::Tenant { command } => match command {
            TenantCommand::Create { name } => {
                let tenant = meta.create_tenant(&name).await?;
                print(json!({"tenant_key": tenant.tenant_key}));
            }
            TenantCommand::Set {
                tenant,
                max_bytes,
                retain,
            } => {
                let change = safety::policy_change(max_bytes.as_deref(), retain.as_deref())?;
                let policy = meta.set_policy(&tenant, &change).await.map_err(explain)?;
                print(safety::policy_json(&policy));
            }
            TenantCommand::Show { tenant } => {
                let policy = meta.policy(&tenant).await.map_err(explain)?;
                print(safety::policy_json(&policy));
            }
            TenantCommand::List => {
                let tenants: Vec<Value> = meta
                    .tenants()
                    .await?
                    .into_iter()
                    .map(|t| json!({"tenant_key": t.tenant_key, "name": t.name, "created_at": t.created_at}))
                    .collect();
                print(json!({ "tenants": tenants }));
            }
        },
        AdminCommand::App { command } => apps::run(stores, command).await?,
        AdminCommand::Events { command } => match command {
            EventsCommand::List { app, failed, limit } => {
                let events = meta.list_events(&app, failed, limit).await?;
                print(json!({ "events": events }));
            }
            EventsCommand::Show { event } => print(events::show(meta, &event).await?),
            EventsCommand::Redeliver { event } => {
                meta.redeliver_event(&event, helpdesk_store::now_ms())
                    .await
                    .map_err(explain)?;
                print(json!({"event_id": event, "redelivering": true}));
            }
        },
        AdminCommand::Helpdesk { command } => match command {
            HelpdeskCommand::Create { tenant, name } => {
                let created = create_helpdesk(meta, &tenant, &name)
                    .await
                    .map_err(explain)?;
                print(
                    json!({"helpdesk_id": created.helpdesk.helpdesk_id, "helpdesk_token": created.helpdesk_token}),
                );
            }
            HelpdeskCommand::List { tenant } => {
                let helpdesks: Vec<Value> = meta
                    .helpdesks(tenant.as_deref())
                    .await?
                    .iter()
                    .map(helpdesk_json)
                    .collect();
                print(json!({ "helpdesks": helpdesks }));
            }
            HelpdeskCommand::RotateToken { helpdesk } => {
                let helpdesk_token = ids::helpdesk_token();
                meta.set_helpdesk_token(&helpdesk, &secret::digest(&helpdesk_token))
                    .await
                    .map_err(explain)?;
                announce(stores).await;
                print(json!({"helpdesk_id": helpdesk, "helpdesk_token": helpdesk_token}));
            }
        },
        AdminCommand::User { command } => people::user(meta, command).await?,
        AdminCommand::Agent { command } => people::agent(stores, command).await?,
        AdminCommand::Image {
            command:
                ImageCommand::Delete {
                    ticket,
                    msg,
                    index,
                    key,
                },
        } => {
            if let Some(key) = key {
                let sha256 = meta.delete_upload(&key).await.map_err(explain)?;
                let removed = cleanup::remove_if_unreferenced(meta, stores.blobs.as_ref(), &sha256)
                    .await
                    .unwrap_or(false);
                announce(stores).await;
                print(
                    json!({"deleted": [{"image_key": key, "sha256": sha256, "blob_removed": removed}]}),
                );
                return Ok(());
            }
            let (Some(ticket), Some(msg)) = (ticket, msg) else {
                bail!("give --ticket and --msg (and --index for one image of a post), or --key");
            };
            let deleted = cleanup::delete_images(
                meta,
                stores.blobs.as_ref(),
                &ticket,
                MessageRef::parse(&msg),
                index,
            )
            .await
            .map_err(explain)?;
            announce(stores).await;
            print(json!({"deleted": deleted}));
        }
        AdminCommand::Keys {
            command: KeysCommand::Rotate { revoke },
        } => {
            let key = meta.rotate_signing_key(revoke).await?;
            announce(stores).await;
            print(json!({"rotated": true, "key_id": key.id, "earlier_tokens_revoked": revoke}));
        }
        AdminCommand::Fixtures {
            command: AdminFixturesCommand::Apply { file },
        } => {
            let fixtures = crate::fixtures::load(&file)?;
            let applied = crate::fixtures::apply(stores, storage, &fixtures).await?;
            if applied.changed > 0 {
                announce(stores).await;
            }
            print(json!({"applied": file.display().to_string(), "report": applied}));
        }
        AdminCommand::Reset { tenant, yes } => {
            let declared = crate::fixtures::declared(&storage.data_dir);
            if !yes && declared.is_none() && !crate::fixtures::is_ephemeral(&storage.data_dir) {
                bail!("reset removes every ticket, message, image, FAQ and event{}: pass --yes to do it (needed where the data dir is neither ephemeral nor made by fixtures)",
                    tenant.as_ref().map(|t| format!(" of tenant {t}")).unwrap_or_default());
            }
            if let Some(t) = &tenant {
                if !meta.tenants().await?.iter().any(|r| &r.tenant_key == t) {
                    return Err(explain(StoreError::not_found(Entity::Tenant, t)));
                }
            }
            let removed = meta.reset(tenant.as_deref()).await?;
            let swept = cleanup::sweep(meta, stores.blobs.as_ref(), 1000).await?;
            // Declared tickets and FAQs come back as the file has them.
            let reapplied = match declared.filter(|p| p.exists()) {
                Some(path) => {
                    let fixtures = crate::fixtures::load(&path)?;
                    crate::fixtures::apply(stores, storage, &fixtures).await?;
                    Some(path.display().to_string())
                }
                None => None,
            };
            announce(stores).await;
            print(
                json!({"removed_rows": removed, "removed_objects": swept, "tenant": tenant, "fixtures_reapplied": reapplied}),
            );
        }
        AdminCommand::Audit {
            command: AuditCommand::List { since, tenant },
        } => safety::audit_list(meta, since.as_deref(), tenant).await?,
        AdminCommand::Scan { scan, since } => {
            safety::scan(stores, &scan, since.as_deref()).await?;
        }
        AdminCommand::Guest {
            command:
                GuestCommand::Erase {
                    tenant,
                    open_id,
                    messages,
                    dry_run,
                },
        } => {
            if !meta.tenants().await?.iter().any(|t| t.tenant_key == tenant) {
                return Err(explain(StoreError::not_found(Entity::Tenant, &tenant)));
            }
            let mut erasure = meta
                .erase_guest(&tenant, &open_id, messages, dry_run)
                .await
                .map_err(explain)?;
            if !dry_run && !erasure.images.is_empty() {
                cleanup::remove_objects_of(meta, stores.blobs.as_ref(), &mut erasure.images).await;
                announce(stores).await;
            }
            print(
                json!({"erased": erasure, "dry_run": dry_run, "open_id": open_id, "tenant_key": tenant}),
            );
        }
        AdminCommand::ConsoleToken { command } => match command {
            ConsoleTokenCommand::Create { tenant, read_only } => {
                let token = ids::console_token();
                let created = meta
                    .create_console_token(&helpdesk_store::NewConsoleToken {
                        token_id: &ids::console_token_id(),
                        token_sha256: &secret::digest(&token),
                        tenant_key: tenant.as_deref(),
                        read_only,
                    })
                    .await
                    .map_err(explain)?;
                let mut out = json!(created);
                out["token"] = json!(token);
                print(out);
            }
            ConsoleTokenCommand::List => {
                print(json!({ "console_tokens": meta.console_tokens().await? }));
            }
            ConsoleTokenCommand::Revoke { token_id } => {
                let revoked = meta
                    .revoke_console_token(&token_id)
                    .await
                    .map_err(explain)?;
                print(json!({ "revoked": revoked }));
            }
        },
        AdminCommand::Quarantine { command } => match command {
            QuarantineCommand::List => {
                print(json!({ "quarantined": meta.quarantined().await? }));
            }
            QuarantineCommand::Release { sha256 } => {
                let released = meta.release(&sha256).await.map_err(explain)?;
                announce(stores).await;
                print(json!({ "released": released }));
            }
            QuarantineCommand::Purge { sha256 } => {
                let purged = meta.purge(&sha256).await.map_err(explain)?;
                let removed = cleanup::remove_if_unreferenced(meta, stores.blobs.as_ref(), &sha256)
                    .await
                    .unwrap_or(false);
                announce(stores).await;
                print(json!({ "purged": purged, "blob_removed": removed }));
            }
        },
        AdminCommand::Backup { out } => {
            let taken = backup::backup(stores, &out, progress("backup"))
                .await
                .map_err(explain)?;
            print(json!({"backup": out.display().to_string(), "copied": taken}));
        }
        AdminCommand::Restore { .. } => unreachable!("handled above"),
        AdminCommand::Verify { quick } => {
            let report = backup::verify(stores, !quick, progress("verify")).await?;
            for sha256 in &report.missing {
                eprintln!("verify: missing object {sha256}");
            }
            for sha256 in &report.corrupt {
                eprintln!("verify: corrupt object {sha256}");
            }
            let ok = report.ok();
            print(json!({"ok": ok, "report": report}));
            if !ok {
                bail!(
                    "{} missing and {} corrupt object(s), listed above: restore them from a backup, or delete their images with `helpdesk admin image delete`",
                    report.missing.len(),
                    report.corrupt.len()
                );
            }
        }
    }
    Ok(())
}
