//! Every endpoint, in process: the query string, the headers, JSON bodies
//! and the upload's multipart, from fuzz bytes, with or without valid
//! credentials. No answer may be a 5xx, and nothing may panic.
//!
//! Input: byte 0 picks the route, byte 1 the credentials (bit 16: the
//! agent's user token for the tenant's) and content type,
//! then the query string up to the first newline, then the body.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use helpdesk_server::{AppState, ServerConfig};

/// The client every request comes from.
const PEER: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);
use helpdesk_store::tokens::{TokenKind, TokenSigner, TOKEN_LIFETIME};
use helpdesk_store::{NewTicket, StorageConfig};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;

struct World {
    runtime: tokio::runtime::Runtime,
    router: helpdesk_server::Api,
    token: String,
    /// An agent's user token, for the methods called as a user.
    user_token: String,
    credential: String,
    ticket: String,
    field: String,
    _dir: tempfile::TempDir,
}

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/open-apis/helpdesk/v1/ticket_images"),
    ("HEAD", "/open-apis/helpdesk/v1/ticket_images"),
    ("POST", "/open-apis/im/v1/images"),
    ("POST", "/open-apis/helpdesk/v1/tickets/{ticket}/messages"),
    ("GET", "/open-apis/helpdesk/v1/tickets/{ticket}/messages"),
    ("GET", "/open-apis/helpdesk/v1/tickets/{ticket}"),
    ("POST", "/open-apis/helpdesk/v1/start_service"),
    ("POST", "/open-apis/auth/v3/tenant_access_token/internal"),
    ("POST", "/open-apis/helpdesk/v1/events/subscribe"),
    ("GET", "/open-apis/helpdesk/v1/tickets"),
    ("PUT", "/open-apis/helpdesk/v1/tickets/{ticket}"),
    ("POST", "/open-apis/helpdesk/v1/tickets/{ticket}/answer_user_query"),
    ("GET", "/open-apis/helpdesk/v1/customized_fields"),
    ("GET", "/open-apis/helpdesk/v1/ticket_customized_fields"),
    ("POST", "/open-apis/helpdesk/v1/ticket_customized_fields"),
    ("GET", "/open-apis/helpdesk/v1/ticket_customized_fields/{field}"),
    ("PATCH", "/open-apis/helpdesk/v1/ticket_customized_fields/{field}"),
    ("DELETE", "/open-apis/helpdesk/v1/ticket_customized_fields/{field}"),
    ("GET", "/open-apis/im/v1/images/{key}"),
    ("GET", "/open-apis/helpdesk/v1/categories"),
    ("POST", "/open-apis/helpdesk/v1/categories"),
    ("PATCH", "/open-apis/helpdesk/v1/categories/{field}"),
    ("GET", "/open-apis/helpdesk/v1/faqs"),
    ("POST", "/open-apis/helpdesk/v1/faqs"),
    ("GET", "/open-apis/helpdesk/v1/faqs/search"),
    ("PATCH", "/open-apis/helpdesk/v1/faqs/{field}"),
    ("GET", "/open-apis/helpdesk/v1/faqs/{field}/image/{key}"),
    ("POST", "/open-apis/helpdesk/v1/message"),
];

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (router, token, user_token, credential, ticket, field) = runtime.block_on(async {
            let stores = helpdesk_store::open(&StorageConfig {
                data_dir: dir.path().to_path_buf(),
                database_url: None,
                blob_url: None,
                // A scratch dir for the process's life: no fsync.
                durable: false,
            })
            .await
            .unwrap();
            let meta = stores.meta.clone();
            let tenant = meta.create_tenant("fuzz").await.unwrap();
            let app = helpdesk_store::provision::create_app(
                meta.as_ref(),
                &tenant.tenant_key,
                "fuzz",
                helpdesk_store::AppKind::Custom,
                &[],
            )
            .await
            .unwrap();
            let helpdesk = helpdesk_store::provision::create_helpdesk(
                meta.as_ref(),
                &tenant.tenant_key,
                "fuzz",
            )
            .await
            .unwrap();
            let ticket = meta
                .create_ticket(NewTicket {
                    helpdesk_id: &helpdesk.helpdesk.helpdesk_id,
                    tenant_key: &tenant.tenant_key,
                    guest_open_id: "ou_fuzz",
                    human_service: false,
                    customized_info: None,
                    agent_ids: &[],
                })
                .await
                .unwrap();
            let signer = TokenSigner::new(meta.signing_keys().await.unwrap());
            let token = signer
                .issue(
                    TokenKind::Tenant,
                    &app.app.app_id,
                    0,
                    helpdesk_store::now(),
                    TOKEN_LIFETIME,
                )
                .token;
            let agent = meta
                .create_agent(&helpdesk.helpdesk.helpdesk_id, "fuzz", "")
                .await
                .unwrap();
            let user_token = signer
                .issue_user(
                    &app.app.app_id,
                    &agent.agent_id,
                    0,
                    helpdesk_store::now(),
                    TOKEN_LIFETIME,
                )
                .token;
            let field = helpdesk_store::Field {
                seq: 0,
                field_id: helpdesk_core::ids::field_id(),
                helpdesk_id: helpdesk.helpdesk.helpdesk_id.clone(),
                key_name: "level".into(),
                display_name: "Level".into(),
                position: "1".into(),
                field_type: "dropdown".into(),
                description: String::new(),
                visible: true,
                editable: true,
                required: false,
                dropdown_allow_multiple: true,
                dropdown_options: r#"{"children":[{"tag":"a","display_name":"A"}]}"#.into(),
                created_by: agent.agent_id.clone(),
                updated_by: agent.agent_id.clone(),
                created_at: 1,
                updated_at: 1,
            };
            meta.create_field(&field).await.unwrap();
            let credential = helpdesk_core::auth::encode_helpdesk_credential(
                &helpdesk.helpdesk.helpdesk_id,
                &helpdesk.helpdesk_token,
            );
            let config = ServerConfig {
                token_rate_limit: 0,
                ..ServerConfig::default()
            };
            let state = AppState::new(stores, config).await.unwrap();
            (
                helpdesk_server::api(state),
                token,
                user_token,
                credential,
                ticket.ticket_id,
                field.field_id,
            )
        });
        World {
            runtime,
            router,
            token,
            user_token,
            credential,
            ticket,
            field,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let w = world();
    let (method, template) = ROUTES[data[0] as usize % ROUTES.len()];
    let flags = data[1];
    let rest = &data[2..];
    let (query, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut uri = template
        .replace("{ticket}", &w.ticket)
        .replace("{field}", &w.field)
        .replace("{key}", "img_v3_00000000000000000000000000000000");
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&String::from_utf8_lossy(query));
    }
    let mut req = Request::builder().method(method).uri(uri.as_str());
    if flags & 1 != 0 {
        let token = if flags & 16 != 0 { &w.user_token } else { &w.token };
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    if flags & 2 != 0 {
        req = req.header("X-Lark-Helpdesk-Authorization", &w.credential);
    }
    match (flags >> 2) & 3 {
        0 => {}
        1 => req = req.header("Content-Type", "multipart/form-data; boundary=B"),
        2 => req = req.header("Content-Type", "application/json"),
        _ => req = req.header("Content-Type", "multipart/form-data"),
    }
    let Ok(req) = req.body(Body::from(body.to_vec())) else {
        return;
    };
    w.runtime.block_on(async {
        let res = w.router.call(req, PEER).await.unwrap();
        let status = res.status();
        let _ = res.into_body().collect().await;
        assert!(
            status < StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {uri}: {status}"
        );
    });
});
