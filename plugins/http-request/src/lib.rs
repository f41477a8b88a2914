//! `http-request`: the generic External App Connector call. Sends one request through a
//! connector the administrator defined (base URL, credentials, allowed hosts live in the
//! host) and returns the status, headers and parsed body.
//!
//! # Layout
//! One file: input/output types, [`build_request`] and [`interpret`] (plain logic,
//! unit-tested), and the thin [`HttpRequest`] connector that joins them with the host call.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_plugin::http::{Request, Response};
use sluice_plugin::{Connector, PluginError, Step};

/// HTTP methods a connector call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The call to make.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The connector's name, as defined by the administrator.
    pub connector: String,
    pub method: Method,
    /// Path relative to the connector's base URL, e.g. `/rest/api/2/issue`.
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// JSON body; a string is sent as is.
    #[serde(default)]
    pub body: Option<Value>,
    /// Accepted status codes; by default any 2xx.
    #[serde(default)]
    pub expect: Vec<u16>,
}

/// What the call returned.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Output {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, or as a string when it is not JSON; null when empty.
    pub body: Value,
}

/// The host request for an input. Adds `content-type: application/json` for JSON bodies
/// unless the caller set one.
pub fn build_request(input: &Input) -> Request {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let body = match &input.body {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            if !headers.iter().any(|(k, _)| k == "content-type") {
                headers.push(("content-type".into(), "application/json".into()));
            }
            Some(v.to_string())
        }
    };
    Request {
        connector: input.connector.clone(),
        method: input.method.as_str().to_owned(),
        path: input.path.clone(),
        headers,
        query: input
            .query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body,
    }
}

/// The step's output for a response, or an `HTTP_STATUS` error (retryable on 429 and 5xx)
/// when the status is not expected.
pub fn interpret(input: &Input, response: Response) -> Result<Output, PluginError> {
    let body = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&response.body).unwrap_or(Value::String(response.body))
    };
    let accepted = if input.expect.is_empty() {
        (200..300).contains(&response.status)
    } else {
        input.expect.contains(&response.status)
    };
    if !accepted {
        let message = format!(
            "{} {} through connector `{}` returned status {}",
            input.method.as_str(),
            input.path,
            input.connector,
            response.status
        );
        let details = serde_json::json!({"status": response.status, "body": body});
        let err = if response.status == 429 || response.status >= 500 {
            PluginError::retryable("HTTP_STATUS", message)
        } else {
            PluginError::new("HTTP_STATUS", message)
        };
        return Err(err.with_details(details));
    }
    Ok(Output {
        status: response.status,
        headers: response.headers.into_iter().collect(),
        body,
    })
}

/// The connector plugin.
#[derive(Debug)]
pub struct HttpRequest;

impl Connector for HttpRequest {
    type Input = Input;
    type Output = Output;
    const DESCRIPTION: &'static str = "Calls an external application through a connector: method, relative path, headers, \
         query and JSON body; the host adds the credentials.";
    const PERMISSIONS: &'static [&'static str] = &["http:*"];

    fn invoke(_step: &Step, input: Input) -> Result<Output, PluginError> {
        let response = sluice_plugin::http::send(&build_request(&input))?;
        interpret(&input, response)
    }
}

sluice_plugin::export_connector!(HttpRequest);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> Input {
        serde_json::from_value(v).unwrap()
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("x-id".into(), "7".into())],
            body: body.into(),
        }
    }

    #[test]
    fn json_body_is_serialized_with_a_content_type() {
        let i = input(
            json!({"connector": "jira", "method": "POST", "path": "/rest/api/2/issue",
            "headers": {"X-Trace": "1"}, "body": {"fields": {"summary": "hi"}}}),
        );
        let r = build_request(&i);
        assert_eq!(r.method, "POST");
        assert_eq!(r.body.as_deref(), Some(r#"{"fields":{"summary":"hi"}}"#));
        assert!(r.headers.contains(&("x-trace".into(), "1".into())));
        assert!(
            r.headers
                .contains(&("content-type".into(), "application/json".into()))
        );
    }

    #[test]
    fn string_body_is_sent_verbatim_without_forcing_content_type() {
        let i = input(json!({"connector": "c", "method": "PUT", "path": "/x", "body": "a=b"}));
        let r = build_request(&i);
        assert_eq!(r.body.as_deref(), Some("a=b"));
        assert!(r.headers.is_empty());
    }

    #[test]
    fn response_body_is_parsed_when_json() {
        let i = input(json!({"connector": "c", "method": "GET", "path": "/x"}));
        let out = interpret(&i, response(200, r#"{"key":"IT-1"}"#)).unwrap();
        assert_eq!(out.body, json!({"key": "IT-1"}));
        assert_eq!(out.headers["x-id"], "7");
        assert_eq!(interpret(&i, response(204, "")).unwrap().body, Value::Null);
        assert_eq!(
            interpret(&i, response(200, "plain")).unwrap().body,
            json!("plain")
        );
    }

    #[test]
    fn unexpected_status_is_an_error_retryable_only_for_429_and_5xx() {
        let i = input(json!({"connector": "c", "method": "GET", "path": "/x"}));
        let e = interpret(&i, response(404, r#"{"e":1}"#)).unwrap_err();
        assert_eq!((e.code.as_str(), e.retryable), ("HTTP_STATUS", false));
        assert_eq!(e.details.unwrap()["body"], json!({"e": 1}));
        assert!(interpret(&i, response(503, "")).unwrap_err().retryable);
        assert!(interpret(&i, response(429, "")).unwrap_err().retryable);
        let i = input(json!({"connector": "c", "method": "GET", "path": "/x", "expect": [404]}));
        assert_eq!(interpret(&i, response(404, "")).unwrap().status, 404);
    }
}
