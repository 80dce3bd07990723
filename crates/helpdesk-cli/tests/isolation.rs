//! Tenant isolation, as a matrix: three tenants, each with a full custom
//! app, a read-only custom app and a store app, a helpdesk, an agent with a
//! user token for each app, a ticket, an image message, an uploaded image
//! and a ticket customized field; every endpoint called with every mix of
//! own and foreign token, helpdesk credential, ticket, message, image key
//! and field. Only an all-own call of a permitted app succeeds; a foreign object
//! answers exactly as a missing one does (status, code, msg and hint, with
//! the id swapped), so nothing tells a caller that another tenant's object
//! exists; and no write lands in another tenant.

use helpdesk_core::ids;
use helpdesk_testkit::binary::*;
use serde_json::{json, Value};

const TENANTS: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Full,
    ReadOnly,
    Store,
}

struct Tenant {
    /// (kind, token) of each app.
    apps: Vec<(Kind, String)>,
    /// The agent's user token for each app, in the same order.
    users: Vec<String>,
    credential: String,
    field: String,
    ticket: String,
    msg: String,
    bytes: Vec<u8>,
    image_key: String,
}

/// Status, code (0 for an image), msg and hint of an answer.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    code: i64,
    msg: String,
    hint: String,
    body: Vec<u8>,
}

async fn call(req: reqwest::RequestBuilder) -> Answer {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let is_json = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
    let body = res.bytes().await.unwrap().to_vec();
    if !is_json {
        return Answer {
            status,
            code: 0,
            msg: String::new(),
            hint: String::new(),
            body,
        };
    }
    let v: Value = serde_json::from_slice(&body).unwrap();
    Answer {
        status,
        code: v["code"].as_i64().unwrap(),
        msg: v["msg"].as_str().unwrap_or("").into(),
        hint: v["error"]["details"][0]["value"]
            .as_str()
            .unwrap_or("")
            .into(),
        body,
    }
}

/// One endpoint's request with these ids.
#[derive(Clone, Copy, Debug)]
enum Endpoint {
    TicketImage,
    GetTicket,
    ListMessages,
    PostMessage,
    StartService,
    Subscribe,
    ListTickets,
    AnswerUserQuery,
    CustomizedFields,
    ListFields,
    GetField,
    /// With the agent's user token, as the rest below.
    UpdateTicket,
    CreateField,
    PatchField,
}

impl Endpoint {
    /// Called with a user token (the agent's, for the app), as the SDKs do.
    fn as_user(self) -> bool {
        matches!(
            self,
            Endpoint::UpdateTicket | Endpoint::CreateField | Endpoint::PatchField
        )
    }
}

struct Ids<'a> {
    ticket: &'a str,
    msg: &'a str,
    image_key: &'a str,
    field: &'a str,
}

async fn request(base: &str, e: Endpoint, token: &str, cred: &str, ids: &Ids<'_>) -> Answer {
    let http = reqwest::Client::new();
    let auth = |r: reqwest::RequestBuilder| {
        r.bearer_auth(token)
            .header("X-Lark-Helpdesk-Authorization", cred)
    };
    let hd = format!("{base}/open-apis/helpdesk/v1");
    match e {
        Endpoint::TicketImage => {
            call(auth(
                http.get(format!("{hd}/ticket_images"))
                    .query(&[("ticket_id", ids.ticket), ("msg_id", ids.msg)]),
            ))
            .await
        }
        Endpoint::GetTicket => call(auth(http.get(format!("{hd}/tickets/{}", ids.ticket)))).await,
        Endpoint::ListMessages => {
            call(auth(
                http.get(format!("{hd}/tickets/{}/messages", ids.ticket)),
            ))
            .await
        }
        Endpoint::PostMessage => {
            let content = json!({"image_key": ids.image_key}).to_string();
            call(auth(
                http.post(format!("{hd}/tickets/{}/messages", ids.ticket))
                    .json(&json!({"msg_type": "image", "content": content})),
            ))
            .await
        }
        Endpoint::StartService => {
            call(auth(
                http.post(format!("{hd}/start_service"))
                    .json(&json!({"open_id": "ou_iso"})),
            ))
            .await
        }
        Endpoint::Subscribe => {
            let events =
                json!({"events": [{"type": "helpdesk.ticket", "subtype": "ticket.created_v1"}]});
            call(auth(
                http.post(format!("{hd}/events/subscribe")).json(&events),
            ))
            .await
        }
        Endpoint::ListTickets => {
            call(auth(
                http.get(format!("{hd}/tickets"))
                    .query(&[("page_size", "200")]),
            ))
            .await
        }
        Endpoint::AnswerUserQuery => {
            call(auth(
                http.post(format!("{hd}/tickets/{}/answer_user_query", ids.ticket))
                    .json(&json!({"event_id": "ev_iso", "faqs": [{"id": "1", "score": 0.5}]})),
            ))
            .await
        }
        Endpoint::CustomizedFields => call(auth(http.get(format!("{hd}/customized_fields")))).await,
        Endpoint::ListFields => {
            call(auth(
                http.get(format!("{hd}/ticket_customized_fields"))
                    .query(&[("page_size", "100")]),
            ))
            .await
        }
        Endpoint::GetField => {
            call(auth(
                http.get(format!("{hd}/ticket_customized_fields/{}", ids.field)),
            ))
            .await
        }
        Endpoint::UpdateTicket => {
            call(auth(
                http.put(format!("{hd}/tickets/{}", ids.ticket))
                    .json(&json!({"tag_names": ["iso"], "status": 2})),
            ))
            .await
        }
        Endpoint::CreateField => {
            let key = format!("iso_{}", ids::field_id());
            call(auth(
                http.post(format!("{hd}/ticket_customized_fields"))
                    .json(&json!({"key_name": key, "display_name": "Iso", "field_type": "string"})),
            ))
            .await
        }
        Endpoint::PatchField => {
            call(auth(
                http.patch(format!("{hd}/ticket_customized_fields/{}", ids.field))
                    .json(&json!({"description": "patched"})),
            ))
            .await
        }
    }
}

/// Which id slots an endpoint takes, beyond the token and the credential:
/// ticket, message, image key, field.
fn slots(e: Endpoint) -> (bool, bool, bool, bool) {
    match e {
        Endpoint::TicketImage => (true, true, false, false),
        Endpoint::GetTicket
        | Endpoint::ListMessages
        | Endpoint::AnswerUserQuery
        | Endpoint::UpdateTicket => (true, false, false, false),
        Endpoint::PostMessage => (true, false, true, false),
        Endpoint::GetField | Endpoint::PatchField => (false, false, false, true),
        Endpoint::StartService
        | Endpoint::Subscribe
        | Endpoint::ListTickets
        | Endpoint::CustomizedFields
        | Endpoint::ListFields
        | Endpoint::CreateField => (false, false, false, false),
    }
}

fn writes(e: Endpoint) -> bool {
    matches!(
        e,
        Endpoint::PostMessage
            | Endpoint::StartService
            | Endpoint::AnswerUserQuery
            | Endpoint::UpdateTicket
            | Endpoint::CreateField
            | Endpoint::PatchField
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn no_call_reads_or_writes_another_tenant_and_foreign_objects_look_missing() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = server.base.clone();
    let mut tenants = Vec::new();
    for t in 0..TENANTS {
        let party = provision(dir.path());
        let c = party.client(&base);
        let bytes = png(t as u8 + 50, 2000 + t * 100);
        let ticket = open_ticket(&c).await;
        let msg = post_image(&c, &ticket, &bytes, "iso.png").await;
        let image_key = c
            .upload_image(png(t as u8 + 90, 900), "k.png")
            .await
            .unwrap();
        let mut apps = vec![(Kind::Full, Caller::of(&party, &base).await.token)];
        let mut app_ids = vec![party.app_id.clone()];
        for (kind, args) in [
            (
                Kind::ReadOnly,
                vec!["--scope", "helpdesk:all:readonly", "--scope", "im:resource"],
            ),
            (Kind::Store, vec!["--kind", "store"]),
        ] {
            let mut a = vec![
                "app",
                "create",
                "--tenant",
                &party.tenant_key,
                "--name",
                "iso",
            ];
            a.extend(args);
            let app = admin(dir.path(), &a);
            app_ids.push(s(&app["app_id"]).to_string());
            let other = Party {
                app_id: s(&app["app_id"]).into(),
                app_secret: s(&app["app_secret"]).into(),
                ..party.clone()
            };
            apps.push((kind, Caller::of(&other, &base).await.token));
        }
        let credential = Caller::of(&party, &base).await.credential;
        let helpdesk_id = party.helpdesk_id.clone();
        let agent = admin(
            dir.path(),
            &[
                "agent",
                "create",
                "--helpdesk",
                &helpdesk_id,
                "--name",
                "Iso Agent",
            ],
        );
        let mut users = Vec::new();
        for app_id in app_ids {
            let token = admin(
                dir.path(),
                &[
                    "agent",
                    "token",
                    "--agent",
                    s(&agent["agent_id"]),
                    "--app",
                    &app_id,
                ],
            );
            users.push(s(&token["user_access_token"]).to_string());
        }
        let created: Value = reqwest::Client::new()
            .post(format!(
                "{base}/open-apis/helpdesk/v1/ticket_customized_fields"
            ))
            .bearer_auth(&users[0])
            .json(&json!({"key_name": "iso", "display_name": "Iso", "field_type": "string"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let field = s(&created["data"]["ticket_customized_field_id"]).to_string();
        tenants.push(Tenant {
            apps,
            users,
            field,
            credential,
            ticket,
            msg,
            bytes,
            image_key,
        });
    }
    let missing_ticket = ids::ticket_id();
    let missing_msg = ids::message_id();
    let missing_key = ids::image_key();
    let missing_field = ids::field_id();

    let endpoints = [
        Endpoint::TicketImage,
        Endpoint::GetTicket,
        Endpoint::ListMessages,
        Endpoint::PostMessage,
        Endpoint::StartService,
        Endpoint::Subscribe,
        Endpoint::ListTickets,
        Endpoint::AnswerUserQuery,
        Endpoint::CustomizedFields,
        Endpoint::ListFields,
        Endpoint::GetField,
        Endpoint::UpdateTicket,
        Endpoint::CreateField,
        Endpoint::PatchField,
    ];
    // What a list must not show of another tenant.
    let foreign_ids = |a: usize| -> Vec<String> {
        (0..TENANTS)
            .filter(|o| *o != a)
            .flat_map(|o| [tenants[o].ticket.clone(), tenants[o].field.clone()])
            .collect()
    };
    let mut checked = 0;
    let mut own_writes = [0usize; TENANTS];
    let range = |used: bool| if used { 0..TENANTS } else { 0..1 };
    for e in endpoints {
        let (uses_ticket, uses_msg, uses_key, uses_field) = slots(e);
        for a in 0..TENANTS {
            for app in 0..3 {
                let (kind, token) = tenants[a].apps[app].clone();
                let token = if e.as_user() {
                    tenants[a].users[app].clone()
                } else {
                    token
                };
                for h in 0..TENANTS {
                    for t in range(uses_ticket) {
                        for m in range(uses_msg) {
                            for (k, f) in
                                range(uses_key).flat_map(|k| range(uses_field).map(move |f| (k, f)))
                            {
                                // Unused slots stand for the caller's own.
                                let t = if uses_ticket { t } else { a };
                                let m = if uses_msg { m } else { t };
                                let k = if uses_key { k } else { a };
                                let f = if uses_field { f } else { a };
                                let ids = Ids {
                                    ticket: &tenants[t].ticket,
                                    msg: &tenants[m].msg,
                                    image_key: &tenants[k].image_key,
                                    field: &tenants[f].field,
                                };
                                let got =
                                    request(&base, e, &token, &tenants[h].credential, &ids).await;
                                checked += 1;
                                let what = format!("{e:?} app {a}/{kind:?} credential {h} ticket {t} msg {m} key {k} field {f}");
                                assert!(got.status < 500, "{what}: {got:?}");
                                // Feishu's order: token, scope, app kind,
                                // helpdesk credential.
                                let scope_ok = kind != Kind::ReadOnly || !writes(e);
                                if !scope_ok {
                                    assert_eq!((got.status, got.code), (400, 99991672), "{what}");
                                    continue;
                                }
                                if kind == Kind::Store || h != a {
                                    assert_eq!((got.status, got.code), (403, 154003), "{what}");
                                    continue;
                                }
                                let foreign = (uses_ticket && t != a)
                                    || (uses_msg && m != a)
                                    || (uses_key && k != a)
                                    || (uses_field && f != a);
                                if !foreign {
                                    assert!(got.status == 200 && got.code == 0, "{what}: {got:?}");
                                    let body = String::from_utf8_lossy(&got.body);
                                    for id in foreign_ids(a) {
                                        assert!(
                                            !body.contains(&id),
                                            "{what}: shows {id} of another tenant"
                                        );
                                    }
                                    if let Endpoint::TicketImage = e {
                                        assert!(
                                            got.body == tenants[a].bytes,
                                            "{what}: other bytes"
                                        );
                                    }
                                    if let Endpoint::PostMessage = e {
                                        own_writes[a] += 1;
                                    }
                                    continue;
                                }
                                // The same call with every foreign id swapped
                                // for one that exists nowhere.
                                let swap = |own: bool, id: &str, none: &str| {
                                    if own {
                                        id.to_string()
                                    } else {
                                        none.to_string()
                                    }
                                };
                                let (ticket, msg, key, field) = (
                                    swap(t == a, &tenants[t].ticket, &missing_ticket),
                                    swap(m == a, &tenants[m].msg, &missing_msg),
                                    swap(k == a, &tenants[k].image_key, &missing_key),
                                    swap(f == a, &tenants[f].field, &missing_field),
                                );
                                let missing = request(
                                    &base,
                                    e,
                                    &token,
                                    &tenants[h].credential,
                                    &Ids {
                                        ticket: &ticket,
                                        msg: &msg,
                                        image_key: &key,
                                        field: &field,
                                    },
                                )
                                .await;
                                let mut hint = got.hint.clone();
                                for (foreign, id, none) in [
                                    (t != a, &tenants[t].ticket, &missing_ticket),
                                    (m != a, &tenants[m].msg, &missing_msg),
                                    (k != a, &tenants[k].image_key, &missing_key),
                                    (f != a, &tenants[f].field, &missing_field),
                                ] {
                                    if foreign {
                                        hint = hint.replace(id.as_str(), none.as_str());
                                    }
                                }
                                assert_ne!(
                                    got.status, 200,
                                    "{what}: a foreign object was served: {got:?}"
                                );
                                assert_eq!(
                                    (got.status, got.code, &got.msg, &hint),
                                    (missing.status, missing.code, &missing.msg, &missing.hint),
                                    "{what}: a foreign object answers as a missing one"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // No message landed in another tenant's ticket.
    for (a, t) in tenants.iter().enumerate() {
        let res = call(
            reqwest::Client::new()
                .get(format!(
                    "{base}/open-apis/helpdesk/v1/tickets/{}/messages",
                    t.ticket
                ))
                .query(&[("page_size", "200")])
                .bearer_auth(&t.apps[0].1)
                .header("X-Lark-Helpdesk-Authorization", &t.credential),
        )
        .await;
        let v: Value = serde_json::from_slice(&res.body).unwrap();
        assert_eq!(
            v["data"]["total"].as_u64().unwrap() as usize,
            1 + own_writes[a],
            "tenant {a}"
        );
    }
    eprintln!("tenant isolation: {checked} combinations of token, credential, ticket, message and image key checked");
    // 243 downloads, 81 + 81 ticket and message reads, 243 posts, 27 + 27
    // opens and subscriptions; then 27 lists, 81 answers, 27 + 27 field
    // lists, 81 field reads, 81 updates, 27 field creations, 81 patches.
    assert_eq!(checked, 702 + 27 + 81 + 27 + 27 + 81 + 81 + 27 + 81);
    server.terminate();
}
