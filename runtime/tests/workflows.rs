//! Workflows as an admin runs them: every example validates and runs, invalid ones match
//! their golden error files, bad input changes nothing, and a run killed mid-way resumes
//! with each side effect done exactly once.

mod common;

use std::path::PathBuf;

use common::{Sluice, stderr, workspace};
use serde_json::{Value, json};

trait Runs {
    fn runs(&self) -> Vec<Value>;
}

impl Runs for Sluice {
    fn runs(&self) -> Vec<Value> {
        let list = self.json(&["runs", "list", "--limit", "1000", "--json"]);
        assert!(list["next"].is_null(), "{list}");
        list["runs"].as_array().unwrap().clone()
    }
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates_and_runs() {
    let s = Sluice::new();
    let files = examples();
    assert!(files.len() >= 4, "examples: {files:?}");
    for file in files {
        let rel = file
            .strip_prefix(workspace())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let out = s.run(&["validate", &rel]);
        assert!(out.status.success(), "{rel}: {}", stderr(&out));
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let input = format!("examples/inputs/{stem}.json");
        let out = s.run(&["run", &rel, "--input", &input, "--json"]);
        let result: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{rel}: {}", stderr(&out)));
        // Exit 0 only for a run that fully succeeded; a partial one is 1.
        let expected = if result["status"] == "succeeded" {
            0
        } else {
            1
        };
        assert_eq!(out.status.code(), Some(expected), "{rel}: {}", stderr(&out));
        match stem {
            "bulk-provision" => assert_eq!(
                result["output"]["users"],
                json!([
                    {"username": "ana.garcia", "created": true, "added_to_group": true},
                    {"username": "lee.wong", "created": true, "added_to_group": true},
                    {"username": "jane.doe", "created": false, "added_to_group": false},
                ])
            ),
            "hello" => assert_eq!(
                result["output"],
                json!({"username": "jsmith", "email": "john.smith@example.com", "display_name": "John Smith (Acme)"})
            ),
            "welcome" => assert_eq!(
                result["output"]["text"],
                "Welcome Ada Lovelace (Acme), your login is alovelace"
            ),
            "group-routing" => {
                assert_eq!(
                    result["output"]["groups"],
                    json!(["all-staff", "engineering", "github-users", "managers"])
                );
                assert_eq!(result["output"]["memberships"].as_array().unwrap().len(), 4);
                assert_eq!(result["output"]["notes"][1], 4);
            }
            "jira-ticket" => {
                // No `jira` connector is defined here: the step fails, `on_error: continue`.
                assert_eq!(result["status"], "partially_completed");
                assert_eq!(
                    result["output"],
                    json!({"ticket_created": false, "ticket": null, "error": "CONNECTOR_NOT_FOUND"})
                );
                let failed = &result["report"]["failed_steps"][0];
                assert_eq!(failed["step"], "ticket");
                assert_eq!(
                    failed["remediation"],
                    "Define the `jira` connector, then open the issue by hand."
                );
            }
            "onboarding" => {
                // provision-user ran as a sub-workflow; its result shaped the next step.
                assert_eq!(result["status"], "succeeded", "{result:#}");
                let out = &result["output"];
                assert_eq!(out["jumpcloud_user_id"].as_str().unwrap().len(), 24);
                assert_eq!(
                    out["groups"],
                    json!([
                        "UG-All-Employees",
                        "UG-Sales",
                        "UG-Managers",
                        "UG-Austin-Office"
                    ])
                );
                let apps = out["applications"].as_array().unwrap();
                assert!(apps.contains(&json!("Salesforce")) && apps.contains(&json!("Lattice")));
                assert_eq!(out["welcome_sent"], true);
            }
            "provision-user" => {
                // tests/provisioning.rs checks the whole provisioning result.
                assert_eq!(result["status"], "succeeded");
                assert_eq!(result["output"]["success"], true);
                assert_eq!(result["output"]["user_info"]["username"], "john.smith");
            }
            "admin-elevation-alert" => {
                // No `audit` connector is defined here (tests/connectors.rs defines one).
                assert_eq!(result["status"], "partially_completed");
                assert_eq!(
                    result["output"],
                    json!({"alerted": false, "error": "CONNECTOR_NOT_FOUND"})
                );
            }
            other => panic!("add expectations for examples/{other}.yaml"),
        }
    }
}

#[test]
fn invalid_examples_match_their_golden_errors() {
    let s = Sluice::new();
    // The first use of a data dir announces the compile of the bundled plugins on stderr;
    // the goldens are what validation itself prints.
    assert!(s.run(&["plugin", "list"]).status.success());
    let dir = workspace().join("examples/invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let golden = entry.unwrap().path();
        if golden.extension().is_none_or(|e| e != "err") {
            continue;
        }
        let yaml = golden.with_extension("yaml");
        let rel = yaml
            .strip_prefix(workspace())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let out = s.run(&["validate", &rel]);
        assert_eq!(out.status.code(), Some(2), "{rel}");
        // `SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --test workflows
        // invalid_examples_match_their_golden_errors` rewrites the goldens from what
        // validation prints (review the diff before committing it).
        if std::env::var_os("SLUICE_BLESS").is_some() {
            std::fs::write(&golden, stderr(&out)).unwrap();
        }
        let expected = std::fs::read_to_string(&golden).unwrap();
        assert_eq!(
            stderr(&out),
            expected,
            "{rel} differs from {}",
            golden.display()
        );
        checked += 1;
    }
    assert!(checked >= 4);
    assert!(s.runs().is_empty(), "validation stores nothing");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let bad_yaml = dir.path().join("bad.yaml");
    std::fs::write(&bad_yaml, "version: 1\nname: x\nsteps: [\n").unwrap();
    let out = s.run(&["run", bad_yaml.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.yaml:"), "{}", stderr(&out));

    let wrong_type = dir.path().join("types.yaml");
    std::fs::write(
        &wrong_type,
        "version: 1\nname: x\ntrigger: {type: manual}\nrun_as: Read Only\nsteps: {id: a}\n",
    )
    .unwrap();
    let out = s.run(&["validate", wrong_type.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("types.yaml:5: steps: invalid type: map, expected a sequence"),
        "{}",
        stderr(&out)
    );

    let out = s.run(&[
        "run",
        "examples/hello.yaml",
        "--input-json",
        r#"{"first_name": 7}"#,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("input/first_name: 7 is not of type \"string\""),
        "{err}"
    );
    assert!(
        err.contains("\"last_name\" is a required property"),
        "{err}"
    );

    let out = s.run(&["run", "examples/hello.yaml", "--input-json", "{nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(s.runs().is_empty(), "no run was recorded for refused input");
}

#[test]
fn a_template_error_at_run_time_fails_the_step_with_its_location() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing.yaml");
    std::fs::write(
        &file,
        "version: 1\nname: missing\ntrigger: {type: manual}\nrun_as: Read Only\nsteps:\n  - id: shape\n    uses: transform\n    with: {user: {email: '${input.user.email}'}}\n    remediation: Pass input.user.email\n",
    )
    .unwrap();
    let out = s.run(&[
        "run",
        file.to_str().unwrap(),
        "--input-json",
        "{}",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &result["report"];
    assert_eq!(report["success"], false);
    assert_eq!(report["partial_completion"], false);
    let failed = &report["failed_steps"][0];
    assert_eq!(failed["step"], "shape");
    assert_eq!(failed["error"]["type"], "TEMPLATE_ERROR");
    assert_eq!(failed["error"]["code"], "ERR-WFL-008");
    assert_eq!(failed["error"]["origin"], "host");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("with.user.email: `${input.user.email}` is undefined"),
        "{failed}"
    );
    assert_eq!(
        report["recommended_actions"],
        json!(["Pass input.user.email"])
    );
    let runs = s.runs();
    assert_eq!(runs[0]["status"], "failed");
    let show = s.run(&["runs", "show", runs[0]["id"].as_str().unwrap()]);
    assert!(show.status.success());

    // Pages: newest first, each `next` leading to the rest, filters applied while paging.
    for _ in 0..2 {
        let again = s.run(&["run", file.to_str().unwrap(), "--input-json", "{}"]);
        assert_eq!(again.status.code(), Some(1));
    }
    let runs = s.runs();
    assert_eq!(runs.len(), 3);
    let first = s.json(&["runs", "list", "--limit", "1", "--json"]);
    assert_eq!(first["runs"][0]["id"], runs[0]["id"]);
    let next = first["next"].as_str().expect("a second page").to_owned();
    let rest = s.json(&[
        "runs", "list", "--after", &next, "--limit", "1000", "--json",
    ]);
    assert_eq!(rest["runs"].as_array().unwrap()[..], runs[1..]);
    let failed = s.json(&["runs", "list", "--status", "failed", "--json"]);
    assert!(
        failed["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "failed")
    );
    let bad = s.run(&["runs", "list", "--status", "done"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown run status `done`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_killed_run_resumes_and_each_side_effect_happens_once() {
    let s = Sluice::new();
    let run_id = common::kill_crash_run_midway(&s);

    let runs = s.runs();
    assert_eq!(runs[0]["status"], "running", "the killed run is unfinished");

    let out = s.run(&["runs", "resume", &run_id, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("bump1 = (journaled)") && err.contains("bump2 = (journaled)"),
        "{err}"
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], "succeeded");
    assert_eq!(
        result["output"],
        json!({"bump1": 1, "bump2": 1, "bump3": 1}),
        "each side effect ran once"
    );

    let out = s.run(&["runs", "resume", &run_id]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a finished run is not resumed again"
    );
}

/// `runs list` pages keep their filters; bad paging arguments and acting on a finished run
/// are refused plainly.
#[test]
fn runs_paging_keeps_filters_and_finished_runs_say_so() {
    let s = Sluice::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let out = s.run(&[
            "run",
            "examples/hello.yaml",
            "--input",
            "examples/inputs/hello.json",
            "--json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(v["run_id"].as_str().unwrap().to_owned());
    }
    let out = s.run(&[
        "runs",
        "list",
        "--workflow",
        "hello",
        "--status",
        "succeeded",
        "--limit",
        "2",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "more runs: sluice runs list --workflow hello --status succeeded --limit 2 --after "
        ),
        "{text}"
    );
    let out = s.run(&["runs", "list", "--limit", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = s.run(&["runs", "list", "--after", "no-such-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such run"), "{}", stderr(&out));
    for verb in ["cancel", "resume"] {
        let out = s.run(&["runs", verb, &ids[0]]);
        assert_ne!(out.status.code(), Some(0));
        let err = stderr(&out);
        assert!(err.contains("has already finished"), "{verb}: {err}");
        assert!(!err.contains("resuming"), "{verb}: {err}");
    }
}

#[test]
fn custom_roles_from_the_cli_in_validation_and_against_the_identity_role() {
    let s = Sluice::new();
    common::install_hostile(&s, "jumpcloud:users.readonly");
    let dir = tempfile::tempdir().unwrap();
    let roles = || s.json(&["role", "list", "--json"]);

    // Bad definitions: refused (exit 2), nothing stored.
    let bad_file = dir.path().join("bad.yaml");
    std::fs::write(
        &bad_file,
        "name: Reader\nscopes: [users.readonly]\nscope: [groups]\n",
    )
    .unwrap();
    for (args, says) in [
        (
            vec!["--name", "Help Desk", "--scope", "users"],
            "predefined",
        ),
        (
            vec!["--name", "Reader", "--scope", "everything"],
            "not a JumpCloud scope",
        ),
        (vec!["--name", "x-", "--scope", "users"], "role name"),
        (vec!["--file", bad_file.to_str().unwrap()], "unknown field"),
    ] {
        let mut cmd = vec!["role", "add"];
        cmd.extend(&args);
        let out = s.run(&cmd);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(roles(), json!([]));

    // From a file and from the arguments.
    let file = dir.path().join("reader.yaml");
    std::fs::write(
        &file,
        "name: Reader\ndescription: Looks users up\nscopes: [users.readonly]\n",
    )
    .unwrap();
    let out = s.run(&["role", "add", "--file", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["role", "add", "--name", "User Admin", "--scope", "users"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["role", "add", "--name", "Reader", "--scope", "users"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let list = roles();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Reader", "User Admin"]);
    assert_eq!(list[0]["scopes"], json!(["users.readonly"]));

    // The narrowest role is the custom one; running as it works.
    let wf = dir.path().join("lookup.yaml");
    let doc = |run_as: &str| {
        format!(
            "version: 1\nname: lookup\ntrigger: {{type: manual}}\nrun_as: {run_as}\nsteps:\n  \
             - id: read\n    uses: hostile\n    \
             with: {{mode: jumpcloud, arg: {{method: GET, path: /api/systemusers}}}}\n"
        )
    };
    std::fs::write(&wf, doc("User Admin")).unwrap();
    let wf = wf.to_str().unwrap();
    let v = s.json(&["validate", wf, "--json"]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["run_as"], "User Admin");
    assert_eq!(v["narrowest_role"], "Reader", "{v}");
    let v = s.json(&["run", wf, "--json"]);
    assert_eq!(v["status"], "succeeded", "{v}");

    // The identity's role known: a run-as role beyond it is flagged, one within it is not.
    let validate_as = |identity: &str| {
        s.cmd(&["validate", wf])
            .env("SLUICE_JUMPCLOUD_ROLE", identity)
            .output()
            .unwrap()
    };
    let out = validate_as("Read Only");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("run_as: the role `User Admin` grants `jumpcloud:users` beyond `Read Only`"),
        "{}",
        stderr(&out)
    );
    for identity in ["Manager", "User Admin"] {
        let out = validate_as(identity);
        assert!(out.status.success(), "{identity}: {}", stderr(&out));
    }
    let out = validate_as("Nobody");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SLUICE_JUMPCLOUD_ROLE names `Nobody`"),
        "{}",
        stderr(&out)
    );
    // ... and `sluice run` refuses it before any call.
    let out = s
        .cmd(&["run", wf])
        .env("SLUICE_JUMPCLOUD_ROLE", "Reader")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Removed: the workflow's run_as no longer resolves, a located problem.
    let out = s.run(&["role", "remove", "User Admin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["role", "remove", "User Admin"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = s.run(&["validate", wf]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{wf}: run_as: `User Admin` is neither a predefined role"
        )),
        "{}",
        stderr(&out)
    );
}
