//! External App Connectors as an admin uses them, against a local HTTP sink on loopback:
//! the example bodies arrive rendered with the credential the host injected, and the
//! credential is nowhere else — not in the data dir, the run record, the logs, the
//! plugin's input or output. Refusals (ungranted connector, redirect off the allow-list,
//! oversized response) leave the host serving.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{Sluice, files_containing, install_hostile, stderr};
use serde_json::{Value, json};

const KEY: &str = "4ec3d158946d74c9479e724321e21edf2e484896028e4034c4592eb4d173dbb2";
const TOKEN: &str = "jira-token-Zq81xPw";

/// One request the sink received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// A loopback HTTP server answering by path and keeping what it was sent.
struct Sink {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _rt: tokio::runtime::Runtime,
}

impl Sink {
    fn start() -> Sink {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let app = axum::Router::new().fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let kept = kept.clone();
                    async move { answer(port, &kept, method, uri, headers, body) }
                },
            );
            axum::serve(listener, app).await.unwrap();
        });
        Sink {
            url: format!("http://127.0.0.1:{port}"),
            seen,
            _rt: rt,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn answer(
    port: u16,
    kept: &Mutex<Vec<Seen>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    kept.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let json = |status: StatusCode, v: Value| {
        (
            status,
            [("content-type", "application/json")],
            v.to_string(),
        )
            .into_response()
    };
    match uri.path() {
        "/rest/api/3/issue" => json(
            StatusCode::CREATED,
            json!({"id": "10001", "key": "IT-1", "self": "http://sink/rest/api/3/issue/10001"}),
        ),
        // Echoes the request headers, credential included: the host must scrub it.
        "/echo" => json(StatusCode::OK, json!({ "headers": headers })),
        "/hop" => (StatusCode::FOUND, [("location", "/echo")]).into_response(),
        // Same port, another host name: not on the connector's allow-list.
        "/away" => (
            StatusCode::FOUND,
            [("location", format!("http://localhost:{port}/echo"))],
        )
            .into_response(),
        "/big" => (StatusCode::OK, "x".repeat(64 * 1024)).into_response(),
        "/flaky" => json(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "busy"})),
        _ => json(StatusCode::ACCEPTED, json!({"ok": true})),
    }
}

fn with_key(s: &Sluice, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = s.cmd(args);
    c.env("SLUICE_SECRET_KEY", KEY);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Defines `jira` (bearer token) and `audit` (API-key header) against the sink.
fn define(s: &Sluice, sink: &Sink) {
    let out = with_key(
        s,
        &[
            "connector",
            "add",
            "jira",
            "--base-url",
            &sink.url,
            "--bearer-env",
            "JIRA_TOKEN",
            "--header",
            "X-Team: identity",
            "--max-response-bytes",
            "16384",
        ],
        &[("JIRA_TOKEN", TOKEN)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = with_key(
        s,
        &[
            "connector",
            "add",
            "audit",
            "--base-url",
            &sink.url,
            "--auth-header",
            "X-Api-Key",
        ],
        &[],
    );
    // No --secret-env: the credential comes from standard input, here empty.
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the credential is empty"),
        "{}",
        stderr(&out)
    );
    let mut child = s
        .cmd(&[
            "connector",
            "add",
            "audit",
            "--base-url",
            &sink.url,
            "--auth-header",
            "X-Api-Key",
        ])
        .env("SLUICE_SECRET_KEY", KEY)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"audit-key-77Hq\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn connector_bodies_arrive_rendered_and_the_credential_stays_in_the_host() {
    let sink = Sink::start();
    let s = Sluice::new();
    define(&s, &sink);

    let out = with_key(
        &s,
        &[
            "run",
            "examples/jira-ticket.yaml",
            "--input",
            "examples/inputs/jira-ticket.json",
            "--json",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], "succeeded", "{result:#}");
    assert_eq!(
        result["output"],
        json!({"ticket_created": true, "ticket": "IT-1", "error": null})
    );
    let jira = sink
        .seen()
        .into_iter()
        .find(|r| r.path == "/rest/api/3/issue")
        .expect("the Jira call reached the sink");
    assert_eq!(jira.method, "POST");
    assert_eq!(
        header(&jira, "authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(header(&jira, "x-team"), Some("identity"));
    assert_eq!(header(&jira, "content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&jira.body).unwrap();
    assert_eq!(
        body,
        json!({"fields": {
            "project": {"key": "IT"},
            "summary": "Access Provisioned: jsmith",
            "description": {"type": "doc", "version": 1, "content": [{
                "type": "paragraph",
                "content": [{"type": "text", "text": "User jsmith (ID: 5f3c2a9e8b7d6c5a4f3e2d1c) has been successfully activated in JumpCloud and automated provisioning has been completed."}]
            }]},
            "issuetype": {"name": "Task"}
        }})
    );

    // The audit alert's body, through the `webhook` plugin and an API-key header.
    let out = with_key(
        &s,
        &[
            "run",
            "examples/admin-elevation-alert.yaml",
            "--input",
            "examples/inputs/admin-elevation-alert.json",
            "--json",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result["output"],
        json!({"alerted": true, "error": null}),
        "{result:#}"
    );
    let alert = sink
        .seen()
        .into_iter()
        .find(|r| r.path == "/api/v2/alerts")
        .unwrap();
    assert_eq!(header(&alert, "x-api-key"), Some("audit-key-77Hq"));
    assert_eq!(
        serde_json::from_str::<Value>(&alert.body).unwrap(),
        json!({"summary": "Administrative Workflow Executed",
               "details": {"actor": "admin@example.com",
                           "action": "Temporary Admin Group Elevation",
                           "target_user": "jane.doe@example.com"},
               "severity": "info"})
    );

    // A server echoing the credential back: the plugin sees it redacted.
    let out = with_key(
        &s,
        &[
            "plugin",
            "call",
            "http-request",
            "--json",
            "--input-json",
            r#"{"connector": "jira", "method": "GET", "path": "/hop"}"#,
        ],
        &[],
    );
    let call: Value = serde_json::from_slice(&out.stdout).unwrap();
    let echoed = call["result"]["output"]["body"]["headers"].to_string();
    assert!(echoed.contains("Bearer [REDACTED]"), "{call:#}");
    assert!(!echoed.contains(TOKEN));

    // Nowhere else: the data dir, every run record, the listings.
    for secret in [TOKEN, "audit-key-77Hq"] {
        assert_eq!(
            files_containing(s.data.path(), secret.as_bytes()),
            Vec::<String>::new(),
            "{secret} in the data dir"
        );
    }
    let runs = s.json(&["runs", "list", "--limit", "1000", "--json"]);
    assert!(runs["next"].is_null(), "{runs}");
    for run in runs["runs"].as_array().unwrap() {
        let id = run["id"].as_str().unwrap();
        let shown = s.run(&["runs", "show", id, "--json"]);
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.status.success() && text.contains("\"calls\""));
        assert!(!text.contains(TOKEN) && !text.contains("audit-key-77Hq"));
    }
    let shown = s.json(&["connector", "show", "jira", "--json"]);
    assert_eq!(shown["credential"], "****");
    assert_eq!(shown["auth"], json!({"type": "bearer"}));
    let listed = s.run(&["connector", "list"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("jira") && text.contains("audit") && !text.contains(TOKEN));
}

#[test]
fn refusals_are_clear_and_the_host_keeps_serving() {
    let sink = Sink::start();
    let s = Sluice::new();
    define(&s, &sink);
    let call = |input: &str| -> Value {
        let out = with_key(
            &s,
            &[
                "plugin",
                "call",
                "http-request",
                "--json",
                "--input-json",
                input,
            ],
            &[],
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let code = |v: &Value| {
        v["result"]["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };

    let away = call(r#"{"connector": "jira", "method": "GET", "path": "/away"}"#);
    assert_eq!(code(&away), "CONNECTOR_HOST_NOT_ALLOWED", "{away:#}");
    assert!(
        !sink
            .seen()
            .iter()
            .any(|r| header(r, "host").is_some_and(|h| h.starts_with("localhost"))),
        "the redirect off the allow-list was not followed"
    );
    let big = call(r#"{"connector": "jira", "method": "GET", "path": "/big"}"#);
    assert_eq!(code(&big), "CONNECTOR_RESPONSE_TOO_LARGE", "{big:#}");
    let missing = call(r#"{"connector": "nope", "method": "GET", "path": "/"}"#);
    assert_eq!(code(&missing), "CONNECTOR_NOT_FOUND");
    let forged = call(
        r#"{"connector": "jira", "method": "GET", "path": "/", "headers": {"Authorization": "Bearer mine"}}"#,
    );
    assert_eq!(code(&forged), "INVALID_REQUEST");
    let flaky = call(r#"{"connector": "jira", "method": "GET", "path": "/flaky"}"#);
    assert_eq!(code(&flaky), "HTTP_STATUS");
    assert_eq!(flaky["result"]["error"]["retryable"], true);

    // A plugin granted only `http:allowed` cannot reach `jira`.
    install_hostile(&s, "http:allowed");
    let out = with_key(
        &s,
        &[
            "plugin",
            "call",
            "hostile",
            "--json",
            "--input-json",
            r#"{"mode":"http","arg":"jira"}"#,
        ],
        &[],
    );
    let denied: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(code(&denied), "PERMISSION_DENIED", "{denied:#}");

    // Still serving: a plain call goes through.
    let ok =
        call(r#"{"connector": "jira", "method": "POST", "path": "/anything", "body": {"a": 1}}"#);
    assert_eq!(ok["result"]["output"]["status"], 202, "{ok:#}");

    // The credential cannot be opened without the admin's key, or with another one.
    let out = s.run(&[
        "plugin",
        "call",
        "http-request",
        "--json",
        "--input-json",
        r#"{"connector": "jira", "method": "GET", "path": "/"}"#,
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(code(&v), "CONNECTOR_SECRET_UNAVAILABLE", "{v:#}");
    assert!(v.to_string().contains("SLUICE_SECRET_KEY"));
}

#[test]
fn bad_definitions_are_usage_errors_that_change_nothing() {
    let s = Sluice::new();
    let add = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = s.cmd(&[&["connector", "add"], args].concat());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let key = ("SLUICE_SECRET_KEY", KEY);
    for (args, env, says) in [
        (
            vec![
                "j",
                "--base-url",
                "https://x.example.com",
                "--bearer-env",
                "T",
            ],
            vec![("T", "t")],
            "SLUICE_SECRET_KEY is not set",
        ),
        (
            vec![
                "j",
                "--base-url",
                "http://jira.example.com",
                "--bearer-env",
                "T",
            ],
            vec![key, ("T", "t")],
            "plain http",
        ),
        (vec!["j", "--base-url", "not a url"], vec![key], "base URL"),
        (
            vec!["J J", "--base-url", "https://x.example.com"],
            vec![key],
            "connector name",
        ),
        (
            vec![
                "j",
                "--base-url",
                "https://x.example.com",
                "--bearer-env",
                "UNSET_VAR_1",
            ],
            vec![key],
            "UNSET_VAR_1 is not set",
        ),
        (
            vec![
                "j",
                "--base-url",
                "https://x.example.com",
                "--header",
                "Authorization: x",
            ],
            vec![key],
            "set by the host",
        ),
        (
            vec![
                "j",
                "--base-url",
                "https://x.example.com",
                "--header",
                "novalue",
            ],
            vec![key],
            "Name: value",
        ),
        (
            vec![
                "j",
                "--base-url",
                "https://x.example.com",
                "--timeout",
                "soon",
            ],
            vec![key],
            "--timeout",
        ),
    ] {
        let out = add(&args, &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(s.json(&["connector", "list", "--json"]), json!([]));
    assert!(
        s.json(&["connector", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let out = s.run(&["secret", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());

    let ok = add(
        &[
            "hook",
            "--base-url",
            "https://hooks.example.com/services",
            "--secret-in-path",
            "--secret-env",
            "W",
        ],
        &[key, ("W", "T1/B2/abc")],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let again = add(&["hook", "--base-url", "https://hooks.example.com"], &[key]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));
    let out = s.run(&["connector", "remove", "hook"]);
    assert!(out.status.success());
    let out = s.run(&["connector", "remove", "hook"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&s.run(&["secret", "list"]).stdout)
            .trim()
            .is_empty()
    );
}

/// A connector plugin step is narrowed to the one defined connector its rendered input
/// names: `*` (literal, or what a template renders) never keeps `http:*`, and fails before
/// the plugin runs, with nothing sent anywhere.
#[test]
fn a_connector_plugin_step_reaches_exactly_one_named_connector() {
    let sink = Sink::start();
    let s = Sluice::new();
    define(&s, &sink);
    let dir = tempfile::tempdir().unwrap();
    let workflow = |name: &str, connector: &str| {
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &file,
            format!(
                "version: 1\nname: {name}\ntrigger: {{type: manual}}\nrun_as: Read Only\nsteps:\n  \
                 - id: call\n    uses: http-request\n    with: {{connector: \"{connector}\", method: GET, path: /narrowed}}\n"
            ),
        )
        .unwrap();
        file.to_str().unwrap().to_owned()
    };
    let run = |file: &str, input: Value| {
        let out = with_key(
            &s,
            &["run", file, "--json", "--input-json", &input.to_string()],
            &[],
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), v, stderr(&out))
    };
    let reached = || sink.seen().iter().filter(|r| r.path == "/narrowed").count();

    // A literal `*`: refused by validation, with its location; no run.
    let wild = workflow("wild", "*");
    let (code, _, err) = run(&wild, json!({}));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("steps[0] call: with.connector: the step's `connector` is `*`"),
        "{err}"
    );
    let out = s.run(&["validate", &wild]);
    assert_eq!(out.status.code(), Some(2));

    // A template that renders to `*`, to a pattern, to nothing usable or to an undefined
    // connector: the step fails with a stable code before the plugin runs.
    let templated = workflow("templated", "${input.c}");
    for (c, expected) in [
        (json!("*"), "INVALID_CONNECTOR"),
        (json!("ji*"), "INVALID_CONNECTOR"),
        (json!(["jira", "audit"]), "INVALID_CONNECTOR"),
        (json!("nope"), "CONNECTOR_NOT_FOUND"),
    ] {
        let (code, v, err) = run(&templated, json!({ "c": c }));
        assert_eq!(code, Some(1), "{c}: {err}");
        assert_eq!(v["status"], "failed", "{v:#}");
        let failed = &v["report"]["failed_steps"][0];
        assert_eq!(failed["error"]["type"], expected, "{c}: {v:#}");
        let shown = s.json(&["runs", "show", v["run_id"].as_str().unwrap(), "--json"]);
        assert!(
            !shown.to_string().contains("\"kind\":\"http\""),
            "{c}: the plugin made no connector call: {shown:#}"
        );
    }
    assert_eq!(reached(), 0, "nothing reached the connector");

    // The same step naming a defined connector works.
    let (code, v, err) = run(&templated, json!({"c": "jira"}));
    assert_eq!(code, Some(0), "{err}{v:#}");
    assert_eq!(v["status"], "succeeded");
    assert_eq!(reached(), 1);
    let call = sink
        .seen()
        .into_iter()
        .find(|r| r.path == "/narrowed")
        .unwrap();
    assert_eq!(
        header(&call, "authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
}
