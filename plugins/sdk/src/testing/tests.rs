use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::*;
use crate::{jumpcloud, log, state};

#[derive(Deserialize, JsonSchema)]
struct Who {
    username: String,
}
#[derive(Serialize, JsonSchema, Debug)]
struct Found {
    found: bool,
}

/// Reads a user by username (the module documentation's example).
struct UserKnown;
impl Action for UserKnown {
    type Input = Who;
    type Output = Found;
    const DESCRIPTION: &'static str = "Says whether a username exists.";
    const PERMISSIONS: &'static [&'static str] = &["jumpcloud:users.readonly"];
    fn run(_: &Step, input: Who) -> Result<Found, PluginError> {
        let filter = format!("username:$eq:{}", input.username);
        let r = jumpcloud::get("/api/systemusers", &[("filter", filter.as_str())])?;
        let body: Value = r.json()?;
        log::info(&format!("looked up {}", input.username));
        Ok(Found {
            found: body["totalCount"].as_u64().unwrap_or(0) > 0,
        })
    }
}

#[test]
fn an_action_runs_against_the_simulator_and_its_calls_and_logs_are_kept() {
    let host = TestHost::new();
    assert!(
        host.action::<UserKnown>(json!({"username": "jane.doe"}))
            .unwrap()
            .found
    );
    assert_eq!(
        host.action_json::<UserKnown>(json!({"username": "nobody"}))
            .unwrap(),
        json!({"found": false})
    );
    let calls = host.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].to_string(), "GET /api/systemusers 200");
    assert_eq!(calls[0].kind, CallKind::JumpCloud);
    assert_eq!(
        calls[1].query,
        vec![("filter".to_owned(), "username:$eq:nobody".to_owned())]
    );
    assert_eq!(
        host.logs(),
        vec![
            LogLine {
                level: Level::Info,
                message: "looked up jane.doe".into()
            },
            LogLine {
                level: Level::Info,
                message: "looked up nobody".into()
            }
        ]
    );
    // Input is checked as the host checks it.
    let bad = host.action::<UserKnown>(json!({"user": 1})).unwrap_err();
    assert_eq!(bad.code, "INVALID_INPUT");
}

/// Declares less than it calls, and swallows the error it gets.
struct Sneaky;
impl Action for Sneaky {
    type Input = Value;
    type Output = Value;
    const DESCRIPTION: &'static str = "Reads devices without declaring it.";
    const PERMISSIONS: &'static [&'static str] = &["jumpcloud:users.readonly"];
    fn run(_: &Step, _: Value) -> Result<Value, PluginError> {
        let devices = jumpcloud::get("/api/systems", &[]);
        // After a refusal nothing else reaches the host either.
        let users = jumpcloud::get("/api/systemusers", &[]);
        Ok(json!({"devices_failed": devices.is_err(), "users_failed": users.is_err()}))
    }
}

#[test]
fn a_call_outside_the_declared_permissions_ends_the_call_as_the_host_does() {
    let host = TestHost::new();
    let err = host.action::<Sneaky>(json!({})).unwrap_err();
    assert_eq!(err.code, "PERMISSION_DENIED");
    // The host's message, word for word.
    assert_eq!(
        err.message,
        "plugin `sneaky` called GET /api/systems which needs jumpcloud:systems.readonly; it \
         was not granted jumpcloud:systems.readonly (declare it in the manifest and grant it \
         at install)"
    );
    let calls: Vec<String> = host.calls().iter().map(Call::to_string).collect();
    assert_eq!(calls, ["GET /api/systems PERMISSION_DENIED"]);
    // Granted it, the same plugin runs; the next call starts afresh.
    let host = host.grants(["jumpcloud:users.readonly", "jumpcloud:systems.readonly"]);
    assert_eq!(
        host.action::<Sneaky>(json!({})).unwrap(),
        json!({"devices_failed": false, "users_failed": false})
    );
    // A write scope covers its reads; a scope of another area does not.
    let host = TestHost::new().grants(["jumpcloud:users"]);
    assert!(host.action::<UserKnown>(json!({"username": "x"})).is_ok());
    let host = TestHost::new()
        .grants(["jumpcloud:groups"])
        .name("user-known");
    let err = host
        .action::<UserKnown>(json!({"username": "x"}))
        .unwrap_err();
    assert!(
        err.message.starts_with("plugin `user-known` called GET"),
        "{}",
        err.message
    );
    let host = TestHost::new().grants(["jumpcloud:everything"]);
    let err = host
        .action::<UserKnown>(json!({"username": "x"}))
        .unwrap_err();
    assert_eq!(err.code, "TEST_HOST_INVALID_GRANT");
    assert!(
        err.message.contains("unknown JumpCloud scope"),
        "{}",
        err.message
    );
}

#[test]
fn injected_faults_reach_the_plugin() {
    let host = TestHost::new().faults("429=1,retry-after=3").unwrap();
    let r = host.run(|| jumpcloud::get("/api/systemusers", &[]));
    assert!(r.is_err(), "run() has no grants unless given");
    let host = host.grants(["jumpcloud:users.readonly"]);
    let r = host
        .run(|| jumpcloud::get("/api/systemusers", &[]))
        .unwrap();
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3")));
    assert_eq!(host.calls().last().unwrap().status, Some(429));
    assert!(
        TestHost::new()
            .faults("404=1")
            .unwrap_err()
            .contains("expected 429")
    );
}

#[derive(Deserialize, JsonSchema)]
struct Issue {
    connector: String,
    summary: String,
}
#[derive(Serialize, JsonSchema, Debug, PartialEq)]
struct Created {
    key: String,
    runs: u32,
}

/// Opens an issue through a connector, counting its runs in state.
struct OpenIssue;
impl Connector for OpenIssue {
    type Input = Issue;
    type Output = Created;
    const DESCRIPTION: &'static str = "Opens an issue.";
    const PERMISSIONS: &'static [&'static str] = &["http:jira", "state"];
    fn invoke(_: &Step, input: Issue) -> Result<Created, PluginError> {
        let runs = state::get("runs")?
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
            + 1;
        state::set("runs", &runs.to_string())?;
        let r = crate::http::send(&crate::http::Request {
            connector: input.connector,
            method: "POST".into(),
            path: "/rest/api/2/issue".into(),
            body: Some(json!({"fields": {"summary": input.summary}}).to_string()),
            ..Default::default()
        })?;
        if r.status != 201 {
            return Err(PluginError::new(
                "ISSUE_FAILED",
                format!("status {}", r.status),
            ));
        }
        let body: Value = serde_json::from_str(&r.body)
            .map_err(|e| PluginError::new("BAD_RESPONSE", e.to_string()))?;
        Ok(Created {
            key: body["key"].as_str().unwrap_or_default().to_owned(),
            runs,
        })
    }
}

fn response(status: u16, body: Value) -> crate::http::Response {
    crate::http::Response {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
    }
}

#[test]
fn connectors_answer_as_scripted_and_state_persists_between_calls() {
    let host = TestHost::new().connector(
        "jira",
        [
            response(201, json!({"key": "IT-1"})),
            response(400, json!({"errors": {}})),
        ],
    );
    host.set_state("runs", "41");
    let out = host
        .connector_call::<OpenIssue>(json!({"connector": "jira", "summary": "Laptop"}))
        .unwrap();
    assert_eq!(
        out,
        Created {
            key: "IT-1".into(),
            runs: 42
        }
    );
    let sent = host.requests();
    assert_eq!(sent[0].path, "/rest/api/2/issue");
    assert_eq!(
        sent[0].body.as_deref(),
        Some(r#"{"fields":{"summary":"Laptop"}}"#)
    );
    let err = host
        .connector_call::<OpenIssue>(json!({"connector": "jira", "summary": "x"}))
        .unwrap_err();
    assert_eq!(err.code, "ISSUE_FAILED");
    // The script has run out: said so, not answered with something made up.
    let err = host
        .connector_call::<OpenIssue>(json!({"connector": "jira", "summary": "x"}))
        .unwrap_err();
    assert_eq!(err.code, "CONNECTOR_REQUEST_FAILED");
    assert!(err.message.contains("scripted with 2"), "{}", err.message);
    assert_eq!(host.state()["runs"], "44");
    let calls: Vec<String> = host.calls().iter().map(Call::to_string).collect();
    assert_eq!(
        calls[..3],
        [
            "GET runs 200",
            "SET runs 200",
            "POST jira:/rest/api/2/issue 201"
        ]
    );
    // A connector it was not granted is refused before any script runs.
    let host = TestHost::new().connector_with("slack", |_| Ok(response(200, json!({}))));
    let err = host
        .connector_call::<OpenIssue>(json!({"connector": "slack", "summary": "x"}))
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        (
            "PERMISSION_DENIED",
            "plugin `open-issue` called connector `slack`; it was not granted `http:slack`"
        )
    );
    assert!(host.requests().is_empty());
    // Granted but not scripted: as an undefined connector.
    let host = TestHost::new().grants(["http:*", "state"]);
    let err = host
        .connector_call::<OpenIssue>(json!({"connector": "email", "summary": "x"}))
        .unwrap_err();
    assert_eq!(err.code, "CONNECTOR_NOT_FOUND");
    // State without the `state` grant.
    let host = TestHost::new().grants(["http:jira"]);
    let err = host
        .connector_call::<OpenIssue>(json!({"connector": "jira", "summary": "x"}))
        .unwrap_err();
    assert_eq!(
        err.message,
        "plugin `open-issue` used state; it was not granted `state`"
    );
}

/// A condition over the directory.
struct InGroup;
impl Condition for InGroup {
    type Input = Value;
    const DESCRIPTION: &'static str = "Whether a user group exists.";
    const PERMISSIONS: &'static [&'static str] = &["jumpcloud:groups.readonly"];
    fn evaluate(_: &Step, input: Value) -> Result<bool, PluginError> {
        let name = input["group"].as_str().unwrap_or_default();
        let filter = format!("name:eq:{name}");
        let r = jumpcloud::get("/api/v2/usergroups", &[("filter", filter.as_str())])?;
        Ok(r.json::<Vec<Value>>()?.len() == 1)
    }
}

#[test]
fn conditions_seeds_and_the_directory() {
    let host = TestHost::new();
    assert!(
        host.condition::<InGroup>(json!({"group": "UG-Engineering"}))
            .unwrap()
    );
    assert!(
        !host
            .condition::<InGroup>(json!({"group": "UG-Nope"}))
            .unwrap()
    );
    let org = host.directory(|d| d.org_name.clone());
    assert_eq!(org, "Acme Corporation");
    let dir = std::env::temp_dir().join(format!("sluice-testhost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        r#"{"organization": "Tiny", "admins": [], "user_groups": [{"name": "UG-Only"}]}"#,
    )
    .unwrap();
    let tiny = TestHost::with_seed(&seed).unwrap();
    assert!(
        tiny.condition::<InGroup>(json!({"group": "UG-Only"}))
            .unwrap()
    );
    assert!(
        !tiny
            .condition::<InGroup>(json!({"group": "UG-Engineering"}))
            .unwrap()
    );
    std::fs::write(&seed, "{").unwrap();
    assert!(TestHost::with_seed(&seed).unwrap_err().contains("seed"));
    assert!(TestHost::with_seed(dir.join("missing.json")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn helpers_without_a_test_host_fail_clearly() {
    let err = jumpcloud::get("/api/systemusers", &[]).unwrap_err();
    assert_eq!(err.code, "TEST_HOST_MISSING");
    assert!(err.message.contains("TestHost"), "{}", err.message);
    assert_eq!(state::get("k").unwrap_err().code, "TEST_HOST_MISSING");
    // A guard serves calls only while it lives.
    let host = TestHost::new().grants(["state"]);
    {
        let _entered = host.enter();
        state::set("k", "v").unwrap();
    }
    assert_eq!(state::get("k").unwrap_err().code, "TEST_HOST_MISSING");
    assert_eq!(host.state()["k"], "v");
}
