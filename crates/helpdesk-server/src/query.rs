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
