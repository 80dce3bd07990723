//! Where a thumbnail's or an original's image is, kept in memory: a
//! gallery of a hundred images asks a hundred times, and a cached
//! thumbnail should cost about what a cached `ticket_images` download
//! does, not a database statement.
//!
//! An entry is the store's answer tagged with the change counter read
//! before the statement (`ConsoleConfig::changes`); it is used only while
//! the counter is the same. Every deletion, quarantine, erasure and FAQ
//! deletion for good moves the counter, and the API server observes it as
//! it does for its own cache, so a deleted image stops being served within
//! the same time as `ticket_images` stops. Only live images are kept; an
//! image is kept with its tenant's key, which every request checks against
//! its session's scope.

use helpdesk_store::{FaqImage, MetadataStore, Result, TicketImage};
use quick_cache::sync::Cache;

use crate::Changes;

/// Images whose place is kept (a few hundred bytes each).
const KEPT: usize = 50_000;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Ticket(String, String, u32),
    Faq(String, String),
}

#[derive(Clone)]
enum Found {
    Ticket(TicketImage),
    Faq(FaqImage),
}

pub struct Located {
    changes: Option<Changes>,
    kept: Cache<Key, (i64, String, Found)>,
}

impl Located {
    pub fn new(changes: Option<Changes>) -> Located {
        Located {
            changes,
            kept: Cache::new(KEPT),
        }
    }

    fn generation(&self) -> Option<i64> {
        self.changes.as_ref().and_then(|read| (read.0)())
    }

    fn kept(&self, key: &Key) -> Option<(String, Found)> {
        let now = self.generation()?;
        let (generation, tenant_key, found) = self.kept.get(key)?;
        (generation == now).then_some((tenant_key, found))
    }

    fn keep(&self, generation: Option<i64>, key: Key, tenant_key: &str, found: Found) {
        if let Some(generation) = generation {
            self.kept
                .insert(key, (generation, tenant_key.to_string(), found));
        }
    }

    /// As `InspectRepo::ticket_image_at`, from memory when it can be.
    pub async fn ticket_image(
        &self,
        meta: &dyn MetadataStore,
        (ticket_id, message_id, index): (&str, &str, u32),
    ) -> Result<Option<(String, TicketImage)>> {
        let key = Key::Ticket(ticket_id.into(), message_id.into(), index);
        if let Some((tenant_key, Found::Ticket(image))) = self.kept(&key) {
            return Ok(Some((tenant_key, image)));
        }
        // Read before the statement: a change after it moves the counter
        // past what the entry is tagged with.
        let generation = self.generation();
        let found = meta.ticket_image_at(ticket_id, message_id, index).await?;
        if let Some((tenant_key, image)) = &found {
            if !image.deleted {
                self.keep(generation, key, tenant_key, Found::Ticket(image.clone()));
            }
        }
        Ok(found)
    }

    /// As `InspectRepo::faq_image_at`, from memory when it can be.
    pub async fn faq_image(
        &self,
        meta: &dyn MetadataStore,
        (faq_id, image_key): (&str, &str),
    ) -> Result<Option<(String, FaqImage)>> {
        let key = Key::Faq(faq_id.into(), image_key.into());
        if let Some((tenant_key, Found::Faq(image))) = self.kept(&key) {
            return Ok(Some((tenant_key, image)));
        }
        let generation = self.generation();
        let found = meta.faq_image_at(faq_id, image_key).await?;
        if let Some((tenant_key, image)) = &found {
            if !image.deleted {
                self.keep(generation, key, tenant_key, Found::Faq(image.clone()));
            }
        }
        Ok(found)
    }
}
