//! `helpdesk tickets …`: list, show and update tickets on Feishu or on a
//! helpdesk server, through the Rust SDK. Results are JSON on stdout: one
//! ticket a line for `list`, one object for `show` and `update`.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Result};
use clap::Subcommand;
use futures::StreamExt;
use helpdesk_client::{Error, FieldValue, TicketUpdate};
use helpdesk_core::wire::code;

use crate::images::{explain, Remote};

/// Feishu's code for an expired user access token (this server answers
/// `code::INVALID_USER_TOKEN` for every refused one).
const USER_TOKEN_EXPIRED: i64 = 99991677;

#[derive(Subcommand)]
pub enum TicketsCommand {
    /// Print the helpdesk's tickets, one JSON object a line, walking every
    /// page (Feishu lists 10,000 at most).
    List {
        #[command(flatten)]
        remote: Remote,
        /// Only tickets of this status (1 created, 2 processing, 3 queued,
        /// 4 pending, 5 waiting for the user, 50/51/52 closed by the bot, an
        /// agent, the user); repeat for several.
        #[arg(long = "status", value_name = "N")]
        statuses: Vec<i64>,
        /// Only tickets opened since this time: RFC 3339
        /// (2024-05-01T09:00:00+08:00, or a date) or a duration back from
        /// now (30m, 24h, 7d).
        #[arg(long, value_name = "WHEN", value_parser = parse_since)]
        since: Option<i64>,
        /// Only tickets of a guest of this name.
        #[arg(long)]
        guest_name: Option<String>,
        /// Only tickets this agent (an open_id) handles.
        #[arg(long, value_name = "OPEN_ID")]
        agent: Option<String>,
        /// Only tickets with this tag; repeat for several.
        #[arg(long = "tag", value_name = "NAME")]
        tags: Vec<String>,
        /// Print at most this many tickets.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Print one ticket as a JSON object.
    Show {
        #[command(flatten)]
        remote: Remote,
        /// The ticket's id.
        #[arg(long)]
        ticket: String,
    },
    /// Change a ticket as an agent (with the agent's user access token).
    Update {
        #[command(flatten)]
        remote: Remote,
        /// The ticket's id.
        #[arg(long)]
        ticket: String,
        /// The new status: 1 created, 2 processing, 3 queued, 5 waiting for
        /// the user, 50 closed by the bot, 51 closed by an agent.
        #[arg(long, value_name = "N", value_parser = parse_update_status)]
        status: Option<i64>,
        /// The ticket's tags, by name; repeat for several.
        #[arg(long = "tag", value_name = "NAME")]
        tags: Vec<String>,
        /// A note to add to the ticket.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
        /// 1 not solved, 2 solved.
        #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(i64).range(1..=2))]
        solved: Option<i64>,
        /// A customized field's new value, by the field's id (a dropdown's
        /// value is an option's tag); repeat for several.
        #[arg(long = "field", value_name = "ID=VALUE", value_parser = parse_field)]
        fields: Vec<FieldValue>,
        /// An agent's user access token (u-..., from Feishu's OAuth); prefer
        /// the environment variable.
        #[arg(long, env = "HELPDESK_USER_ACCESS_TOKEN", hide_env_values = true)]
        user_token: String,
    },
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `--since`: a start in milliseconds.
fn parse_since(text: &str) -> std::result::Result<i64, String> {
    let text = text.trim();
    let back = match text.strip_suffix('d') {
        Some(days) if !days.is_empty() && days.bytes().all(|b| b.is_ascii_digit()) => days
            .parse::<u64>()
            .ok()
            .map(|d| std::time::Duration::from_secs(d.saturating_mul(86_400))),
        _ if text.starts_with(|c: char| c.is_ascii_digit()) && !text.contains('-') => {
            crate::settings::parse_duration(text).ok()
        }
        _ => None,
    };
    if let Some(back) = back {
        return Ok(now_ms().saturating_sub(back.as_millis() as i64));
    }
    rfc3339_ms(text).ok_or_else(|| {
        format!("{text:?} is neither an RFC 3339 time (2024-05-01T09:00:00Z, 2024-05-01) nor a duration (30m, 24h, 7d)")
    })
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An RFC 3339 time (or a bare date, midnight UTC) in milliseconds.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let num = |t: &str| -> Option<i64> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (date, rest) = (s.get(..10)?, s.get(10..)?);
    if date.as_bytes()[4] != b'-' || date.as_bytes()[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&date[..4])?, num(&date[5..7])?, num(&date[8..])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let days = days_from_civil(y, m, d);
    if rest.is_empty() {
        return Some(days * 86_400_000);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, mut tail) = (rest.get(..8)?, rest.get(8..)?);
    if clock.as_bytes()[2] != b':' || clock.as_bytes()[5] != b':' {
        return None;
    }
    let (hh, mm, ss) = (num(&clock[..2])?, num(&clock[3..5])?, num(&clock[6..])?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut millis = 0;
    if let Some(frac) = tail.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        millis = num(&format!("{:0<3}", &frac[..digits.min(3)]))?;
        tail = &frac[digits..];
    }
    let offset = match tail {
        "Z" | "z" => 0,
        _ => {
            let sign = match tail.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (tail.get(1..3)?, tail.get(4..)?);
            if tail.len() != 6 || tail.as_bytes()[3] != b':' {
                return None;
            }
            sign * (num(oh)? * 3600 + num(om)? * 60)
        }
    };
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) - offset) * 1000 + millis)
}

/// `--status` of an update: the statuses an update may set.
fn parse_update_status(text: &str) -> std::result::Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n @ (1 | 2 | 3 | 5 | 50 | 51)) => Ok(n),
        _ => Err(format!(
            "{text:?}: an update sets 1 (created), 2 (processing), 3 (queued), 5 (waiting for the user), 50 (closed by the bot) or 51 (closed by an agent)"
        )),
    }
}

/// `--field ID=VALUE`.
fn parse_field(text: &str) -> std::result::Result<FieldValue, String> {
    match text.split_once('=') {
        Some((id, value)) if !id.trim().is_empty() => Ok(FieldValue {
            id: id.trim().to_string(),
            value: value.to_string(),
            key_name: None,
        }),
        _ => Err(format!(
            "{text:?}: write the field's id, =, and its value (e.g. 7120000000000000001=urgent)"
        )),
    }
}

/// The errors of a ticket command a person can act on, in one line.
fn explain_ticket(e: Error, remote: &Remote, ticket: Option<&str>) -> anyhow::Error {
    match &e {
        Error::Api(api) if api.code == code::NOT_FOUND => match ticket {
            Some(t) => anyhow!(
                "no ticket {t} in this helpdesk ({e}): check --ticket and HELPDESK_HELPDESK_ID"
            ),
            None => anyhow!("{e}: check HELPDESK_HELPDESK_ID"),
        },
        Error::Protocol { status: 404, .. } => anyhow!(
            "the server has no such API ({e}): check --base-url / HELPDESK_BASE_URL ({}); a helpdesk server without the ticket list and update answers so",
            remote.base_url
        ),
        Error::Api(api) if api.code == code::BAD_REQUEST => {
            anyhow!("the server refused the request ({e}): check the flags' values")
        }
        _ => explain(e, &remote.base_url),
    }
}

/// Writes one JSON line; `false` once stdout is closed (`| head`).
fn print_line(out: &mut impl Write, value: &impl serde::Serialize) -> Result<bool> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    match out.write_all(&line) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn run(command: TicketsCommand) -> Result<()> {
    match command {
        TicketsCommand::List {
            remote,
            statuses,
            since,
            guest_name,
            agent,
            tags,
            limit,
        } => {
            let client = remote.client()?;
            let mut list = client.tickets().statuses(statuses);
            if let Some(start) = since {
                // Feishu takes the pair or neither: up to now.
                list = list.created_between(start, now_ms());
            }
            if let Some(name) = guest_name {
                list = list.guest_name(name);
            }
            if let Some(agent) = agent {
                list = list.agent_id(agent);
            }
            for tag in tags {
                list = list.tag(tag);
            }
            if let Some(limit) = limit {
                // No more from the server than will be printed.
                list = list.page_size(limit.clamp(1, 200) as u32);
            }
            let mut stream = std::pin::pin!(list.stream().take(limit.unwrap_or(usize::MAX)));
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            while let Some(ticket) = stream.next().await {
                let ticket = ticket.map_err(|e| explain_ticket(e, &remote, None))?;
                if !print_line(&mut out, &ticket)? {
                    return Ok(());
                }
            }
            match out.flush() {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
        TicketsCommand::Show { remote, ticket } => {
            let found = remote
                .client()?
                .ticket(&ticket)
                .await
                .map_err(|e| explain_ticket(e, &remote, Some(&ticket)))?;
            print_line(&mut std::io::stdout().lock(), &found)?;
            Ok(())
        }
        TicketsCommand::Update {
            remote,
            ticket,
            status,
            tags,
            comment,
            solved,
            fields,
            user_token,
        } => {
            if status.is_none()
                && tags.is_empty()
                && comment.is_none()
                && solved.is_none()
                && fields.is_empty()
            {
                anyhow::bail!(
                    "nothing to change: give --status, --tag, --comment, --solved or --field"
                );
            }
            let update = TicketUpdate {
                status,
                tag_names: (!tags.is_empty()).then_some(tags),
                comment,
                customized_fields: fields,
                solved,
                ..TicketUpdate::default()
            };
            remote
                .client()?
                .as_user(user_token)
                .update_ticket(&ticket, &update)
                .await
                .map_err(|e| match &e {
                    Error::Api(api)
                        if matches!(
                            api.code,
                            code::MISSING_TOKEN
                                | code::INVALID_TOKEN
                                | code::INVALID_USER_TOKEN
                                | USER_TOKEN_EXPIRED
                        ) =>
                    {
                        anyhow!("the user access token was refused ({e}): get a fresh one for an agent of this helpdesk (u-..., from Feishu's OAuth, or `helpdesk admin agent token` on a helpdesk server) and set HELPDESK_USER_ACCESS_TOKEN")
                    }
                    _ => explain_ticket(e, &remote, Some(&ticket)),
                })?;
            print_line(
                &mut std::io::stdout().lock(),
                &serde_json::json!({"ticket_id": ticket, "updated": true}),
            )?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc_3339_dates_and_durations() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_ms("2024-05-01T12:30:00.25+02:00"),
            Some(1_714_559_400_250)
        );
        assert_eq!(rfc3339_ms("2024-05-01"), Some(1_714_521_600_000));
        assert_eq!(
            rfc3339_ms("2000-02-29t00:00:01-00:30"),
            Some(951_784_201_000)
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-05-01T25:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00+0200",
            "yesterday",
        ] {
            assert_eq!(rfc3339_ms(bad), None, "{bad}");
            assert!(parse_since(bad).is_err(), "{bad}");
        }
        let day_ago = parse_since("1d").unwrap();
        let hours_ago = parse_since("24h").unwrap();
        assert!((day_ago - hours_ago).abs() < 5_000);
        assert!((now_ms() - day_ago - 86_400_000).abs() < 5_000);
    }

    #[test]
    fn update_flags_are_checked_before_anything_is_sent() {
        assert_eq!(parse_update_status("51"), Ok(51));
        assert!(parse_update_status("4").is_err());
        assert!(parse_update_status("52").is_err());
        let f = parse_field("7001=a=b").unwrap();
        assert_eq!((f.id.as_str(), f.value.as_str()), ("7001", "a=b"));
        assert!(parse_field("=x").is_err() && parse_field("x").is_err());
    }
}
