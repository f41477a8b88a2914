//! Every API endpoint over HTTP: tokens, validation that saves nothing, the audit log.

use super::*;

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
