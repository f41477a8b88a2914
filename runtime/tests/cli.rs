//! The `sluice` binary as a user runs it: plugin install / list / inspect / call / remove,
//! bench step, exit codes, and what is (not) stored after a refusal.

mod common;

use std::process::Command;

use common::{Sluice, hostile_wasm, stderr};
use serde_json::Value;

trait PluginIds {
    fn plugin_ids(&self) -> Vec<String>;
}

impl PluginIds for Sluice {
    fn plugin_ids(&self) -> Vec<String> {
        let list = self.json(&["plugin", "list", "--json"]);
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}@{}",
                    r["name"].as_str().unwrap(),
                    r["version"].as_str().unwrap()
                )
            })
            .collect()
    }
}

/// transform, compare, http-request and the 36 catalogue plugins.
const BUNDLED_COUNT: usize = 50;

#[test]
fn bundled_plugins_are_listed_and_callable() {
    let s = Sluice::new();
    let ids = s.plugin_ids();
    assert_eq!(
        ids[..3],
        ["transform@0.1.0", "compare@0.1.0", "http-request@0.1.0"]
    );
    // ... then the JumpCloud catalogue
    assert_eq!(ids.len(), BUNDLED_COUNT);
    assert!(ids.contains(&"user-create@0.1.0".to_owned()));
    let out = s.json(&[
        "plugin",
        "call",
        "transform",
        "--input-json",
        r#"{"a":[1,2]}"#,
        "--json",
    ]);
    assert_eq!(out["result"]["output"], serde_json::json!({"a": [1, 2]}));
    let out = s.json(&[
        "plugin",
        "call",
        "compare",
        "--input-json",
        r#"{"field":3,"operator":"gt","value":2}"#,
        "--json",
    ]);
    assert_eq!(out["result"]["output"], Value::Bool(true));
}

#[test]
fn bad_input_gets_exit_2_and_a_clear_message() {
    let s = Sluice::new();
    let out = s.run(&["plugin", "call", "transform", "--input-json", "{not json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the input is not valid JSON"),
        "{}",
        stderr(&out)
    );

    let junk = s.data.path().join("junk.wasm");
    std::fs::write(&junk, "hello").unwrap();
    let out = s.run(&["plugin", "install", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a WebAssembly file"),
        "{}",
        stderr(&out)
    );

    let out = s.run(&["plugin", "inspect", "no-such-plugin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("plugin no-such-plugin is not installed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(s.plugin_ids().len(), BUNDLED_COUNT, "nothing was installed");
}

#[test]
fn install_reviews_permissions_and_refuses_undeclared_grants() {
    let s = Sluice::new();
    let wasm = hostile_wasm();
    let wasm = wasm.to_str().unwrap();

    let out = s.run(&["plugin", "install", wasm, "--grant", "jumpcloud:users"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot grant `jumpcloud:users`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(s.plugin_ids().len(), BUNDLED_COUNT, "nothing was installed");

    let out = s.run(&[
        "plugin",
        "install",
        wasm,
        "--grant",
        "state",
        "--timeout-ms",
        "300",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Installed hostile@0.1.0 (action plugin)"),
        "{text}"
    );
    for line in ["jumpcloud:users.readonly", "http:allowed", "state"] {
        assert!(text.contains(line), "the review lists {line}: {text}");
    }
    assert!(s.plugin_ids().contains(&"hostile@0.1.0".to_owned()));

    let inspect = s.json(&["plugin", "inspect", "hostile@0.1.0", "--json"]);
    assert_eq!(inspect["installed"]["grants"], serde_json::json!(["state"]));
    assert_eq!(inspect["manifest"]["kind"], "action");

    // The installed limits apply: the loop ends at 300 ms, with exit code 1.
    let out = s.run(&[
        "plugin",
        "call",
        "hostile",
        "--input-json",
        r#"{"mode":"loop"}"#,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["result"]["error"]["code"], "PLUGIN_TIMEOUT");

    // Only the granted permission works.
    let out = s.json(&[
        "plugin",
        "call",
        "hostile",
        "--input-json",
        r#"{"mode":"state","arg":{"key":"k","set":1}}"#,
        "--json",
    ]);
    assert_eq!(out["result"]["output"]["value"], "1");
    let out = s.run(&[
        "plugin",
        "call",
        "hostile",
        "--input-json",
        r#"{"mode":"http","arg":"allowed"}"#,
        "--json",
    ]);
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["result"]["error"]["code"], "PERMISSION_DENIED");

    let out = s.run(&["plugin", "remove", "hostile@0.1.0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.plugin_ids().len(), BUNDLED_COUNT);
}

#[test]
fn global_limits_come_from_the_environment() {
    let s = Sluice::new();
    let wasm = hostile_wasm();
    let call = |env: &str| {
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "plugin",
                "call",
                wasm.to_str().unwrap(),
                "--input-json",
                r#"{"mode":"loop"}"#,
                "--json",
            ])
            .env("SLUICE_DATA_DIR", s.data.path())
            .env("SLUICE_LIMIT_TIMEOUT_MS", env)
            .output()
            .unwrap()
    };
    let out = call("ten");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("SLUICE_LIMIT_TIMEOUT_MS=\"ten\" is not a valid number"),
        "{}",
        stderr(&out)
    );
    let started = std::time::Instant::now();
    let out = call("200");
    assert_eq!(out.status.code(), Some(1));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["result"]["error"]["code"], "PLUGIN_TIMEOUT");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

/// `sluice … | head` closing the pipe early ends the command quietly (status 141, as a
/// SIGPIPE death) instead of a panic in `println!`.
#[test]
fn first_use_is_announced_and_a_closed_output_pipe_ends_quietly() {
    let s = Sluice::new();
    // The first command of a data dir compiles the bundled plugins and says so; the next
    // ones load them from the cache quietly.
    let first = s.run(&["plugin", "list", "--json"]);
    assert!(first.status.success());
    assert!(
        stderr(&first).contains("bundled plugins for first use"),
        "{}",
        stderr(&first)
    );
    let again = s.run(&["plugin", "list", "--json"]);
    assert!(!stderr(&again).contains("first use"), "{}", stderr(&again));
    let mut child = s
        .cmd(&["plugin", "inspect", "transform", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the command writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
    // 141 is what a shell reports for a SIGPIPE death; 0 if the output fit before the
    // reader left.
    assert!(
        matches!(out.status.code(), Some(141 | 0)),
        "{:?}: {err}",
        out.status
    );
}

#[test]
fn a_data_dir_in_use_is_reported_plainly() {
    let s = Sluice::new();
    s.json(&["plugin", "list", "--json"]);
    let _held = sluice::store::SledStore::open(&s.data.path().join("store")).unwrap();
    let out = s.run(&["plugin", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is in use by another Sluice process"),
        "{}",
        stderr(&out)
    );
}

/// The service benchmark end to end on small numbers: its own keep-alive client gets every
/// webhook answered with the run's output, one at a time and concurrently.
#[test]
fn bench_serve_gets_every_webhook_answered() {
    let s = Sluice::new();
    let report = s.json(&[
        "bench",
        "serve",
        "--requests",
        "40",
        "--concurrency",
        "4",
        "--manual-runs",
        "10",
        "--schedules",
        "5",
        "--window",
        "1s",
        "--json",
    ]);
    for key in [
        "webhook_sequential",
        "webhook_concurrent",
        "webhook_sequential_run_durability",
        "webhook_concurrent_run_durability",
    ] {
        let t = &report[key];
        assert_eq!(
            (t["requests"].as_u64(), t["failed"].as_u64()),
            (Some(40), Some(0)),
            "{key}: {t}"
        );
        assert!(t["runs_per_second"].as_f64().unwrap() > 0.0, "{key}: {t}");
    }
    assert_eq!(report["webhook_concurrent"]["concurrency"], 4);
    assert_eq!(report["manual"]["succeeded"], 10, "{report}");
}

#[test]
fn bench_step_reports_medians() {
    let s = Sluice::new();
    let report = s.json(&["bench", "step", "--iterations", "200", "--json"]);
    assert_eq!(report["plugin"], "transform@0.1.0");
    for key in [
        "fresh_instance",
        "reused_instance",
        "engine_alone",
        "cache_load",
    ] {
        assert!(
            report[key]["median_us"].as_f64().unwrap() > 0.0,
            "{key}: {report}"
        );
    }
    // transform calls no Sluice import, so the engine alone is measured on every iteration.
    assert_eq!(report["engine_alone"]["iterations"], 200, "{report}");
    // The JumpCloud catalogue is built against a newer WASI 0.2 than the bundled plugins:
    // both link bare. A plugin that calls no Sluice import is measured bare; one that calls
    // the JumpCloud import (brokered to the embedded sandbox) has no bare row.
    let validate = s.json(&[
        "bench", "step", "--plugin", "user-validate", "--iterations", "20", "--json",
        "--input-json",
        r#"{"username":"jane.doe","email":"jane@example.com","first_name":"Jane","last_name":"Doe","department":"Engineering"}"#,
    ]);
    assert_eq!(validate["engine_alone"]["iterations"], 20, "{validate}");
    let get = s.json(&[
        "bench",
        "step",
        "--plugin",
        "user-get",
        "--iterations",
        "20",
        "--json",
        "--input-json",
        r#"{"username":"jane.doe"}"#,
    ]);
    assert!(get["engine_alone"].is_null(), "{get}");
    assert!(
        get["fresh_instance"]["median_us"].as_f64().unwrap() > 0.0,
        "{get}"
    );
    assert!(["pagemap-scan", "default"].contains(&report["memory_path"].as_str().unwrap()));
}
