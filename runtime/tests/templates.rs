//! The template catalogue: at least 10 templates across the three categories; each one
//! written out with `sluice template use` validates and runs against the embedded sandbox
//! with the example input written beside it, doing what it says; and every step of theirs
//! (and of the examples) that calls JumpCloud rides out temporary errors with retries.

mod common;

use std::collections::BTreeSet;

use common::{Sluice, stderr, workspace};
use serde_json::{Value, json};
use sluice::workflow::{catalogue, model, validate};

#[test]
fn every_template_is_listed_written_validated_and_run() {
    let s = Sluice::new();
    let list = s.json(&["template", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert!(list.len() >= 10, "{list:?}");
    for category in ["Device Management", "Security", "User Management"] {
        assert!(list.iter().any(|t| t["category"] == category), "{category}");
    }
    let dir = tempfile::tempdir().unwrap();
    // A user with an MFA exclusion, so the report has someone to list.
    let out = s.run(&[
        "plugin",
        "call",
        "user-reset-mfa",
        "--input-json",
        r#"{"username":"priya.patel","exclusion_days":5}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut outputs = serde_json::Map::new();
    for t in list {
        let name = t["name"].as_str().unwrap();
        let file = dir.path().join(format!("{name}.yaml"));
        let out = s.run(&["template", "use", name, "--output", file.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let shown = s.run(&["template", "show", name]);
        assert_eq!(shown.stdout, std::fs::read(&file).unwrap(), "{name}");
        let out = s.run(&["validate", file.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let input = file.with_extension("input.json");
        let out = s.run(&[
            "run",
            file.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--json",
        ]);
        let run: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{name}: {}", stderr(&out)));
        outputs.insert(name.to_owned(), run);
    }
    let out = |name: &str| outputs[name]["output"].clone();
    let status = |name: &str| outputs[name]["status"].as_str().unwrap().to_owned();
    for name in [
        "provision-user",
        "offboarding",
        "reactivate-user",
        "department-change",
        "suspend-on-lockout",
        "mfa-exclusion-report",
        "inactive-users-report",
        "new-device-to-group",
    ] {
        assert_eq!(status(name), "succeeded", "{name}: {:#}", outputs[name]);
    }
    assert_eq!(
        out("provision-user")["group_assignments"]["total_groups_assigned"],
        5
    );
    assert_eq!(out("offboarding")["state"], "SUSPENDED");
    assert!(
        !out("offboarding")["groups_removed"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let after = s.json(&[
        "plugin",
        "call",
        "user-groups",
        "--input-json",
        r#"{"username":"priya.patel"}"#,
        "--json",
    ]);
    assert_eq!(
        after["result"]["output"]["groups"],
        json!([]),
        "offboarded user still in groups"
    );
    assert_eq!(out("department-change")["department"], "Marketing");
    assert_eq!(out("department-change")["joined"], json!(["UG-Marketing"]));
    assert_eq!(out("suspend-on-lockout")["state"], "SUSPENDED");
    assert_eq!(out("reactivate-user")["state"], "ACTIVATED");
    assert_eq!(
        out("new-device-to-group")["group"],
        "SG-Windows-Workstations"
    );
    assert_eq!(
        out("mfa-exclusion-report")["excluded"],
        json!(["priya.patel"])
    );
    assert_eq!(out("mfa-exclusion-report")["sent"], true);
    assert!(out("inactive-users-report")["checked"].as_u64().unwrap() >= 1);
    // The connector templates need a connector the admin defines: without one they run,
    // report CONNECTOR_NOT_FOUND and go on.
    for name in ["jira-ticket", "admin-elevation-alert"] {
        assert_eq!(status(name), "partially_completed", "{name}");
        assert_eq!(
            outputs[name]["report"]["failed_steps"][0]["error"]["type"],
            "CONNECTOR_NOT_FOUND"
        );
    }
    // `use` refuses to overwrite; an unknown name is a usage error.
    let file = dir.path().join("offboarding.yaml");
    let out = s.run(&[
        "template",
        "use",
        "offboarding",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exists"));
    let out = s.run(&["template", "show", "no-such-template"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A rate limit or an outage that outlasts the JumpCloud client's own retries must not end
/// a run: every step whose plugin calls JumpCloud retries, with a backoff.
#[test]
fn every_jumpcloud_step_retries_with_backoff() {
    let s = Sluice::new();
    let plugins = s.json(&["plugin", "list", "--json"]);
    let calls_jumpcloud: BTreeSet<String> = plugins
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["grants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g.as_str().unwrap().starts_with("jumpcloud:"))
        })
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        calls_jumpcloud.contains("user-create"),
        "{calls_jumpcloud:?}"
    );
    let mut sources: Vec<(String, String)> = catalogue::TEMPLATES
        .iter()
        .map(|t| ("template".to_owned(), t.source.to_owned()))
        .collect();
    for e in std::fs::read_dir(workspace().join("examples")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            sources.push((path.display().to_string(), text));
        }
    }
    let mut checked = 0;
    let mut missing = Vec::new();
    for (file, text) in &sources {
        let doc = model::parse(file, text).unwrap();
        validate::visit(&doc.steps, &mut |step| {
            let Some(uses) = &step.uses else { return };
            if !calls_jumpcloud.contains(uses.split('@').next().unwrap()) {
                return;
            }
            checked += 1;
            let ok = step
                .retry
                .as_ref()
                .is_some_and(|r| r.attempts >= 3 && r.backoff.is_some());
            if !ok {
                missing.push(format!("{} > {}", doc.name, step.id));
            }
        });
    }
    assert!(checked >= 25, "{checked} JumpCloud steps");
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "steps without retries and backoff"
    );
}
