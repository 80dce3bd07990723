//! What the CLI's suites provision through the binary and the SDK: a
//! tenant with an app and a helpdesk, tickets with images, agents with
//! user tokens, and a caller for raw HTTP.

use serde_json::Value;

use super::{admin, s, Target};
use crate::party::Party;

/// A tenant with a custom app (default scopes) and a helpdesk, made with
/// `helpdesk admin` as an operator would.
pub fn provision<T: Target + ?Sized>(data_dir: &T) -> Party {
    let tenant_key =
        s(&admin(data_dir, &["tenant", "create", "--name", "T"])["tenant_key"]).to_string();
    let app = admin(
        data_dir,
        &["app", "create", "--tenant", &tenant_key, "--name", "app"],
    );
    let hd = admin(
        data_dir,
        &[
            "helpdesk",
            "create",
            "--tenant",
            &tenant_key,
            "--name",
            "hd",
        ],
    );
    Party {
        tenant_key,
        app_id: s(&app["app_id"]).into(),
        app_secret: s(&app["app_secret"]).into(),
        helpdesk_id: s(&hd["helpdesk_id"]).into(),
        helpdesk_token: s(&hd["helpdesk_token"]).into(),
    }
}

/// The customer every test ticket is opened for.
pub const GUEST: &str = "ou_guest";

/// Opens a ticket for [`GUEST`] through the SDK and returns its id.
pub async fn open_ticket(c: &helpdesk_client::Client) -> String {
    let started = c
        .start_service(&helpdesk_client::StartService {
            open_id: GUEST.into(),
            ..Default::default()
        })
        .await
        .expect("start_service");
    assert!(started.chat_id.starts_with("oc_"));
    started.ticket_id
}

/// Uploads `bytes` and posts them as an image message; returns its message_id.
pub async fn post_image(
    c: &helpdesk_client::Client,
    ticket: &str,
    bytes: &[u8],
    name: &str,
) -> String {
    let image_key = c.upload_image(bytes.to_vec(), name).await.expect("upload");
    c.create_message(
        ticket,
        &helpdesk_client::MessageContent::Image { image_key },
    )
    .await
    .expect("image message")
}

/// A new agent `name` of the party's helpdesk and a user_access_token of
/// theirs for the party's app (what writes FAQs and custom fields):
/// (agent_id, token).
pub fn agent_with_token<T: Target + ?Sized>(
    target: &T,
    party: &Party,
    name: &str,
) -> (String, String) {
    let agent = admin(
        target,
        &[
            "agent",
            "create",
            "--helpdesk",
            &party.helpdesk_id,
            "--name",
            name,
        ],
    );
    let agent_id = s(&agent["agent_id"]).to_string();
    let token = admin(
        target,
        &[
            "agent",
            "token",
            "--agent",
            &agent_id,
            "--app",
            &party.app_id,
        ],
    );
    (agent_id, s(&token["user_access_token"]).to_string())
}

/// A ticket with a text message, an image message and a post.
pub struct ImageTicket {
    pub ticket: String,
    /// message_id of the image message, which holds `images[0]`.
    pub image_msg: String,
    /// message_id of the post, which holds `images[1..]` in order.
    pub post_msg: String,
    /// The image_key of each of `images`.
    pub keys: Vec<String>,
}

/// Uploads `images` as `shot-<i>.png` and posts them: the first as an image
/// message, the rest in one post, after a text message.
pub async fn ticket_with_images(c: &helpdesk_client::Client, images: &[Vec<u8>]) -> ImageTicket {
    use helpdesk_client::MessageContent;
    let mut keys = Vec::new();
    for (i, bytes) in images.iter().enumerate() {
        keys.push(
            c.upload_image(bytes.clone(), &format!("shot-{i}.png"))
                .await
                .expect("upload"),
        );
    }
    let ticket = open_ticket(c).await;
    c.create_message(&ticket, &MessageContent::Text("hello".into()))
        .await
        .expect("text message");
    let image_msg = c
        .create_message(
            &ticket,
            &MessageContent::Image {
                image_key: keys[0].clone(),
            },
        )
        .await
        .expect("image message");
    let paragraphs: Vec<_> = keys[1..]
        .iter()
        .map(|k| serde_json::json!([{"tag": "text", "text": "then"}, {"tag": "img", "image_key": k}]))
        .collect();
    let post = serde_json::json!({"zh_cn": {"title": "steps", "content": paragraphs}});
    let post_msg = c
        .create_message(&ticket, &MessageContent::Post(post))
        .await
        .expect("post message");
    ImageTicket {
        ticket,
        image_msg,
        post_msg,
        keys,
    }
}

/// A caller's two credentials, for raw HTTP against any replica.
pub struct Caller {
    pub token: String,
    pub credential: String,
}

impl Caller {
    pub async fn of(party: &Party, base: &str) -> Caller {
        Caller {
            token: party
                .client(base)
                .tenant_access_token()
                .await
                .expect("token"),
            credential: party.credential(),
        }
    }

    /// `ticket_images` on `base`: the status, the Feishu code (0 on
    /// success), the log id, and the body.
    pub async fn image(&self, base: &str, ticket: &str, msg: &str) -> (u16, i64, String, Vec<u8>) {
        let res = reqwest::Client::new()
            .get(format!("{base}/open-apis/helpdesk/v1/ticket_images"))
            .query(&[("ticket_id", ticket), ("msg_id", msg)])
            .bearer_auth(&self.token)
            .header("X-Lark-Helpdesk-Authorization", &self.credential)
            .send()
            .await
            .expect("ticket_images");
        let status = res.status().as_u16();
        let log_id = res
            .headers()
            .get("x-tt-logid")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        let body = res.bytes().await.expect("body").to_vec();
        let code = if status == 200 {
            0
        } else {
            serde_json::from_slice::<Value>(&body).expect("JSON error")["code"]
                .as_i64()
                .expect("code")
        };
        (status, code, log_id, body)
    }
}
