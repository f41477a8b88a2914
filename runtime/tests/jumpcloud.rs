//! JumpCloud as a user meets it: a standalone `sluice sandbox` with injected faults, a
//! workflow run against it through the environment's API key or a service account, and
//! what the data dir keeps.

mod common;

use std::process::Stdio;

use common::{SandboxProcess, Sluice, files_containing, stderr};
use serde_json::{Value, json};

const KEY: &str = "sk-live-3c9f1a7e2b5d4c8e9f0a1b2c3d4e5f60";

/// A `sluice sandbox` with this file's API key.
fn sandbox(faults: &str) -> SandboxProcess {
    SandboxProcess::start(KEY, faults)
}

fn with_jumpcloud(s: &Sluice, sb: &SandboxProcess, args: &[&str]) -> std::process::Output {
    s.cmd(args)
        .env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_API_KEY", KEY)
        // The client's default pacing (10 calls/s) is for a real organisation.
        .env("SLUICE_JUMPCLOUD_RATE_LIMIT", "1000")
        .output()
        .unwrap()
}

#[test]
fn provisioning_100_users_through_faults_creates_each_exactly_once_and_keeps_no_key() {
    let sb = sandbox("429=0.1,503=0.1,retry-after=0");
    let s = Sluice::new();
    let users: Vec<Value> = (0..100)
        .map(|i| json!({"username": format!("bulk.user{i:03}"), "email": format!("bulk.user{i:03}@acme.example")}))
        .collect();
    let input = json!({ "users": users }).to_string();
    let out = with_jumpcloud(
        &s,
        &sb,
        &[
            "run",
            "examples/bulk-provision.yaml",
            "--input-json",
            &input,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("embedded sandbox"),
        "a configured key means no embedded sandbox"
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let created = result["output"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["created"] == true)
        .count();
    assert_eq!(created, 100);
    // The directory holds each user once: 3 seeded + 100.
    let listed = with_jumpcloud(
        &s,
        &sb,
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
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(names.len(), 103);
    assert_eq!(unique.len(), 103);
    // Faults were met and ridden out: some calls took more than one attempt.
    let run_id = result["run_id"].as_str().unwrap();
    let shown = s.run(&["runs", "show", run_id, "--json"]);
    assert!(shown.status.success());
    let record = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(
        record.contains("\"attempts\""),
        "retried calls are recorded"
    );
    // The API key is nowhere: not in the data dir, the run record or any output.
    assert!(!record.contains(KEY));
    assert!(!stderr(&out).contains(KEY) && !String::from_utf8_lossy(&out.stdout).contains(KEY));
    assert_eq!(
        files_containing(s.data.path(), KEY.as_bytes()),
        Vec::<String>::new()
    );
}

#[test]
fn a_wrong_key_or_organisation_is_a_clear_error() {
    let sb = sandbox("latency=0ms");
    let s = Sluice::new();
    let out = s
        .cmd(&[
            "plugin",
            "call",
            "user-get",
            "--input-json",
            r#"{"username":"jane.doe"}"#,
        ])
        .env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_API_KEY", "not-the-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("AUTHENTICATION_FAILED"),
        "{}",
        stderr(&out)
    );
    let out = s
        .cmd(&[
            "plugin",
            "call",
            "user-get",
            "--input-json",
            r#"{"username":"jane.doe"}"#,
        ])
        .env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_API_KEY", KEY)
        .env("SLUICE_JUMPCLOUD_ORG_ID", "0123456789abcdef01234567")
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("ORGANIZATION_NOT_FOUND"),
        "{}",
        stderr(&out)
    );
    let out = s
        .cmd(&["validate", "examples/hello.yaml"])
        .env("SLUICE_JUMPCLOUD_API_KEY", KEY)
        .env("SLUICE_JUMPCLOUD_URL", "console.jumpcloud.com")
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("SLUICE_JUMPCLOUD_URL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_embedded_sandbox_keeps_changes_between_runs_and_resets() {
    let s = Sluice::new();
    let call = |input: &str| {
        s.run(&[
            "plugin",
            "call",
            "user-create",
            "--input-json",
            input,
            "--json",
        ])
    };
    let first = call(r#"{"username":"kim.ode","email":"kim.ode@acme.example"}"#);
    assert!(
        first.status.success(),
        "{}{}",
        stderr(&first),
        String::from_utf8_lossy(&first.stdout)
    );
    let again = call(r#"{"username":"kim.ode","email":"kim.ode@acme.example"}"#);
    assert!(String::from_utf8_lossy(&again.stdout).contains("USER_ALREADY_EXISTS"));
    let reset = s.run(&["sandbox", "reset"]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    let after = call(r#"{"username":"kim.ode","email":"kim.ode@acme.example"}"#);
    assert!(after.status.success(), "{}", stderr(&after));
}

#[test]
fn bad_sandbox_options_are_usage_errors() {
    let s = Sluice::new();
    for args in [
        vec!["sandbox", "--faults", "404=0.5"],
        vec!["sandbox", "--seed", "no-such-seed.json"],
    ] {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_stored_api_key_is_sealed_and_used_only_with_the_admins_key() {
    let sb = sandbox("latency=0ms");
    let s = Sluice::new();
    let keygen = s.run(&["secret", "keygen"]);
    assert!(keygen.status.success());
    let secret_key = String::from_utf8(keygen.stdout).unwrap().trim().to_owned();
    assert_eq!(secret_key.len(), 64);
    // Without the admin's key nothing is stored.
    let refused = s.run(&["secret", "set", "jumpcloud.api_key"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("SLUICE_SECRET_KEY"),
        "{}",
        stderr(&refused)
    );
    let mut set = s
        .cmd(&["secret", "set", "jumpcloud.api_key"])
        .env("SLUICE_SECRET_KEY", &secret_key)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    set.stdin
        .take()
        .unwrap()
        .write_all(format!("{KEY}\n").as_bytes())
        .unwrap();
    let set = set.wait_with_output().unwrap();
    assert!(set.status.success(), "{}", stderr(&set));
    let listed = s.run(&["secret", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).trim(),
        "jumpcloud.api_key"
    );
    // The data dir holds it sealed only.
    assert_eq!(
        files_containing(s.data.path(), KEY.as_bytes()),
        Vec::<String>::new()
    );
    let call = |secret: Option<&str>| {
        let mut c = s.cmd(&[
            "plugin",
            "call",
            "user-get",
            "--input-json",
            r#"{"username":"jane.doe"}"#,
        ]);
        c.env("SLUICE_JUMPCLOUD_URL", &sb.url);
        if let Some(k) = secret {
            c.env("SLUICE_SECRET_KEY", k);
        }
        c.output().unwrap()
    };
    let ok = call(Some(&secret_key));
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(!stderr(&ok).contains("embedded sandbox"));
    let no_key = call(None);
    assert_eq!(no_key.status.code(), Some(2));
    assert!(
        stderr(&no_key).contains("jumpcloud.api_key"),
        "{}",
        stderr(&no_key)
    );
    let wrong = call(Some(&"0".repeat(64)));
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("does not open"),
        "{}",
        stderr(&wrong)
    );
    assert!(!stderr(&wrong).contains(KEY));
    let removed = s.run(&["secret", "remove", "jumpcloud.api_key"]);
    assert!(removed.status.success());
}

/// A service account of the sandbox: its listing (`GET /sandbox/service-accounts`).
fn service_account_listing(sb: &SandboxProcess) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let text = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/sandbox/service-accounts", sb.url))
            .header("x-api-key", KEY)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    serde_json::from_str(&text).unwrap()
}

fn with_service_account(
    s: &Sluice,
    sb: &SandboxProcess,
    id: &str,
    secrets: &[&str],
    args: &[&str],
) -> std::process::Output {
    let mut c = s.cmd(args);
    c.env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_CLIENT_ID", id)
        .env("SLUICE_JUMPCLOUD_RATE_LIMIT", "1000");
    for (var, secret) in [
        "SLUICE_JUMPCLOUD_CLIENT_SECRET",
        "SLUICE_JUMPCLOUD_CLIENT_SECRET_2",
    ]
    .iter()
    .zip(secrets)
    {
        c.env(var, secret);
    }
    c.output().unwrap()
}

const SA_SECRET: &str = "sa-secret-7f3e9c1b5d2a4e6f8091a2b3c4d5e6f7";

#[test]
fn a_service_account_provisions_300_users_across_token_expiry_and_leaks_nothing() {
    let account = format!("svc-bulk:{SA_SECRET}:Administrator");
    let sb = SandboxProcess::start_with(
        KEY,
        &[
            "--service-account",
            &account,
            // Tokens expire every second: a bulk run of 300 users crosses many expiries.
            "--token-ttl",
            "1s",
        ],
    );
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let mut csv = "first_name,last_name,email,username,department,job_title,office_location,additional_groups,attributes\n".to_owned();
    for i in 0..300 {
        csv.push_str(&format!(
            "Sam,N{i},sam{i}@company.com,sam{i},Engineering,Software Developer,Seattle,,\n"
        ));
    }
    let path = dir.path().join("users.csv");
    std::fs::write(&path, csv).unwrap();
    // The workflow's welcome email goes to the standalone sandbox's outbox, as the embedded
    // sandbox's built-in connector would take it.
    let keygen = s.run(&["secret", "keygen"]);
    let secret_key = String::from_utf8(keygen.stdout).unwrap().trim().to_owned();
    let mail = format!("{}/sandbox/mail", sb.url);
    let added = s
        .cmd(&[
            "connector",
            "add",
            "sandbox-mail",
            "--base-url",
            &mail,
            "--auth-header",
            "x-api-key",
            "--secret-env",
            "SANDBOX_KEY",
        ])
        .env("SANDBOX_KEY", KEY)
        .env("SLUICE_SECRET_KEY", &secret_key)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    let out = s
        .cmd(&[
            "run",
            "examples/provision-user.yaml",
            "--input",
            path.to_str().unwrap(),
            "--json",
            "--concurrency",
            "8",
        ])
        .env("SLUICE_SECRET_KEY", &secret_key)
        .env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_CLIENT_ID", "svc-bulk")
        .env("SLUICE_JUMPCLOUD_CLIENT_SECRET", SA_SECRET)
        .env("SLUICE_JUMPCLOUD_RATE_LIMIT", "1000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["total"], 300, "{summary:#}");
    assert_eq!(summary["created"], 300, "{summary:#}");
    // The run says which identity it used.
    assert!(
        stderr(&out).contains("service account `svc-bulk`"),
        "{}",
        stderr(&out)
    );
    // Tokens were refreshed during the run (each lives a second).
    let listing = service_account_listing(&sb);
    let issued = listing["service_accounts"][0]["tokens_issued"]
        .as_u64()
        .unwrap();
    assert!(issued >= 2, "{listing}");
    // Neither the secret nor any token is in the data dir, the run records or any output.
    let runs = s.run(&["runs", "list", "--json", "--limit", "500"]);
    let first = serde_json::from_slice::<Value>(&runs.stdout).unwrap();
    let run_id = first["runs"][0]["id"]
        .as_str()
        .expect("the bulk run's runs are listed");
    let shown = Some(s.run(&["runs", "show", run_id, "--json"]));
    for needle in [SA_SECRET, "jcsa_"] {
        for text in [
            stderr(&out),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&runs.stdout).into_owned(),
            shown
                .as_ref()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default(),
        ] {
            assert!(!text.contains(needle), "{needle} leaked: {text}");
        }
        assert_eq!(
            files_containing(s.data.path(), needle.as_bytes()),
            Vec::<String>::new(),
            "{needle}"
        );
    }
}

#[test]
fn service_account_secrets_rotate_roles_bound_and_wrong_secrets_refuse() {
    let sb = SandboxProcess::start_with(
        KEY,
        &[
            "--service-account",
            &format!("svc:{SA_SECRET}"),
            "--service-account",
            "auditor:ro-secret:Read Only",
        ],
    );
    let s = Sluice::new();
    let get_jane = [
        "plugin",
        "call",
        "user-get",
        "--input-json",
        r#"{"username":"jane.doe"}"#,
    ];
    // The first secret was revoked (the sandbox no longer knows it): the second one works.
    let out = with_service_account(&s, &sb, "svc", &["revoked-secret", SA_SECRET], &get_jane);
    assert!(out.status.success(), "{}", stderr(&out));
    // A wrong secret: a clear error, and nothing changes.
    let create = [
        "plugin",
        "call",
        "user-create",
        "--input-json",
        r#"{"username":"sa.wrong","email":"sa.wrong@acme.example"}"#,
    ];
    let out = with_service_account(&s, &sb, "svc", &["wrong-secret"], &create);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("AUTHENTICATION_FAILED"), "{err}");
    assert!(err.contains("SLUICE_JUMPCLOUD_CLIENT_SECRET"), "{err}");
    assert!(!err.contains("wrong-secret"), "{err}");
    // A read-only service account is refused the create by JumpCloud: PERMISSION_DENIED.
    let out = with_service_account(
        &s,
        &sb,
        "auditor",
        &["ro-secret"],
        &[
            "plugin",
            "call",
            "user-create",
            "--input-json",
            r#"{"username":"sa.readonly","email":"sa.readonly@acme.example"}"#,
            "--json",
        ],
    );
    let text = format!("{}{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    assert!(text.contains("PERMISSION_DENIED"), "{text}");
    // JumpCloud's (the sandbox's) refusal, not the host's own grant check.
    assert!(text.contains("role Read Only does not grant"), "{text}");
    // ... while it may read.
    let out = with_service_account(&s, &sb, "auditor", &["ro-secret"], &get_jane);
    assert!(out.status.success(), "{}", stderr(&out));
    // Neither user exists.
    for name in ["sa.wrong", "sa.readonly"] {
        let input = format!(r#"{{"username":"{name}"}}"#);
        let out = with_service_account(
            &s,
            &sb,
            "svc",
            &[SA_SECRET],
            &[
                "plugin",
                "call",
                "user-get",
                "--input-json",
                &input,
                "--json",
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            text.contains(r#""code": "NOT_FOUND""#),
            "{name}: {text}{}",
            stderr(&out)
        );
    }
    // Configuration mistakes are clear errors naming what is missing.
    let out = s
        .cmd(&get_jane)
        .env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_API_KEY", KEY)
        .env("SLUICE_JUMPCLOUD_CLIENT_ID", "svc")
        .env("SLUICE_JUMPCLOUD_CLIENT_SECRET", SA_SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("keep one"), "{}", stderr(&out));
    let out = s
        .cmd(&get_jane)
        .env("SLUICE_JUMPCLOUD_URL", &sb.url)
        .env("SLUICE_JUMPCLOUD_CLIENT_ID", "svc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SLUICE_JUMPCLOUD_CLIENT_SECRET"),
        "{}",
        stderr(&out)
    );
}
