//! Query strings: values arrive as strings in any order (Go sorts its keys).

use std::collections::HashMap;

use http::Uri;

/// The query's parameters; the first of a repeated key wins.
pub fn params(uri: &Uri) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// The query's parameters with every value of a repeated key, as the SDKs
/// send arrays (`status_list=1&status_list=2`; `key[]=` is taken too).
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn of(uri: &Uri) -> Params {
        Params(
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .map(|(k, v)| {
                    let k = k
                        .strip_suffix("[]")
                        .map(str::to_string)
                        .unwrap_or(k.into_owned());
                    (k, v.into_owned())
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
