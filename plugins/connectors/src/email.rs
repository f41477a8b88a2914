//! `email`: sends a message through an HTTP email-sending API defined as a connector (the
//! "email actions" of JumpCloud Workflows). The plugin POSTs one JSON document —
//! `{from, to, cc, bcc, reply_to, subject, text, html}` — to the connector's `path`
//! (default `/send`); point the connector at a relay or provider endpoint that takes it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_plugin::PluginError;

use crate::{Transport, check_path, send_json};

fn send_path() -> String {
    "/send".into()
}

/// The message.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The email connector's name.
    pub connector: String,
    /// Recipients (at least one).
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Sender; when absent the email API's default sender is used.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body, if any.
    #[serde(default)]
    pub html: Option<String>,
    /// Path of the sending endpoint below the connector's base URL.
    #[serde(default = "send_path")]
    pub path: String,
}

/// What the email API answered.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Output {
    pub status: u16,
    /// How many addresses the message went to.
    pub recipients: usize,
    /// The message id, when the API returned one (`id` or `message_id`).
    pub message_id: Option<String>,
}

/// Whether `a` looks like one email address (one `@`, a dotted domain, no spaces).
pub fn valid_address(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 255
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

/// Sends the message.
pub fn send(t: &dyn Transport, input: Input) -> Result<Output, PluginError> {
    if input.to.is_empty() {
        return Err(PluginError::new(
            "INVALID_INPUT",
            "`to` needs at least one address",
        ));
    }
    let all = input
        .to
        .iter()
        .chain(&input.cc)
        .chain(&input.bcc)
        .chain(&input.from)
        .chain(&input.reply_to);
    if let Some(bad) = all.clone().find(|a| !valid_address(a)) {
        return Err(PluginError::new(
            "INVALID_EMAIL",
            format!("`{bad}` is not a valid email address"),
        ));
    }
    if input.subject.trim().is_empty() || input.subject.contains(['\r', '\n']) {
        return Err(PluginError::new(
            "INVALID_INPUT",
            "the subject must be one non-empty line",
        ));
    }
    check_path(&input.path)?;
    let mut body = json!({
        "to": input.to,
        "subject": input.subject,
        "text": input.text,
    });
    for (k, v) in [
        ("from", &input.from),
        ("reply_to", &input.reply_to),
        ("html", &input.html),
    ] {
        if let Some(v) = v {
            body[k] = json!(v);
        }
    }
    if !input.cc.is_empty() {
        body["cc"] = json!(input.cc);
    }
    if !input.bcc.is_empty() {
        body["bcc"] = json!(input.bcc);
    }
    let reply = send_json(
        t,
        &input.connector,
        "POST",
        &input.path,
        &BTreeMap::new(),
        &body,
        &[],
    )?;
    let message_id = ["id", "message_id", "messageId"]
        .iter()
        .find_map(|k| reply.body.get(k))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    Ok(Output {
        status: reply.status,
        recipients: input.to.len() + input.cc.len() + input.bcc.len(),
        message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn input(v: Value) -> Input {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn sends_one_json_document() {
        let t = answering(202, r#"{"message_id":"m-1"}"#);
        let out = send(
            &t,
            input(json!({"connector": "mail", "to": ["jane.doe@example.com"],
                "cc": ["it@example.com"], "subject": "Welcome", "text": "Hello"})),
        )
        .unwrap();
        assert_eq!(
            (out.recipients, out.message_id.as_deref()),
            (2, Some("m-1"))
        );
        let sent = &t.sent.borrow()[0];
        assert_eq!(sent.path, "/send");
        assert_eq!(
            body_of(sent),
            json!({"to": ["jane.doe@example.com"], "cc": ["it@example.com"],
                "subject": "Welcome", "text": "Hello"})
        );
    }

    #[test]
    fn addresses_and_subjects_are_checked_before_sending() {
        let t = answering(202, "");
        for (bad, code) in [
            (
                json!({"connector": "m", "to": [], "subject": "s", "text": ""}),
                "INVALID_INPUT",
            ),
            (
                json!({"connector": "m", "to": ["nobody"], "subject": "s", "text": ""}),
                "INVALID_EMAIL",
            ),
            (
                json!({"connector": "m", "to": ["a@b.c"], "from": "x y@b.c", "subject": "s", "text": ""}),
                "INVALID_EMAIL",
            ),
            (
                json!({"connector": "m", "to": ["a@b.c"], "subject": "a\nBcc: x@y.z", "text": ""}),
                "INVALID_INPUT",
            ),
        ] {
            assert_eq!(send(&t, input(bad)).unwrap_err().code, code);
        }
        assert!(t.sent.borrow().is_empty());
        assert!(valid_address("first.last+tag@sub.example.co.uk"));
        assert!(!valid_address("a@b"));
    }
}
