//! `jira`: creates an issue through a Jira connector (`POST /rest/api/3/issue`, or `/2/`).
//! A plain-text description becomes Atlassian Document Format, one paragraph per blank-line
//! separated block, as Jira's own editor does; an object is sent as given.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sluice_plugin::PluginError;

use crate::{Transport, send_json};

fn task() -> String {
    "Task".into()
}

fn v3() -> u8 {
    3
}

/// The issue to create.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The Jira connector's name.
    pub connector: String,
    /// Project key, e.g. `IT`.
    pub project: String,
    /// One line, at most 255 characters.
    pub summary: String,
    /// Plain text (turned into Atlassian Document Format on API v3) or an ADF document.
    #[serde(default)]
    pub description: Option<Value>,
    /// Issue type name (default `Task`).
    #[serde(default = "task")]
    pub issue_type: String,
    #[serde(default)]
    pub labels: Vec<String>,
    /// Priority name, e.g. `High`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Further fields (custom fields, components…), merged into `fields`.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Jira REST API version: 3 (Cloud, default) or 2.
    #[serde(default = "v3")]
    pub api_version: u8,
}

/// The created issue.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Output {
    pub id: String,
    /// E.g. `IT-24`.
    pub key: String,
    /// The issue's API URL, as Jira returned it.
    pub url: String,
    pub status: u16,
}

fn invalid(message: impl Into<String>) -> PluginError {
    PluginError::new("INVALID_INPUT", message)
}

/// Atlassian Document Format for plain text: one paragraph per blank-line separated block.
pub fn adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| json!({"type": "paragraph", "content": [{"type": "text", "text": p}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// The request body for an input, after checking it.
pub fn body(input: &Input) -> Result<Value, PluginError> {
    let key_ok = input.project.len() <= 32
        && input.project.starts_with(|c: char| c.is_ascii_uppercase())
        && input
            .project
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        return Err(invalid(format!(
            "project key `{}` must be upper-case letters, digits and `_`, e.g. `IT`",
            input.project
        )));
    }
    let summary = input.summary.trim();
    if summary.is_empty() || summary.chars().count() > 255 || summary.contains(['\n', '\r']) {
        return Err(invalid(
            "the summary must be one non-empty line of at most 255 characters",
        ));
    }
    if !matches!(input.api_version, 2 | 3) {
        return Err(invalid("api_version must be 2 or 3"));
    }
    let mut fields = Map::new();
    fields.insert("project".into(), json!({"key": input.project}));
    fields.insert("summary".into(), json!(summary));
    fields.insert("issuetype".into(), json!({"name": input.issue_type}));
    match &input.description {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if input.api_version == 3 => {
            fields.insert("description".into(), adf(s));
        }
        Some(v) => {
            fields.insert("description".into(), v.clone());
        }
    }
    if !input.labels.is_empty() {
        if let Some(bad) = input
            .labels
            .iter()
            .find(|l| l.is_empty() || l.contains(' '))
        {
            return Err(invalid(format!(
                "label `{bad}`: labels cannot be empty or contain spaces"
            )));
        }
        fields.insert("labels".into(), json!(input.labels));
    }
    if let Some(p) = &input.priority {
        fields.insert("priority".into(), json!({"name": p}));
    }
    for (k, v) in &input.fields {
        fields.insert(k.clone(), v.clone());
    }
    Ok(json!({ "fields": fields }))
}

/// Creates the issue.
pub fn create_issue(t: &dyn Transport, input: Input) -> Result<Output, PluginError> {
    let body = body(&input)?;
    let path = format!("/rest/api/{}/issue", input.api_version);
    let reply = send_json(
        t,
        &input.connector,
        "POST",
        &path,
        &BTreeMap::new(),
        &body,
        &[],
    )?;
    let text = |k: &str| reply.body.get(k).and_then(Value::as_str).map(str::to_owned);
    match (text("id"), text("key")) {
        (Some(id), Some(key)) => Ok(Output {
            id,
            key,
            url: text("self").unwrap_or_default(),
            status: reply.status,
        }),
        _ => Err(PluginError::new(
            "UNEXPECTED_RESPONSE",
            "Jira answered without the created issue's id and key",
        )
        .with_details(reply.body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn input(v: Value) -> Input {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_plain_text_description_becomes_a_document() {
        let t = answering(
            201,
            r#"{"id":"10001","key":"IT-7","self":"https://x/rest/api/3/issue/10001"}"#,
        );
        let out = create_issue(
            &t,
            input(json!({"connector": "jira", "project": "IT",
                "summary": "Access Provisioned: jsmith",
                "description": "User jsmith (ID: 1) has been successfully activated."})),
        )
        .unwrap();
        assert_eq!((out.key.as_str(), out.status), ("IT-7", 201));
        let sent = &t.sent.borrow()[0];
        assert_eq!(
            (sent.method.as_str(), sent.path.as_str()),
            ("POST", "/rest/api/3/issue")
        );
        assert_eq!(
            body_of(sent),
            json!({"fields": {
                "project": {"key": "IT"},
                "summary": "Access Provisioned: jsmith",
                "description": {"type": "doc", "version": 1, "content": [
                    {"type": "paragraph", "content": [{"type": "text",
                        "text": "User jsmith (ID: 1) has been successfully activated."}]}]},
                "issuetype": {"name": "Task"}
            }})
        );
    }

    #[test]
    fn v2_keeps_text_and_extra_fields_merge() {
        let b = body(&input(
            json!({"connector": "j", "project": "OPS", "summary": "s",
            "description": "plain", "api_version": 2, "labels": ["onboarding"],
            "priority": "High", "fields": {"customfield_1": 5}}),
        ))
        .unwrap();
        assert_eq!(b["fields"]["description"], "plain");
        assert_eq!(b["fields"]["labels"], json!(["onboarding"]));
        assert_eq!(b["fields"]["priority"]["name"], "High");
        assert_eq!(b["fields"]["customfield_1"], 5);
    }

    #[test]
    fn bad_inputs_and_answers_are_errors() {
        for bad in [
            json!({"connector": "j", "project": "it", "summary": "s"}),
            json!({"connector": "j", "project": "IT", "summary": ""}),
            json!({"connector": "j", "project": "IT", "summary": "a\nb"}),
            json!({"connector": "j", "project": "IT", "summary": "s", "labels": ["a b"]}),
        ] {
            assert_eq!(body(&input(bad)).unwrap_err().code, "INVALID_INPUT");
        }
        let t = answering(200, r#"{"ok":true}"#);
        let e = create_issue(
            &t,
            input(json!({"connector": "j", "project": "IT", "summary": "s"})),
        )
        .unwrap_err();
        assert_eq!(e.code, "UNEXPECTED_RESPONSE");
    }
}
