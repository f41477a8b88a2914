//! JumpCloud API calls through the host broker. The host adds credentials and checks the
//! call's JumpCloud scope against the plugin's grants and the workflow's run-as role.
//! In a native build with the `testing` feature, [`crate::testing`]'s host answers.

use crate::PluginError;
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
use crate::bindings::from_wit_error;
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
use crate::bindings::platform::sluice::plugin::jumpcloud as wit;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JumpCloud response; non-2xx statuses are returned, not raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_str(&self.body).map_err(|e| {
            PluginError::new(
                "JUMPCLOUD_BAD_RESPONSE",
                format!("unexpected response body: {e}"),
            )
        })
    }
}

/// Sends one request. `path` starts with `/api/`, `/api/v2/` or `/insights/directory/v1/`.
pub fn call(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> Result<Response, PluginError> {
    let query = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    send(method, path, query, body.map(|b| b.to_string()))
}

/// The host's `jumpcloud` import.
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
fn send(
    method: &str,
    path: &str,
    query: Vec<(String, String)>,
    body: Option<String>,
) -> Result<Response, PluginError> {
    let req = wit::Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query,
        body,
    };
    let r = wit::call(&req).map_err(from_wit_error)?;
    Ok(Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// The test host of this thread ([`crate::testing`]).
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
fn send(
    method: &str,
    path: &str,
    query: Vec<(String, String)>,
    body: Option<String>,
) -> Result<Response, PluginError> {
    crate::testing::serve::jumpcloud(method, path, query, body)
}

/// `GET path?query`.
pub fn get(path: &str, query: &[(&str, &str)]) -> Result<Response, PluginError> {
    call("GET", path, query, None)
}

/// `POST path` with a JSON body.
pub fn post<B: Serialize>(path: &str, body: &B) -> Result<Response, PluginError> {
    let body = serde_json::to_value(body)
        .map_err(|e| PluginError::new("INVALID_REQUEST", format!("request body: {e}")))?;
    call("POST", path, &[], Some(&body))
}
