//! The FAQs' categories (`helpdesk.v1.category`): the list and one category
//! with the tenant token ([`Client`]); create, patch and delete as an agent
//! ([`UserClient`]). Answers, as the SDKs model them: a get's `data` is the
//! category itself, a create's is `{"category": …}`, a list's
//! `{"categories": […]}`; a patch and a delete answer none.
//!
//! The writes are not retried after an ambiguous failure (a create could
//! make the category twice; a delete that worked would answer "not found"
//! when tried again).

use helpdesk_core::wire::path;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::api::segment;
use crate::retry::Idempotence;
use crate::ticket_model::null_default;
use crate::{Auth, Category, Client, Error, UserClient};

/// How the category list is ordered (`order_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryOrder {
    /// By when they were made (1).
    Created,
    /// By name (2).
    Name,
}

/// The category list being built (`helpdesk.v1.category.list`); see
/// [`Client::categories`].
#[derive(Debug, Clone)]
#[must_use = "a category list does nothing until .send()"]
pub struct ListCategories<'a> {
    client: &'a Client,
    lang: Option<String>,
    order_by: Option<CategoryOrder>,
    asc: Option<bool>,
}

impl ListCategories<'_> {
    /// Only categories of this language, e.g. `zh_cn`.
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = Some(lang.into());
        self
    }

    /// The order.
    pub fn order_by(mut self, order: CategoryOrder) -> Self {
        self.order_by = Some(order);
        self
    }

    /// Ascending (`true`) or descending.
    pub fn asc(mut self, asc: bool) -> Self {
        self.asc = Some(asc);
        self
    }

    /// Every category (the list has no pages).
    pub async fn send(&self) -> Result<Vec<Category>, Error> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(default, deserialize_with = "null_default")]
            categories: Vec<Category>,
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(v) = &self.lang {
            params.push(("lang", v.clone()));
        }
        if let Some(v) = self.order_by {
            let n = match v {
                CategoryOrder::Created => 1,
                CategoryOrder::Name => 2,
            };
            params.push(("order_by", n.to_string()));
        }
        if let Some(v) = self.asc {
            params.push(("asc", v.to_string()));
        }
        let data: Option<Data> = self
            .client
            .call(
                path::CATEGORIES,
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| http.get(url).query(&params),
            )
            .await?;
        Ok(data.map(|d| d.categories).unwrap_or_default())
    }
}

/// A category to create (`POST /categories`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewCategory {
    /// Its name (required).
    pub name: String,
    /// The category to put it under (`"0"`, empty or `None`: the top).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Its language (Feishu's default `zh_cn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// What to change on a category (`PATCH /categories/:id`); what is `None`
/// is left as it is and not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryPatch {
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The category to move it under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Its language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

fn category_path(id: &str) -> String {
    path::CATEGORY.replace("{id}", &segment(id))
}

impl Client {
    /// The helpdesk's FAQ categories; see [`ListCategories`].
    pub fn categories(&self) -> ListCategories<'_> {
        ListCategories {
            client: self,
            lang: None,
            order_by: None,
            asc: None,
        }
    }

    /// One category (`helpdesk.v1.category.get`).
    pub async fn category(&self, id: &str) -> Result<Category, Error> {
        let data: Option<Category> = self
            .call(
                &category_path(id),
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| http.get(url),
            )
            .await?;
        Ok(data.unwrap_or_default())
    }
}

impl UserClient {
    /// Creates a category as the agent (`helpdesk.v1.category.create`) and
    /// returns it (`data.category`). Not retried after an ambiguous failure.
    pub async fn create_category(&self, category: &NewCategory) -> Result<Category, Error> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(default)]
            category: Option<Category>,
        }
        let data: Option<Data> = self
            .client
            .call(
                path::CATEGORIES,
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.post(url).json(category),
            )
            .await?;
        Ok(data.and_then(|d| d.category).unwrap_or_default())
    }

    /// Changes a category as the agent (`helpdesk.v1.category.patch`). Not
    /// retried after an ambiguous failure.
    pub async fn patch_category(&self, id: &str, patch: &CategoryPatch) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client
            .call(
                &category_path(id),
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.patch(url).json(patch),
            )
            .await?;
        Ok(())
    }

    /// Deletes a category as the agent (`helpdesk.v1.category.delete`). Not
    /// retried after an ambiguous failure.
    pub async fn delete_category(&self, id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client
            .call(
                &category_path(id),
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.delete(url),
            )
            .await?;
        Ok(())
    }
}
