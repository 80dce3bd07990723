//! What the audit trail records of an admin command: which commands change
//! something, the action's name, and the ids involved. Secrets never: an
//! entry names what a command did and to what, from its flags and the ids
//! of what it printed, never the secret or token it printed.

use helpdesk_store::{Actor, AuditRepo, NewAudit};
use serde_json::{json, Map, Value};

use super::apps::AppCommand;
use super::args::*;
use super::people::{AgentCommand, UserCommand};

/// A change an admin command makes, known before it runs.
pub(super) struct Change {
    action: &'static str,
    tenant: Option<String>,
    target: Option<String>,
    flags: Value,
}

fn change(action: &'static str, tenant: Option<&String>, target: Option<&String>) -> Change {
    Change {
        action,
        tenant: tenant.cloned(),
        target: target.cloned(),
        flags: json!({}),
    }
}

/// The ids a command's output may hold that an entry keeps (never a
/// secret, a token or a digest).
const IDS: [&str; 10] = [
    "tenant_key",
    "app_id",
    "helpdesk_id",
    "agent_id",
    "open_id",
    "image_key",
    "key_id",
    "event_id",
    "sha256",
    "token_id",
];

/// The change `command` makes, or `None` when it only reads.
pub(super) fn of(command: &AdminCommand) -> Option<Change> {
    Some(match command {
        AdminCommand::Tenant { command } => match command {
            TenantCommand::Create { name } => Change {
                flags: json!({ "name": name }),
                ..change("tenant.create", None, None)
            },
            TenantCommand::Set {
                tenant,
                max_bytes,
                retain,
            } => Change {
                flags: json!({ "max_bytes": max_bytes, "retain": retain }),
                ..change("tenant.set", Some(tenant), Some(tenant))
            },
            TenantCommand::List | TenantCommand::Show { .. } => return None,
        },
        AdminCommand::App { command } => match command {
            AppCommand::Create {
                tenant, name, kind, ..
            } => Change {
                flags: json!({ "name": name, "kind": format!("{kind:?}").to_lowercase() }),
                ..change("app.create", Some(tenant), None)
            },
            AppCommand::RotateSecret { app } => change("app.rotate-secret", None, Some(app)),
            AppCommand::Disable { app } => change("app.disable", None, Some(app)),
            AppCommand::Enable { app } => change("app.enable", None, Some(app)),
            AppCommand::RevokeTokens { app } => change("app.revoke-tokens", None, Some(app)),
            AppCommand::Events { app, url, .. } => Change {
                flags: json!({ "url": url }),
                ..change("app.events", None, Some(app))
            },
            AppCommand::List { .. } | AppCommand::Show { .. } => return None,
        },
        AdminCommand::Events { command } => match command {
            EventsCommand::Redeliver { event } => change("event.redeliver", None, Some(event)),
            EventsCommand::List { .. } | EventsCommand::Show { .. } => return None,
        },
        AdminCommand::Helpdesk { command } => match command {
            HelpdeskCommand::Create { tenant, name } => Change {
                flags: json!({ "name": name }),
                ..change("helpdesk.create", Some(tenant), None)
            },
            HelpdeskCommand::RotateToken { helpdesk } => {
                change("helpdesk.rotate-token", None, Some(helpdesk))
            }
            HelpdeskCommand::List { .. } => return None,
        },
        AdminCommand::User {
            command: UserCommand::Create { tenant, name, .. },
        } => Change {
            flags: json!({ "name": name }),
            ..change("user.create", Some(tenant), None)
        },
        AdminCommand::Agent { command } => match command {
            AgentCommand::Create { helpdesk, name, .. } => Change {
                flags: json!({ "helpdesk_id": helpdesk, "name": name }),
                ..change("agent.create", None, None)
            },
            AgentCommand::Disable { agent } => change("agent.disable", None, Some(agent)),
            AgentCommand::Enable { agent } => change("agent.enable", None, Some(agent)),
            AgentCommand::Token { agent, app } => Change {
                flags: json!({ "app_id": app }),
                ..change("agent.token", None, Some(agent))
            },
            AgentCommand::List { .. } => return None,
        },
        AdminCommand::Image {
            command:
                ImageCommand::Delete {
                    ticket,
                    msg,
                    index,
                    key,
                },
        } => Change {
            flags: json!({ "ticket_id": ticket, "msg_id": msg, "index": index }),
            ..change("image.delete", None, key.as_ref().or(ticket.as_ref()))
        },
        AdminCommand::Keys {
            command: KeysCommand::Rotate { revoke },
        } => Change {
            flags: json!({ "revoke": revoke }),
            ..change("keys.rotate", None, None)
        },
        AdminCommand::Fixtures {
            command: AdminFixturesCommand::Apply { file },
        } => Change {
            flags: json!({ "file": file.display().to_string() }),
            ..change("fixtures.apply", None, None)
        },
        AdminCommand::Reset { tenant, .. } => change("reset", tenant.as_ref(), None),
        AdminCommand::ConsoleToken { command } => match command {
            ConsoleTokenCommand::Create { tenant, read_only } => Change {
                flags: json!({ "read_only": read_only }),
                ..change("console-token.create", tenant.as_ref(), None)
            },
            ConsoleTokenCommand::Revoke { token_id } => {
                change("console-token.revoke", None, Some(token_id))
            }
            ConsoleTokenCommand::List => return None,
        },
        AdminCommand::Quarantine { command } => match command {
            QuarantineCommand::Release { sha256 } => {
                change("quarantine.release", None, Some(sha256))
            }
            QuarantineCommand::Purge { sha256 } => change("quarantine.purge", None, Some(sha256)),
            QuarantineCommand::List => return None,
        },
        // A scan records each quarantine itself (actor `scan`), and an
        // erasure its own entry, in the transaction that erases; a restore
        // fills an empty data dir with a trail of its own.
        AdminCommand::Scan { .. }
        | AdminCommand::Guest { .. }
        | AdminCommand::Audit { .. }
        | AdminCommand::Backup { .. }
        | AdminCommand::Restore { .. }
        | AdminCommand::Verify { .. } => return None,
    })
}

/// Records `change` as made by `admin`, with the ids `printed` holds.
pub(super) async fn record(
    audit: &dyn AuditRepo,
    change: Change,
    printed: Option<&Value>,
) -> helpdesk_store::Result<()> {
    // Applying fixtures that already hold changes nothing: no entry.
    if change.action == "fixtures.apply" && printed.is_some_and(|p| p["report"]["changed"] == 0) {
        return Ok(());
    }
    let mut detail = match change.flags {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    detail.retain(|_, v| !v.is_null());
    let mut ids = Map::new();
    collect_ids(printed.unwrap_or(&Value::Null), &mut ids);
    let tenant = change.tenant.or_else(|| {
        ids.get("tenant_key")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let target = change.target.or_else(|| {
        let noun = change.action.split('.').next().unwrap_or("");
        let key = match noun {
            "tenant" => "tenant_key",
            "app" => "app_id",
            "helpdesk" => "helpdesk_id",
            "agent" => "agent_id",
            "user" => "open_id",
            "keys" => "key_id",
            _ => "",
        };
        ids.get(key).and_then(Value::as_str).map(str::to_string)
    });
    for (k, v) in ids {
        detail.entry(k).or_insert(v);
    }
    audit
        .record_audit(&NewAudit {
            actor: &Actor::Admin,
            action: change.action,
            tenant_key: tenant.as_deref(),
            target: target.as_deref(),
            detail: Value::Object(detail),
        })
        .await
}

/// The first value of each of `IDS` in `value`, at any depth.
fn collect_ids(value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                if IDS.contains(&k.as_str()) && v.is_string() {
                    out.entry(k.clone()).or_insert_with(|| v.clone());
                } else {
                    collect_ids(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_keeps_the_ids_printed_and_never_a_secret() {
        let printed = json!({"app_id": "cli_1", "app_secret": "s3cret", "nested": [{"helpdesk_token": "t", "tenant_key": "tk"}]});
        let mut ids = Map::new();
        collect_ids(&printed, &mut ids);
        assert_eq!(
            Value::Object(ids),
            json!({"app_id": "cli_1", "tenant_key": "tk"})
        );
    }
}
