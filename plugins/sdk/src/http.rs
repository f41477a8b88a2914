//! Calls to external applications through host-defined connectors. The plugin names the
//! connector and a relative path; the host adds the credentials, which the plugin never sees.
//! In a native build with the `testing` feature, [`crate::testing`]'s host answers.

use crate::PluginError;
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
use crate::bindings::from_wit_error;
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
use crate::bindings::platform::sluice::plugin::http as wit;

/// A request through a connector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub connector: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<String>,
}

/// The external application's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Sends the request. Requires the permission `http:<connector>` (or `http:*`).
pub fn send(req: &Request) -> Result<Response, PluginError> {
    host_send(req)
}

/// The host's `http` import.
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
fn host_send(req: &Request) -> Result<Response, PluginError> {
    let wit_req = wit::Request {
        connector: req.connector.clone(),
        method: req.method.clone(),
        path: req.path.clone(),
        headers: req.headers.clone(),
        query: req.query.clone(),
        body: req.body.clone(),
    };
    let r = wit::send(&wit_req).map_err(from_wit_error)?;
    Ok(Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// The test host of this thread ([`crate::testing`]).
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
fn host_send(req: &Request) -> Result<Response, PluginError> {
    crate::testing::serve::http(req)
}
