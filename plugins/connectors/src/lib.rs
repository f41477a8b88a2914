//! The bundled connector plugins: `jira` (create an issue, e.g. an access record),
//! `slack-webhook` (post a message), `webhook` (POST any JSON) and `email` (send a message
//! through an HTTP email API). Each builds as its own component from a cargo feature, and
//! each reaches the external application only through a connector the administrator
//! defined: the plugin names the connector, the host adds the credentials.
//!
//! # Layout
//! - this file: the [`Transport`] the logic runs over (the host import in a component, a
//!   recording double in unit tests), [`send_json`] with the status rules shared by all
//!   four, and the per-feature exports.
//! - [`jira`], [`slack`], [`webhook`], [`email`]: one plugin each, plain logic.

pub mod email;
pub mod jira;
pub mod slack;
pub mod webhook;

use std::collections::BTreeMap;

use serde_json::Value;
use sluice_plugin::PluginError;
use sluice_plugin::http::{Request, Response};

/// How a request reaches the host.
pub trait Transport {
    fn send(&self, req: &Request) -> Result<Response, PluginError>;
}

/// The host's `http` import.
#[derive(Debug, Clone, Copy)]
pub struct Host;

impl Transport for Host {
    fn send(&self, req: &Request) -> Result<Response, PluginError> {
        sluice_plugin::http::send(req)
    }
}

/// What [`send_json`] returns: the status and the body, parsed as JSON when it is JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// Sends `body` as JSON with `method` to `path` through `connector`. A status outside
/// `expect` (any 2xx when empty) is an `HTTP_STATUS` error carrying the status and body,
/// retryable on 429 and 5xx so the step's retry policy can act on it.
pub fn send_json(
    t: &dyn Transport,
    connector: &str,
    method: &str,
    path: &str,
    headers: &BTreeMap<String, String>,
    body: &Value,
    expect: &[u16],
) -> Result<Reply, PluginError> {
    let mut hs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    if !hs.iter().any(|(k, _)| k == "content-type") {
        hs.push(("content-type".into(), "application/json".into()));
    }
    if !hs.iter().any(|(k, _)| k == "accept") {
        hs.push(("accept".into(), "application/json".into()));
    }
    let response = t.send(&Request {
        connector: connector.to_owned(),
        method: method.to_owned(),
        path: path.to_owned(),
        headers: hs,
        query: vec![],
        body: Some(body.to_string()),
    })?;
    let parsed = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&response.body).unwrap_or(Value::String(response.body))
    };
    let ok = if expect.is_empty() {
        (200..300).contains(&response.status)
    } else {
        expect.contains(&response.status)
    };
    if !ok {
        let message = format!(
            "{method} {path} through connector `{connector}` returned status {}",
            response.status
        );
        let err = if response.status == 429 || response.status >= 500 {
            PluginError::retryable("HTTP_STATUS", message)
        } else {
            PluginError::new("HTTP_STATUS", message)
        };
        return Err(err.with_details(serde_json::json!({
            "status": response.status,
            "body": parsed,
        })));
    }
    Ok(Reply {
        status: response.status,
        body: parsed,
    })
}

/// Checks that a connector path stays relative (the host checks again).
pub fn check_path(path: &str) -> Result<(), PluginError> {
    if !path.starts_with('/') || path.contains("://") || path.split('/').any(|s| s == "..") {
        return Err(PluginError::new(
            "INVALID_INPUT",
            format!("path `{path}` must start with `/` and stay below the connector's base URL"),
        ));
    }
    Ok(())
}

/// Declares a connector plugin type that runs `$f` over the host transport.
macro_rules! connector {
    ($name:ident, $desc:literal, $input:ty, $output:ty, $f:path) => {
        #[doc = $desc]
        #[derive(Debug)]
        pub struct $name;
        impl sluice_plugin::Connector for $name {
            type Input = $input;
            type Output = $output;
            const DESCRIPTION: &'static str = $desc;
            // Narrowed by the runtime to the connector the step's input names.
            const PERMISSIONS: &'static [&'static str] = &["http:*"];
            fn invoke(_step: &sluice_plugin::Step, input: $input) -> Result<$output, PluginError> {
                $f(&Host, input)
            }
        }
    };
}

connector!(
    Jira,
    "Creates a Jira issue (project, summary, description, type, labels) through a Jira connector.",
    jira::Input,
    jira::Output,
    jira::create_issue
);
connector!(
    SlackWebhook,
    "Posts a message (text, optional blocks) to a Slack incoming webhook defined as a connector.",
    slack::Input,
    slack::Output,
    slack::post
);
connector!(
    Webhook,
    "POSTs a JSON payload to a path of a connector (a generic outgoing webhook).",
    webhook::Input,
    webhook::Output,
    webhook::post
);
connector!(
    Email,
    "Sends an email (to, cc, subject, text, html) through an HTTP email-sending API defined as a connector.",
    email::Input,
    email::Output,
    email::send
);

// `--features pack` builds all four as one component, the pack `connectors` (what Sluice
// bundles); `--features jira` builds one alone (see `export_plugin!`).
sluice_plugin::components! {
    crate = sluice_connectors;
    pack = "connectors", "External App Connector plugins: Jira issues, Slack messages, signed webhooks and email, each through a connector an administrator defined.";
    connector Jira = "jira",
    connector SlackWebhook = "slack-webhook",
    connector Webhook = "webhook",
    connector Email = "email",
}

/// A transport double for the unit tests: records requests, answers from a closure.
#[cfg(test)]
pub(crate) mod testing {
    use std::cell::RefCell;

    use super::*;

    pub struct Recorder<F: Fn(&Request) -> Response> {
        pub sent: RefCell<Vec<Request>>,
        pub answer: F,
    }

    impl<F: Fn(&Request) -> Response> Transport for Recorder<F> {
        fn send(&self, req: &Request) -> Result<Response, PluginError> {
            self.sent.borrow_mut().push(req.clone());
            Ok((self.answer)(req))
        }
    }

    pub fn answering(status: u16, body: &str) -> Recorder<impl Fn(&Request) -> Response> {
        let body = body.to_owned();
        Recorder {
            sent: RefCell::new(vec![]),
            answer: move |_| Response {
                status,
                headers: vec![],
                body: body.clone(),
            },
        }
    }

    pub fn body_of(r: &Request) -> Value {
        serde_json::from_str(r.body.as_deref().unwrap()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn statuses_outside_expect_are_errors_retryable_on_429_and_5xx() {
        let ok = send_json(
            &answering(201, r#"{"id":1}"#),
            "c",
            "POST",
            "/x",
            &BTreeMap::new(),
            &Value::Null,
            &[],
        )
        .unwrap();
        assert_eq!(ok.body["id"], 1);
        for (status, retryable) in [(400, false), (404, false), (429, true), (503, true)] {
            let e = send_json(
                &answering(status, "nope"),
                "c",
                "POST",
                "/x",
                &BTreeMap::new(),
                &Value::Null,
                &[],
            )
            .unwrap_err();
            assert_eq!((e.code.as_str(), e.retryable), ("HTTP_STATUS", retryable));
            assert_eq!(e.details.unwrap()["body"], "nope");
        }
        assert!(
            send_json(
                &answering(200, ""),
                "c",
                "POST",
                "/x",
                &BTreeMap::new(),
                &Value::Null,
                &[202]
            )
            .is_err()
        );
    }

    #[test]
    fn paths_must_stay_relative() {
        assert!(check_path("/rest/api/3/issue").is_ok());
        for bad in ["rest", "https://evil.example.com/x", "/a/../../b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
