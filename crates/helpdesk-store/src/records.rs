//! Every table's row as the backends read and write it, shared by both SQL
//! backends (`sqlx::FromRow` decodes them from either) and by `migrate`,
//! which copies them from one backend to another unchanged.

use helpdesk_core::content::MessageType;

use crate::{
    App, AppKind, BotMessage, Category, Faq, Field, Helpdesk, Image, ImageLookup, Message, Result,
    StoreError, StoredImage, Ticket, User,
};

mod events;
pub use events::*;

/// The tables, in the order a copy must fill them (what a row refers to
/// comes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    ServerKeys,
    Tenants,
    Apps,
    Helpdesks,
    Users,
    Agents,
    TicketCustomizedFields,
    Blobs,
    Images,
    Tickets,
    Messages,
    MessageImages,
    EventConfigs,
    EventSubscriptions,
    Events,
    EventAttempts,
    Categories,
    Faqs,
    FaqImages,
    BotMessages,
    TenantPolicies,
    Quarantine,
    Audit,
}

impl RecordKind {
    pub const ALL: [RecordKind; 23] = [
        RecordKind::ServerKeys,
        RecordKind::Tenants,
        RecordKind::Apps,
        RecordKind::Helpdesks,
        RecordKind::Users,
        RecordKind::Agents,
        RecordKind::TicketCustomizedFields,
        RecordKind::Blobs,
        RecordKind::Images,
        RecordKind::Tickets,
        RecordKind::Messages,
        RecordKind::MessageImages,
        RecordKind::EventConfigs,
        RecordKind::EventSubscriptions,
        RecordKind::Events,
        RecordKind::EventAttempts,
        RecordKind::Categories,
        RecordKind::Faqs,
        RecordKind::FaqImages,
        RecordKind::BotMessages,
        RecordKind::TenantPolicies,
        RecordKind::Quarantine,
        RecordKind::Audit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::ServerKeys => "server_keys",
            RecordKind::Tenants => "tenants",
            RecordKind::Apps => "apps",
            RecordKind::Helpdesks => "helpdesks",
            RecordKind::Users => "users",
            RecordKind::Agents => "agents",
            RecordKind::TicketCustomizedFields => "ticket_customized_fields",
            RecordKind::Blobs => "blobs",
            RecordKind::Images => "images",
            RecordKind::Tickets => "tickets",
            RecordKind::Messages => "messages",
            RecordKind::MessageImages => "message_images",
            RecordKind::EventConfigs => "event_configs",
            RecordKind::EventSubscriptions => "event_subscriptions",
            RecordKind::Events => "events",
            RecordKind::EventAttempts => "event_attempts",
            RecordKind::Categories => "categories",
            RecordKind::Faqs => "faqs",
            RecordKind::FaqImages => "faq_images",
            RecordKind::BotMessages => "bot_messages",
            RecordKind::TenantPolicies => "tenant_policies",
            RecordKind::Quarantine => "quarantine",
            RecordKind::Audit => "audit",
        }
    }
}

/// Where an export page ends: a row's primary key (`key`), and for the
/// tables ordered by a number, that number (`n`: a sequence number, a
/// message image's index, an event attempt's number).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub n: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantPolicyRow {
    pub tenant_key: String,
    pub max_bytes: Option<i64>,
    pub retain_secs: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuarantineRow {
    pub sha256: String,
    pub signature: String,
    pub engine: String,
    pub quarantined_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    /// Recording order; not copied (as `MessageRow::seq`): a copy numbers
    /// its own in export order.
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub tenant_key: Option<String>,
    pub target: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServerKeyRow {
    pub name: String,
    pub value: Vec<u8>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    pub tenant_key: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub app_id: String,
    pub tenant_key: String,
    pub name: String,
    pub kind: String,
    /// Space-separated.
    pub scopes: String,
    pub secret_sha256: String,
    pub tokens_not_before: i64,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HelpdeskRow {
    pub helpdesk_id: String,
    pub tenant_key: String,
    pub name: String,
    pub token_sha256: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlobRow {
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImageRow {
    pub image_key: String,
    pub tenant_key: String,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub file_name: String,
    pub deleted_at: Option<i64>,
    pub created_at: i64,
    /// The app that uploaded it (none on rows from before that was kept).
    pub app_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    /// Insertion order; not copied (the destination numbers its own, in
    /// the same order).
    pub seq: i64,
    pub id: String,
    pub message_id: String,
    pub ticket_id: String,
    pub message_type: String,
    pub content: String,
    pub image_count: i64,
    pub user_id: String,
    pub user_name: String,
    pub avatar_url: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageImageRow {
    pub message_pk: String,
    pub idx: i64,
    pub image_key: String,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub file_name: String,
    pub deleted_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FaqImageRow {
    pub faq_id: String,
    pub image_key: String,
    pub idx: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRow {
    /// Creation order; not copied (as `MessageRow::seq`).
    pub seq: i64,
    pub agent_id: String,
    pub helpdesk_id: String,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

/// A row of any table, as `export` gives and `import` takes them.
#[derive(Debug, Clone)]
pub enum Record {
    ServerKey(ServerKeyRow),
    Tenant(TenantRow),
    App(AppRow),
    Helpdesk(HelpdeskRow),
    /// A user row is the model's `User` as it is.
    User(User),
    Agent(AgentRow),
    /// A field row is the model's `Field` as it is.
    Field(Field),
    Blob(BlobRow),
    Image(ImageRow),
    /// A ticket row is the model's `Ticket` as it is.
    Ticket(Ticket),
    Message(MessageRow),
    MessageImage(MessageImageRow),
    EventConfig(EventConfigRow),
    EventSubscription(EventSubscriptionRow),
    Event(EventRow),
    EventAttempt(EventAttemptRow),
    /// The model's rows as they are (their `seq` is not copied).
    Category(Category),
    Faq(Faq),
    FaqImage(FaqImageRow),
    BotMessage(BotMessage),
    TenantPolicy(TenantPolicyRow),
    Quarantine(QuarantineRow),
    Audit(AuditRow),
}

impl Record {
    /// Where a page that ends with this row ends.
    pub fn cursor(&self) -> Cursor {
        let key = |k: &str| Cursor {
            key: k.to_string(),
            n: 0,
        };
        match self {
            Record::ServerKey(r) => key(&r.name),
            Record::Tenant(r) => key(&r.tenant_key),
            Record::App(r) => key(&r.app_id),
            Record::Helpdesk(r) => key(&r.helpdesk_id),
            Record::User(r) => key(&format!("{} {}", r.tenant_key, r.open_id)),
            Record::Agent(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
            Record::Field(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
            Record::Blob(r) => key(&r.sha256),
            Record::Image(r) => key(&r.image_key),
            Record::Ticket(r) => key(&r.ticket_id),
            Record::Message(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
            Record::MessageImage(r) => Cursor {
                key: r.message_pk.clone(),
                n: r.idx,
            },
            Record::EventConfig(r) => key(&r.app_id),
            Record::EventSubscription(r) => {
                key(&format!("{} {} {}", r.app_id, r.helpdesk_id, r.event_type))
            }
            Record::Event(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
            Record::EventAttempt(r) => Cursor {
                key: r.event_id.clone(),
                n: r.attempt,
            },
            Record::Category(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
            Record::Faq(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
            Record::FaqImage(r) => key(&format!("{} {}", r.faq_id, r.image_key)),
            Record::BotMessage(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
            Record::TenantPolicy(r) => key(&r.tenant_key),
            Record::Quarantine(r) => key(&r.sha256),
            Record::Audit(r) => Cursor {
                key: String::new(),
                n: r.seq,
            },
        }
    }
}

impl TryFrom<AppRow> for App {
    type Error = StoreError;
    fn try_from(r: AppRow) -> Result<App> {
        Ok(App {
            kind: AppKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Invalid(format!("unknown app kind {:?}", r.kind)))?,
            scopes: r.scopes.split_whitespace().map(str::to_string).collect(),
            app_id: r.app_id,
            tenant_key: r.tenant_key,
            name: r.name,
            secret_sha256: r.secret_sha256,
            tokens_not_before: r.tokens_not_before,
            disabled: r.disabled_at.is_some(),
        })
    }
}

impl From<HelpdeskRow> for Helpdesk {
    fn from(r: HelpdeskRow) -> Helpdesk {
        Helpdesk {
            helpdesk_id: r.helpdesk_id,
            tenant_key: r.tenant_key,
            name: r.name,
            token_sha256: r.token_sha256,
        }
    }
}

impl From<ImageRow> for Image {
    fn from(r: ImageRow) -> Image {
        Image {
            image_key: r.image_key,
            tenant_key: r.tenant_key,
            sha256: r.sha256,
            size: r.size as u64,
            content_type: r.content_type,
            file_name: r.file_name,
        }
    }
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Message {
        Message {
            id: r.id,
            message_id: r.message_id,
            ticket_id: r.ticket_id,
            message_type: r.message_type,
            content: r.content,
            user_id: r.user_id,
            user_name: r.user_name,
            avatar_url: r.avatar_url,
            created_at: r.created_at,
        }
    }
}

/// The app and the helpdesk (LEFT JOINed, so possibly absent) that a
/// helpdesk call's credentials name.
#[derive(Debug, sqlx::FromRow)]
pub struct CredentialsRow {
    #[sqlx(flatten)]
    pub app: AppRow,
    pub h_id: Option<String>,
    pub h_tenant_key: Option<String>,
    pub h_name: Option<String>,
    pub h_token_sha256: Option<String>,
}

impl CredentialsRow {
    pub fn split(self) -> Result<(App, Option<Helpdesk>)> {
        let helpdesk = match (
            self.h_id,
            self.h_tenant_key,
            self.h_name,
            self.h_token_sha256,
        ) {
            (Some(helpdesk_id), Some(tenant_key), Some(name), Some(token_sha256)) => {
                Some(Helpdesk {
                    helpdesk_id,
                    tenant_key,
                    name,
                    token_sha256,
                })
            }
            _ => None,
        };
        Ok((self.app.try_into()?, helpdesk))
    }
}

/// The download's one lookup: the credentials, and the message and image
/// (LEFT JOINed) they may read.
#[derive(Debug, sqlx::FromRow)]
pub struct DownloadRow {
    #[sqlx(flatten)]
    pub credentials: CredentialsRow,
    pub message_type: Option<String>,
    pub image_count: Option<i64>,
    pub sha256: Option<String>,
    pub size: Option<i64>,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub deleted_at: Option<i64>,
}

impl DownloadRow {
    pub fn split(self) -> Result<(App, Option<Helpdesk>, Option<ImageLookup>)> {
        let (app, helpdesk) = self.credentials.split()?;
        let lookup = match self.message_type {
            None => None,
            Some(t) => {
                let message_type = MessageType::parse(&t)
                    .ok_or_else(|| StoreError::Invalid(format!("unknown message type {t:?}")))?;
                let image = match (self.sha256, self.size, self.content_type, self.file_name) {
                    (Some(sha256), Some(size), Some(content_type), Some(file_name)) => {
                        Some(StoredImage {
                            sha256,
                            size: size as u64,
                            content_type,
                            file_name,
                            deleted: self.deleted_at.is_some(),
                        })
                    }
                    _ => None,
                };
                Some(ImageLookup {
                    message_type,
                    image_count: self.image_count.unwrap_or(0) as u32,
                    image,
                })
            }
        };
        Ok((app, helpdesk, lookup))
    }
}
