//! OAuth-style scopes an app is granted.

/// Full read and write access to helpdesk APIs.
pub const HELPDESK_ALL: &str = "helpdesk:all";
/// Read-only access to helpdesk resources (tickets, messages, images).
pub const HELPDESK_READONLY: &str = "helpdesk:all:readonly";
/// Upload and read IM resources (images).
pub const IM_RESOURCE: &str = "im:resource";

/// Scopes any one of which lets an app read tickets, messages and images.
pub const HELPDESK_READ: &[&str] = &[HELPDESK_READONLY, HELPDESK_ALL];
/// Scopes that let an app open tickets and post messages.
pub const HELPDESK_WRITE: &[&str] = &[HELPDESK_ALL];
/// Scopes that let an app upload images.
pub const IMAGE_UPLOAD: &[&str] = &[IM_RESOURCE];

/// Scopes a new app gets when none are named.
pub const DEFAULT_APP_SCOPES: &[&str] = &[HELPDESK_ALL, IM_RESOURCE];

/// True when `granted` holds at least one of `any_of`.
pub fn allows<S: AsRef<str>>(granted: &[S], any_of: &[&str]) -> bool {
    granted.iter().any(|g| any_of.contains(&g.as_ref()))
}

/// A scope name is lower-case words joined by `:`, `_` or `.`.
pub fn is_valid(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= 128
        && scope
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_:.-".contains(&b))
}
