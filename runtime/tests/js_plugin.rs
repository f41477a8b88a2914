//! The example plugin written in JavaScript (`plugins/js/user-summary`), as a user meets it:
//! the component `scripts/js-plugins` builds (`npm ci`, then `jco componentize` against
//! wit/plugin.wit) is installed with `sluice plugin install`, describes itself with JSON
//! Schemas and a permission, and runs as a workflow step whose JumpCloud call goes through
//! the host's `jumpcloud` import and its permission check.

mod common;

use std::path::PathBuf;

use common::{Sluice, stderr, workspace};
use serde_json::{Value, json};

/// The built component; the test fails (never skips) when it is missing.
fn user_summary_wasm() -> PathBuf {
    let path = workspace().join("plugins/js/user-summary/dist/user-summary.wasm");
    assert!(
        path.is_file(),
        "{} is not built: run scripts/js-plugins (npm ci and jco componentize in \
         plugins/js/user-summary; scripts/test runs it before the cargo tests)",
        path.display()
    );
    path
}

fn install(s: &Sluice, grants: &[&str]) -> Value {
    let wasm = user_summary_wasm();
    let mut args = vec!["plugin", "install", wasm.to_str().unwrap(), "--json"];
    for g in grants {
        args.extend(["--grant", g]);
    }
    s.json(&args)
}

/// Writes a workflow file into a temporary directory that lives as long as the result.
fn workflow(yaml: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workflow.yaml");
    std::fs::write(&file, yaml).unwrap();
    let path = file.to_str().unwrap().to_owned();
    (dir, path)
}

const STAFF_SUMMARY: &str = r#"version: 1
name: staff-summary
description: Adds a new hire, then summarises the organisation's users with a plugin written in JavaScript.
trigger: {type: manual}
run_as: Manager
steps:
  - id: hire
    uses: user-create
    with:
      username: ada.lovelace
      email: ada.lovelace@acme.example
      firstname: Ada
      lastname: Lovelace
      department: Engineering
      location: London
      state: ACTIVATED
  - id: summary
    uses: user-summary
    with: {group_by: location}
  - id: headline
    uses: transform
    with:
      text: "${steps.summary.output.total} users, ${steps.summary.output.groups.Seattle} in Seattle; no MFA: {{ steps.summary.output.without_mfa | join(', ') }}"
output:
  summary: "${steps.summary.output}"
  headline: "${steps.headline.output.text}"
"#;

#[test]
fn the_javascript_plugin_installs_and_describes_itself() {
    let s = Sluice::new();
    let installed = install(&s, &["jumpcloud:users.readonly"]);
    assert_eq!(installed["name"], "user-summary");
    assert_eq!(installed["kind"], "action");
    assert_eq!(installed["grants"], json!(["jumpcloud:users.readonly"]));

    let inspected = s.json(&["plugin", "inspect", "user-summary", "--json"]);
    let manifest = &inspected["manifest"];
    assert_eq!(manifest["version"], "0.1.0");
    assert_eq!(manifest["permissions"], json!(["jumpcloud:users.readonly"]));
    let input = &manifest["input_schema"];
    assert_eq!(
        input["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(input["additionalProperties"], false);
    assert_eq!(input["properties"]["group_by"]["default"], "department");
    assert_eq!(
        manifest["output_schema"]["required"],
        json!([
            "total",
            "read",
            "group_by",
            "groups",
            "states",
            "locked",
            "without_mfa"
        ])
    );
    // It imports the contract's interfaces and the WASI the host links, not wasi:http
    // (built with `--disable http fetch-event`).
    let imports: Vec<&str> = inspected["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(
        imports.contains(&"sluice:plugin/jumpcloud@0.2.0"),
        "{imports:?}"
    );
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:http/")),
        "{imports:?}"
    );
}

#[test]
fn the_javascript_plugin_runs_as_a_workflow_step_through_the_jumpcloud_import() {
    let s = Sluice::new();
    install(&s, &["jumpcloud:users.readonly"]);
    let (_dir, file) = workflow(STAFF_SUMMARY);
    let out = s.run(&["run", &file, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], "succeeded");
    // The default sandbox organisation (three users, all with MFA) and the new hire.
    assert_eq!(
        result["output"]["summary"],
        json!({
            "total": 4,
            "read": 4,
            "group_by": "location",
            "groups": {"Austin": 1, "London": 1, "Seattle": 2},
            "states": {"ACTIVATED": 4},
            "locked": [],
            "without_mfa": ["ada.lovelace"],
        })
    );
    assert_eq!(
        result["output"]["headline"],
        "4 users, 2 in Seattle; no MFA: ada.lovelace"
    );
    // The run's record holds the plugin's log line and its brokered call.
    let run_id = result["run_id"].as_str().unwrap();
    let run = s.json(&["runs", "show", run_id, "--json"]);
    let text = run.to_string();
    assert!(
        text.contains("summary: read 4 of 4 users, counted by location"),
        "{run}"
    );
    assert!(text.contains("/api/systemusers"), "{run}");
}

#[test]
fn the_javascript_plugin_is_held_to_its_grants_and_its_input_schema() {
    let s = Sluice::new();
    // Installed without its permission: its JumpCloud call is refused by the host.
    install(&s, &[]);
    let (_dir, file) = workflow(
        "version: 1\nname: summary-only\ntrigger: {type: manual}\nrun_as: Read Only\n\
         steps:\n  - id: summary\n    uses: user-summary\n    with: {group_by: location}\n",
    );
    let out = s.run(&["run", &file, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = &result["report"]["failed_steps"][0];
    assert_eq!(failed["step"], "summary");
    assert_eq!(failed["error"]["type"], "PERMISSION_DENIED", "{failed}");
    assert_eq!(failed["error"]["origin"], "host");

    // Its input schema is the workflow validator's: a value outside the enum is refused
    // before anything runs.
    let (_bad_dir, bad) = workflow(
        "version: 1\nname: summary-bad\ntrigger: {type: manual}\nrun_as: Read Only\n\
         steps:\n  - id: summary\n    uses: user-summary\n    with: {group_by: shoe_size}\n",
    );
    let out = s.run(&["validate", &bad]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("input at /group_by does not match `user-summary@0.1.0`"),
        "{}",
        stderr(&out)
    );

    // Its own input check answers a direct call with the plugin's error code.
    let out = s.run(&[
        "plugin",
        "call",
        "user-summary",
        "--input-json",
        r#"{"max": 0}"#,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("INVALID_INPUT: max: an integer from 1 to 100000"),
        "{}",
        stderr(&out)
    );
}

/// Runs npm in `dir`, failing with what it printed.
fn npm(dir: &std::path::Path, args: &[&str], hint: &str) {
    let out = std::process::Command::new("npm")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("npm runs (Node 20+ and npm are needed for the JavaScript plugins)");
    assert!(
        out.status.success(),
        "`npm {}` in {} failed{hint}:\n{}{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

#[test]
fn a_scaffolded_javascript_plugin_builds_installs_and_answers() {
    // The example's packages are in npm's cache once scripts/js-plugins has run: the
    // scaffold's lock asks for exactly those, so this needs no network.
    user_summary_wasm();
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("user-check");
    let out = s.run(&[
        "plugin",
        "new",
        "user-check",
        "--lang",
        "js",
        "--dir",
        plugin.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for file in [
        "package.json",
        "package-lock.json",
        "README.md",
        ".gitignore",
        "src/plugin.js",
        "wit/plugin.wit",
    ] {
        assert!(plugin.join(file).is_file(), "{file} was not written");
    }
    npm(
        &plugin,
        &["ci", "--offline", "--no-audit", "--no-fund"],
        " (offline: run scripts/js-plugins first, which fills npm's cache)",
    );
    npm(&plugin, &["run", "build"], "");
    let wasm = plugin.join("dist/user-check.wasm");
    let installed = s.json(&[
        "plugin",
        "install",
        wasm.to_str().unwrap(),
        "--grant",
        "jumpcloud:users.readonly",
        "--json",
    ]);
    assert_eq!(installed["name"], "user-check");
    assert_eq!(installed["kind"], "action");
    let out = s.run(&[
        "plugin",
        "call",
        "user-check",
        "--input-json",
        r#"{"username": "jane.doe"}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["found"], true, "{answer}");
    assert_eq!(answer["state"], "ACTIVATED", "{answer}");
}
