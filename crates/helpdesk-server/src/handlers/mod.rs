pub mod messages;
pub mod ticket_images;
pub mod tickets;
pub mod token;
pub mod upload;

use serde_json::{Map, Value};

/// A JSON object from a request body, whatever its Content-Type (Python sends
/// none on the token request). An empty body is an empty object.
pub fn json_object(body: &[u8]) -> Option<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(Map::new());
    }
    match serde_json::from_slice(body).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A non-empty string field.
pub fn string_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    obj.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
