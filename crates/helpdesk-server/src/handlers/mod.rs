pub mod bot_message;
pub mod categories;
pub mod download;
pub mod events;
pub mod faq_image;
pub mod faq_list;
pub mod faqs;
pub mod fields;
pub mod im_images;
pub mod messages;
pub mod probes;
pub mod ticket_images;
pub mod ticket_list;
pub mod tickets;
pub mod token;
pub mod upload;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use helpdesk_core::ApiError;
use serde_json::{Map, Value};

use crate::response::Failure;

/// A JSON object from a request body, whatever its Content-Type (Python sends
/// none on the token request); an empty body is an empty object. The error
/// says what was wrong, for the client's hint.
pub fn json_object(body: &Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, String> {
    let body = match body {
        Ok(b) => b,
        Err(e) => return Err(format!("the body could not be read: {}", e.body_text())),
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the body is not a JSON object".into()),
        Err(e) => Err(format!("the body is not JSON: {e}")),
    }
}

/// The `:ticket_id` of a path. A segment that cannot be decoded names no
/// ticket: 154004, like any other unknown id.
pub struct TicketId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TicketId {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(TicketId(id)),
            Err(_) => {
                Err(ApiError::NotFound("the ticket id in the path is not valid".into()).into())
            }
        }
    }
}

/// The images `keys` name, in their order, each a live image of
/// `tenant_key` (a key of another tenant is refused as an unknown one).
pub async fn tenant_images(
    state: &crate::AppState,
    tenant_key: &str,
    keys: &[String],
) -> Result<Vec<helpdesk_store::Image>, Failure> {
    let images = state.meta.images(tenant_key, keys).await?;
    keys.iter()
        .map(|key| {
            images
                .iter()
                .find(|i| &i.image_key == key)
                .cloned()
                .ok_or_else(|| {
                    Failure(ApiError::BadRequest(format!(
                        "image_key {key} is not an image uploaded by this tenant"
                    )))
                })
        })
        .collect()
}

/// A path's one `:id` (a category's, an FAQ's). A segment that cannot be
/// decoded names nothing: 154004, like any unknown id.
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(_) => Err(ApiError::NotFound("the id in the path is not valid".into()).into()),
        }
    }
}

/// A non-empty string field.
pub fn string_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    obj.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
