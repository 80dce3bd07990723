//! Tickets through their whole life: the whole `Ticket` as Feishu sends it,
//! the list (`client.tickets()`, a builder of its filters, one page or a
//! stream of all), the update an agent makes, and `answer_user_query`. The
//! ticket customized fields are in `ticket_fields.rs`, the ticket's model in
//! `ticket_model.rs`.
//!
//! # Which token
//!
//! Feishu takes a tenant token for some of these methods and only a
//! *user's* token for others (oapi-sdk-go's `SupportedAccessTokenTypes`):
//! `PUT /tickets/:id` and the create, patch and delete of a ticket customized
//! field act as an agent, with the agent's `u-…` user access token; the list,
//! the get and `answer_user_query` act as the app, with the tenant token.
//! Every one of them also sends the helpdesk credential.
//!
//! The user's calls hang off a handle, [`Client::as_user`], rather than take
//! the token as one more argument: the call site then says whose authority
//! it uses (`client.as_user(&token).update_ticket(..)`), a user token cannot
//! be passed where a ticket id goes (both are strings), the methods that need
//! one are exactly those of [`UserClient`], and the handle keeps the token
//! out of `Debug`. A user's token is the caller's to obtain and renew (by
//! OAuth): the client never fetches one, and a refused one (99991663) ends
//! the call at once, unlike the tenant token, which it fetches again once.
//!
//! # Retries
//!
//! The list and the gets are retried as any safe call is. The update is not
//! retried after an ambiguous failure (a 5xx, a broken connection): a PUT is
//! idempotent in HTTP's terms, but this one is not in effect, since its
//! `comment` adds a comment and every change raises a
//! `helpdesk.ticket.updated_v1` event; sent twice, an agent's note shows
//! twice. `answer_user_query` (it answers the user) is treated the same way.

use std::collections::VecDeque;

use futures::Stream;
use helpdesk_core::wire::path;
use serde::de::IgnoredAny;
use serde::Serialize;
use serde_json::json;

use crate::api::segment;
use crate::retry::Idempotence;
use crate::{Auth, Client, Error, Ticket, TicketPage};

/// The most results the list gives however many pages are asked for.
pub const MAX_LISTED_TICKETS: u64 = 10_000;

/// The filters of `GET /tickets`; built by [`Client::tickets`].
#[derive(Debug, Clone, Default)]
struct TicketQuery {
    ticket_id: Option<String>,
    agent_id: Option<String>,
    closed_by_id: Option<String>,
    ticket_type: Option<i64>,
    channel: Option<i64>,
    solved: Option<i64>,
    score: Option<i64>,
    status_list: Vec<i64>,
    guest_name: Option<String>,
    guest_id: Option<String>,
    tags: Vec<String>,
    page: Option<u32>,
    page_size: Option<u32>,
    created: Option<(i64, i64)>,
    updated: Option<(i64, i64)>,
}

impl TicketQuery {
    /// The query string's pairs; a list is its key repeated, as the SDKs send it.
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p: Vec<(&'static str, String)> = Vec::new();
        let strings = [
            ("ticket_id", &self.ticket_id),
            ("agent_id", &self.agent_id),
            ("closed_by_id", &self.closed_by_id),
            ("guest_name", &self.guest_name),
            ("guest_id", &self.guest_id),
        ];
        p.extend(
            strings
                .iter()
                .filter_map(|(k, v)| Some((*k, (*v).clone()?))),
        );
        let ints = [
            ("type", self.ticket_type),
            ("channel", self.channel),
            ("solved", self.solved),
            ("score", self.score),
        ];
        p.extend(
            ints.iter()
                .filter_map(|(k, v)| Some((*k, (*v)?.to_string()))),
        );
        p.extend(
            self.status_list
                .iter()
                .map(|s| ("status_list", s.to_string())),
        );
        p.extend(self.tags.iter().map(|t| ("tags", t.clone())));
        if let Some((start, end)) = self.created {
            p.push(("create_time_start", start.to_string()));
            p.push(("create_time_end", end.to_string()));
        }
        if let Some((start, end)) = self.updated {
            p.push(("update_time_start", start.to_string()));
            p.push(("update_time_end", end.to_string()));
        }
        if let Some(page) = self.page {
            p.push(("page", page.to_string()));
        }
        if let Some(size) = self.page_size {
            p.push(("page_size", size.to_string()));
        }
        p
    }
}

/// A ticket list being built: the filters of `helpdesk.v1.ticket.list`,
/// then [`send`](ListTickets::send) for one page or
/// [`stream`](ListTickets::stream) for every ticket.
///
/// ```no_run
/// # async fn run(client: helpdesk_client::Client) -> Result<(), helpdesk_client::Error> {
/// use helpdesk_client::ticket_status::{PROCESSING, QUEUED};
/// let page = client.tickets().status(PROCESSING).status(QUEUED).page_size(50).send().await?;
/// println!("{} tickets in all", page.total);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a ticket list does nothing until .send() or .stream()"]
pub struct ListTickets<'a> {
    client: &'a Client,
    query: TicketQuery,
}

impl<'a> ListTickets<'a> {
    /// Only this ticket.
    pub fn ticket_id(mut self, id: impl Into<String>) -> Self {
        self.query.ticket_id = Some(id.into());
        self
    }

    /// Only tickets this agent (an open_id) handles.
    pub fn agent_id(mut self, id: impl Into<String>) -> Self {
        self.query.agent_id = Some(id.into());
        self
    }

    /// Only tickets this user (an open_id) closed.
    pub fn closed_by_id(mut self, id: impl Into<String>) -> Self {
        self.query.closed_by_id = Some(id.into());
        self
    }

    /// Only tickets of this stage (query `type`): 1 with the bot, 2 with a human.
    pub fn ticket_type(mut self, ticket_type: i64) -> Self {
        self.query.ticket_type = Some(ticket_type);
        self
    }

    /// Only tickets from this channel.
    pub fn channel(mut self, channel: i64) -> Self {
        self.query.channel = Some(channel);
        self
    }

    /// Only unsolved (1) or solved (2) tickets.
    pub fn solved(mut self, solved: i64) -> Self {
        self.query.solved = Some(solved);
        self
    }

    /// Only tickets of this rating.
    pub fn score(mut self, score: i64) -> Self {
        self.query.score = Some(score);
        self
    }

    /// Also tickets of this status (see [`ticket_status`](crate::ticket_status)); with none, any.
    pub fn status(mut self, status: i64) -> Self {
        self.query.status_list.push(status);
        self
    }

    /// Also tickets of these statuses.
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = i64>) -> Self {
        self.query.status_list.extend(statuses);
        self
    }

    /// Only tickets of a guest of this name.
    pub fn guest_name(mut self, name: impl Into<String>) -> Self {
        self.query.guest_name = Some(name.into());
        self
    }

    /// Only tickets of this guest (an open_id).
    pub fn guest_id(mut self, id: impl Into<String>) -> Self {
        self.query.guest_id = Some(id.into());
        self
    }

    /// Also tickets with this tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.query.tags.push(tag.into());
        self
    }

    /// Only tickets opened from `start` to `end`, in milliseconds since the
    /// Unix epoch (Feishu takes the two together).
    pub fn created_between(mut self, start_ms: i64, end_ms: i64) -> Self {
        self.query.created = Some((start_ms, end_ms));
        self
    }

    /// Only tickets changed from `start` to `end`, in milliseconds.
    pub fn updated_between(mut self, start_ms: i64, end_ms: i64) -> Self {
        self.query.updated = Some((start_ms, end_ms));
        self
    }

    /// The page to get, from 1 (default 1); where a stream starts.
    pub fn page(mut self, page: u32) -> Self {
        self.query.page = Some(page);
        self
    }

    /// Tickets per page, 1 to 200 (Feishu's default 20; a stream's 200).
    pub fn page_size(mut self, size: u32) -> Self {
        self.query.page_size = Some(size);
        self
    }

    /// One page (`helpdesk.v1.ticket.list`).
    pub async fn send(&self) -> Result<TicketPage, Error> {
        self.client.list_tickets(&self.query).await
    }

    /// Every matching ticket, walking the pages as the stream is read, from
    /// [`page`](ListTickets::page) on. It stops after a short page, once
    /// `total` tickets came, or at the 10,000 Feishu gives at most. Pages
    /// are fetched as the stream is read: a ticket that changes meanwhile
    /// (one this loop updates, say) may move pages and be missed or seen
    /// twice; collect first to change what a filter matched.
    pub fn stream(self) -> impl Stream<Item = Result<Ticket, Error>> + 'a {
        struct Walk<'a> {
            client: &'a Client,
            query: TicketQuery,
            size: u32,
            seen: u64,
            buffered: VecDeque<Ticket>,
            done: bool,
        }
        let size = self.query.page_size.unwrap_or(200);
        let start = Walk {
            client: self.client,
            query: TicketQuery {
                page: Some(self.query.page.unwrap_or(1)),
                page_size: Some(size),
                ..self.query
            },
            size,
            seen: 0,
            buffered: VecDeque::new(),
            done: false,
        };
        futures::stream::try_unfold(start, |mut walk| async move {
            loop {
                if let Some(t) = walk.buffered.pop_front() {
                    return Ok(Some((t, walk)));
                }
                if walk.done {
                    return Ok(None);
                }
                let page = walk.client.list_tickets(&walk.query).await?;
                let got = page.tickets.len() as u64;
                walk.seen += got;
                walk.done = got == 0
                    || got < u64::from(walk.size)
                    || walk.seen >= page.total
                    || walk.seen >= MAX_LISTED_TICKETS;
                walk.query.page = walk.query.page.map(|p| p + 1);
                walk.buffered.extend(page.tickets);
            }
        })
    }
}

/// What an agent changes on a ticket (`PUT /tickets/:ticket_id`); what is
/// `None` (or empty) is left as it is and not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketUpdate {
    /// The new status: 1, 2, 3, 5, 50 or 51 (see [`ticket_status`](crate::ticket_status)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// The ticket's tags, by name (`Some(vec![])` sends an empty list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_names: Option<Vec<String>>,
    /// A note to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Customized fields to set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub customized_fields: Vec<FieldValue>,
    /// The stage: 1 with the bot, 2 with a human.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<i64>,
    /// 1 not solved, 2 solved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solved: Option<i64>,
    /// The channel's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<i64>,
}

/// A customized field's new value, in a [`TicketUpdate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldValue {
    /// The field's id (`ticket_customized_field_id`).
    pub id: String,
    /// The value; for a dropdown, an option's `tag`.
    pub value: String,
    /// The field's key, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
}

/// An FAQ offered as the answer to a user's query, with how well it matched.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaqAnswer {
    /// The FAQ's id.
    pub id: String,
    /// How well it matched.
    pub score: f64,
}

/// The calls an agent makes with a user access token; see [`Client::as_user`].
#[derive(Clone)]
pub struct UserClient {
    pub(crate) client: Client,
    pub(crate) token: String,
}

impl std::fmt::Debug for UserClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserClient")
            .field("client", &self.client)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Client {
    /// The ticket list's filters (`helpdesk.v1.ticket.list`); see [`ListTickets`].
    pub fn tickets(&self) -> ListTickets<'_> {
        ListTickets {
            client: self,
            query: TicketQuery::default(),
        }
    }

    async fn list_tickets(&self, query: &TicketQuery) -> Result<TicketPage, Error> {
        let params = query.params();
        self.call(
            path::TICKETS,
            Auth::Helpdesk,
            Idempotence::Safe,
            |http, url| http.get(url).query(&params),
        )
        .await
    }

    /// The calls that act as an agent, with the agent's user access token
    /// (`u-…`, from Feishu's OAuth); the helpdesk credential is this client's.
    pub fn as_user(&self, user_access_token: impl Into<String>) -> UserClient {
        UserClient {
            client: self.clone(),
            token: user_access_token.into(),
        }
    }

    /// Answers a user's query with FAQs (`helpdesk.v1.ticket.answer_user_query`);
    /// `event_id` is the event that carried the query. Not retried after an
    /// ambiguous failure.
    pub async fn answer_user_query(
        &self,
        ticket_id: &str,
        event_id: &str,
        faqs: &[FaqAnswer],
    ) -> Result<(), Error> {
        let path = path::with_ticket(path::ANSWER_USER_QUERY, &segment(ticket_id));
        let body = json!({"event_id": event_id, "faqs": faqs});
        let _: IgnoredAny = self
            .call(&path, Auth::Helpdesk, Idempotence::Unsafe, |http, url| {
                http.post(url).json(&body)
            })
            .await?;
        Ok(())
    }
}

impl UserClient {
    /// Changes a ticket as the agent (`helpdesk.v1.ticket.update`). Not
    /// retried after an ambiguous failure (see the module's notes).
    pub async fn update_ticket(&self, ticket_id: &str, update: &TicketUpdate) -> Result<(), Error> {
        let path = path::with_ticket(path::TICKET, &segment(ticket_id));
        let _: IgnoredAny = self
            .client
            .call(
                &path,
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.put(url).json(update),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket_status;

    #[test]
    fn lists_are_repeated_keys_and_times_go_in_pairs() {
        let q = TicketQuery {
            status_list: vec![1, 2],
            tags: vec!["a".into(), "b".into()],
            created: Some((1, 2)),
            ticket_type: Some(2),
            ..TicketQuery::default()
        };
        let p = q.params();
        let keys: Vec<&str> = p.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "type",
                "status_list",
                "status_list",
                "tags",
                "tags",
                "create_time_start",
                "create_time_end"
            ]
        );
        assert!(TicketQuery::default().params().is_empty());
    }

    #[test]
    fn an_update_sends_only_what_it_sets() {
        let u = TicketUpdate {
            status: Some(ticket_status::CLOSED_BY_AGENT),
            customized_fields: vec![FieldValue {
                id: "f1".into(),
                value: "v".into(),
                key_name: None,
            }],
            ..TicketUpdate::default()
        };
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            json!({"status": 51, "customized_fields": [{"id": "f1", "value": "v"}]})
        );
        assert_eq!(
            serde_json::to_value(TicketUpdate::default()).unwrap(),
            json!({})
        );
    }
}
