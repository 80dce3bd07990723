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
    chat: String,
    field: String,
    category: String,
    faq: String,
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
    ListCategories,
    GetCategory,
    ListFaqs,
    GetFaq,
    SearchFaqs,
    FaqImage,
    /// The tenant token alone, no helpdesk credential.
    ImImage,
    BotMessage,
    /// With the agent's user token, as the rest below.
    UpdateTicket,
    CreateField,
    PatchField,
    CreateCategory,
    PatchCategory,
    CreateFaq,
    PatchFaq,
}

impl Endpoint {
    /// Called with a user token (the agent's, for the app), as the SDKs do.
    fn as_user(self) -> bool {
        matches!(
            self,
            Endpoint::UpdateTicket
                | Endpoint::CreateField
                | Endpoint::PatchField
                | Endpoint::CreateCategory
                | Endpoint::PatchCategory
                | Endpoint::CreateFaq
                | Endpoint::PatchFaq
        )
    }

    /// Sends the helpdesk credential (im/v1 image get does not).
    fn uses_credential(self) -> bool {
        !matches!(self, Endpoint::ImImage)
    }
}

struct Ids<'a> {
    ticket: &'a str,
    /// The ticket's chat.
    chat: &'a str,
    msg: &'a str,
    image_key: &'a str,
    /// The helpdesk object of the endpoint: a field, category or FAQ.
    field: &'a str,
    category: &'a str,
    faq: &'a str,
}

async fn request(base: &str, e: Endpoint, token: &str, cred: &str, ids: &Ids<'_>) -> Answer {
    // One client for the whole matrix: its connections are kept alive (a
    // client per request connected anew each time, and tripled the run).
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let http = HTTP.get_or_init(reqwest::Client::new);
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
        Endpoint::ListCategories => call(auth(http.get(format!("{hd}/categories")))).await,
        Endpoint::GetCategory => {
            call(auth(http.get(format!("{hd}/categories/{}", ids.category)))).await
        }
        Endpoint::ListFaqs => {
            call(auth(
                http.get(format!("{hd}/faqs"))
                    .query(&[("page_size", "100")]),
            ))
            .await
        }
        Endpoint::GetFaq => call(auth(http.get(format!("{hd}/faqs/{}", ids.faq)))).await,
        Endpoint::SearchFaqs => {
            call(auth(
                http.get(format!("{hd}/faqs/search"))
                    .query(&[("query", "isolation 隔离")]),
            ))
            .await
        }
        Endpoint::FaqImage => {
            call(auth(http.get(format!(
                "{hd}/faqs/{}/image/{}",
                ids.faq, ids.image_key
            ))))
            .await
        }
        Endpoint::ImImage => {
            call(
                http.get(format!("{base}/open-apis/im/v1/images/{}", ids.image_key))
                    .bearer_auth(token),
            )
            .await
        }
        Endpoint::BotMessage => {
            let content = json!({"text": "bot"}).to_string();
            call(auth(http.post(format!("{hd}/message")).json(&json!({
                "msg_type": "text", "content": content, "receiver_id": ids.chat, "receive_type": "chat"
            }))))
            .await
        }
        Endpoint::CreateCategory => {
            call(auth(
                http.post(format!("{hd}/categories"))
                    .json(&json!({"name": "iso", "parent_id": "0"})),
            ))
            .await
        }
        Endpoint::PatchCategory => {
            call(auth(
                http.patch(format!("{hd}/categories/{}", ids.category))
                    .json(&json!({"name": "patched"})),
            ))
            .await
        }
        Endpoint::CreateFaq => {
            let rich = json!([{"type": "text", "content": "see"}, {"type": "image", "content": ids.image_key}]);
            call(auth(http.post(format!("{hd}/faqs")).json(&json!({
                "faq": {"question": "isolation 隔离", "answer_richtext": rich.to_string()}
            }))))
            .await
        }
        Endpoint::PatchFaq => {
            call(auth(
                http.patch(format!("{hd}/faqs/{}", ids.faq))
                    .json(&json!({"faq": {"tags": ["patched"]}})),
            ))
            .await
        }
    }
}

/// Which id slots an endpoint takes, beyond the token and the credential:
/// ticket (or its chat), message, image key, and its helpdesk object (a
/// field, category or FAQ).
fn slots(e: Endpoint) -> (bool, bool, bool, bool) {
    match e {
        Endpoint::TicketImage => (true, true, false, false),
        Endpoint::GetTicket
        | Endpoint::ListMessages
        | Endpoint::AnswerUserQuery
        | Endpoint::UpdateTicket
        | Endpoint::BotMessage => (true, false, false, false),
        Endpoint::PostMessage => (true, false, true, false),
        Endpoint::ImImage | Endpoint::CreateFaq => (false, false, true, false),
        Endpoint::FaqImage => (false, false, true, true),
        Endpoint::GetField
        | Endpoint::PatchField
        | Endpoint::GetCategory
        | Endpoint::PatchCategory
        | Endpoint::GetFaq
        | Endpoint::PatchFaq => (false, false, false, true),
        Endpoint::StartService
        | Endpoint::Subscribe
        | Endpoint::ListTickets
        | Endpoint::CustomizedFields
        | Endpoint::ListFields
        | Endpoint::CreateField
        | Endpoint::ListCategories
        | Endpoint::ListFaqs
        | Endpoint::SearchFaqs
        | Endpoint::CreateCategory => (false, false, false, false),
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
            | Endpoint::BotMessage
            | Endpoint::CreateCategory
            | Endpoint::PatchCategory
            | Endpoint::CreateFaq
            | Endpoint::PatchFaq
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
        let chat = c.ticket(&ticket).await.unwrap().chat_id.unwrap();
        let hd = format!("{base}/open-apis/helpdesk/v1");
        let made: Value = reqwest::Client::new()
            .post(format!("{hd}/categories"))
            .bearer_auth(&users[0])
            .json(&json!({"name": "Iso", "parent_id": "0"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let category = s(&made["data"]["category"]["category_id"]).to_string();
        let rich = json!([{"type": "image", "content": image_key}]).to_string();
        let made: Value = reqwest::Client::new()
            .post(format!("{hd}/faqs"))
            .bearer_auth(&users[0])
            .json(&json!({"faq": {"question": "Iso 隔离", "answer_richtext": rich, "category_id": category}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let faq = s(&made["data"]["faq"]["faq_id"]).to_string();
        tenants.push(Tenant {
            apps,
            users,
            chat,
            category,
            faq,
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
    let missing_chat = ids::chat_id();

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
        Endpoint::ListCategories,
        Endpoint::GetCategory,
        Endpoint::ListFaqs,
        Endpoint::GetFaq,
        Endpoint::SearchFaqs,
        Endpoint::FaqImage,
        Endpoint::ImImage,
        Endpoint::BotMessage,
        Endpoint::CreateCategory,
        Endpoint::PatchCategory,
        Endpoint::CreateFaq,
        Endpoint::PatchFaq,
    ];
    // What a list must not show of another tenant.
    let foreign_ids = |a: usize| -> Vec<String> {
        (0..TENANTS)
            .filter(|o| *o != a)
            .flat_map(|o| {
                let t = &tenants[o];
                [&t.ticket, &t.chat, &t.field, &t.category, &t.faq].map(|id| id.clone())
            })
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
                for h in range(e.uses_credential()) {
                    let h = if e.uses_credential() { h } else { a };
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
                                    chat: &tenants[t].chat,
                                    msg: &tenants[m].msg,
                                    image_key: &tenants[k].image_key,
                                    field: &tenants[f].field,
                                    category: &tenants[f].category,
                                    faq: &tenants[f].faq,
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
                                let foreign = (uses_ticket && t != a)
                                    || (uses_msg && m != a)
                                    || (uses_key && k != a)
                                    || (uses_field && f != a);
                                if let Endpoint::ImImage = e {
                                    // Only the uploader (the full app) gets it.
                                    if !foreign && kind != Kind::Full {
                                        assert_eq!((got.status, got.code), (400, 234008), "{what}");
                                        continue;
                                    }
                                } else if kind == Kind::Store || h != a {
                                    assert_eq!((got.status, got.code), (403, 154003), "{what}");
                                    continue;
                                }
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
                                    if let Endpoint::PostMessage | Endpoint::BotMessage = e {
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
                                let chat = swap(t == a, &tenants[t].chat, &missing_chat);
                                let category = swap(f == a, &tenants[f].category, &missing_field);
                                let faq = swap(f == a, &tenants[f].faq, &missing_field);
                                let missing = request(
                                    &base,
                                    e,
                                    &token,
                                    &tenants[h].credential,
                                    &Ids {
                                        ticket: &ticket,
                                        chat: &chat,
                                        msg: &msg,
                                        image_key: &key,
                                        field: &field,
                                        category: &category,
                                        faq: &faq,
                                    },
                                )
                                .await;
                                let mut hint = got.hint.clone();
                                for (foreign, id, none) in [
                                    (t != a, &tenants[t].ticket, &missing_ticket),
                                    (m != a, &tenants[m].msg, &missing_msg),
                                    (k != a, &tenants[k].image_key, &missing_key),
                                    (t != a, &tenants[t].chat, &missing_chat),
                                    (f != a, &tenants[f].field, &missing_field),
                                    (f != a, &tenants[f].category, &missing_field),
                                    (f != a, &tenants[f].faq, &missing_field),
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
    // Every endpoint: 3 tenants x 3 apps x each slot's range (3 for a slot
    // the endpoint takes, 1 otherwise), credentials included.
    let expected: usize = endpoints
        .iter()
        .map(|e| {
            let (t, m, k, f) = slots(*e);
            let n = |used: bool| if used { TENANTS } else { 1 };
            TENANTS * 3 * n(e.uses_credential()) * n(t) * n(m) * n(k) * n(f)
        })
        .sum();
    assert_eq!(checked, expected);
    server.terminate();
}
