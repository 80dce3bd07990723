//! The wire's names, each defined once: the API's paths, the header names
//! Feishu uses, and its error codes. The server routes and answers with
//! these, the Rust SDK calls and reads them, the CLI explains them.

/// API paths. A `{name}` segment is a path parameter, as the router writes
/// it; a client puts the percent-encoded value in its place.
pub mod path {
    pub const TENANT_ACCESS_TOKEN: &str = "/open-apis/auth/v3/tenant_access_token/internal";
    pub const APP_ACCESS_TOKEN: &str = "/open-apis/auth/v3/app_access_token/internal";
    /// im/v1 image upload.
    pub const IMAGES: &str = "/open-apis/im/v1/images";
    pub const START_SERVICE: &str = "/open-apis/helpdesk/v1/start_service";
    pub const TICKETS: &str = "/open-apis/helpdesk/v1/tickets";
    pub const TICKET: &str = "/open-apis/helpdesk/v1/tickets/{ticket_id}";
    pub const ANSWER_USER_QUERY: &str =
        "/open-apis/helpdesk/v1/tickets/{ticket_id}/answer_user_query";
    pub const CUSTOMIZED_FIELDS: &str = "/open-apis/helpdesk/v1/customized_fields";
    pub const TICKET_CUSTOMIZED_FIELDS: &str = "/open-apis/helpdesk/v1/ticket_customized_fields";
    /// im/v1 image get.
    pub const IMAGE: &str = "/open-apis/im/v1/images/{image_key}";
    pub const CATEGORIES: &str = "/open-apis/helpdesk/v1/categories";
    pub const CATEGORY: &str = "/open-apis/helpdesk/v1/categories/{id}";
    pub const FAQS: &str = "/open-apis/helpdesk/v1/faqs";
    pub const FAQ: &str = "/open-apis/helpdesk/v1/faqs/{id}";
    pub const FAQ_SEARCH: &str = "/open-apis/helpdesk/v1/faqs/search";
    pub const FAQ_IMAGE: &str = "/open-apis/helpdesk/v1/faqs/{id}/image/{image_key}";
    pub const BOT_MESSAGE: &str = "/open-apis/helpdesk/v1/message";
    pub const TICKET_CUSTOMIZED_FIELD: &str =
        "/open-apis/helpdesk/v1/ticket_customized_fields/{ticket_customized_field_id}";
    pub const TICKET_MESSAGES: &str = "/open-apis/helpdesk/v1/tickets/{ticket_id}/messages";
    pub const TICKET_IMAGES: &str = "/open-apis/helpdesk/v1/ticket_images";
    pub const EVENTS_SUBSCRIBE: &str = "/open-apis/helpdesk/v1/events/subscribe";
    pub const EVENTS_UNSUBSCRIBE: &str = "/open-apis/helpdesk/v1/events/unsubscribe";

    /// `path` with its `{ticket_id}` replaced by `encoded`.
    pub fn with_ticket(path: &str, encoded: &str) -> String {
        path.replace("{ticket_id}", encoded)
    }
}

/// Header names, lower-case as HTTP/1 compares them (the server writes them
/// Title-Case on the wire, as Feishu's gateway does).
pub mod header {
    /// The helpdesk credential: base64 of `helpdesk_id:helpdesk_token`.
    pub const HELPDESK_CREDENTIAL: &str = "x-lark-helpdesk-authorization";
    /// The log id of every answer, the handle for a support request.
    pub const LOG_ID: &str = "x-tt-logid";
    /// Where some gateways put the request id instead of the log id.
    pub const REQUEST_ID: &str = "x-request-id";
    /// The rate limit an answer of 99991400 reports, in requests a second.
    pub const RATELIMIT_LIMIT: &str = "x-ogw-ratelimit-limit";
    /// Seconds until the rate limit's window resets.
    pub const RATELIMIT_RESET: &str = "x-ogw-ratelimit-reset";
    /// An event request's timestamp, nonce and signature.
    pub const REQUEST_TIMESTAMP: &str = "x-lark-request-timestamp";
    pub const REQUEST_NONCE: &str = "x-lark-request-nonce";
    pub const SIGNATURE: &str = "x-lark-signature";
}

/// Feishu's error codes, as `code` in every JSON answer.
pub mod code {
    pub const OK: i64 = 0;
    /// Token request without app_id or app_secret.
    pub const TOKEN_INVALID_PARAM: i64 = 10003;
    /// Unknown app or wrong secret.
    pub const APP_SECRET_INVALID: i64 = 10014;
    /// A malformed helpdesk request.
    pub const BAD_REQUEST: i64 = 154000;
    /// Helpdesk credential missing or wrong, another tenant's helpdesk, or
    /// not a custom app.
    pub const FORBIDDEN: i64 = 154003;
    /// Ticket or message not found, or a message without an image.
    pub const NOT_FOUND: i64 = 154004;
    /// The image was deleted.
    pub const IMAGE_DELETED: i64 = 154404;
    /// Something failed on the server's side.
    pub const INTERNAL: i64 = 155000;
    /// Upload without `image_type` or `image`, or a bad `image_type`.
    pub const UPLOAD_INVALID_PARAM: i64 = 234001;
    /// im image get: the image was deleted.
    pub const IM_IMAGE_DELETED: i64 = 234005;
    /// im image get: the calling app did not upload the image.
    pub const IM_NOT_SENDER: i64 = 234008;
    /// The image is larger than the limit.
    pub const UPLOAD_TOO_LARGE: i64 = 234006;
    /// The uploaded file is empty.
    pub const UPLOAD_EMPTY: i64 = 234010;
    /// The bytes are not an image type the server accepts.
    pub const UPLOAD_UNSUPPORTED: i64 = 234011;
    /// Ours, not Feishu's (which has no such check): the malware scan
    /// (`serve --scan`) matched a signature.
    pub const UPLOAD_INFECTED: i64 = 234901;
    /// Ours: the upload would take the tenant past `admin tenant set
    /// --max-bytes`.
    pub const UPLOAD_QUOTA_EXCEEDED: i64 = 234902;
    /// Over the rate limit (HTTP 429).
    pub const RATE_LIMITED: i64 = 99991400;
    /// No `Authorization: Bearer <token>`.
    pub const MISSING_TOKEN: i64 = 99991661;
    /// The token is unknown, forged, revoked or expired.
    pub const INVALID_TOKEN: i64 = 99991663;
    /// The user access token is unknown, forged, revoked or expired.
    pub const INVALID_USER_TOKEN: i64 = 99991668;
    /// A tenant access token where only a user access token is taken
    /// (Feishu reuses the tenant token's code, msg "tenant access token not
    /// support").
    pub const USER_TOKEN_REQUIRED: i64 = 99991663;
    /// A user access token where only a tenant access token is taken (the
    /// user token's code, msg "user access token not support").
    pub const USER_TOKEN_NOT_SUPPORTED: i64 = 99991668;
    /// The app lacks every scope the API accepts.
    pub const SCOPE_REQUIRED: i64 = 99991672;
}
