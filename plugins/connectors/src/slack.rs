//! `slack-webhook`: posts a message to a Slack incoming webhook. Define the connector with
//! `--base-url https://hooks.slack.com/services --secret-in-path` and the webhook's
//! `T…/B…/…` part as its credential, so the token stays in the host.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_plugin::PluginError;

use crate::{Transport, check_path, send_json};

fn root() -> String {
    "/".into()
}

/// The message.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The Slack webhook connector's name.
    pub connector: String,
    /// The message text (Slack `mrkdwn`); also the notification fallback when `blocks` is
    /// given.
    pub text: String,
    /// Block Kit blocks, sent as given.
    #[serde(default)]
    pub blocks: Option<Value>,
    /// Path below the connector's URL; `/` (default) is the webhook URL itself.
    #[serde(default = "root")]
    pub path: String,
}

/// Slack's answer.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Output {
    pub status: u16,
    /// Slack answers `ok` on success.
    pub response: Value,
}

/// Posts the message.
pub fn post(t: &dyn Transport, input: Input) -> Result<Output, PluginError> {
    if input.text.trim().is_empty() {
        return Err(PluginError::new(
            "INVALID_INPUT",
            "the message text is empty",
        ));
    }
    check_path(&input.path)?;
    let mut body = json!({ "text": input.text });
    if let Some(blocks) = input.blocks {
        body["blocks"] = blocks;
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
    Ok(Output {
        status: reply.status,
        response: reply.body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn posts_text_and_blocks_to_the_webhook_itself() {
        let t = answering(200, "ok");
        let out = post(
            &t,
            serde_json::from_value(json!({"connector": "slack", "text": "hi *there*",
                "blocks": [{"type": "divider"}]}))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out.response, "ok");
        let sent = &t.sent.borrow()[0];
        assert_eq!(sent.path, "/");
        assert_eq!(
            body_of(sent),
            json!({"text": "hi *there*", "blocks": [{"type": "divider"}]})
        );
        let e = post(
            &t,
            serde_json::from_value(json!({"connector": "s", "text": " "})).unwrap(),
        );
        assert_eq!(e.unwrap_err().code, "INVALID_INPUT");
    }
}
