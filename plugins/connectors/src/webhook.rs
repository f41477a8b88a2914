//! `webhook`: POSTs (or PUTs) a JSON payload to a path of a connector — the generic
//! outgoing webhook, e.g. an audit alert to `/api/v2/alerts`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_plugin::PluginError;

use crate::{Transport, check_path, send_json};

fn root() -> String {
    "/".into()
}

/// Methods a webhook may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    #[default]
    Post,
    Put,
    Patch,
}

/// The delivery.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The connector's name.
    pub connector: String,
    /// Path below the connector's base URL (default `/`, the base URL itself).
    #[serde(default = "root")]
    pub path: String,
    /// The JSON to send.
    pub payload: Value,
    #[serde(default)]
    pub method: Method,
    /// Extra headers (credentials are the host's and cannot be set here).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Accepted status codes; by default any 2xx.
    #[serde(default)]
    pub expect: Vec<u16>,
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Output {
    pub status: u16,
    /// The answer, parsed as JSON when it is JSON; null when empty.
    pub body: Value,
}

/// Delivers the payload.
pub fn post(t: &dyn Transport, input: Input) -> Result<Output, PluginError> {
    check_path(&input.path)?;
    let method = match input.method {
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
    };
    let reply = send_json(
        t,
        &input.connector,
        method,
        &input.path,
        &input.headers,
        &input.payload,
        &input.expect,
    )?;
    Ok(Output {
        status: reply.status,
        body: reply.body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use serde_json::json;

    #[test]
    fn delivers_the_payload_with_headers() {
        let t = answering(202, r#"{"queued":true}"#);
        let out = post(
            &t,
            serde_json::from_value(json!({"connector": "audit", "path": "/api/v2/alerts",
                "payload": {"severity": "info"}, "headers": {"X-Source": "sluice"}}))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (out.status, out.body["queued"].as_bool()),
            (202, Some(true))
        );
        let sent = &t.sent.borrow()[0];
        assert_eq!(sent.path, "/api/v2/alerts");
        assert!(sent.headers.contains(&("x-source".into(), "sluice".into())));
        assert_eq!(body_of(sent), json!({"severity": "info"}));
        let bad = post(
            &t,
            serde_json::from_value(json!({"connector": "a", "path": "x", "payload": 1})).unwrap(),
        );
        assert_eq!(bad.unwrap_err().code, "INVALID_INPUT");
    }
}
