//! Tickets through their life with the Rust SDK and `helpdesk tickets`,
//! against the real server: the list's stream over every page, an agent's
//! update through its user token, and what the CLI prints.

use std::process::{Command, Output};

use futures::TryStreamExt;
use helpdesk_client::{StartService, TicketUpdate};
use helpdesk_testkit::binary::*;
use serde_json::Value;

fn tickets(vars: &[(&'static str, String)], args: &[&str]) -> Output {
    Command::new(bin())
        .arg("tickets")
        .args(args)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_streams_every_page_and_an_agent_closes_a_ticket_the_cli_then_shows() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = server.base.clone();
    let party = provision(dir.path());
    let c = party.client(&base);
    let mut opened = Vec::new();
    for i in 0..45 {
        let started = c
            .start_service(&StartService {
                open_id: format!("ou_stream{i:02}"),
                ..Default::default()
            })
            .await
            .unwrap();
        opened.push(started.ticket_id);
    }
    // Every page, newest first: 45 tickets in pages of 20.
    let all: Vec<_> = c
        .tickets()
        .page_size(20)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut ids: Vec<String> = all.iter().map(|t| t.ticket_id.clone()).collect();
    assert_eq!(ids.len(), 45);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 45, "no ticket twice");
    assert!(all
        .windows(2)
        .all(|w| w[0].created_at.unwrap_or(0) >= w[1].created_at.unwrap_or(0)));

    // An agent takes one and closes it with a tag and a note.
    let agent = admin(
        dir.path(),
        &[
            "agent",
            "create",
            "--helpdesk",
            &party.helpdesk_id,
            "--name",
            "Rui",
        ],
    );
    let agent_id = s(&agent["agent_id"]).to_string();
    let token = admin(
        dir.path(),
        &[
            "agent",
            "token",
            "--agent",
            &agent_id,
            "--app",
            &party.app_id,
        ],
    );
    let user_token = s(&token["user_access_token"]).to_string();
    assert_eq!(token["expires_in"], 7200);
    let target = &opened[7];
    let update = TicketUpdate {
        status: Some(50),
        tag_names: Some(vec!["refund".into()]),
        comment: Some("refunded".into()),
        ..Default::default()
    };
    c.as_user(&user_token)
        .update_ticket(target, &update)
        .await
        .unwrap();
    let closed = c.ticket(target).await.unwrap();
    assert_eq!(closed.status, Some(50));
    assert_eq!(
        closed.closed_by.as_ref().and_then(|u| u.id.as_deref()),
        Some(agent_id.as_str())
    );
    assert_eq!(
        closed.comments.as_ref().and_then(|c| c.content.as_deref()),
        Some("refunded")
    );
    let page = c.tickets().status(50).send().await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.tickets[0].ticket_id, *target);
    // A tenant token cannot act as the agent.
    let err = c
        .as_user(Caller::of(&party, &base).await.token)
        .update_ticket(target, &update)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(99991663), "{err}");

    // The CLI: JSON lines, filtered by status; show; update as the agent.
    let vars = party.env(&base);
    let out = tickets(&vars, &["list", "--status", "50"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["ticket_id"], target.as_str());
    let other = &opened[3];
    let mut with_user = vars.clone();
    with_user.push(("HELPDESK_USER_ACCESS_TOKEN", user_token.clone()));
    let out = tickets(
        &with_user,
        &["update", "--ticket", other, "--status", "2", "--tag", "vip"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tickets(&vars, &["show", "--ticket", other]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["status"], 2);
    assert_eq!(shown["tags"][0]["name"], "vip");
    assert_eq!(shown["agents"][0]["id"], agent_id.as_str());

    // A disabled agent's token is refused at once, in one line.
    admin(dir.path(), &["agent", "disable", "--agent", &agent_id]);
    let out = tickets(&with_user, &["update", "--ticket", other, "--status", "3"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("user access token was refused"), "{err}");
    server.terminate();
}
