//! The concerns of the Helpdesk data the API reads and writes: tenants
//! and apps, tickets and messages, people, fields, FAQs and images.

use async_trait::async_trait;
use helpdesk_core::ids::MessageRef;

use crate::records::TenantRow;
use crate::*;

/// Tenants, their apps and helpdesks: who may call, and with what.
#[async_trait]
pub trait DirectoryRepo: Send + Sync + 'static {
    async fn create_tenant(&self, name: &str) -> Result<Tenant>;
    /// Every tenant, oldest first.
    async fn tenants(&self) -> Result<Vec<TenantRow>>;
    async fn create_app(&self, app: NewApp<'_>) -> Result<App>;
    async fn app(&self, app_id: &str) -> Result<Option<App>>;
    /// Every app, or a tenant's, oldest first.
    async fn apps(&self, tenant_key: Option<&str>) -> Result<Vec<App>>;
    /// Changes an app's secret or whether it is disabled, and moves the
    /// change counter so that running servers see it.
    async fn update_app(&self, app_id: &str, change: AppChange<'_>) -> Result<()>;
    /// Refuses every token issued to the app until now.
    async fn revoke_tokens(&self, app_id: &str) -> Result<()>;
    async fn create_helpdesk(
        &self,
        tenant_key: &str,
        name: &str,
        token_sha256: &str,
    ) -> Result<Helpdesk>;
    /// Every helpdesk, or a tenant's, oldest first.
    async fn helpdesks(&self, tenant_key: Option<&str>) -> Result<Vec<Helpdesk>>;
    /// Replaces a helpdesk's token; the old credential stops working.
    async fn set_helpdesk_token(&self, helpdesk_id: &str, token_sha256: &str) -> Result<()>;
    /// The app and, when it exists, the helpdesk: what a helpdesk call's two
    /// credentials name, in one lookup.
    async fn app_and_helpdesk(
        &self,
        app_id: &str,
        helpdesk_id: &str,
    ) -> Result<Option<(App, Option<Helpdesk>)>>;
}

/// Tickets: opened, listed, changed, found by their chat.
#[async_trait]
pub trait TicketRepo: Send + Sync + 'static {
    /// Creates the ticket, and its `ticket.created` events in the same
    /// transaction (see [`EventRepo::subscribe_events`]).
    async fn create_ticket(&self, ticket: NewTicket<'_>) -> Result<Ticket>;
    /// The ticket, if it exists in this helpdesk.
    async fn ticket(&self, helpdesk_id: &str, ticket_id: &str) -> Result<Option<Ticket>>;
    /// One page of a helpdesk's tickets, newest first, and how many match
    /// (counted up to `TICKET_LIST_CAP`). `tenant_key` is the helpdesk's:
    /// the guest's name is its user's.
    async fn tickets(
        &self,
        tenant_key: &str,
        helpdesk_id: &str,
        query: &TicketQuery,
    ) -> Result<TicketPage>;
    /// Changes the ticket as `actor` (an agent's open_id) and records its
    /// `ticket.updated` events in the same transaction; the ticket before
    /// and after, or `None` when it is not in this helpdesk. Moving into a
    /// closed status sets `closed_at` and `closed_by`; leaving one clears
    /// them.
    async fn update_ticket(
        &self,
        helpdesk_id: &str,
        ticket_id: &str,
        actor: &str,
        change: &TicketChange,
    ) -> Result<Option<(Ticket, Ticket)>>;
    /// The ticket of a chat, if it is in this helpdesk (bot messages name a
    /// ticket by its chat).
    async fn ticket_by_chat(&self, helpdesk_id: &str, chat_id: &str) -> Result<Option<Ticket>>;
}

/// A ticket's messages, the bot's messages, and the download's one lookup.
#[async_trait]
pub trait MessageRepo: Send + Sync + 'static {
    /// Adds the message (and its events); `StoreError::Invalid` if one of
    /// its images was deleted since the caller looked it up. It holds the
    /// shared lock of [`ImageRepo`]'s rules on each image's blob row.
    async fn add_message(&self, message: NewMessage<'_>) -> Result<Message>;
    /// Records a bot message sent to a user (`receive_type` user).
    async fn add_bot_message(&self, message: &BotMessage) -> Result<()>;
    /// One page of a ticket's messages, oldest first, and how many match in all.
    async fn messages(&self, ticket_id: &str, filter: &MessageFilter) -> Result<MessagePage>;
    /// The hot path of a download, in one indexed lookup: what the two
    /// credentials name (as `app_and_helpdesk`), and the message of the
    /// ticket (if the ticket is in that helpdesk) with its image at `index`.
    /// The caller must judge the credentials before using the image.
    async fn image_with_credentials(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: u32,
    ) -> Result<Option<(App, Option<Helpdesk>, Option<ImageLookup>)>>;
}

/// The people of a tenant: its users (guests and agents), and the agents of
/// its helpdesks.
#[async_trait]
pub trait PeopleRepo: Send + Sync + 'static {
    /// A new user with a fresh open_id.
    async fn create_user(&self, tenant_key: &str, name: &str, email: &str) -> Result<User>;
    /// The users among `open_ids` of this tenant.
    async fn users(&self, tenant_key: &str, open_ids: &[String]) -> Result<Vec<User>>;
    /// A new user of the helpdesk's tenant who is an agent of the helpdesk.
    async fn create_agent(&self, helpdesk_id: &str, name: &str, email: &str) -> Result<Agent>;
    /// The agent, in any helpdesk.
    async fn agent(&self, agent_id: &str) -> Result<Option<Agent>>;
    /// A helpdesk's agents, oldest first.
    async fn agents(&self, helpdesk_id: &str) -> Result<Vec<Agent>>;
    /// Disables (or enables) an agent: a disabled agent's user tokens are
    /// refused from the next request on, and no new ticket is given to it.
    async fn set_agent_disabled(&self, agent_id: &str, disabled: bool) -> Result<()>;
}

/// A helpdesk's ticket customized fields.
#[async_trait]
pub trait FieldRepo: Send + Sync + 'static {
    /// `StoreError::Invalid` when the helpdesk has a field of that key, or
    /// `MAX_FIELDS` already.
    async fn create_field(&self, field: &Field) -> Result<()>;
    async fn field(&self, helpdesk_id: &str, field_id: &str) -> Result<Option<Field>>;
    /// Every field of the helpdesk (at most `MAX_FIELDS`), oldest first.
    async fn fields(&self, helpdesk_id: &str) -> Result<Vec<Field>>;
    /// Replaces the field's row (same id and helpdesk); false when it is not
    /// there.
    async fn update_field(&self, field: &Field) -> Result<bool>;
    /// False when it was not there.
    async fn delete_field(&self, helpdesk_id: &str, field_id: &str) -> Result<bool>;
}

/// A helpdesk's FAQs and their categories. An FAQ holds uploaded images by
/// key: while it does, their image rows stay live (so [`ImageRepo`]'s blob
/// rules need nothing more), and attaching one takes the same shared locks
/// as [`MessageRepo::add_message`].
#[async_trait]
pub trait FaqRepo: Send + Sync + 'static {
    async fn create_category(&self, category: &Category) -> Result<()>;
    async fn category(&self, helpdesk_id: &str, category_id: &str) -> Result<Option<Category>>;
    /// Every category of the helpdesk, in creation order.
    async fn categories(&self, helpdesk_id: &str) -> Result<Vec<Category>>;
    /// Replaces name, parent and language; false when it is not there.
    async fn update_category(&self, category: &Category) -> Result<bool>;
    /// False when it is not there; `StoreError::Invalid` while it has
    /// sub-categories.
    async fn delete_category(&self, helpdesk_id: &str, category_id: &str) -> Result<bool>;
    /// Creates the FAQ holding `images` (live images of the helpdesk's
    /// tenant, in answer order); `StoreError::Invalid` if one was deleted
    /// since the caller looked it up.
    async fn create_faq(&self, faq: &Faq, images: &[Image]) -> Result<()>;
    async fn faq(&self, helpdesk_id: &str, faq_id: &str) -> Result<Option<Faq>>;
    /// The keys of the images an FAQ holds, in answer order.
    async fn faq_image_keys(&self, faq_id: &str) -> Result<Vec<String>>;
    async fn faqs(&self, helpdesk_id: &str, query: &FaqQuery) -> Result<FaqPage>;
    /// Replaces the FAQ's row and, with `images`, the images it holds (a
    /// key it no longer holds stays its uploader's; the change counter
    /// moves); false when it is not there.
    async fn update_faq(&self, faq: &Faq, images: Option<&[Image]>) -> Result<bool>;
    /// Deletes an FAQ: an online one becomes deleted (recoverable), a
    /// deleted one gone for good, which releases its images (their keys are
    /// deleted when nothing else holds them, and the change counter moves).
    /// The new status and the SHA-256
    /// of every image released, for `cleanup`; `None` when it is not there.
    async fn delete_faq(
        &self,
        helpdesk_id: &str,
        faq_id: &str,
    ) -> Result<Option<(i64, Vec<String>)>>;
    /// What a `faq_image` download's credentials name (as
    /// `DirectoryRepo::app_and_helpdesk`), and the image, if the FAQ is in
    /// that helpdesk, not gone, and holds `image_key`.
    async fn faq_image_with_credentials(
        &self,
        app_id: &str,
        helpdesk_id: &str,
        faq_id: &str,
        image_key: &str,
    ) -> Result<Option<(App, Option<Helpdesk>, Option<StoredImage>)>>;
}

/// Uploaded images, the images of messages, and the blob rows they share.
///
/// # Blob rows and their objects
/// Every stored object has one `blobs` row, shared by every image of any
/// tenant with those bytes. Two rules keep a live image row from ever
/// pointing at a missing object, on any backend and with any number of
/// writers:
/// - whatever adds a live reference to a blob (`add_image`, and
///   [`MessageRepo::add_message`]) holds a shared lock on its `blobs` row
///   (creating it if needed) until it commits;
/// - the object is removed only by the holder of a [`BlobClaim`], which
///   holds an exclusive lock on that row, taken after every reference was
///   found dead, until the row is forgotten.
///
/// So a writer either commits before the claim looks (and the claim finds the
/// reference and is not granted) or waits for the claim to finish (and then
/// finds the object gone and writes it again: see `ingest`). SQLite gets both
/// locks from its single writer; PostgreSQL from `FOR SHARE` / `FOR UPDATE`.
#[async_trait]
pub trait ImageRepo: Send + Sync + 'static {
    /// Records an image `app_id` uploaded, whose blob is already durable.
    async fn add_image(
        &self,
        tenant_key: &str,
        app_id: &str,
        blob: &Blob,
        file_name: &str,
    ) -> Result<Image>;
    /// An uploaded image by key, deleted or not (a quarantined one reads as
    /// deleted).
    async fn upload(&self, image_key: &str) -> Result<Option<Upload>>;
    /// Deletes an uploaded image by key (`admin image delete --key`): `GET
    /// /im/v1/images` and the FAQs holding it answer it deleted; messages
    /// that posted it keep their copy. Its SHA-256, for `cleanup`.
    async fn delete_upload(&self, image_key: &str) -> Result<String>;
    /// The live images among `keys` that belong to `tenant_key`.
    async fn images(&self, tenant_key: &str, keys: &[String]) -> Result<Vec<Image>>;
    /// Marks a message's image (or all of them, with no index) deleted, and
    /// the upload key it was posted with once no live message uses that key.
    /// The bytes stay: `cleanup::delete_images` removes those no row uses.
    async fn delete_message_images(
        &self,
        ticket_id: &str,
        msg: MessageRef<'_>,
        index: Option<u32>,
    ) -> Result<Vec<DeletedImage>>;
    /// The exclusive lock on the blob row of `sha256`, if no live image or
    /// message image refers to it (see the trait's rules); `None` otherwise,
    /// or when there is no such row.
    async fn claim_unreferenced_blob(&self, sha256: &str) -> Result<Option<Box<dyn BlobClaim>>>;
    /// Up to `limit` blob rows that nothing live refers to: what a crash
    /// between a delete and its cleanup left behind.
    async fn unreferenced_blobs(&self, limit: u32) -> Result<Vec<String>>;
}

/// The exclusive lock on an unreferenced blob row: while it lives, nothing
/// can add a reference to the blob. Remove the object, then `forget` the row;
/// dropping the claim instead keeps the row (and releases the lock).
#[async_trait]
pub trait BlobClaim: Send {
    /// Deletes the blob row and releases the lock.
    async fn forget(self: Box<Self>) -> Result<()>;
}
