//! The helpdesk's FAQs (`helpdesk.v1.faq`): the list (`client.faqs()`) and
//! the search (`client.search_faqs(q)`), each a builder with one page or a
//! stream of all, one FAQ, and an image of its answer with the tenant token
//! ([`Client`]); create, patch and delete as an agent ([`UserClient`], with
//! the agent's user token, as the SDKs' `SupportedAccessTokenTypes` say).
//! The categories are in `categories.rs`, the models in `faq_model.rs`.
//!
//! # The rich text on the wire
//!
//! Answers carry `answer_richtext` as an array of `{content, type}`. A
//! create sends it as a *string* holding that array (the SDKs type
//! `FaqCreateInfo.answer_richtext` as a string), a patch as the array
//! itself (`FaqUpdateInfo` types it so); this client sends each as its SDK
//! does, so that it works against Feishu.
//!
//! # Retries
//!
//! The reads are retried as any safe call. The writes are not retried after
//! an ambiguous failure (a 5xx, a broken connection): a create sent twice
//! makes two FAQs, and a delete sent twice is worse, as Feishu's second
//! delete of an FAQ removes it for good where the first could be undone.

use std::collections::VecDeque;
use std::future::Future;

use base64::Engine;
use futures::Stream;
use helpdesk_core::wire::path;
use serde::de::IgnoredAny;
use serde::{Serialize, Serializer};

use crate::api::segment;
use crate::retry::Idempotence;
use crate::{Auth, Client, Error, Faq, FaqPage, Richtext, TicketImage, UserClient};

/// The most FAQs a page holds.
pub const MAX_FAQ_PAGE_SIZE: u32 = 100;

/// The FAQ list being built (`helpdesk.v1.faq.list`); see [`Client::faqs`].
///
/// ```no_run
/// # async fn run(client: helpdesk_client::Client) -> Result<(), helpdesk_client::Error> {
/// use futures::TryStreamExt;
/// let faqs: Vec<_> = client.faqs().category_id("6836004780707807251").stream().try_collect().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "an FAQ list does nothing until .send() or .stream()"]
pub struct ListFaqs<'a> {
    client: &'a Client,
    category_id: Option<String>,
    status: Option<i64>,
    search: Option<String>,
    page_token: Option<String>,
    page_size: Option<u32>,
}

impl<'a> ListFaqs<'a> {
    /// Only FAQs of this category.
    pub fn category_id(mut self, id: impl Into<String>) -> Self {
        self.category_id = Some(id.into());
        self
    }

    /// Only FAQs of this status (see [`faq_status`](crate::faq_status);
    /// Feishu's default: online).
    pub fn status(mut self, status: i64) -> Self {
        self.status = Some(status);
        self
    }

    /// Only FAQs whose question or answer holds these words (`search`).
    pub fn search(mut self, words: impl Into<String>) -> Self {
        self.search = Some(words.into());
        self
    }

    /// Where to start: a page's `page_token`.
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }

    /// FAQs per page, 1 to 100 (Feishu's default 20; a stream's 100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    fn params(&self, page_token: Option<&str>, page_size: Option<u32>) -> Vec<(&str, String)> {
        let mut p: Vec<(&str, String)> = Vec::new();
        if let Some(v) = &self.category_id {
            p.push(("category_id", v.clone()));
        }
        if let Some(v) = self.status {
            p.push(("status", v.to_string()));
        }
        if let Some(v) = &self.search {
            p.push(("search", v.clone()));
        }
        if let Some(v) = page_token {
            p.push(("page_token", v.to_string()));
        }
        if let Some(v) = page_size {
            p.push(("page_size", v.to_string()));
        }
        p
    }

    async fn page(
        &self,
        page_token: Option<&str>,
        page_size: Option<u32>,
    ) -> Result<FaqPage, Error> {
        let params = self.params(page_token, page_size);
        self.client
            .call(
                path::FAQS,
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| http.get(url).query(&params),
            )
            .await
    }

    /// One page (`helpdesk.v1.faq.list`).
    pub async fn send(&self) -> Result<FaqPage, Error> {
        self.page(self.page_token.as_deref(), self.page_size).await
    }

    /// Every matching FAQ, following `page_token` while `has_more`, from
    /// [`page_token`](ListFaqs::page_token) on.
    pub fn stream(self) -> impl Stream<Item = Result<Faq, Error>> + 'a {
        let size = Some(self.page_size.unwrap_or(MAX_FAQ_PAGE_SIZE));
        let start = self.page_token.clone();
        token_pages(start, move |token| {
            let list = self.clone();
            async move { list.page(token.as_deref(), size).await }
        })
    }
}

/// An FAQ search being built (`helpdesk.v1.faq.search`); see
/// [`Client::search_faqs`].
#[derive(Debug, Clone)]
#[must_use = "a search does nothing until .send() or .stream()"]
pub struct SearchFaqs<'a> {
    client: &'a Client,
    query: String,
    page_token: Option<String>,
    page_size: Option<u32>,
}

impl<'a> SearchFaqs<'a> {
    /// Where to start: a page's `page_token`.
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }

    /// FAQs per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    async fn page(&self, page_token: Option<&str>) -> Result<FaqPage, Error> {
        // Base64 of the UTF-8 query with base64=true, as Feishu recommends
        // for text that is not English: nothing between here and its search
        // can then change the query's bytes.
        let mut params = vec![
            (
                "query",
                base64::engine::general_purpose::STANDARD.encode(self.query.as_bytes()),
            ),
            ("base64", "true".to_string()),
        ];
        if let Some(v) = page_token {
            params.push(("page_token", v.to_string()));
        }
        if let Some(v) = self.page_size {
            params.push(("page_size", v.to_string()));
        }
        self.client
            .call(
                path::FAQ_SEARCH,
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| http.get(url).query(&params),
            )
            .await
    }

    /// One page of matches.
    pub async fn send(&self) -> Result<FaqPage, Error> {
        self.page(self.page_token.as_deref()).await
    }

    /// Every match, following `page_token` while `has_more`.
    pub fn stream(self) -> impl Stream<Item = Result<Faq, Error>> + 'a {
        let start = self.page_token.clone();
        token_pages(start, move |token| {
            let search = self.clone();
            async move { search.page(token.as_deref()).await }
        })
    }
}

/// The items of every page `fetch` gets, from the page of `start` on, each
/// next page by the token of the one before while it says `has_more`. No
/// token, or the same one again, ends it (it would start over forever).
pub(crate) fn token_pages<'a, F, Fut>(
    start: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<Faq, Error>> + 'a
where
    F: Fn(Option<String>) -> Fut + 'a,
    Fut: Future<Output = Result<FaqPage, Error>> + 'a,
{
    struct Walk<F> {
        fetch: F,
        token: Option<String>,
        buffered: VecDeque<Faq>,
        done: bool,
    }
    let walk = Walk {
        fetch,
        token: start,
        buffered: VecDeque::new(),
        done: false,
    };
    futures::stream::try_unfold(walk, |mut walk| async move {
        loop {
            if let Some(f) = walk.buffered.pop_front() {
                return Ok(Some((f, walk)));
            }
            if walk.done {
                return Ok(None);
            }
            let page = (walk.fetch)(walk.token.clone()).await?;
            walk.buffered.extend(page.items);
            match page.page_token.filter(|t| !t.is_empty()) {
                Some(next) if page.has_more && walk.token.as_ref() != Some(&next) => {
                    walk.token = Some(next)
                }
                _ => walk.done = true,
            }
        }
    })
}

/// An FAQ to create (`POST /faqs`, Feishu's `FaqCreateInfo`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewFaq {
    /// Its category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    /// The question (required).
    pub question: String,
    /// The answer as plain text; Feishu takes it from the rich text if left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The answer as rich text; sent as a JSON string, as the SDKs send it.
    #[serde(
        serialize_with = "richtext_as_string",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub answer_richtext: Vec<Richtext>,
    /// Similar questions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

fn richtext_as_string<S: Serializer>(r: &[Richtext], s: S) -> Result<S::Ok, S::Error> {
    let text = serde_json::to_string(r).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

/// What to change on an FAQ (`PATCH /faqs/:id`, Feishu's `FaqUpdateInfo`);
/// what is `None` is left as it is and not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaqPatch {
    /// Its category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    /// The question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The answer as plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The answer as rich text; sent as an array, as `FaqUpdateInfo` types it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_richtext: Option<Vec<Richtext>>,
    /// Similar questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct FaqData {
    #[serde(default)]
    faq: Option<Faq>,
}

fn faq_path(faq_id: &str) -> String {
    path::FAQ.replace("{id}", &segment(faq_id))
}

impl Client {
    /// The FAQ list's filters (`helpdesk.v1.faq.list`); see [`ListFaqs`].
    pub fn faqs(&self) -> ListFaqs<'_> {
        ListFaqs {
            client: self,
            category_id: None,
            status: None,
            search: None,
            page_token: None,
            page_size: None,
        }
    }

    /// A search of the FAQs' questions and answers (`helpdesk.v1.faq.search`);
    /// see [`SearchFaqs`].
    pub fn search_faqs(&self, query: impl Into<String>) -> SearchFaqs<'_> {
        SearchFaqs {
            client: self,
            query: query.into(),
            page_token: None,
            page_size: None,
        }
    }

    /// One FAQ (`helpdesk.v1.faq.get`).
    pub async fn faq(&self, faq_id: &str) -> Result<Faq, Error> {
        let data: FaqData = self
            .call(
                &faq_path(faq_id),
                Auth::Helpdesk,
                Idempotence::Safe,
                |http, url| http.get(url),
            )
            .await?;
        Ok(data.faq.unwrap_or_default())
    }

    /// An image of an FAQ's answer (`helpdesk.v1.faq.faq_image`): `image_key`
    /// is an image element's content (see [`Faq::image_keys`]).
    pub async fn faq_image(&self, faq_id: &str, image_key: &str) -> Result<TicketImage, Error> {
        let path = path::FAQ_IMAGE
            .replace("{id}", &segment(faq_id))
            .replace("{image_key}", &segment(image_key));
        let resp = self
            .execute(&path, Auth::Helpdesk, Idempotence::Safe, |http, url| {
                http.get(url)
            })
            .await?;
        TicketImage::from_response(resp, self.url(&path)).await
    }
}

impl UserClient {
    /// Creates an FAQ as the agent (`helpdesk.v1.faq.create`) and returns it.
    /// Not retried after an ambiguous failure: it could make it twice.
    pub async fn create_faq(&self, faq: &NewFaq) -> Result<Faq, Error> {
        let body = serde_json::json!({ "faq": faq });
        let data: FaqData = self
            .client
            .call(
                path::FAQS,
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.post(url).json(&body),
            )
            .await?;
        Ok(data.faq.unwrap_or_default())
    }

    /// Changes an FAQ as the agent (`helpdesk.v1.faq.patch`); a deleted
    /// (recoverable) FAQ comes back online. Not retried after an ambiguous
    /// failure.
    pub async fn patch_faq(&self, faq_id: &str, patch: &FaqPatch) -> Result<(), Error> {
        let body = serde_json::json!({ "faq": patch });
        let _: IgnoredAny = self
            .client
            .call(
                &faq_path(faq_id),
                Auth::User(&self.token),
                Idempotence::Unsafe,
                |http, url| http.patch(url).json(&body),
            )
            .await?;
        Ok(())
    }

    /// Deletes an FAQ as the agent (`helpdesk.v1.faq.delete`): an online FAQ
    /// becomes deleted (recoverable, [`faq_status::DELETED`](crate::faq_status::DELETED));
    /// a deleted one is removed for good. Never retried after an ambiguous
    /// failure, for that reason.
    pub async fn delete_faq(&self, faq_id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client
            .call(
                &faq_path(faq_id),
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
    fn a_create_sends_the_rich_text_as_a_string_and_a_patch_as_an_array() {
        let new = NewFaq {
            question: "VPN?".into(),
            answer_richtext: vec![Richtext::text("see"), Richtext::image("img_1")],
            ..NewFaq::default()
        };
        let v = serde_json::to_value(&new).unwrap();
        let text = v["answer_richtext"].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text).unwrap(),
            json!([{"content": "see", "type": "text"}, {"content": "img_1", "type": "image"}])
        );
        assert_eq!(
            serde_json::to_value(NewFaq::default()).unwrap(),
            json!({"question": ""})
        );
        let patch = FaqPatch {
            answer_richtext: Some(vec![Richtext::line_break()]),
            ..FaqPatch::default()
        };
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            json!({"answer_richtext": [{"content": "", "type": "line_break"}]})
        );
    }
}
