//! What a stream sends for a row of the feed: the HTML fragment that
//! htmx's SSE extension swaps into the page, and the words its
//! `aria-live` region says.

use askama::Template;
use axum::response::sse::Event;
use helpdesk_store::{Activity, ActivityKind, MessageFilter};

use super::Watch;
use crate::events::AttemptView;
use crate::tickets::MessageView;
use crate::Console;

#[derive(Template)]
#[template(path = "live_message.html")]
struct LiveMessage<'a> {
    m: MessageView,
    ticket_id: &'a str,
    say: String,
}

#[derive(Template)]
#[template(path = "live_attempt.html")]
struct LiveAttempt {
    a: AttemptView,
    event: helpdesk_store::records::EventRow,
    oob: bool,
    say: String,
}

#[derive(Template)]
#[template(path = "live_ticket.html")]
struct LiveTicket {
    status: i64,
    say: String,
}

#[derive(Template)]
#[template(path = "live_activity.html")]
struct LiveActivity {
    v: ActivityView,
    say: String,
}

/// One row of the front page's activity list.
pub struct ActivityView {
    pub at: i64,
    pub tenant_key: String,
    pub what: &'static str,
    pub href: String,
    pub subject: String,
}

impl ActivityView {
    pub fn of(row: &Activity) -> ActivityView {
        use crate::pages::path_part;
        let (what, href) = match row.kind {
            ActivityKind::Ticket => (
                "ticket opened",
                format!("/tickets/{}", path_part(&row.ticket_id)),
            ),
            ActivityKind::TicketUpdated => (
                "ticket changed",
                format!("/tickets/{}", path_part(&row.ticket_id)),
            ),
            ActivityKind::Message => (
                "message posted",
                format!(
                    "/tickets/{}#m-{}",
                    path_part(&row.ticket_id),
                    path_part(&row.subject)
                ),
            ),
            ActivityKind::Attempt => (
                "delivery attempted",
                format!("/events/{}", path_part(&row.subject)),
            ),
        };
        ActivityView {
            at: row.at,
            tenant_key: row.tenant_key.clone(),
            what,
            href,
            subject: row.subject.clone(),
        }
    }
}

/// The event a stream for `watch` sends for `row`, if any.
pub(super) async fn render(
    console: &Console,
    watch: &Watch,
    row: &Activity,
) -> Result<Option<Event>, Box<dyn std::error::Error + Send + Sync>> {
    let meta = &console.stores.meta;
    let (name, html) = match (watch, row.kind) {
        (Watch::All, _) => {
            let v = ActivityView::of(row);
            let say = format!("New activity: {} {}", v.what, v.subject);
            ("activity", LiveActivity { v, say }.render()?)
        }
        (Watch::Ticket(id), ActivityKind::Message) if *id == row.ticket_id => {
            // The message was committed with its row: found by its time.
            let page = meta
                .messages(
                    id,
                    &MessageFilter {
                        time_start: Some(row.at / 1000 - 1),
                        limit: 1000,
                        ..MessageFilter::default()
                    },
                )
                .await?;
            let Some(message) = page
                .messages
                .into_iter()
                .find(|m| m.message_id == row.subject)
            else {
                return Ok(None);
            };
            let images = meta
                .ticket_images(id)
                .await?
                .into_iter()
                .filter(|i| i.message_id == message.message_id)
                .collect::<Vec<_>>();
            let say = match images.len() {
                0 => format!("New message from {}", message.user_name),
                n => format!("New message from {} with {n} images", message.user_name),
            };
            let dimensions = crate::tickets::dimensions_of(
                console,
                images.iter().map(|i| i.live_sha256()).collect(),
            )
            .await;
            let m = MessageView {
                message,
                images,
                dimensions,
            };
            (
                "message",
                LiveMessage {
                    m,
                    ticket_id: id,
                    say,
                }
                .render()?,
            )
        }
        (Watch::Ticket(id), ActivityKind::TicketUpdated) if *id == row.ticket_id => {
            let Some((_, ticket)) = meta.ticket_anywhere(id).await? else {
                return Ok(None);
            };
            let say = format!("The ticket's status is now {}", ticket.status);
            (
                "ticket",
                LiveTicket {
                    status: ticket.status,
                    say,
                }
                .render()?,
            )
        }
        (Watch::Event(id), ActivityKind::Attempt) if *id == row.subject => {
            let Some(event) = meta.event(id).await? else {
                return Ok(None);
            };
            let Some(attempt) = meta
                .event_attempts(id)
                .await?
                .into_iter()
                .find(|a| a.attempt == row.number)
            else {
                return Ok(None);
            };
            let say = match attempt.status {
                Some(s) => format!("Attempt {} answered HTTP {s}", attempt.attempt),
                None => format!("Attempt {} got no answer", attempt.attempt),
            };
            let a = AttemptView::of(attempt);
            (
                "attempt",
                LiveAttempt {
                    a,
                    event,
                    oob: true,
                    say,
                }
                .render()?,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(Event::default().event(name).data(html)))
}

/// RFC 3339 UTC from Unix milliseconds, for `<time datetime>`.
pub fn iso_ms(ms: &i64) -> String {
    let (y, m, d, h, mi, s) = crate::pages::civil(ms.div_euclid(1000));
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}
