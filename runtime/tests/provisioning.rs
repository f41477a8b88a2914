//! New-user provisioning as an admin runs it against the embedded sandbox: John Smith's
//! provisioning returns the full account record with values read back from the directory;
//! the same input again is refused with nothing changed; a missing group gives the
//! partial-completion report; bulk CSV provisioning summarises duplicates and bad rows
//! exactly; `sluice demo` works with nothing set up. Against a `sluice sandbox` that
//! injects rate limits and outages, every run still succeeds and creates its user once; an
//! outage is reported with advice to retry, not with the step's business remediation; and a
//! manager email that is no JumpCloud user is notified, with the account created without a
//! manager and a warning.

mod common;

use std::collections::BTreeSet;
use std::process::Output;

use common::{SandboxProcess, Sluice, stderr};
use serde_json::{Value, json};

const WORKFLOW: &str = "examples/provision-user.yaml";

fn john() -> Value {
    let text =
        std::fs::read_to_string(common::workspace().join("examples/inputs/provision-user.json"))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn provision(s: &Sluice, input: &Value) -> (Option<i32>, Value) {
    let out = s.run(&[
        "run",
        WORKFLOW,
        "--input-json",
        &input.to_string(),
        "--json",
    ]);
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {}", stderr(&out)));
    (out.status.code(), v)
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn users(s: &Sluice) -> Vec<String> {
    let out = s.json(&[
        "plugin",
        "call",
        "user-list",
        "--input-json",
        "{}",
        "--json",
    ]);
    out["result"]["output"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn john_smith_gets_the_full_record_read_back_from_the_directory() {
    let s = Sluice::new();
    let (code, run) = provision(&s, &john());
    assert_eq!(code, Some(0), "{run:#}");
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let out = &run["output"];
    assert_eq!(
        keys(out),
        set(&[
            "success",
            "warnings",
            "user_info",
            "account_details",
            "security_settings",
            "unix_attributes",
            "group_assignments",
            "system_bindings",
            "application_access",
            "custom_attributes",
            "notifications_sent",
            "audit_trail",
        ])
    );
    assert_eq!(out["success"], true);
    let id = out["user_info"]["jumpcloud_user_id"].as_str().unwrap();
    assert!(
        id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(
        out["user_info"],
        json!({"jumpcloud_user_id": id, "username": "john.smith", "email": "john.smith@company.com",
               "first_name": "John", "last_name": "Smith", "display_name": "John Smith",
               "department": "Engineering", "job_title": "Software Developer",
               "employee_id": "EMP-2026-042"})
    );
    let acct = &out["account_details"];
    assert_eq!(acct["created"], true);
    assert_eq!(acct["account_status"], "activated");
    assert_eq!(acct["activation_email_sent"], true);
    assert_eq!(acct["organization_id"].as_str().unwrap().len(), 24);
    let sec = &out["security_settings"];
    assert_eq!(sec["mfa_required"], true);
    assert_eq!(sec["mfa_exclusion_days"], 7);
    assert!(sec["mfa_exclusion_until"].is_string(), "{sec:#}");
    assert_eq!(sec["password_set"], true);
    assert_eq!(sec["sudo_enabled"], false);
    assert_eq!(
        keys(sec),
        set(&[
            "mfa_required",
            "mfa_configured",
            "mfa_exclusion_until",
            "mfa_exclusion_days",
            "password_set",
            "password_never_expires",
            "password_expiration_date",
            "allow_public_key_auth",
            "ssh_public_key_added",
            "sudo_enabled",
            "ldap_binding_user",
        ])
    );
    let uid = out["unix_attributes"]["uid"].as_u64().unwrap();
    assert!(uid >= 100);
    assert_eq!(out["unix_attributes"]["home_directory"], "/home/john.smith");

    // The five groups of the acceptance, with their sources and inherited access.
    let ga = &out["group_assignments"];
    assert_eq!(ga["total_groups_assigned"], 5);
    assert_eq!(ga["groups_not_found"], json!([]));
    assert_eq!(ga["groups_failed"], json!([]));
    let groups = ga["groups"].as_array().unwrap();
    let got: Vec<(&str, &str)> = groups
        .iter()
        .map(|g| {
            (
                g["group_name"].as_str().unwrap(),
                g["assignment_source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("UG-All-Employees", "default"),
            ("UG-Engineering", "department"),
            ("UG-Developers", "role"),
            ("UG-Seattle-Office", "location"),
            ("UG-Project-Phoenix", "additional"),
        ]
    );
    let access = |name: &str| {
        groups.iter().find(|g| g["group_name"] == name).unwrap()["inherited_access"].clone()
    };
    assert_eq!(
        access("UG-All-Employees")["applications"],
        json!(["Google Workspace", "Slack"])
    );
    assert_eq!(access("UG-All-Employees")["radius_servers"], 1);
    assert_eq!(access("UG-Engineering")["ldap_servers"], 1);
    let mut eng_apps: Vec<String> =
        serde_json::from_value(access("UG-Engineering")["applications"].clone()).unwrap();
    eng_apps.sort();
    assert_eq!(eng_apps, ["AWS Console", "GitHub", "Jira"]);
    assert!(access("UG-Engineering")["systems"].as_u64().unwrap() > 0);
    assert!(access("UG-Developers")["systems"].as_u64().unwrap() > 0);
    assert_eq!(
        access("UG-Project-Phoenix")["applications"],
        json!(["Project Phoenix Portal"])
    );
    assert_eq!(access("UG-Seattle-Office")["radius_servers"], 1);
    for g in groups {
        assert_eq!(g["group_id"].as_str().unwrap().len(), 24);
        assert_eq!(g["added"], true);
        assert_eq!(g["group_type"], "user_group");
    }

    let sb = &out["system_bindings"];
    assert_eq!(sb["directly_bound_systems"], 0);
    let systems = sb["systems"].as_array().unwrap();
    assert_eq!(
        sb["total_accessible_systems"].as_u64().unwrap() as usize,
        systems.len()
    );
    assert_eq!(
        sb["group_inherited_systems"],
        sb["total_accessible_systems"]
    );
    assert!(
        systems
            .iter()
            .any(|s| s["system_name"] == "dev-server-01" && s["access_via"] == "UG-Engineering")
    );
    assert!(
        systems
            .iter()
            .all(|s| s["os"].as_str().is_some_and(|o| !o.is_empty()))
    );
    let apps = &out["application_access"];
    let names: BTreeSet<String> = apps["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        set(&[
            "Google Workspace",
            "Slack",
            "GitHub",
            "Jira",
            "AWS Console",
            "GitLab",
            "Docker Hub",
            "Project Phoenix Portal"
        ])
    );
    assert_eq!(apps["total_applications"], 8);
    assert_eq!(
        out["custom_attributes"],
        json!({"attributes_set": 2, "attributes": [
            {"name": "costCenter", "value": "ENG-200"}, {"name": "startDate", "value": "2026-03-10"}]})
    );
    let n = &out["notifications_sent"];
    assert_eq!(n["activation_email"]["sent"], true);
    assert_eq!(n["activation_email"]["recipient"], "john.smith@company.com");
    assert_eq!(n["manager_notification"]["sent"], true, "{n:#}");
    assert_eq!(
        n["manager_notification"]["recipient"],
        "jane.doe@acme.example"
    );
    assert_eq!(n["it_notification"]["sent"], true);
    // The messages are in the embedded sandbox's outbox, readable after the run.
    let mail = s.json(&["sandbox", "mail", "--json", "--limit", "0"]);
    let to = |m: &Value| m["to"][0].as_str().unwrap_or_default().to_owned();
    let mail = mail.as_array().unwrap();
    assert!(
        mail.iter().any(|m| to(m) == "jane.doe@acme.example"),
        "{mail:#?}"
    );
    assert!(
        mail.iter().any(|m| m["subject"]
            .as_str()
            .unwrap_or_default()
            .contains("john.smith")),
        "{mail:#?}"
    );
    let last = s.json(&["sandbox", "mail", "--json", "--limit", "1"]);
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!(last[0], mail[mail.len() - 1]);
    let audit = &out["audit_trail"];
    assert_eq!(audit["workflow_run_id"], run["run_id"]);
    assert_eq!(audit["initiated_by"], "hr.admin@company.com");
    assert_eq!(audit["all_steps_successful"], true);

    // Read back independently: the directory has him in exactly those groups.
    let g = s.json(&[
        "plugin",
        "call",
        "user-groups",
        "--input-json",
        r#"{"username":"john.smith"}"#,
        "--json",
    ]);
    let mut names: Vec<String> = g["result"]["output"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "UG-All-Employees",
            "UG-Developers",
            "UG-Engineering",
            "UG-Project-Phoenix",
            "UG-Seattle-Office"
        ]
    );
    // No password anywhere in the run record (none was given; the generated one stays inside
    // the user-creation call).
    let shown = s.run(&["runs", "show", run["run_id"].as_str().unwrap(), "--json"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        !text.contains("\"password\":\""),
        "a password reached the run record"
    );

    // The same input again: refused at the duplicate check, nothing changed.
    let before = users(&s);
    let (code, again) = provision(&s, &john());
    assert_eq!(code, Some(1), "{again:#}");
    assert_eq!(again["status"], "failed");
    let report = &again["report"];
    assert_eq!(report["success"], false);
    assert_eq!(report["failed_steps"][0]["step"], "duplicate_check");
    assert_eq!(
        report["failed_steps"][0]["error"]["type"],
        "USER_ALREADY_EXISTS"
    );
    // The step's texts for a duplicate (its `errors.USER_ALREADY_EXISTS`).
    assert_eq!(
        report["failed_steps"][0]["remediation"],
        "Use the existing account, or choose another username and email"
    );
    assert_eq!(
        report["recommended_actions"][0],
        "Check whether john.smith is the same person"
    );
    assert_eq!(report["account_created"], false);
    assert_eq!(report["jumpcloud_user_id"], Value::Null);
    assert_eq!(
        (&report["groups_assigned"], &report["groups_failed"]),
        (&json!(0), &json!(0))
    );
    assert!(report.get("report_error").is_none(), "{report:#}");
    assert_eq!(report["completed_steps"], json!(["input_validation"]));
    assert_eq!(users(&s), before, "the directory changed");
}

#[test]
fn a_missing_group_gives_the_partial_completion_report() {
    let s = Sluice::new();
    let mut input = john();
    input["username"] = json!("john.smith2");
    input["email"] = json!("john.smith2@company.com");
    input["employee_id"] = json!("EMP-2026-043");
    input["additional_groups"] = json!(["UG-DevOps"]);
    let out = s.run(&["run", WORKFLOW, "--input-json", &input.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Without --json, stdout is the failure report itself.
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["success"], false);
    assert_eq!(report["partial_completion"], true);
    assert_eq!(
        report["user_info"],
        json!({"email": "john.smith2@company.com", "username": "john.smith2"})
    );
    let completed: Vec<&str> = report["completed_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for step in [
        "input_validation",
        "duplicate_check",
        "password_generation",
        "group_resolution",
        "user_creation",
    ] {
        assert!(completed.contains(&step), "{step} not in {completed:?}");
    }
    assert!(!completed.contains(&"group_assignment"));
    let failed = &report["failed_steps"][0];
    assert_eq!(failed["step"], "group_assignment");
    // As the source format has it: the symbolic code, its number, and where it came from.
    assert_eq!(failed["error"]["type"], "GROUP_NOT_FOUND");
    assert_eq!(failed["error"]["code"], "ERR-GRP-001");
    assert_eq!(failed["error"]["origin"], "plugin");
    assert_eq!(failed["error"]["affected_group"], "UG-DevOps");
    assert_eq!(
        failed["error"]["message"],
        "User group 'UG-DevOps' does not exist in JumpCloud"
    );
    assert!(failed["error"]["timestamp"].is_string());
    assert_eq!(
        failed["impact"],
        "User created but not added to 1 of 5 groups. Missing access to UG-DevOps resources."
    );
    assert_eq!(
        failed["remediation"],
        "Create the group in JumpCloud admin console or update group mapping"
    );
    assert_eq!(report["account_created"], true);
    assert_eq!(report["jumpcloud_user_id"].as_str().unwrap().len(), 24);
    assert!(report.get("report_error").is_none(), "{report:#}");
    assert_eq!(report["groups_assigned"], 4);
    assert_eq!(report["groups_failed"], 1);
    assert_eq!(report["manual_intervention_required"], true);
    assert_eq!(
        report["recommended_actions"],
        json!([
            "Verify group 'UG-DevOps' exists in JumpCloud admin console",
            "Create the missing group or update the department-to-group mapping",
            "Manually add the user to the correct group via JumpCloud admin portal"
        ])
    );
}

#[test]
fn bad_input_is_refused_before_anything_changes() {
    let s = Sluice::new();
    let before = users(&s);
    let mut bad = john();
    bad["username"] = json!("john smith");
    let (code, run) = provision(&s, &bad);
    assert_eq!(code, Some(1));
    assert_eq!(
        run["report"]["failed_steps"][0]["error"]["type"],
        "INVALID_USERNAME_FORMAT"
    );
    assert_eq!(run["report"]["account_created"], false);
    // Missing required field or an unknown one: the schema refuses it, exit 2, no run.
    for input in [json!({"first_name": "A"}), {
        let mut j = john();
        j["nickname"] = json!("Johnny");
        j
    }] {
        let out = s.run(&["run", WORKFLOW, "--input-json", &input.to_string()]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    }
    assert_eq!(users(&s), before);
}

#[test]
fn bulk_csv_summarises_created_duplicates_and_bad_rows_exactly() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let header = "first_name,last_name,email,username,department,job_title,office_location,additional_groups,attributes\n";
    let row = |i: usize| {
        format!(
            "User,N{i},user{i}@company.com,user{i},Engineering,Software Developer,Seattle,UG-Project-Phoenix,costCenter=ENG-{i}\n"
        )
    };
    // First the 4 users that will be duplicates.
    let first: String = std::iter::once(header.to_owned())
        .chain((0..4).map(row))
        .collect();
    std::fs::write(dir.path().join("first.csv"), first).unwrap();
    let out = s.run(&[
        "run",
        WORKFLOW,
        "--input",
        dir.path().join("first.csv").to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // 40 rows: 4 duplicates (10 %), 2 invalid (5 %), 34 new.
    let mut csv = header.to_owned();
    for i in 0..38 {
        csv.push_str(&row(i));
    }
    csv.push_str("Bad,Name,bad@company.com,bad name,Engineering,,,,\n");
    csv.push_str("No,Department,nodept@company.com,no.dept,,,,,\n");
    let path = dir.path().join("users.csv");
    std::fs::write(&path, csv).unwrap();
    let out = s.run(&[
        "run",
        WORKFLOW,
        "--input",
        path.to_str().unwrap(),
        "--json",
        "--concurrency",
        "8",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad rows make the exit code 1: {}",
        stderr(&out)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["total"], 40);
    assert_eq!(summary["created"], 34, "{summary:#}");
    assert_eq!(summary["skipped_duplicates"], 4);
    assert_eq!(summary["failed"], 2);
    assert_eq!(summary["partially_completed"], 0);
    let rows = summary["rows"].as_array().unwrap();
    assert_eq!(rows[38]["code"], "INVALID_USERNAME_FORMAT");
    assert_eq!(rows[39]["code"], "INVALID_INPUT");
    // Refused by the input checks, the row is still named by its username.
    assert_eq!(rows[39]["name"], "no.dept", "{}", rows[39]);
    assert!(
        rows[39]["reason"].as_str().unwrap().contains("department"),
        "{}",
        rows[39]
    );
    for r in &rows[0..4] {
        assert_eq!(r["result"], "skipped_duplicate");
    }
    for r in &rows[4..38] {
        assert_eq!(r["result"], "created", "{r}");
    }
    let all = users(&s);
    for i in 0..38 {
        assert!(all.contains(&format!("user{i}")), "user{i} missing");
    }
    assert!(!all.contains(&"no.dept".to_owned()));
}

#[test]
fn the_demo_runs_with_nothing_set_up() {
    let s = Sluice::new();
    for _ in 0..2 {
        // Twice: each demo has its own throwaway organisation.
        let out = s.run(&["demo"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result["success"], true);
        assert_eq!(result["user_info"]["username"], "john.smith");
        assert_eq!(result["group_assignments"]["total_groups_assigned"], 5);
        assert!(stderr(&out).contains("throwaway sandbox"));
    }
    // The demo never touched the data dir's own sandbox organisation.
    assert!(!users(&s).contains(&"john.smith".to_owned()));
}

const KEY: &str = "sk-live-5d2e8a1f3b7c4e6a9d0b1c2e3f4a5b6c";
/// Seals the connector credential of the fault tests.
const SECRET_KEY: &str = "3f1e5d7c9b2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f80912";

/// `sluice ARGS` against the sandbox `sb` as the configured JumpCloud, the client's retries
/// set to `retries`.
fn against(s: &Sluice, sb: &SandboxProcess, retries: u32, args: &[&str]) -> Output {
    s.cmd(args)
        .env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_API_KEY", KEY)
        .env("SLUICE_JUMPCLOUD_RETRIES", retries.to_string())
        // The client's default pacing (10 calls/s) is for a real organisation.
        .env("SLUICE_JUMPCLOUD_RATE_LIMIT", "0")
        .env("SLUICE_SECRET_KEY", SECRET_KEY)
        .output()
        .unwrap()
}

/// The largest `attempts` anywhere in `v` (the JumpCloud calls of a run record).
fn most_attempts(v: &Value) -> u64 {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| match (k.as_str(), x) {
                ("attempts", Value::Number(n)) => n.as_u64().unwrap_or(0),
                _ => most_attempts(x),
            })
            .max()
            .unwrap_or(0),
        Value::Array(a) => a.iter().map(most_attempts).max().unwrap_or(0),
        _ => 0,
    }
}

#[test]
fn provisioning_through_jumpcloud_faults_succeeds_and_creates_each_user_once() {
    // One in five JumpCloud answers is a 429 or a 503. The client retries only twice here
    // (four times by default), so faults outlast it often enough that the steps' own
    // retries are what the runs ride on.
    let jumpcloud = SandboxProcess::start(KEY, "429=0.1,503=0.1,retry-after=0");
    // The notifications go to a second sandbox's outbox, without faults: a mail service is
    // not JumpCloud.
    let mail = SandboxProcess::start(KEY, "latency=0ms");
    let s = Sluice::new();
    let out = s
        .cmd(&[
            "connector",
            "add",
            "sandbox-mail",
            "--base-url",
            &format!("{}/sandbox/mail", mail.url),
            "--auth-header",
            "x-api-key",
            "--secret-env",
            "MAIL_KEY",
        ])
        .env("SLUICE_SECRET_KEY", SECRET_KEY)
        .env("MAIL_KEY", KEY)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    const N: usize = 30;
    let rows: Vec<Value> = (0..N)
        .map(|i| {
            json!({"first_name": "Fault", "last_name": format!("N{i}"),
                   "email": format!("fault.user{i}@company.com"), "username": format!("fault.user{i}"),
                   "department": "Engineering", "job_title": "Software Developer",
                   "office_location": "Seattle", "manager_email": "jane.doe@acme.example",
                   "attributes": {"costCenter": format!("ENG-{i}")}})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    std::fs::write(&path, Value::Array(rows).to_string()).unwrap();
    let out = against(
        &s,
        &jumpcloud,
        2,
        &[
            "run",
            WORKFLOW,
            "--input",
            path.to_str().unwrap(),
            "--json",
            "--concurrency",
            "8",
        ],
    );
    let summary: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {}", stderr(&out)));
    assert!(out.status.success(), "{summary:#}\n{}", stderr(&out));
    assert_eq!(
        (
            &summary["created"],
            &summary["failed"],
            &summary["partially_completed"],
            &summary["skipped_duplicates"]
        ),
        (&json!(N), &json!(0), &json!(0), &json!(0)),
        "{summary:#}"
    );
    // Faults were met: some JumpCloud calls took more than one attempt.
    let most = summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let shown = s.run(&["runs", "show", r["run_id"].as_str().unwrap(), "--json"]);
            assert!(shown.status.success(), "{}", stderr(&shown));
            most_attempts(&serde_json::from_slice(&shown.stdout).unwrap())
        })
        .max()
        .unwrap();
    assert!(most > 1, "no call was retried: the faults were not met");
    // Each user exists exactly once (the listing itself retries more, to see past faults).
    let listed = against(
        &s,
        &jumpcloud,
        20,
        &[
            "plugin",
            "call",
            "user-list",
            "--input-json",
            r#"{"fields": "username"}"#,
            "--json",
        ],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<&str> = listed["result"]["output"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    for i in 0..N {
        let name = format!("fault.user{i}");
        assert_eq!(
            names.iter().filter(|n| **n == name).count(),
            1,
            "{name} in {names:?}"
        );
    }
    // Every manager was told.
    let to_manager = mail
        .mail()
        .iter()
        .filter(|m| m["to"] == json!(["jane.doe@acme.example"]))
        .count();
    assert_eq!(to_manager, N);
}

#[test]
fn an_outage_at_the_duplicate_check_says_to_retry_later() {
    let down = SandboxProcess::start(KEY, "503=1");
    let s = Sluice::new();
    let mut input = john();
    input["username"] = json!("outage.user");
    input["email"] = json!("outage.user@company.com");
    let out = against(
        &s,
        &down,
        0,
        &[
            "run",
            WORKFLOW,
            "--input-json",
            &input.to_string(),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["status"], "failed", "{run:#}");
    let report = &run["report"];
    let failed = &report["failed_steps"][0];
    assert_eq!(failed["step"], "duplicate_check", "{report:#}");
    assert_eq!(failed["error"]["type"], "JUMPCLOUD_UNAVAILABLE");
    let remediation = failed["remediation"].as_str().unwrap();
    assert!(
        remediation.contains("unavailable") && remediation.contains("retry the run"),
        "{remediation}"
    );
    assert!(
        failed["impact"]
            .as_str()
            .unwrap()
            .contains("JumpCloud did not answer"),
        "{report:#}"
    );
    // The duplicate's advice is not given for an outage.
    let text = report.to_string();
    assert!(
        !text.contains("existing account") && !text.contains("same person"),
        "{report:#}"
    );
    assert_eq!(report["recommended_actions"], json!([remediation]));
    assert_eq!(report["account_created"], false);
    // The step was retried before the run gave up.
    let shown = s.run(&["runs", "show", run["run_id"].as_str().unwrap(), "--json"]);
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    let step = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["step"] == "duplicate_check")
        .unwrap();
    assert_eq!(step["attempts"].as_array().unwrap().len(), 4, "{step:#}");
}

#[test]
fn an_unknown_manager_is_notified_and_left_off_the_account_with_a_warning() {
    let s = Sluice::new();
    let manager = "new.manager@partner.example";
    let warning = format!(
        "manager `{manager}` is not a JumpCloud user: the account was created without a manager"
    );
    let mut input = john();
    input["username"] = json!("ann.lee");
    input["email"] = json!("ann.lee@company.com");
    input["employee_id"] = json!("EMP-2026-099");
    input["manager_email"] = json!(manager);
    let (code, run) = provision(&s, &input);
    assert_eq!(code, Some(0), "{run:#}");
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let out = &run["output"];
    assert_eq!(out["success"], true);
    assert_eq!(out["warnings"], json!([warning]));
    let n = &out["notifications_sent"]["manager_notification"];
    assert_eq!(
        (&n["sent"], &n["recipient"]),
        (&json!(true), &json!(manager))
    );
    let mail = s.json(&["sandbox", "mail", "--json", "--limit", "0"]);
    assert!(
        mail.as_array()
            .unwrap()
            .iter()
            .any(|m| m["to"] == json!([manager])
                && m["text"].as_str().unwrap_or_default().contains("ann.lee")),
        "{mail:#}"
    );
    let user = s.json(&[
        "plugin",
        "call",
        "user-get",
        "--input-json",
        r#"{"username":"ann.lee"}"#,
        "--json",
    ]);
    assert_eq!(user["result"]["output"]["user"]["manager"], Value::Null);

    // A run that does not fully succeed carries the warning in its failure report too.
    input["username"] = json!("bo.li");
    input["email"] = json!("bo.li@company.com");
    input["employee_id"] = json!("EMP-2026-100");
    input["additional_groups"] = json!(["UG-DevOps"]);
    let (code, run) = provision(&s, &input);
    assert_eq!(code, Some(1), "{run:#}");
    assert_eq!(run["status"], "partially_completed", "{run:#}");
    assert_eq!(run["report"]["account_created"], true);
    assert_eq!(run["report"]["warnings"], json!([warning]), "{run:#}");
    // A manager who is a JumpCloud user is set, with no warning.
    let (_, john) = provision(&s, &john());
    assert_eq!(john["output"]["warnings"], json!([]));
}
