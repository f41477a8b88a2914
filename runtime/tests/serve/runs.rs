//! Runs under the service: Directory Insights events fire once across restarts, held and
//! killed runs resume once, a full queue answers 429, looping plugins never stall the
//! service, custom roles are checked, audited and enforced per call, and a service stopped
//! the moment it started stops gracefully.

use super::*;

/// A supervisor may stop the service as soon as it has started: a SIGTERM sent the moment
/// the address line is read is a graceful stop (exit 0), never death by the signal (its
/// handler used to be installed only after the line, once the service was set up).
#[test]
fn a_sigterm_the_moment_the_address_is_printed_stops_the_service_gracefully() {
    let s = Sluice::new();
    token(&s, "admin");
    for _ in 0..5 {
        Server::start(&s, &[]).stop();
    }
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
