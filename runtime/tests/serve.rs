//! `sluice serve` as an admin runs it: the real binary on 127.0.0.1:0, driven over HTTP.
//! Every API endpoint, token checks, validation that saves nothing, signed webhooks,
//! Directory Insights events that fire once across restarts, the bounded queue, resumption
//! of a killed run (at start, or held and resumed through the API), and the CLI's message
//! while the service holds the data directory. (Schedules firing every second across a
//! restart are the scheduler's own test, on a clock it moves: `trigger/schedule.rs`.)

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Sluice, hostile_wasm, stderr};
use serde_json::{Value, json};

const KEY: &str = "9b1f0c3e5d7a2b4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809";

/// A running `sluice serve` over a [`Sluice`] data dir.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(s: &Sluice, extra: &[&str]) -> Server {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--poll-interval",
            "200ms",
        ];
        args.extend_from_slice(extra);
        let mut child = s
            .cmd(&args)
            .env("SLUICE_SECRET_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sluice serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("sluice serve listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Server { child, url }
    }

    /// SIGTERM, then wait for a graceful exit.
    fn stop(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(st.success(), "sluice serve exited with {st}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "sluice serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP client for the tests.
struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Http {
    fn new(base: &str, token: Option<&str>) -> Http {
        Http {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            // Idle connections are dropped well before the service's idle timeout (60 s),
            // so a request never goes out on a connection the service is closing.
            client: reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
            base: base.to_owned(),
            token: token.map(str::to_owned),
        }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.base),
        );
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        self.rt.block_on(async {
            let resp = req.send().await.expect("request sent");
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (status, v)
        })
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, &[])
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("POST", path, Some(body.as_bytes().to_vec()), &[])
    }

    fn put(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("PUT", path, Some(body.as_bytes().to_vec()), &[])
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None, &[])
    }

    /// Waits for a run to finish and returns `{run, steps}`.
    fn finished(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, v) = self.get(&format!("/api/v1/runs/{id}"));
            assert_eq!(status, 200, "{v}");
            let st = v["run"]["status"].as_str().unwrap_or_default().to_owned();
            if !["queued", "running"].contains(&st.as_str()) {
                return v;
            }
            assert!(Instant::now() < deadline, "run {id} did not finish: {v}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn runs_of(&self, workflow: &str) -> Vec<Value> {
        let (status, v) = self.get(&format!("/api/v1/runs?workflow={workflow}&limit=1000"));
        assert_eq!(status, 200, "{v}");
        v["runs"].as_array().unwrap().clone()
    }
}

fn token(s: &Sluice, name: &str) -> String {
    let v = s.json(&["token", "create", "--name", name, "--json"]);
    v["token"].as_str().unwrap().to_owned()
}

fn example(path: &str) -> String {
    std::fs::read_to_string(common::workspace().join(path)).unwrap()
}

fn v_templates(api: &Http) -> Vec<String> {
    let (_, v) = api.get("/api/v1/templates");
    v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until `f` holds, or panics with `what`.
fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_api_endpoint_answers_over_http_with_tokens_validation_and_audit() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let anon = Http::new(&server.url, None);
    let forged = Http::new(
        &server.url,
        Some("slk_0000000000000000000000000000000000000000000000000000000000000000"),
    );

    // Health, OpenAPI (public) and its coverage of the router.
    assert_eq!(anon.get("/healthz").0, 200);
    let (status, doc) = anon.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let served: BTreeSet<String> = sluice::api::ROUTES.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        documented, served,
        "the OpenAPI document describes exactly the routes"
    );

    // No token, a forged token: 401, and nothing else answers.
    for client in [&anon, &forged] {
        let (status, v) = client.get("/api/v1/workflows");
        assert_eq!(status, 401, "{v}");
        assert_eq!(v["error"]["code"], "UNAUTHORIZED");
        assert_eq!(
            client
                .post("/api/v1/workflows", &example("examples/hello.yaml"))
                .0,
            401
        );
    }

    // An invalid workflow: 400 naming every problem, and nothing saved.
    let invalid = r#"
version: 1
name: broken
trigger: { type: schedule, cron: "every monday" }
run_as: Read Only
steps:
  - id: a
    uses: no-such-plugin
  - id: a
    uses: transform
    with: { x: "{{ unclosed" }
"#;
    let (status, v) = api.post("/api/v1/workflows", invalid);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "WORKFLOW_INVALID");
    let problems = v["error"]["details"]["problems"].as_array().unwrap();
    let text = v.to_string();
    for needle in [
        "no-such-plugin",
        "every monday",
        "more than once",
        "bad template",
    ] {
        assert!(text.contains(needle), "{needle} not reported: {text}");
    }
    assert!(problems.len() >= 4, "{problems:?}");
    assert_eq!(api.post("/api/v1/workflows", "version: [").0, 400);
    assert_eq!(api.get("/api/v1/workflows").1["workflows"], json!([]));

    // Create, read, new version, versions.
    let hello = example("examples/hello.yaml");
    let (status, v) = api.post("/api/v1/workflows", &hello);
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["version"], 1);
    assert_eq!(api.post("/api/v1/workflows", &hello).0, 409);
    let v2 = hello.replace("Builds an account record", "Builds an account record (v2)");
    let (status, v) = api.put("/api/v1/workflows/hello", &v2);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["version"], 2);
    assert_eq!(
        api.put("/api/v1/workflows/other", &v2).0,
        400,
        "name mismatch"
    );
    let (status, v) = api.put(
        "/api/v1/workflows/hello",
        invalid.replace("broken", "hello").as_str(),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        api.get("/api/v1/workflows/hello").1["version"],
        2,
        "invalid update saved nothing"
    );
    let (_, v) = api.get("/api/v1/workflows/hello/versions");
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    let (status, v) = api.get("/api/v1/workflows/hello/versions/1");
    assert_eq!(status, 200);
    assert_eq!(v["source"], hello);
    assert_eq!(api.get("/api/v1/workflows/hello/versions/9").0, 404);
    assert_eq!(api.get("/api/v1/workflows/nope").0, 404);

    // Runs: start, read, list with paging, bad input, disabled.
    let (status, v) = api.post(
        "/api/v1/workflows/hello/runs",
        r#"{"first_name": "Ada", "last_name": "Lovelace"}"#,
    );
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["version"], 2);
    let run_id = v["run_id"].as_str().unwrap().to_owned();
    let done = api.finished(&run_id);
    assert_eq!(done["run"]["status"], "succeeded");
    assert_eq!(done["run"]["output"]["username"], "alovelace");
    assert_eq!(done["steps"][0]["step"], "account");
    let (status, v) = api.post("/api/v1/workflows/hello/runs", r#"{"first_name": ""}"#);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "INVALID_INPUT");
    assert_eq!(api.post("/api/v1/workflows/hello/runs", "{not json").0, 400);
    let second = api
        .post(
            "/api/v1/workflows/hello/runs",
            r#"{"first_name": "Grace", "last_name": "Hopper"}"#,
        )
        .1;
    api.finished(second["run_id"].as_str().unwrap());
    let (_, page1) = api.get("/api/v1/runs?workflow=hello&limit=1");
    assert_eq!(page1["runs"].as_array().unwrap().len(), 1);
    let next = page1["next"].as_str().expect("a next page").to_owned();
    let (_, page2) = api.get(&format!("/api/v1/runs?workflow=hello&limit=1&after={next}"));
    assert_eq!(page2["runs"][0]["id"], run_id.as_str());
    assert!(page2["next"].is_null(), "{page2}");
    assert!(page2["runs"][0]["trigger"].is_string(), "{page2}");
    let (status, v) = api.get("/api/v1/runs?status=done");
    assert_eq!(status, 400);
    assert!(v.to_string().contains("partially_completed"), "{v}");
    assert_eq!(
        api.get("/api/v1/runs?status=succeeded").1["runs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(api.get("/api/v1/runs/nope").0, 404);
    assert_eq!(
        api.post(&format!("/api/v1/runs/{run_id}/cancel"), "").0,
        409
    );
    let (status, v) = api.post("/api/v1/workflows/hello/disable", "");
    assert_eq!((status, v["enabled"].clone()), (200, json!(false)));
    let (status, v) = api.post(
        "/api/v1/workflows/hello/runs",
        r#"{"first_name": "A", "last_name": "B"}"#,
    );
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (409, json!("WORKFLOW_DISABLED"))
    );
    assert_eq!(api.post("/api/v1/workflows/hello/enable", "").0, 200);

    // Retry from the failed step: the steps that succeeded replay, pinned to the version.
    let failing = r#"
version: 1
name: flaky
trigger: { type: manual }
run_as: Read Only
steps:
  - id: first
    uses: transform
    with: { at: "{{ run.started_at }}" }
  - id: lookup
    uses: user-get
    with: { username: nobody-by-this-name }
"#;
    assert_eq!(api.post("/api/v1/workflows", failing).0, 201);
    let id = api.post("/api/v1/workflows/flaky/runs", "{}").1["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = api.finished(&id);
    assert_eq!(failed["run"]["status"], "failed");
    let (status, v) = api.post(
        &format!("/api/v1/runs/{id}/retry"),
        r#"{"from": "failed_step"}"#,
    );
    assert_eq!(status, 202, "{v}");
    let retried = api.finished(v["run_id"].as_str().unwrap());
    assert_eq!(retried["run"]["trigger"]["retry_of"], id.as_str());
    assert_eq!(
        retried["steps"][0]["result"], failed["steps"][0]["result"],
        "the step that succeeded was replayed, not run again"
    );
    let (status, v) = api.post(&format!("/api/v1/runs/{id}/retry"), r#"{"from": "start"}"#);
    assert_eq!(status, 202);
    let fresh = api.finished(v["run_id"].as_str().unwrap());
    assert_ne!(
        fresh["steps"][0]["result"], failed["steps"][0]["result"],
        "from the start"
    );
    assert_eq!(
        api.post(&format!("/api/v1/runs/{id}/retry"), r#"{"from": "middle"}"#)
            .0,
        400
    );

    // Plugins: list by category, inspect, install with grants, change grants without the
    // component, refuse garbage, remove.
    let (_, v) = api.get("/api/v1/plugins");
    assert_eq!(
        v["categories"],
        json!(sluice::host::category::CATEGORIES),
        "{v}"
    );
    let listed = v["plugins"].as_array().unwrap();
    assert!(listed.iter().any(|p| p["name"] == "transform"));
    // Every bundled plugin is in the category table (a new one must be given a category).
    for p in listed {
        let name = p["name"].as_str().unwrap();
        let category = sluice::host::category::bundled(name)
            .unwrap_or_else(|| panic!("bundled plugin {name} has no category"));
        assert_eq!(p["category"], category, "{p}");
    }
    let category_of = |name: &str| {
        listed
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["category"].clone())
    };
    for (name, category) in [
        ("user-create", "Users"),
        ("user-in-group", "Groups"),
        ("user-devices", "Devices"),
        ("policy-bind", "Applications & policies"),
        ("events-query", "Directory Insights"),
        ("user-ldap-bind", "Provisioning"),
        ("transform", "General"),
        ("jira", "Connectors"),
    ] {
        assert_eq!(category_of(name), Some(json!(category)), "{name}");
    }
    let (status, v) = api.get("/api/v1/plugins/transform");
    assert_eq!(status, 200);
    assert_eq!(v["manifest"]["name"], "transform");
    assert_eq!(v["plugin"]["category"], "General");
    assert_eq!(api.get("/api/v1/plugins/nope").0, 404);
    let wasm = std::fs::read(hostile_wasm()).unwrap();
    let (status, v) = api.send(
        "POST",
        "/api/v1/plugins?grant=state",
        Some(wasm.clone()),
        &[],
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["category"], "Installed", "{v}");
    let hostile_id = format!("hostile@{}", v["version"].as_str().unwrap());
    let digest = v["digest"].as_str().unwrap().to_owned();
    let (_, v) = api.get("/api/v1/plugins");
    let row = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hostile")
        .cloned()
        .unwrap();
    assert_eq!(row["category"], "Installed", "{row}");
    // Grants change without the component; each must be declared; `digest` pins the
    // component reviewed; nothing changes on a refusal.
    let grants = format!("/api/v1/plugins/{hostile_id}/grants");
    let body = json!({"grants": ["state", "http:allowed"], "digest": digest}).to_string();
    let (status, v) = api.put(&grants, &body);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["grants"], json!(["http:allowed", "state"]));
    assert_eq!(v["category"], "Installed");
    for (body, status, code) in [
        (
            json!({"grants": ["jumpcloud:users.write"]}),
            400,
            "PLUGIN_GRANT_NOT_DECLARED",
        ),
        (
            json!({"grants": [], "digest": "0".repeat(64)}),
            409,
            "PLUGIN_CHANGED",
        ),
        (json!({"grant": []}), 400, "BAD_REQUEST"),
    ] {
        let (got, v) = api.put(&grants, &body.to_string());
        assert_eq!(
            (got, v["error"]["code"].clone()),
            (status, json!(code)),
            "{v}"
        );
    }
    let (_, v) = api.get(&format!("/api/v1/plugins/{hostile_id}"));
    assert_eq!(v["plugin"]["grants"], json!(["http:allowed", "state"]));
    for (path, status, code) in [
        ("transform@0.1.0", 409, "PLUGIN_BUNDLED"),
        ("hostile", 400, "PLUGIN_VERSION_REQUIRED"),
        ("hostile@9.9.9", 404, "PLUGIN_NOT_FOUND"),
    ] {
        let (got, v) = api.put(
            &format!("/api/v1/plugins/{path}/grants"),
            r#"{"grants": []}"#,
        );
        assert_eq!(
            (got, v["error"]["code"].clone()),
            (status, json!(code)),
            "{v}"
        );
    }
    let (status, v) = api.put(&grants, r#"{"grants": ["state"]}"#);
    assert_eq!((status, v["grants"].clone()), (200, json!(["state"])));
    let (status, v) = api.send(
        "POST",
        "/api/v1/plugins?replace=true&grant=jumpcloud:users.write",
        Some(wasm),
        &[],
    );
    assert_eq!(status, 400, "an undeclared grant is refused: {v}");
    let (status, v) = api.send("POST", "/api/v1/plugins", Some(b"not wasm".to_vec()), &[]);
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (400, json!("PLUGIN_NOT_WASM"))
    );
    assert_eq!(api.delete(&format!("/api/v1/plugins/{hostile_id}")).0, 204);
    assert_eq!(
        api.delete("/api/v1/plugins/transform@0.1.0").0,
        409,
        "bundled"
    );

    // Connectors: the credential is sealed and never shown.
    let conn = r#"{"name": "alerts", "base_url": "http://127.0.0.1:9/hooks", "auth": {"type": "bearer"}, "secret": "tok-Xy81q"}"#;
    let (status, v) = api.post("/api/v1/connectors", conn);
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["credential"], "****");
    assert_eq!(api.post("/api/v1/connectors", conn).0, 409);
    let bad = r#"{"name": "x", "base_url": "http://example.com", "auth": {"type": "none"}}"#;
    assert_eq!(
        api.post("/api/v1/connectors", bad).0,
        400,
        "plain http off loopback"
    );
    let (_, list) = api.get("/api/v1/connectors");
    let (status, one) = api.get("/api/v1/connectors/alerts");
    assert_eq!(status, 200);
    assert!(!list.to_string().contains("tok-Xy81q") && !one.to_string().contains("tok-Xy81q"));
    assert_eq!(api.delete("/api/v1/connectors/alerts").0, 204);
    assert_eq!(api.get("/api/v1/connectors/alerts").0, 404);

    // Secrets are write-only.
    assert_eq!(
        api.put("/api/v1/secrets/api.key", r#"{"value": "v-secret-1"}"#)
            .0,
        204
    );
    assert_eq!(
        api.put("/api/v1/secrets/Bad%20Name", r#"{"value": "x"}"#).0,
        400
    );
    let (_, v) = api.get("/api/v1/secrets");
    assert!(v["secrets"].as_array().unwrap().contains(&json!("api.key")));
    assert!(!v.to_string().contains("v-secret-1"));
    assert_eq!(api.delete("/api/v1/secrets/api.key").0, 204);
    assert_eq!(api.delete("/api/v1/secrets/api.key").0, 404);

    // Templates.
    let (_, v) = api.get("/api/v1/templates");
    assert!(v["templates"].as_array().unwrap().len() >= 10);
    let (status, v) = api.get("/api/v1/templates/offboarding");
    assert_eq!(status, 200);
    assert!(v["source"].as_str().unwrap().contains("name: offboarding"));
    assert_eq!(api.get("/api/v1/templates/nope").0, 404);
    // Every template deploys to the service as shipped (schedule, event and webhook ones
    // included).
    for t in v_templates(&api) {
        let (_, full) = api.get(&format!("/api/v1/templates/{t}"));
        let (status, v) = api.post("/api/v1/workflows", full["source"].as_str().unwrap());
        assert_eq!(status, 201, "template {t}: {v}");
    }

    // Tokens: create through the API, use, revoke.
    let (status, v) = api.post("/api/v1/tokens", r#"{"name": "ci"}"#);
    assert_eq!(status, 201, "{v}");
    let ci = Http::new(&server.url, v["token"].as_str());
    assert_eq!(ci.get("/api/v1/workflows").0, 200);
    let (_, v) = api.get("/api/v1/tokens");
    assert_eq!(v["tokens"].as_array().unwrap().len(), 2);
    assert!(!v.to_string().contains(ci.token.as_deref().unwrap()));
    assert_eq!(api.post("/api/v1/tokens", r#"{"name": "ci"}"#).0, 409);
    assert_eq!(api.delete("/api/v1/tokens/ci").0, 204);
    assert_eq!(ci.get("/api/v1/workflows").0, 401);

    // Delete keeps runs.
    assert_eq!(api.delete("/api/v1/workflows/hello").0, 204);
    assert_eq!(api.get("/api/v1/workflows/hello").0, 404);
    assert_eq!(api.get(&format!("/api/v1/runs/{run_id}")).0, 200);

    // The audit log has who did what.
    let (_, v) = api.get("/api/v1/audit?limit=1000");
    let entries = v["entries"].as_array().unwrap();
    for action in [
        "workflow.create",
        "workflow.update",
        "workflow.disable",
        "workflow.enable",
        "workflow.delete",
        "run.start",
        "run.retry",
        "plugin.install",
        "plugin.grant",
        "plugin.remove",
        "connector.add",
        "connector.remove",
        "secret.set",
        "secret.remove",
        "token.create",
        "token.revoke",
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == action && e["who"] == "admin"),
            "{action} not audited: {v}"
        );
    }

    // Metrics.
    let (status, v) = anon.get("/metrics");
    assert_eq!(status, 200);
    let text = v.as_str().unwrap();
    assert!(
        text.contains("sluice_runs_total{status=\"succeeded\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("sluice_runs_total{status=\"failed\"} 3"),
        "{text}"
    );
    assert!(text.contains("sluice_step_duration_seconds_count"));
    assert!(text.contains("sluice_queue_depth 0"));
    assert!(text.contains("sluice_broker_calls_total{kind=\"jumpcloud\"}"));

    // The CLI says where the service is instead of a store-lock error.
    let out = s.run(&["runs", "list"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("sluice serve") && err.contains(&server.url),
        "{err}"
    );
    server.stop();
    assert!(!s.data.path().join("service.json").exists());
    assert!(
        s.run(&["runs", "list"]).status.success(),
        "the data dir is free again"
    );
}

/// The Standard Webhooks headers of message `id` with `body`, signed now under `secret`.
fn signed(secret: &str, id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    sluice::trigger::webhook::headers(secret, id, body)
        .expect("a whsec_ secret")
        .to_vec()
}

impl Http {
    /// `POST /hooks/NAME` with `body` and `headers`.
    fn hook(&self, name: &str, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.send(
            "POST",
            &format!("/hooks/{name}"),
            Some(body.to_vec()),
            &headers,
        )
    }
}

/// A webhook-triggered workflow greeting `input.user`.
fn greet_hook(name: &str, respond: bool) -> String {
    format!(
        r#"
version: 1
name: {name}
trigger: {{ type: webhook, respond_with_output: {respond} }}
run_as: Read Only
steps:
  - id: shape
    uses: transform
    with: {{ greeting: "hello {{{{ input.user }}}}" }}
output: ${{steps.shape.output}}
"#
    )
}

#[test]
fn webhooks_need_the_right_signature_and_can_answer_with_the_output() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let hook = greet_hook;
    let (status, v) = api.post("/api/v1/workflows", &hook("greet", true));
    assert_eq!(status, 201, "{v}");
    let secret = v["webhook_secret"]
        .as_str()
        .expect("the signing secret, once")
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(
        api.get("/api/v1/workflows/greet")
            .1
            .get("webhook_secret")
            .is_none()
    );
    let body = br#"{"user": "jsmith"}"#;
    let anon = Http::new(&server.url, None);

    let wrong = "whsec_c2VjcmV0LWtleS1vZi1hbm90aGVyLXdvcmtmbG93IQ==";
    let mut unsigned = signed(&secret, "m0", body);
    unsigned.retain(|(k, _)| *k != "webhook-signature");
    for headers in [
        vec![],
        unsigned,
        signed(&secret, "m0", body)
            .into_iter()
            .map(|(k, v)| match k {
                "webhook-signature" => (k, "v1,AAAA".to_owned()),
                _ => (k, v),
            })
            .collect(),
        signed(wrong, "m0", body),
    ] {
        let (status, v) = anon.hook("greet", body, &headers);
        assert_eq!(status, 401, "{v}");
        assert_eq!(v["error"]["code"], "BAD_SIGNATURE", "{v}");
    }
    assert!(
        api.runs_of("greet").is_empty(),
        "no run for a bad signature"
    );

    let (status, v) = anon.hook("greet", body, &signed(&secret, "m1", body));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v, json!({"greeting": "hello jsmith"}));
    assert_eq!(api.runs_of("greet").len(), 1, "exactly one run");
    // A tampered body with a signature of the original is refused.
    let (status, _) = anon.hook(
        "greet",
        br#"{"user": "root"}"#,
        &signed(&secret, "m2", body),
    );
    assert_eq!(status, 401);
    assert_eq!(api.runs_of("greet").len(), 1);
    // A new version answers at once; a disabled workflow answers as a bad signature does;
    // enabled again, it answers (the service keeps decoded workflows only until the next
    // change).
    let (status, v) = api.put(
        "/api/v1/workflows/greet",
        &hook("greet", true).replace("hello", "welcome"),
    );
    assert_eq!(status, 200, "{v}");
    let call = |id: &str| anon.hook("greet", body, &signed(&secret, id, body));
    assert_eq!(call("m3"), (200, json!({"greeting": "welcome jsmith"})));
    assert_eq!(api.post("/api/v1/workflows/greet/disable", "").0, 200);
    assert_eq!(call("m4").0, 401);
    assert_eq!(api.post("/api/v1/workflows/greet/enable", "").0, 200);
    assert_eq!(call("m5").0, 200);
    assert_eq!(api.runs_of("greet").len(), 3);

    // Accept-and-return mode: 202 with the run id.
    let (_, v) = api.post("/api/v1/workflows", &hook("greet-async", false));
    let secret2 = v["webhook_secret"].as_str().unwrap().to_owned();
    let (status, v) = anon.hook("greet-async", body, &signed(&secret2, "a1", body));
    assert_eq!(status, 202, "{v}");
    let done = api.finished(v["run_id"].as_str().unwrap());
    assert_eq!(done["run"]["output"], json!({"greeting": "hello jsmith"}));
    assert_eq!(done["run"]["trigger"]["webhook_id"], "a1");

    // Rotation: the old secret stops working.
    let (status, v) = api.post("/api/v1/workflows/greet-async/webhook-secret", "");
    assert_eq!(status, 200);
    assert_ne!(v["webhook_secret"].as_str().unwrap(), secret2);
    assert_eq!(
        anon.hook("greet-async", body, &signed(&secret2, "a2", body))
            .0,
        401
    );
    assert_eq!(
        api.post("/api/v1/workflows/greet/webhook-secret", "").0,
        200
    );
    assert_eq!(
        anon.hook("nope", body, &signed(&secret2, "a3", body)).0,
        401
    );
    server.stop();
}

// ---- Webhook replay protection and the HTTP listener's limits ----

#[test]
fn a_signed_webhook_message_starts_one_run_even_when_sent_again_after_a_restart() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let (status, v) = api.post("/api/v1/workflows", &greet_hook("echo", false));
    assert_eq!(status, 201, "{v}");
    let secret = v["webhook_secret"].as_str().unwrap().to_owned();
    let manual = "version: 1\nname: by-hand\ntrigger: { type: manual }\nrun_as: Read Only\n\
                  steps:\n  - id: a\n    uses: transform\n    with: { a: 1 }\n";
    assert_eq!(api.post("/api/v1/workflows", manual).0, 201);
    let anon = Http::new(&server.url, None);
    let body = br#"{"user": "jsmith"}"#;

    // A captured message sent again starts nothing.
    let captured = signed(&secret, "msg_1", body);
    let (status, v) = anon.hook("echo", body, &captured);
    assert_eq!(status, 202, "{v}");
    let (status, v) = anon.hook("echo", body, &captured);
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"]["code"], "WEBHOOK_REPLAYED", "{v}");
    assert_eq!(api.runs_of("echo").len(), 1);

    // Several signatures (a sender rotating keys): one right one is enough.
    let mut rotating = signed(&secret, "msg_2", body);
    rotating[2].1 = format!("v1,bm90IHRoaXMgb25l {}", rotating[2].1);
    assert_eq!(anon.hook("echo", body, &rotating).0, 202);

    // Signed right but outside the 5 minute tolerance, either way.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for ts in [now - 301, now + 301] {
        let sig = sluice::trigger::webhook::sign(&secret, "msg_3", ts, body).unwrap();
        let headers = [
            ("webhook-id", "msg_3".to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", sig),
        ];
        let (status, v) = anon.hook("echo", body, &headers);
        assert_eq!(status, 401, "{v}");
        assert_eq!(
            v["error"]["code"], "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
            "{v}"
        );
    }

    // A name with no webhook workflow gets the bad signature's answer, word for word.
    let bad = anon.hook("echo", body, &signed(&secret, "msg_4", b"{}"));
    assert_eq!(bad.0, 401, "{}", bad.1);
    for name in ["no-such-workflow", "by-hand"] {
        assert_eq!(anon.hook(name, body, &captured), bad, "{name}");
        assert_eq!(anon.hook(name, body, &[]), bad, "{name}");
    }
    assert_eq!(api.runs_of("echo").len(), 2);
    server.stop();

    // The ids outlive the process: after a restart the captured message still starts
    // nothing, and a new one does.
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let anon = Http::new(&server.url, None);
    let (status, v) = anon.hook("echo", body, &captured);
    assert_eq!(status, 409, "{v}");
    assert_eq!(
        anon.hook("echo", body, &signed(&secret, "msg_5", body)).0,
        202
    );
    assert_eq!(api.runs_of("echo").len(), 3);
    server.stop();
}

/// Sends `bytes` into `stream` one at a time, `every` apart, reading what comes back, until
/// the server closes the connection or all are sent. Returns what was read, how many bytes
/// were sent and whether (and after how long) the server closed it.
fn trickle(
    stream: &mut std::net::TcpStream,
    bytes: &[u8],
    every: Duration,
) -> (Vec<u8>, usize, Option<Duration>) {
    use std::io::{ErrorKind, Read, Write};
    let started = Instant::now();
    stream.set_read_timeout(Some(every)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for (sent, b) in bytes.iter().enumerate() {
        if stream.write_all(&[*b]).is_err() {
            return (got, sent, Some(started.elapsed()));
        }
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return (got, sent + 1, Some(started.elapsed())),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(_) => return (got, sent + 1, Some(started.elapsed())),
            }
        }
    }
    (got, bytes.len(), None)
}

/// Reads from `stream` until the server closes it or `within` passes; returns what was
/// read and whether it closed.
fn read_until_closed(stream: &mut std::net::TcpStream, within: Duration) -> (Vec<u8>, bool) {
    use std::io::{ErrorKind, Read};
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

/// Reads one HTTP answer from `stream` (its head, then `content-length` bytes of body)
/// within `within`; `None` unless it came whole.
fn read_answer(stream: &mut std::net::TcpStream, within: Duration) -> Option<String> {
    use std::io::{ErrorKind, Read};
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let l = l.to_ascii_lowercase();
                    l.strip_prefix("content-length:")?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return Some(text);
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
}

#[test]
fn slow_headers_slow_bodies_and_idle_connections_are_cut_off_and_normal_requests_still_work() {
    use std::io::Write;
    use std::net::TcpStream;
    let s = Sluice::new();
    let server = Server::start(
        &s,
        &[
            "--header-read-timeout",
            "1s",
            "--body-read-timeout",
            "1s",
            "--idle-timeout",
            "1s",
        ],
    );
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let anon = Http::new(&server.url, None);

    // Headers trickled a byte every 250 ms (they would take 9 s): cut off after about 1 s,
    // unanswered.
    let head = b"GET /healthz HTTP/1.1\r\nhost: sluice.test\r\n\r\n";
    let mut slow = TcpStream::connect(&addr).unwrap();
    let (got, sent, closed) = trickle(&mut slow, head, Duration::from_millis(250));
    let after = closed.expect("the slow client is disconnected before its headers are done");
    assert!(sent < head.len(), "sent {sent} of {} bytes", head.len());
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "closed after {after:?}"
    );
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));

    // A body trickled after its headers: 408 after about 1 s, and the connection closes.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(
        b"POST /hooks/anything HTTP/1.1\r\nhost: sluice.test\r\ncontent-type: application/json\r\n\
          content-length: 100\r\n\r\n",
    )
    .unwrap();
    let (got, sent, closed) = trickle(&mut slow, &[b' '; 40], Duration::from_millis(250));
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_BODY_TIMEOUT"), "{text}");
    assert!(
        sent < 40 && closed.is_some(),
        "sent {sent}, closed {closed:?}"
    );

    // A keep-alive connection: answered, then closed after about 1 s without a request.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(head).unwrap();
    let answer = read_answer(&mut idle, Duration::from_secs(5)).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answered = Instant::now();
    let (got, closed) = read_until_closed(&mut idle, Duration::from_secs(5));
    assert!(closed, "the idle connection is closed");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    let after = answered.elapsed();
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );

    // Requests that keep to the limits are answered, several on one connection.
    for _ in 0..3 {
        let (status, v) = anon.get("/healthz");
        assert_eq!(status, 200, "{v}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut keep = TcpStream::connect(&addr).unwrap();
    for _ in 0..3 {
        keep.write_all(head).unwrap();
        let answer = read_answer(&mut keep, Duration::from_secs(5)).expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        std::thread::sleep(Duration::from_millis(300));
    }
    server.stop();
}

#[test]
fn connections_beyond_the_limit_wait_until_one_closes() {
    use std::io::Write;
    use std::net::TcpStream;
    let s = Sluice::new();
    let server = Server::start(&s, &["--max-connections", "2"]);
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let request = b"GET /healthz HTTP/1.1\r\nhost: sluice.test\r\n\r\n";
    let answered = |stream: &mut TcpStream, within: Duration| {
        read_answer(stream, within).is_some_and(|a| a.starts_with("HTTP/1.1 200"))
    };
    // Two keep-alive connections, answered and left open, take both places.
    let mut first = TcpStream::connect(&addr).unwrap();
    let mut second = TcpStream::connect(&addr).unwrap();
    for c in [&mut first, &mut second] {
        c.write_all(request).unwrap();
        assert!(answered(c, Duration::from_secs(5)));
    }
    // A third connects (the backlog takes it) but is not served while they stay open...
    let mut third = TcpStream::connect(&addr).unwrap();
    third.write_all(request).unwrap();
    assert!(
        !answered(&mut third, Duration::from_millis(1500)),
        "served beyond the limit"
    );
    // ... and is as soon as one closes.
    drop(first);
    assert!(answered(&mut third, Duration::from_secs(5)));
    server.stop();
}

#[test]
fn a_user_created_in_the_sandbox_fires_its_event_workflow_once_across_restarts() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let on_create = r#"
version: 1
name: on-user-create
trigger:
  type: event
  event_type: user_create
  condition: "{{ input.resource.username is startingwith('evt') }}"
run_as: Read Only
steps:
  - id: seen
    uses: transform
    with: { username: "${input.resource.username}", event: "${input.event_type}" }
"#;
    assert_eq!(api.post("/api/v1/workflows", on_create).0, 201);
    let on_failure = r#"
version: 1
name: on-run-failed
trigger: { type: event, event_type: run.failed }
run_as: Read Only
steps:
  - id: note
    uses: transform
    with: { failed: "${input.run.workflow}" }
"#;
    assert_eq!(api.post("/api/v1/workflows", on_failure).0, 201);
    let create_user = r#"
version: 1
name: create-user
trigger: { type: manual }
run_as: Manager
steps:
  - id: create
    uses: user-create
    with: { username: "${input.username}", email: "${input.username}@example.com" }
"#;
    let (status, v) = api.post("/api/v1/workflows", create_user);
    assert_eq!(status, 201, "{v}");
    for name in ["evt-jdoe", "other-user"] {
        let id = api
            .post(
                "/api/v1/workflows/create-user/runs",
                &json!({"username": name}).to_string(),
            )
            .1["run_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(api.finished(&id)["run"]["status"], "succeeded");
    }
    eventually("the event workflow runs", 30, || {
        api.runs_of("on-user-create").len() == 1
    });
    let run = api.finished(api.runs_of("on-user-create")[0]["id"].as_str().unwrap());
    assert_eq!(
        run["run"]["output"],
        json!({"username": "evt-jdoe", "event": "user_create"})
    );
    assert_eq!(run["run"]["trigger"]["type"], "event");
    // A duplicate user fails: the internal run.failed event fires its listener once.
    let id = api
        .post(
            "/api/v1/workflows/create-user/runs",
            r#"{"username": "evt-jdoe"}"#,
        )
        .1["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(api.finished(&id)["run"]["status"], "failed");
    eventually("run.failed fires", 30, || {
        api.runs_of("on-run-failed").len() == 1
    });
    let note = api.finished(api.runs_of("on-run-failed")[0]["id"].as_str().unwrap());
    assert_eq!(note["run"]["output"], json!({"failed": "create-user"}));
    std::thread::sleep(Duration::from_millis(800));
    server.stop();

    // After a restart the poller reads from its cursor: the event does not fire again.
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        api.runs_of("on-user-create").len(),
        1,
        "exactly once across the restart"
    );
    let (_, metrics) = api.get("/metrics");
    assert!(
        !metrics
            .as_str()
            .unwrap()
            .contains("sluice_event_poll_errors_total 1")
    );
    server.stop();
}

/// With `--no-resume` a run the last process left unfinished is held: the API says it is
/// resumable, and `POST /api/v1/runs/{id}/resume` continues it from its journal (each side
/// effect once), refusing an unknown run (404), one already executing and a finished one
/// (409), and a caller without a token.
#[test]
fn a_held_interrupted_run_resumes_once_through_the_api() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let run_id = common::kill_crash_run_midway(&s);
    let server = Server::start(&s, &["--no-resume"]);
    let api = Http::new(&server.url, Some(&admin));
    let run = format!("/api/v1/runs/{run_id}");
    let resume = format!("{run}/resume");
    // Held: nothing runs it, however long it waits.
    std::thread::sleep(Duration::from_millis(500));
    let (status, held) = api.get(&run);
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["run"]["status"], "running", "{held}");
    assert_eq!(held["resumable"], true, "{held}");
    assert_eq!(held["steps"].as_array().unwrap().len(), 2, "{held}");

    assert_eq!(Http::new(&server.url, None).post(&resume, "").0, 401);
    let (status, v) = api.post("/api/v1/runs/no-such-run/resume", "");
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (404, json!("RUN_NOT_FOUND")),
        "{v}"
    );
    let (status, v) = api.post(&resume, "");
    assert_eq!(status, 202, "{v}");
    assert_eq!(
        (v["run_id"].as_str(), v["workflow"].as_str()),
        (Some(run_id.as_str()), Some("crash"))
    );
    // The step in flight at the crash spins 3 s again: meanwhile the run is not resumable
    // and a second resume is refused, so it never executes twice.
    let (status, v) = api.post(&resume, "");
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (409, json!("RUN_ACTIVE")),
        "{v}"
    );
    assert_eq!(api.get(&run).1["resumable"], false);

    let done = api.finished(&run_id);
    assert_eq!(done["run"]["status"], "succeeded", "{done}");
    assert_eq!(
        done["run"]["output"],
        json!({"bump1": 1, "bump2": 1, "bump3": 1}),
        "each side effect once"
    );
    assert_eq!(done["resumable"], false);
    let (status, v) = api.post(&resume, "");
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (409, json!("RUN_FINISHED")),
        "{v}"
    );
    let (_, v) = api.get("/api/v1/audit?limit=1000");
    let resumes: Vec<&Value> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "run.resume")
        .collect();
    assert_eq!(resumes.len(), 1, "only the resume that happened: {v}");
    assert_eq!(
        (&resumes[0]["who"], &resumes[0]["target"]),
        (&json!("admin"), &json!(run_id))
    );
    server.stop();
}

#[test]
fn a_full_queue_answers_429_and_a_killed_run_resumes_when_the_service_starts() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    // A run killed in the middle (kill -9 during its slow step).
    let run_id = common::kill_crash_run_midway(&s);

    let server = Server::start(&s, &["--max-concurrent-runs", "1", "--queue-capacity", "2"]);
    let api = Http::new(&server.url, Some(&admin));
    // The service resumed it: each side effect happened once.
    let resumed = api.finished(&run_id);
    assert_eq!(resumed["run"]["status"], "succeeded", "{resumed}");
    assert_eq!(
        resumed["run"]["output"],
        json!({"bump1": 1, "bump2": 1, "bump3": 1})
    );

    let slow = r#"
version: 1
name: slow
trigger: { type: manual }
run_as: Read Only
steps:
  - id: spin
    uses: hostile
    with: { mode: spin, arg: 6000 }
"#;
    assert_eq!(api.post("/api/v1/workflows", slow).0, 201);
    let codes: Vec<u16> = (0..4)
        .map(|_| api.post("/api/v1/workflows/slow/runs", "{}").0)
        .collect();
    assert_eq!(codes, vec![202, 202, 429, 429], "two fit in the queue");
    let (_, m) = api.get("/metrics");
    assert!(m.as_str().unwrap().contains("sluice_runs_refused_total 2"));
    assert_eq!(
        api.runs_of("slow").len(),
        2,
        "refused runs are not recorded"
    );
    // The second run waits for the only slot (the first spins for seconds): cancel it there.
    let deadline = Instant::now() + Duration::from_secs(20);
    let queued = loop {
        let runs = api.runs_of("slow");
        let with = |status: &str| -> Vec<String> {
            runs.iter()
                .filter(|r| r["status"] == status)
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect()
        };
        if with("running").len() == 1 {
            let waiting = with("queued");
            assert_eq!(waiting.len(), 1, "one run waits for the slot: {runs:?}");
            break waiting[0].clone();
        }
        assert!(Instant::now() < deadline, "no run started: {runs:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (status, v) = api.post(&format!("/api/v1/runs/{queued}/cancel"), "");
    assert_eq!(status, 200, "{v}");
    assert_eq!(api.finished(&queued)["run"]["status"], "cancelled");
    server.stop();
}

/// Plugins that spin never stall the service: with 4× as many looping steps as the machine
/// has cores, health checks and the API still answer quickly (a generous bound here; the
/// figures are `sluice bench isolation`'s), and every loop still ends at its deadline with
/// `PLUGIN_TIMEOUT`. Before the guest pool, each request waited for the loops' deadlines.
#[test]
fn looping_plugins_do_not_stall_the_service() {
    let s = Sluice::new();
    common::install_hostile(&s, "state");
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let spin = "version: 1\nname: spin\ntrigger: {type: manual}\nrun_as: Read Only\nsteps:\n\
                - id: spin\n  uses: hostile\n  timeout: 4s\n  with: {mode: loop}\n";
    assert_eq!(api.post("/api/v1/workflows", spin).0, 201);
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let started = Instant::now();
    let runs: Vec<String> = (0..4 * cores)
        .map(|_| {
            let (status, v) = api.post("/api/v1/workflows/spin/runs", "{}");
            assert_eq!(status, 202, "{v}");
            v["run_id"].as_str().unwrap().to_owned()
        })
        .collect();
    // Let the loops take the guest pool, then probe while they spin.
    std::thread::sleep(Duration::from_millis(300));
    let mut worst = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(3) {
        for path in ["/healthz", "/api/v1/workflows"] {
            let t = Instant::now();
            assert_eq!(api.get(path).0, 200);
            worst = worst.max(t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        worst < Duration::from_millis(1000),
        "the service took {worst:?} to answer while plugins spun"
    );
    for id in runs {
        let v = api.finished(&id);
        assert_eq!(v["run"]["status"], "failed", "{v}");
        assert!(v.to_string().contains("PLUGIN_TIMEOUT"), "{v}");
    }
    server.stop();
}

#[test]
fn custom_roles_over_the_api_are_checked_audited_and_enforced_per_call() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let wasm = std::fs::read(hostile_wasm()).unwrap();
    let (status, v) = api.send(
        "POST",
        "/api/v1/plugins?grant=jumpcloud:users.readonly",
        Some(wasm),
        &[],
    );
    assert_eq!(status, 201, "{v}");

    // Bad definitions are refused and store nothing.
    for body in [
        json!({"name": "Read Only", "scopes": ["users.readonly"]}),
        json!({"name": "manager", "scopes": ["users"]}),
        json!({"name": "Directory Reader", "scopes": ["users.everything"]}),
        json!({"name": "Directory Reader", "scopes": []}),
        json!({"name": "Directory Reader", "scopes": ["users.readonly"], "scope": ["groups"]}),
        json!({"name": "bad/name", "scopes": ["users.readonly"]}),
        json!({"name": "Directory Reader", "scopes": "users.readonly"}),
    ] {
        let (status, v) = api.post("/api/v1/roles", &body.to_string());
        assert_eq!(
            (status, v["error"]["code"].clone()),
            (400, json!("ROLE_INVALID")),
            "{body}: {v}"
        );
    }
    assert_eq!(api.get("/api/v1/roles").1, json!({"roles": []}));

    // Defined once; a second definition of the name needs `replace`.
    let reader = json!({"name": "Directory Reader", "description": "Looks users up",
                        "scopes": ["jumpcloud:users.readonly"]});
    let (status, v) = api.post("/api/v1/roles", &reader.to_string());
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["scopes"], json!(["users.readonly"]));
    let (status, v) = api.post("/api/v1/roles", &reader.to_string());
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (409, json!("ROLE_EXISTS"))
    );
    let (_, v) = api.get("/api/v1/roles");
    assert_eq!(v["roles"].as_array().unwrap().len(), 1, "{v}");
    let (status, v) = api.get("/api/v1/roles/Directory%20Reader");
    assert_eq!(
        (status, v["description"].clone()),
        (200, json!("Looks users up"))
    );
    assert_eq!(
        api.get("/api/v1/roles/Nobody").1["error"]["code"],
        "ROLE_NOT_FOUND"
    );

    // A workflow running as it validates, with the custom role as the narrowest.
    let wf = "version: 1\nname: reader\ntrigger: {type: manual}\nrun_as: Directory Reader\n\
              steps:\n  - id: read\n    uses: hostile\n    \
              with: {mode: jumpcloud, arg: {method: GET, path: /api/systemusers}}\n";
    let (status, v) = api.post("/api/v1/validate", wf);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["narrowest_role"], "Directory Reader", "{v}");
    assert_eq!(v["broader_than_needed"], false, "{v}");
    // The same steps as Read Only: valid, and broader than the custom role.
    let (_, v) = api.post(
        "/api/v1/validate",
        &wf.replace("run_as: Directory Reader", "run_as: Read Only"),
    );
    assert_eq!(
        (v["valid"].clone(), v["broader_than_needed"].clone()),
        (json!(true), json!(true)),
        "{v}"
    );
    // An unknown role is a located problem.
    let (_, v) = api.post(
        "/api/v1/validate",
        &wf.replace("run_as: Directory Reader", "run_as: Nobody"),
    );
    assert_eq!(v["valid"], false, "{v}");
    let p = &v["problems"][0];
    assert_eq!(
        (p["location"].clone(), p["line"].clone()),
        (json!("run_as"), json!(4)),
        "{v}"
    );
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("`Nobody` is neither a predefined role")
            && p["message"]
                .as_str()
                .unwrap()
                .contains("defined: Directory Reader"),
        "{v}"
    );
    assert_eq!(v["problems"].as_array().unwrap().len(), 1, "{v}");

    // Saved and run: the call within the role passes.
    let (status, v) = api.post("/api/v1/workflows", wf);
    assert_eq!(status, 201, "{v}");
    let (status, v) = api.post("/api/v1/workflows/reader/runs", "{}");
    assert_eq!(status, 202, "{v}");
    let done = api.finished(v["run_id"].as_str().unwrap());
    assert_eq!(done["run"]["status"], "succeeded", "{done}");
    assert_eq!(done["run"]["output"]["status"], 200, "{done}");

    // Deleting a role a saved workflow runs as is refused, and changes nothing.
    let (status, v) = api.delete("/api/v1/roles/Directory%20Reader");
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (409, json!("ROLE_IN_USE")),
        "{v}"
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("reader"),
        "{v}"
    );
    assert_eq!(api.get("/api/v1/roles/Directory%20Reader").0, 200);

    // The role narrowed afterwards: the next run's call beyond it is refused per call.
    let narrowed =
        json!({"name": "Directory Reader", "scopes": ["groups.readonly"], "replace": true});
    let (status, v) = api.post("/api/v1/roles", &narrowed.to_string());
    assert_eq!(status, 201, "{v}");
    let (status, v) = api.post("/api/v1/workflows/reader/runs", "{}");
    assert_eq!(status, 202, "{v}");
    let done = api.finished(v["run_id"].as_str().unwrap());
    assert_eq!(done["run"]["status"], "failed", "{done}");
    let error = &done["run"]["report"]["failed_steps"][0]["error"];
    assert_eq!(error["type"], "PERMISSION_DENIED", "{done}");
    assert_eq!(error["code"], "ERR-GEN-008", "{done}");
    assert_eq!(error["origin"], "host", "{done}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("run-as role `Directory Reader` does not grant jumpcloud:users.readonly"),
        "{done}"
    );

    // Once no workflow runs as it, it can go; the changes are audited.
    assert_eq!(api.delete("/api/v1/workflows/reader").0, 204);
    assert_eq!(api.delete("/api/v1/roles/Directory%20Reader").0, 204);
    assert_eq!(api.get("/api/v1/roles/Directory%20Reader").0, 404);
    let (_, v) = api.get("/api/v1/audit?limit=1000");
    let entries = v["entries"].as_array().unwrap();
    for action in ["role.save", "role.remove"] {
        assert!(
            entries.iter().any(|e| e["action"] == action
                && e["who"] == "admin"
                && e["target"] == "Directory Reader"),
            "{action} not audited: {v}"
        );
    }
    let saves = entries
        .iter()
        .filter(|e| e["action"] == "role.save")
        .count();
    assert_eq!(saves, 2, "refused definitions are not audited: {v}");
    server.stop();
}
