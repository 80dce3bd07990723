//! A tenant's custom app and the helpdesk it calls with: what every suite
//! provisions (through the store in process, or `helpdesk admin`) and calls
//! the server as.

use helpdesk_core::auth::encode_helpdesk_credential;

#[derive(Clone, Debug)]
pub struct Party {
    pub tenant_key: String,
    pub app_id: String,
    pub app_secret: String,
    pub helpdesk_id: String,
    pub helpdesk_token: String,
}

impl Party {
    /// The `X-Lark-Helpdesk-Authorization` value.
    pub fn credential(&self) -> String {
        encode_helpdesk_credential(&self.helpdesk_id, &self.helpdesk_token)
    }

    /// An SDK client builder for this party against `base`.
    pub fn builder(&self, base: &str) -> helpdesk_client::ClientBuilder {
        helpdesk_client::Client::builder(&self.app_id, &self.app_secret)
            .base_url(base)
            .helpdesk(&self.helpdesk_id, &self.helpdesk_token)
    }

    pub fn client(&self, base: &str) -> helpdesk_client::Client {
        self.builder(base).build().expect("client")
    }

    /// The environment `helpdesk images` reads.
    pub fn env(&self, base: &str) -> Vec<(&'static str, String)> {
        vec![
            ("HELPDESK_BASE_URL", base.to_string()),
            ("HELPDESK_APP_ID", self.app_id.clone()),
            ("HELPDESK_APP_SECRET", self.app_secret.clone()),
            ("HELPDESK_HELPDESK_ID", self.helpdesk_id.clone()),
            ("HELPDESK_HELPDESK_TOKEN", self.helpdesk_token.clone()),
        ]
    }
}
