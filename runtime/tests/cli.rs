//! The `sluice` binary as a user runs it: plugin install / list / inspect / call / remove,
//! bench step, exit codes, and what is (not) stored after a refusal.

mod common;

use std::process::Command;

use common::{Sluice, hostile_wasm, install_hostile, stderr};
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
            .env("SLUICE_CACHE_DIR", common::shared_cache())
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
    let s = Sluice::cold();
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
    // Another data dir given this one's cache (`SLUICE_CACHE_DIR`) compiles nothing either.
    let other = Sluice::cold();
    let shared = other
        .cmd(&["plugin", "list", "--json"])
        .env("SLUICE_CACHE_DIR", s.data.path().join("cache"))
        .output()
        .unwrap();
    assert!(shared.status.success(), "{}", stderr(&shared));
    assert!(
        !stderr(&shared).contains("first use"),
        "{}",
        stderr(&shared)
    );
    assert!(!other.data.path().join("cache").exists());
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

/// A `SLUICE_CACHE_DIR` is created private, and one that others can write is refused
/// before anything runs (its files are loaded as native code). Sharing one between data
/// dirs is in the first-use test above.
#[cfg(unix)]
#[test]
fn a_cache_dir_must_be_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("components");
    let s = Sluice::cold();
    // Fails on the missing file, after the cache dir was set up (and before any compile).
    let validate = || {
        s.cmd(&["validate", "no-such-workflow.yaml"])
            .env("SLUICE_CACHE_DIR", &dir)
            .output()
            .unwrap()
    };
    let out = validate();
    assert!(
        !stderr(&out).contains("SLUICE_CACHE_DIR"),
        "{}",
        stderr(&out)
    );
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "created private: {mode:o}");

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = validate();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("can be written by other users"),
        "{}",
        stderr(&out)
    );
}

/// A data dir from before the store kept components (`<data-dir>/plugins/<digest>.wasm`)
/// still runs its installed plugin: the file moves into the store at the next open.
#[test]
fn a_data_dir_with_components_kept_as_files_still_runs_its_plugins() {
    let s = Sluice::new();
    install_hostile(&s, "state");
    let bytes = std::fs::read(hostile_wasm()).unwrap();
    let digest = sluice::host::digest(&bytes);
    // The layout an older version left: the record in the store, the component a file.
    {
        let store = sluice::store::open(s.data.path(), None).unwrap();
        assert!(store.blob_remove(&digest).unwrap(), "the store kept it");
        store.flush().unwrap();
    }
    let dir = s.data.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(format!("{digest}.wasm")), &bytes).unwrap();

    let input = r#"{"mode":"state","arg":{"key":"k"}}"#;
    let out = s.run(&["plugin", "call", "hostile", "--input-json", input, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(result["result"]["output"].is_object(), "{result}");
    assert_eq!(result["result"]["output"]["value"], Value::Null, "{result}");
    assert!(!dir.exists(), "the component file moved into the store");
    let store = sluice::store::open(s.data.path(), None).unwrap();
    assert_eq!(store.blob_get(&digest).unwrap(), Some(bytes));
}

#[test]
fn a_data_dir_in_use_is_reported_plainly() {
    let s = Sluice::new();
    s.json(&["plugin", "list", "--json"]);
    let _held = sluice::store::open(s.data.path(), None).unwrap();
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

#[test]
fn bench_step_measures_more_calls_than_one_step_may_make() {
    // The floor's one instance makes every iteration's host call; each call starts with
    // the budget of a step (10,000 host calls), so more iterations than that still measure.
    let s = Sluice::new();
    let get = s.json(&[
        "bench",
        "step",
        "--plugin",
        "user-get",
        "--iterations",
        "10050",
        "--json",
        "--input-json",
        r#"{"username":"jane.doe"}"#,
    ]);
    assert_eq!(get["reused_instance"]["iterations"], 10050, "{get}");
}

/// The hostile plugin as a different component: a custom section appended changes its
/// bytes and sha256, not its name, version or manifest.
fn hostile_variant(dir: &std::path::Path) -> std::path::PathBuf {
    let mut bytes = std::fs::read(hostile_wasm()).unwrap();
    let section: &[u8] = b"\x07variantanother build";
    bytes.push(0);
    bytes.push(section.len() as u8);
    bytes.extend_from_slice(section);
    let path = dir.join("hostile-variant.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn plugin_state_has_a_quota_and_belongs_to_the_component() {
    let s = Sluice::new();
    let original = hostile_wasm();
    let original = original.to_str().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let variant = hostile_variant(elsewhere.path());
    let variant = variant.to_str().unwrap();
    let record = s.json(&[
        "plugin",
        "install",
        original,
        "--grant",
        "state",
        "--state-max-keys",
        "20",
        "--json",
    ]);
    assert_eq!(record["state"]["quota"]["max_keys"], 20, "{record}");
    assert_eq!(record["state"]["quota"]["max_bytes"], 16 << 20, "{record}");
    let call = |input: &str| {
        let out = s.run(&["plugin", "call", "hostile", "--input-json", input, "--json"]);
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["result"].clone()
    };
    let fill = call(r#"{"mode":"state-fill","arg":{"count":100,"size":8}}"#);
    assert_eq!(fill["error"]["code"], "STATE_QUOTA", "{fill}");
    assert_eq!(fill["error"]["details"]["written"], 20, "{fill}");
    let get = r#"{"mode":"state","arg":{"key":"fill-0"}}"#;
    assert_eq!(call(get)["output"]["value"], "vvvvvvvv");

    // A different component installed under the same name and version starts empty, and
    // the administrator is told the state stayed behind.
    let out = s.run(&[
        "plugin",
        "install",
        variant,
        "--grant",
        "state",
        "--replace",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("was not carried over; give --adopt-state hostile@0.1.0"),
        "{text}"
    );
    assert_eq!(call(get)["output"]["value"], Value::Null);
    // The original component finds its state again; the other one only when adopted.
    let out = s.run(&[
        "plugin",
        "install",
        original,
        "--grant",
        "state",
        "--replace",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(call(get)["output"]["value"], "vvvvvvvv");
    let out = s.run(&[
        "plugin",
        "install",
        variant,
        "--grant",
        "state",
        "--replace",
        "--adopt-state",
        "hostile@0.1.0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(call(get)["output"]["value"], "vvvvvvvv");
    // The quota is the default again (given at each install), so the state holds more.
    let more = call(r#"{"mode":"state-fill","arg":{"count":5,"size":8,"prefix":"more"}}"#);
    assert_eq!(more["output"]["written"], 5, "{more}");
}

/// `sluice` run under a permissive umask, so what it creates is private only if it makes
/// it so.
#[cfg(unix)]
fn sluice_under_umask_022(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(common::workspace())
        .env("SLUICE_DATA_DIR", data)
        .env_remove("SLUICE_JUMPCLOUD_API_KEY")
        .output()
        .unwrap()
}

/// Every path under `dir` (itself included) that its group or others can access.
#[cfg(unix)]
fn open_to_others(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut open = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.permissions().mode() & 0o077 != 0 {
            open.push(format!("{} {:o}", p.display(), meta.permissions().mode()));
        }
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
    open
}

#[cfg(unix)]
#[test]
fn the_data_dir_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().unwrap();
    // A fresh data dir: installed component, compile cache, store (runs, journal, the
    // embedded sandbox's organisation, tokens).
    let data = root.path().join("fresh");
    let wasm = hostile_wasm();
    for args in [
        vec![
            "plugin",
            "install",
            wasm.to_str().unwrap(),
            "--grant",
            "state",
        ],
        vec![
            "run",
            "examples/hello.yaml",
            "--input-json",
            r#"{"first_name":"Ada","last_name":"Lovelace"}"#,
        ],
        vec![
            "plugin",
            "call",
            "user-get",
            "--input-json",
            r#"{"username":"jane.doe"}"#,
        ],
        vec!["token", "create", "--name", "admin"],
    ] {
        let out = sluice_under_umask_022(&data, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    for sub in ["store", "cache"] {
        assert!(data.join(sub).is_dir(), "{sub} was created");
    }
    let open = open_to_others(&data);
    assert!(open.is_empty(), "group/other can reach: {open:#?}");

    // A data dir an older Sluice made under the user's umask is tightened.
    let old = root.path().join("old");
    std::fs::create_dir_all(old.join("store")).unwrap();
    std::fs::write(old.join("store").join("leftover"), "x").unwrap();
    std::fs::write(old.join("notes.txt"), "not Sluice's").unwrap();
    for p in [old.clone(), old.join("store")] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let leftover = old.join("store").join("leftover");
    std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = sluice_under_umask_022(&old, &["token", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&old), 0o700);
    assert_eq!(mode(&old.join("store")), 0o700);
    assert_eq!(mode(&leftover), 0o600);
}

#[test]
fn plugin_text_reaches_the_terminal_escaped() {
    let s = Sluice::new();
    install_hostile(&s, "state");
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("escape.yaml");
    std::fs::write(
        &wf,
        "version: 1\n\
         name: escape\n\
         trigger: { type: manual }\n\
         run_as: Read Only\n\
         steps:\n\
         \x20 - id: out\n\
         \x20   uses: hostile\n\
         \x20   with: { mode: escape }\n\
         \x20 - id: err\n\
         \x20   uses: hostile\n\
         \x20   with: { mode: escape, arg: true }\n\
         \x20   on_error: continue\n",
    )
    .unwrap();
    let wf = wf.to_str().unwrap();
    let raw = |what: &str, bytes: &[u8]| {
        for (b, name) in [(0x1b, "ESC"), (0x07, "BEL"), (b'\r', "CR")] {
            assert!(
                !bytes.contains(&b),
                "{what} printed a raw {name}:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    };
    // The run itself: progress, the partial output and the failure report.
    let run = s.run(&["run", wf]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    raw("run (stdout)", &run.stdout);
    raw("run (stderr)", &run.stderr);
    let id = stderr(&run)
        .lines()
        .find_map(|l| l.strip_prefix("run ")?.strip_suffix(" started (escape)"))
        .map(str::to_owned)
        .expect("the run printed its id");

    let show = s.run(&["runs", "show", &id]);
    assert!(show.status.success(), "{}", stderr(&show));
    raw("runs show", &show.stdout);
    let text = String::from_utf8_lossy(&show.stdout);
    // What the plugin wrote is all there, made visible.
    for seen in [
        r"log \u{1b}]52;c;aGFja2Vk\u{7}\u{1b}[2K\r\u{1b}[8mhidden",
        r"ESCAPE: error \u{1b}]52",
    ] {
        assert!(text.contains(seen), "missing {seen:?} in:\n{text}");
    }
    let list = s.run(&["runs", "list"]);
    raw("runs list", &list.stdout);
    // JSON is escaped by serde and still parses.
    let json = s.run(&["runs", "show", &id, "--json"]);
    raw("runs show --json", &json.stdout);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v["steps"].to_string().contains("hidden"), "{v}");

    // Bulk: names from the input, reasons from the plugin.
    let rows = dir.path().join("rows.json");
    std::fs::write(&rows, r#"[{"username":"evil\u001b[2Kname"}]"#).unwrap();
    let bulk = s.run(&["run", wf, "--input", rows.to_str().unwrap()]);
    assert_eq!(bulk.status.code(), Some(1), "{}", stderr(&bulk));
    raw("bulk summary", &bulk.stdout);
    assert!(
        String::from_utf8_lossy(&bulk.stdout).contains(r"evil\u{1b}[2Kname"),
        "{}",
        String::from_utf8_lossy(&bulk.stdout)
    );

    // Validation quoting the workflow file.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "version: 1\nname: broken\ntrigger: { type: manual }\nrun_as: Read Only\n\
         steps:\n  - id: x\n    uses: \"evil\\e[8mhidden\"\n",
    )
    .unwrap();
    let out = s.run(&["validate", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    raw("validate", &out.stderr);
    assert!(
        stderr(&out).contains(r"evil\u{1b}[8mhidden"),
        "{}",
        stderr(&out)
    );
}
