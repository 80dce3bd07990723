//! Keeping images safely, through real processes: a tenant's quota refuses
//! the upload past it, `admin tenant show` reports what it uses, and every
//! change (admin's and the API's deletes) is in `admin audit list` with its
//! actor. (The malware scan is in scan.rs, metadata stripping in strip.rs.)

use helpdesk_client::NewCategory;
use helpdesk_testkit::binary::*;
use helpdesk_testkit::images::png;
use serde_json::Value;

/// `admin audit list`'s JSON lines.
fn audit_lines(target: &std::path::Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["audit", "list"];
    args.extend_from_slice(extra);
    admin_lines(target, &args)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_past_the_tenants_quota_is_refused_with_234902_and_usage_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let tenant = party.tenant_key.as_str();

    let first = c.upload_image(png(1, 1000), "a.png").await.unwrap();
    let shown = admin(dir.path(), &["tenant", "show", "--tenant", tenant]);
    assert_eq!(shown["used_bytes"], png(1, 1000).len(), "{shown}");
    assert_eq!(shown["max_bytes"], Value::Null);

    let cap = (png(1, 1000).len() * 2 + 10).to_string();
    let set = admin(
        dir.path(),
        &["tenant", "set", "--tenant", tenant, "--max-bytes", &cap],
    );
    assert_eq!(set["max_bytes"].to_string(), cap, "{set}");
    c.upload_image(png(2, 1000), "b.png").await.unwrap();
    let refused = c.upload_image(png(3, 1000), "c.png").await.unwrap_err();
    assert_eq!(refused.code(), Some(234902), "{refused}");

    // The envelope's hint says what to do.
    let token = c.tenant_access_token().await.unwrap();
    let form = reqwest::multipart::Form::new()
        .text("image_type", "message")
        .part(
            "image",
            reqwest::multipart::Part::bytes(png(3, 1000)).file_name("c.png"),
        );
    let res = reqwest::Client::new()
        .post(format!("{}/open-apis/im/v1/images", server.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], 234902);
    assert!(
        body.to_string().contains("admin tenant set --max-bytes"),
        "{body}"
    );

    // A delete frees what the image held; the upload fits again.
    admin(dir.path(), &["image", "delete", "--key", &first]);
    c.upload_image(png(3, 1000), "c.png").await.unwrap();
    let shown = admin(dir.path(), &["tenant", "show", "--tenant", tenant]);
    assert_eq!(shown["used_bytes"], png(1, 1000).len() * 2, "{shown}");

    let none = admin(
        dir.path(),
        &[
            "tenant",
            "set",
            "--tenant",
            tenant,
            "--max-bytes",
            "none",
            "--retain",
            "30d",
        ],
    );
    assert_eq!(none["max_bytes"], Value::Null, "{none}");
    assert_eq!(none["retain"], "2592000s", "{none}");
    let err = admin_fails(
        dir.path(),
        &["tenant", "set", "--tenant", tenant, "--max-bytes", "lots"],
    );
    assert!(err.contains("give a number of bytes"), "{err}");
    let err = admin_fails(dir.path(), &["tenant", "show", "--tenant", "nope"]);
    assert!(err.contains("admin tenant list"), "{err}");
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_change_is_in_the_audit_trail_with_its_actor_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let (agent_id, user_token) = agent_with_token(dir.path(), &party, "Lin");
    let rotated = admin(
        dir.path(),
        &["app", "rotate-secret", "--app", &party.app_id],
    );
    let secret = s(&rotated["app_secret"]).to_string();
    // The old secret is refused now: a client with the new one.
    drop(c);
    let c = helpdesk_client::Client::builder(&party.app_id, &secret)
        .base_url(&server.base)
        .helpdesk(&party.helpdesk_id, &party.helpdesk_token)
        .build()
        .unwrap();
    let category = c
        .as_user(&user_token)
        .create_category(&NewCategory {
            name: "账号".into(),
            parent_id: None,
            language: None,
        })
        .await
        .unwrap();
    let category_id = category.category_id.clone().unwrap();
    c.as_user(&user_token)
        .delete_category(&category_id)
        .await
        .unwrap();

    let lines = audit_lines(dir.path(), &[]);
    let actions: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (s(&l["actor"]), s(&l["action"])))
        .collect();
    assert_eq!(
        actions,
        [
            ("admin", "tenant.create"),
            ("admin", "app.create"),
            ("admin", "helpdesk.create"),
            ("admin", "agent.create"),
            ("admin", "agent.token"),
            ("admin", "app.rotate-secret"),
            (party.app_id.as_str(), "category.delete"),
        ],
        "{lines:#?}"
    );
    for l in &lines {
        assert!(
            l["at"].as_str().unwrap().ends_with('Z'),
            "RFC 3339 UTC: {l}"
        );
        assert!(s(&l["id"]).starts_with("aud_"), "{l}");
    }
    assert_eq!(lines[1]["tenant_key"], party.tenant_key.as_str());
    assert_eq!(lines[1]["target"], party.app_id.as_str(), "{}", lines[1]);
    assert_eq!(lines[3]["target"], agent_id.as_str(), "{}", lines[3]);
    assert_eq!(lines[6]["target"], category_id.as_str(), "{}", lines[6]);
    assert_eq!(lines[6]["tenant_key"], party.tenant_key.as_str());
    let all = lines.iter().map(Value::to_string).collect::<String>();
    for secret in [
        &party.app_secret,
        &secret,
        &party.helpdesk_token,
        &user_token,
    ] {
        assert!(
            !all.contains(secret.as_str()),
            "a secret in the audit trail: {all}"
        );
    }
    // Filters: by tenant, and by time.
    assert_eq!(audit_lines(dir.path(), &["--tenant", "nobody"]).len(), 0);
    assert_eq!(
        audit_lines(dir.path(), &["--since", "1h"]).len(),
        lines.len()
    );
    assert_eq!(
        audit_lines(dir.path(), &["--since", "2999-01-01T00:00:00Z"]).len(),
        0
    );
    let err = admin_fails(dir.path(), &["audit", "list", "--since", "yesterday"]);
    assert!(err.contains("RFC 3339"), "{err}");
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn images_past_retention_answer_deleted_while_a_tenant_with_a_longer_rule_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &["--retain", "2s", "--retention-sweep-every", "1s"],
    );
    let short = provision(dir.path());
    let long = provision(dir.path());
    admin(
        dir.path(),
        &[
            "tenant",
            "set",
            "--tenant",
            &long.tenant_key,
            "--retain",
            "1h",
        ],
    );
    let mut posted = Vec::new();
    for party in [&short, &long] {
        let c = party.client(&server.base);
        let ticket = open_ticket(&c).await;
        let msg = post_image(&c, &ticket, &png(40, 2000), "old.png").await;
        let caller = Caller::of(party, &server.base).await;
        assert_eq!(caller.image(&server.base, &ticket, &msg).await.1, 0);
        posted.push((caller, ticket, msg));
    }
    let (caller, ticket, msg) = &posted[0];
    let mut code = 0;
    for _ in 0..100 {
        code = caller.image(&server.base, ticket, msg).await.1;
        if code == 154404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        code, 154404,
        "the sweep deleted the image of the 2 s tenant"
    );
    let (caller, ticket, msg) = &posted[1];
    assert_eq!(
        caller.image(&server.base, ticket, msg).await.1,
        0,
        "kept: its rule is 1 h"
    );
    let trail = audit_lines(dir.path(), &["--tenant", &short.tenant_key]);
    let expired: Vec<&Value> = trail
        .iter()
        .filter(|l| l["action"] == "retention.expire")
        .collect();
    assert_eq!(expired.len(), 1, "{trail:#?}");
    assert_eq!(expired[0]["actor"], "retention");
    assert_eq!(expired[0]["detail"]["images"], 1);
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn erasing_a_guest_deletes_every_image_of_their_tickets_whoever_posted_it_and_says_what() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let t = ticket_with_images(&c, &[png(50, 900), png(51, 900), png(52, 900)]).await;
    let caller = Caller::of(&party, &server.base).await;
    assert_eq!(
        caller.image(&server.base, &t.ticket, &t.image_msg).await.1,
        0
    );
    let args = [
        "guest",
        "erase",
        "--tenant",
        &party.tenant_key,
        "--open-id",
        GUEST,
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let would = admin(dir.path(), &dry);
    assert_eq!(would["dry_run"], true);
    assert_eq!(
        would["erased"]["images"].as_array().unwrap().len(),
        3,
        "{would}"
    );
    assert_eq!(
        caller.image(&server.base, &t.ticket, &t.image_msg).await.1,
        0,
        "a dry run keeps them"
    );

    let done = admin(dir.path(), &args);
    assert_eq!(
        done["erased"]["tickets"],
        serde_json::json!([t.ticket]),
        "{done}"
    );
    let images = done["erased"]["images"].as_array().unwrap();
    assert_eq!(images.len(), 3, "{done}");
    assert!(images.iter().all(|i| i["blob_removed"] == true), "{done}");
    // The server answers the new way as soon as the command returns.
    assert_eq!(
        caller.image(&server.base, &t.ticket, &t.image_msg).await.1,
        154404
    );
    let again = admin(dir.path(), &args);
    assert_eq!(
        again["erased"]["images"],
        serde_json::json!([]),
        "idempotent: {again}"
    );
    let err = admin_fails(
        dir.path(),
        &["guest", "erase", "--tenant", "nope", "--open-id", GUEST],
    );
    assert!(err.contains("admin tenant list"), "{err}");
    let trail = audit_lines(dir.path(), &[]);
    let erased: Vec<&Value> = trail
        .iter()
        .filter(|l| l["action"] == "guest.erase")
        .collect();
    assert_eq!(erased.len(), 1, "{trail:#?}");
    assert_eq!(erased[0]["target"], GUEST);
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restored_elsewhere_carries_the_audit_trail_and_the_tenants_limits() {
    let root = tempfile::tempdir().unwrap();
    // Backup and restore are the embedded backend's, whatever the pass.
    let embedded = |name: &str| helpdesk_store::StorageConfig {
        data_dir: root.path().join(name),
        database_url: None,
        blob_url: None,
        durable: true,
    };
    let live = embedded("live");
    let party = provision(&live);
    admin(
        &live,
        &[
            "tenant",
            "set",
            "--tenant",
            &party.tenant_key,
            "--max-bytes",
            "5000",
            "--retain",
            "7d",
        ],
    );
    let out = root.path().join("backup");
    admin(&live, &["backup", "--out", out.to_str().unwrap()]);
    let restored = embedded("restored");
    admin(&restored, &["restore", "--from", out.to_str().unwrap()]);
    let trail = |target: &helpdesk_store::StorageConfig| {
        admin_lines(target, &["audit", "list"])
            .into_iter()
            .map(|l| (l["id"].clone(), l["action"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(trail(&restored), trail(&live));
    assert_eq!(
        trail(&restored).len(),
        4,
        "tenant, app, helpdesk, tenant.set"
    );
    let shown = admin(
        &restored,
        &["tenant", "show", "--tenant", &party.tenant_key],
    );
    assert_eq!(
        (shown["max_bytes"].as_u64(), shown["retain"].as_str()),
        (Some(5000), Some("604800s")),
        "{shown}"
    );
}
