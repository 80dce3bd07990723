//! The ticket customized fields (`helpdesk.v1.ticket_customized_field`):
//! get and list with the tenant token ([`Client`]), create, patch and delete
//! as an agent ([`UserClient`], as the SDKs' `SupportedAccessTokenTypes` say).
//!
//! Answers, as the SDKs model them: a get's `data` is the field itself (not
//! wrapped); a create, a patch and a delete answer no `data`. A create
//! therefore returns the new field only when the server sends it (flat, or
//! as `{"ticket_customized_field": …}`); Feishu does not, and the new
//! field's id is then found by listing.

use futures::Stream;
use helpdesk_core::wire::path;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::api::segment;
use crate::retry::Idempotence;
use crate::ticket_model::{lenient_string, null_default};
use crate::{Auth, Client, Error, TicketUser, UserClient};

/// A field the helpdesk's tickets carry (`TicketCustomizedField`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketCustomizedField {
    /// The field's id.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub ticket_customized_field_id: Option<String>,
    /// The helpdesk's id.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub helpdesk_id: Option<String>,
    /// The field's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Its name as shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its place in the admin's list (a string on the wire).
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub position: Option<String>,
    /// `string`, `multiline`, `dropdown` or `dropdown_nested`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_type: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// Whether it may be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editable: Option<bool>,
    /// Whether it must be filled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// When it was made (a string on the wire).
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<String>,
    /// When it last changed (a string on the wire).
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<String>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<TicketUser>,
    /// Who last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<TicketUser>,
    /// Whether a dropdown takes several options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropdown_allow_multiple: Option<bool>,
    /// A dropdown's options (in Feishu's docs; the SDKs pass it through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropdown_options: Option<DropdownOptions>,
}

/// A dropdown's options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropdownOptions {
    /// The options, in order.
    #[serde(default, deserialize_with = "null_default")]
    pub children: Vec<DropdownOption>,
}

/// One option of a dropdown; a nested dropdown's option has its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropdownOption {
    /// What a ticket's field value holds when this option is chosen.
    #[serde(default, deserialize_with = "null_default")]
    pub tag: String,
    /// What is shown.
    #[serde(default, deserialize_with = "null_default")]
    pub display_name: String,
    /// The options under this one (`dropdown_nested`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub children: Vec<DropdownOption>,
}

/// A customized field's type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    #[default]
    String,
    /// Several lines of text.
    Multiline,
    /// A choice among options.
    Dropdown,
    /// A choice among options with options under them.
    DropdownNested,
}

/// A field to create (`POST /ticket_customized_fields`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewTicketCustomizedField {
    /// The helpdesk; left empty, the client's own (`ClientBuilder::helpdesk`).
    pub helpdesk_id: String,
    /// The field's key.
    pub key_name: String,
    /// Its name as shown.
    pub display_name: String,
    /// Its place in the admin's list, e.g. `"3"`.
    pub position: String,
    /// Its type.
    pub field_type: FieldType,
    /// Its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it is shown.
    pub visible: bool,
    /// Whether it may be changed.
    pub editable: bool,
    /// Whether it must be filled.
    pub required: bool,
    /// Whether a dropdown takes several options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropdown_allow_multiple: Option<bool>,
    /// A dropdown's options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropdown_options: Option<DropdownOptions>,
}

/// What to change on a field (`PATCH /ticket_customized_fields/:id`); what
/// is `None` is left as it is and not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketCustomizedFieldPatch {
    /// Its name as shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its place in the admin's list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// Whether it may be changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editable: Option<bool>,
    /// Whether it must be filled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Whether a dropdown takes several options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropdown_allow_multiple: Option<bool>,
    /// A dropdown's options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropdown_options: Option<DropdownOptions>,
}

/// One page of the helpdesk's ticket customized fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TicketCustomizedFieldPage {
    /// Whether another page follows.
    #[serde(default, deserialize_with = "null_default")]
    pub has_more: bool,
    /// The next page's token, when there is one.
    #[serde(default)]
    pub next_page_token: Option<String>,
    /// This page's fields.
    #[serde(default, deserialize_with = "null_default")]
    pub items: Vec<TicketCustomizedField>,
}

/// A field answer: flat (as the SDKs model a get) or wrapped.
#[derive(Deserialize)]
#[serde(untagged)]
enum FieldData {
    Wrapped {
        ticket_customized_field: TicketCustomizedField,
    },
    Flat(TicketCustomizedField),
}

impl FieldData {
    fn field(self) -> TicketCustomizedField {
        match self {
            FieldData::Wrapped {
                ticket_customized_field,
            } => ticket_customized_field,
            FieldData::Flat(f) => f,
        }
    }
}

/// The list of the helpdesk's ticket customized fields being built; see
/// [`Client::ticket_customized_fields`].
#[derive(Debug, Clone)]
#[must_use = "a list does nothing until .send() or .stream()"]
pub struct ListTicketCustomizedFields<'a> {
    client: &'a Client,
    page_token: Option<String>,
    page_size: Option<u32>,
    visible: Option<bool>,
}

impl<'a> ListTicketCustomizedFields<'a> {
    /// Where to start: a page's `next_page_token`.
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }

    /// Fields per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Only visible (or only hidden) fields. Sent as the SDKs send it: a
    /// JSON body `{"visible": …}` on the GET.
    pub fn visible(mut self, visible: bool) -> Self {
        self.visible = Some(visible);
        self
    }

    /// One page (`helpdesk.v1.ticket_customized_field.list`).
    pub async fn send(&self) -> Result<TicketCustomizedFieldPage, Error> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(t) = &self.page_token {
            params.push(("page_token", t.clone()));
        }
        if let Some(s) = self.page_size {
            params.push(("page_size", s.to_string()));
        }
        let body = self.visible.map(|v| serde_json::json!({ "visible": v }));
        self.client
            .call(
                path::TICKET_CUSTOMIZED_FIELDS,
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| {
                    let req = http.get(url).query(&params);
                    match &body {
                        Some(b) => req.json(b),
                        None => req,
                    }
                },
            )
            .await
    }

    /// Every field, following `next_page_token` while `has_more`.
    pub fn stream(self) -> impl Stream<Item = Result<TicketCustomizedField, Error>> + 'a {
        let start = (self, std::collections::VecDeque::new(), false);
        futures::stream::try_unfold(start, |(mut list, mut buffered, mut done)| async move {
            loop {
                if let Some(f) = buffered.pop_front() {
                    return Ok(Some((f, (list, buffered, done))));
                }
                if done {
                    return Ok(None);
                }
                let page = list.send().await?;
                buffered.extend(page.items);
                // No token, or the same one again, would start over forever.
                match page.next_page_token.filter(|t| !t.is_empty()) {
                    Some(next) if page.has_more && list.page_token.as_ref() != Some(&next) => {
                        list.page_token = Some(next)
                    }
                    _ => done = true,
                }
            }
        })
    }
}

fn field_path(field_id: &str) -> String {
    path::TICKET_CUSTOMIZED_FIELD.replace("{ticket_customized_field_id}", &segment(field_id))
}

impl Client {
    /// The helpdesk's ticket customized fields; see [`ListTicketCustomizedFields`].
    pub fn ticket_customized_fields(&self) -> ListTicketCustomizedFields<'_> {
        ListTicketCustomizedFields {
            client: self,
            page_token: None,
            page_size: None,
            visible: None,
        }
    }

    /// One ticket customized field (`helpdesk.v1.ticket_customized_field.get`).
    pub async fn ticket_customized_field(
        &self,
        field_id: &str,
    ) -> Result<TicketCustomizedField, Error> {
        let data: FieldData = self
            .call(
                &field_path(field_id),
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| http.get(url),
            )
            .await?;
        Ok(data.field())
    }
}

impl UserClient {
    /// Creates a ticket customized field as the agent
    /// (`helpdesk.v1.ticket_customized_field.create`). Returns the field
    /// when the server sends it back (Feishu sends nothing: `None`). Not
    /// retried after an ambiguous failure: it could make the field twice.
    pub async fn create_ticket_customized_field(
        &self,
        field: &NewTicketCustomizedField,
    ) -> Result<Option<TicketCustomizedField>, Error> {
        let mut body = field.clone();
        if body.helpdesk_id.is_empty() {
            body.helpdesk_id = self.client.inner.helpdesk_id.clone().unwrap_or_default();
        }
        let data: Option<FieldData> = self
            .client
            .call(
                path::TICKET_CUSTOMIZED_FIELDS,
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.post(url).json(&body),
            )
            .await?;
        Ok(data
            .map(FieldData::field)
            .filter(|f| f.ticket_customized_field_id.is_some()))
    }

    /// Changes a ticket customized field as the agent
    /// (`helpdesk.v1.ticket_customized_field.patch`). Retried as a safe call:
    /// it sets values, so a second try leaves what the first did.
    pub async fn patch_ticket_customized_field(
        &self,
        field_id: &str,
        patch: &TicketCustomizedFieldPatch,
    ) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client
            .call(
                &field_path(field_id),
                Auth::User(&self.token),
                Idempotence::Safe,
                |http, url| http.patch(url).json(patch),
            )
            .await?;
        Ok(())
    }

    /// Deletes a ticket customized field as the agent
    /// (`helpdesk.v1.ticket_customized_field.delete`). Not retried after an
    /// ambiguous failure: a second try of a delete that worked answers that
    /// the field is not there, which would hide that it was deleted.
    pub async fn delete_ticket_customized_field(&self, field_id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client
            .call(
                &field_path(field_id),
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.delete(url),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_decodes_flat_or_wrapped_and_a_create_body_is_feishu_s() {
        let flat = json!({"ticket_customized_field_id": "7", "position": 3,
                          "created_at": "1616920429000", "dropdown_options": {"children": [
                              {"tag": "a", "display_name": "A", "children": null}]}});
        let f: FieldData = serde_json::from_value(flat.clone()).unwrap();
        let f = f.field();
        assert_eq!(f.ticket_customized_field_id.as_deref(), Some("7"));
        assert_eq!(f.position.as_deref(), Some("3"));
        assert_eq!(f.dropdown_options.unwrap().children[0].tag, "a");
        let wrapped: FieldData =
            serde_json::from_value(json!({ "ticket_customized_field": flat })).unwrap();
        assert_eq!(
            wrapped.field().ticket_customized_field_id.as_deref(),
            Some("7")
        );

        let new = NewTicketCustomizedField {
            helpdesk_id: "1".into(),
            key_name: "k".into(),
            display_name: "K".into(),
            position: "2".into(),
            field_type: FieldType::DropdownNested,
            visible: true,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            json!({"helpdesk_id": "1", "key_name": "k", "display_name": "K", "position": "2",
                   "field_type": "dropdown_nested", "visible": true, "editable": false,
                   "required": false})
        );
    }
}
