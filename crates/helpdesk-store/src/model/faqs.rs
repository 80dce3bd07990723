//! A helpdesk's FAQs and their categories, as stored and as listed.

use super::list;

/// A helpdesk's FAQ category. Times in ms.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Category {
    /// Creation order; made by the store, not copied by `migrate`.
    pub seq: i64,
    pub category_id: String,
    pub helpdesk_id: String,
    pub name: String,
    /// "" at the top.
    pub parent_id: String,
    pub language: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// FAQ statuses (Feishu's): online, deleted but recoverable, deleted for good.
pub const FAQ_ONLINE: i64 = 1;
pub const FAQ_DELETED: i64 = 0;
pub const FAQ_GONE: i64 = 2;

/// An FAQ as stored. Times in ms; the lists are JSON arrays of strings.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Faq {
    /// Creation order; made by the store, not copied by `migrate`.
    pub seq: i64,
    pub faq_id: String,
    pub helpdesk_id: String,
    pub question: String,
    pub answer: String,
    /// A JSON array of `{content, type}`.
    pub answer_richtext: String,
    pub category_ids: String,
    pub tags: String,
    pub status: i64,
    pub create_user: String,
    pub update_user: String,
    pub create_time: i64,
    pub update_time: i64,
    /// What search matches: `helpdesk_core::search::document` of the
    /// question and answer.
    pub search_grams: String,
}

impl Faq {
    pub fn categories(&self) -> Vec<String> {
        list(&self.category_ids)
    }
    pub fn tag_names(&self) -> Vec<String> {
        list(&self.tags)
    }
}

/// Which FAQs `FaqRepo::faqs` returns: in creation order, after the one
/// `after` names.
#[derive(Debug, Clone, Default)]
pub struct FaqQuery {
    pub category_id: Option<String>,
    /// Default: online ones.
    pub status: Option<i64>,
    /// Search tokens (`helpdesk_core::search::query`); every one must match.
    pub search: Vec<String>,
    /// The `seq` of the last FAQ of the page before.
    pub after: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct FaqPage {
    pub faqs: Vec<Faq>,
    /// How many match in all.
    pub total: u64,
    /// Whether more follow the page.
    pub more: bool,
}
