//! The vocabulary of the Feishu Helpdesk API, free of I/O.
//!
//! Everything here is pure: ids and their formats, scopes, message content
//! (text, image, post and the images a post holds, in reading order), image
//! type sniffing, header encodings, the wire's paths, header names and codes
//! (`wire`), and the one error type whose variants map
//! to a Feishu `code` and an HTTP status in exactly one place.

pub mod auth;
pub mod content;
pub mod disposition;
pub mod error;
pub mod events;
pub mod export;
pub mod ids;
pub mod image_type;
pub mod scope;
pub mod search;
pub mod wire;

pub use error::ApiError;
pub use image_type::ImageType;
