//! The API's methods, one per Feishu method this client speaks, each a thin
//! shape over `Client::call` / `Client::execute` (in `lib.rs`), which own
//! the token, the helpdesk credential and the retries.

use bytes::Bytes;
use futures::Stream;
use helpdesk_core::wire::path;
use serde_json::json;

use crate::retry::Idempotence;
use crate::*;

impl Client {
    /// Uploads an image (`im.v1.image.create`) and returns its `image_key`.
    pub async fn upload_image(
        &self,
        bytes: impl Into<Bytes>,
        file_name: &str,
    ) -> Result<String, Error> {
        #[derive(serde::Deserialize)]
        struct Data {
            image_key: String,
        }
        let bytes: Bytes = bytes.into();
        let data: Data = self
            .call(
                path::IMAGES,
                Auth::Tenant,
                Idempotence::Safe,
                |http, url| {
                    let part = reqwest::multipart::Part::stream(bytes.clone())
                        .file_name(file_name.to_string());
                    let form = reqwest::multipart::Form::new()
                        .text("image_type", "message")
                        .part("image", part);
                    http.post(url).multipart(form)
                },
            )
            .await?;
        Ok(data.image_key)
    }

    /// Opens a ticket for a customer (`helpdesk.v1.ticket.start_service`).
    pub async fn start_service(&self, request: &StartService) -> Result<ServiceStarted, Error> {
        self.call(
            path::START_SERVICE,
            Auth::Helpdesk,
            Idempotence::Unsafe,
            |http, url| http.post(url).json(request),
        )
        .await
    }

    /// A ticket (`helpdesk.v1.ticket.get`).
    pub async fn ticket(&self, ticket_id: &str) -> Result<Ticket, Error> {
        #[derive(serde::Deserialize)]
        struct Data {
            ticket: Ticket,
        }
        let path = path::with_ticket(path::TICKET, &segment(ticket_id));
        let data: Data = self
            .call(&path, Auth::Helpdesk, Idempotence::Safe, |http, url| {
                http.get(url)
            })
            .await?;
        Ok(data.ticket)
    }

    /// Posts a message in a ticket (`helpdesk.v1.ticket_message.create`) and
    /// returns its `message_id`.
    pub async fn create_message(
        &self,
        ticket_id: &str,
        content: &MessageContent,
    ) -> Result<String, Error> {
        #[derive(serde::Deserialize)]
        struct Data {
            message_id: String,
        }
        let (msg_type, content) = content.to_wire();
        let path = path::with_ticket(path::TICKET_MESSAGES, &segment(ticket_id));
        let body = json!({"msg_type": msg_type, "content": content});
        let data: Data = self
            .call(&path, Auth::Helpdesk, Idempotence::Unsafe, |http, url| {
                http.post(url).json(&body)
            })
            .await?;
        Ok(data.message_id)
    }

    /// One page of a ticket's messages (`helpdesk.v1.ticket_message.list`).
    pub async fn list_messages(
        &self,
        ticket_id: &str,
        query: &ListMessages,
    ) -> Result<MessagePage, Error> {
        let path = path::with_ticket(path::TICKET_MESSAGES, &segment(ticket_id));
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(v) = query.time_start {
            params.push(("time_start", v.to_string()));
        }
        if let Some(v) = query.time_end {
            params.push(("time_end", v.to_string()));
        }
        if let Some(v) = query.page {
            params.push(("page", v.to_string()));
        }
        if let Some(v) = query.page_size {
            params.push(("page_size", v.to_string()));
        }
        self.call(&path, Auth::Helpdesk, Idempotence::Safe, |http, url| {
            http.get(url).query(&params)
        })
        .await
    }

    /// Every message of a ticket, oldest first, walking the pages as the
    /// stream is read. `query.page` is where it starts (default 1); the page
    /// size defaults to the largest the API takes.
    pub fn messages(
        &self,
        ticket_id: &str,
        query: ListMessages,
    ) -> impl Stream<Item = Result<TicketMessage, Error>> + '_ {
        struct Walk {
            query: ListMessages,
            page: u32,
            seen: u64,
            buffered: std::collections::VecDeque<TicketMessage>,
            done: bool,
        }
        let start = Walk {
            page: query.page.unwrap_or(1),
            query: ListMessages {
                page_size: Some(query.page_size.unwrap_or(200)),
                ..query
            },
            seen: 0,
            buffered: Default::default(),
            done: false,
        };
        let ticket_id = ticket_id.to_string();
        futures::stream::try_unfold(start, move |mut walk| {
            let ticket_id = ticket_id.clone();
            async move {
                loop {
                    if let Some(m) = walk.buffered.pop_front() {
                        return Ok(Some((m, walk)));
                    }
                    if walk.done {
                        return Ok(None);
                    }
                    let query = ListMessages {
                        page: Some(walk.page),
                        ..walk.query.clone()
                    };
                    let page = self.list_messages(&ticket_id, &query).await?;
                    let size = u64::from(walk.query.page_size.unwrap_or(200));
                    walk.seen += page.messages.len() as u64;
                    walk.done = (page.messages.len() as u64) < size || walk.seen >= page.total;
                    walk.page += 1;
                    walk.buffered.extend(page.messages);
                }
            }
        })
    }

    /// An image of a message (`helpdesk.v1.ticket.ticket_image`): `index` is
    /// required for a post (from 0) and not needed for an image message.
    /// `msg_id` is the message's `id` or `message_id`.
    pub async fn ticket_image(
        &self,
        ticket_id: &str,
        msg_id: &str,
        index: Option<u32>,
    ) -> Result<TicketImage, Error> {
        let mut params = vec![
            ("ticket_id", ticket_id.to_string()),
            ("msg_id", msg_id.to_string()),
        ];
        if let Some(i) = index {
            params.push(("index", i.to_string()));
        }
        let resp = self
            .execute(
                path::TICKET_IMAGES,
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| http.get(url).query(&params),
            )
            .await?;
        TicketImage::from_response(resp, self.url(path::TICKET_IMAGES)).await
    }

    /// An image this app uploaded (`im.v1.image.get`), with the tenant token
    /// only. Feishu refuses another app's image with 234008, an unknown one
    /// with 234001 and a deleted one with 234005, as [`Error::Api`].
    pub async fn im_image(&self, image_key: &str) -> Result<TicketImage, Error> {
        let path = path::IMAGE.replace("{image_key}", &segment(image_key));
        let resp = self
            .execute(&path, Auth::Tenant, Idempotence::Safe, |http, url| {
                http.get(url)
            })
            .await?;
        TicketImage::from_response(resp, self.url(&path)).await
    }
}

/// A path segment, percent-encoded so that an id can never change the path.
pub(crate) fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
