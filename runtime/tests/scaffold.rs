//! `sluice plugin new`, as a plugin author meets it, offline: the new crate's own tests pass
//! natively on the SDK's test host, it builds for wasm32-wasip2 on the first try, and the
//! component installs and answers `sluice plugin call`. The crates build in one target dir
//! shared between runs (`target/scaffold`), so a rerun is warm.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sluice, stderr, workspace};
use sha2::Digest as _;

/// The cargo running the tests (the one whose toolchain built the workspace).
fn cargo(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace().join("target/scaffold"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

fn run_cargo(dir: &Path, args: &[&str], hint: &str) {
    let out = cargo(dir, args)
        .output()
        .expect("cargo runs (is it on PATH?)");
    assert!(
        out.status.success(),
        "`cargo {}` in {} failed{hint}:\n{}",
        args.join(" "),
        dir.display(),
        stderr(&out)
    );
}

/// A plugin author's two commands in the crate at `dir`: its native tests, then its
/// component, which is returned (`crate_name` with underscores).
fn test_and_build(dir: &Path, crate_name: &str) -> PathBuf {
    run_cargo(dir, &["test", "--offline"], "");
    run_cargo(
        dir,
        &[
            "build",
            "--release",
            "--offline",
            "--target",
            "wasm32-wasip2",
        ],
        " (is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`)",
    );
    let wasm = workspace().join(format!(
        "target/scaffold/wasm32-wasip2/release/{crate_name}.wasm"
    ));
    assert!(wasm.is_file(), "{} was not built", wasm.display());
    wasm
}

fn new_plugin(s: &Sluice, args: &[&str]) -> std::process::Output {
    let mut all = vec!["plugin", "new"];
    all.extend(args);
    s.cmd(&all)
        .env_remove("SLUICE_SDK_PATH")
        .output()
        .expect("sluice runs")
}

#[test]
fn a_new_plugin_tests_builds_installs_and_answers_offline() {
    let s = Sluice::new();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("user-check");
    let out = new_plugin(&s, &["user-check", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("cargo test"), "{printed}");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        ".gitignore",
        "src/lib.rs",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let sdk = workspace().join("plugins/sdk").canonicalize().unwrap();
    assert!(
        manifest.contains(&format!("path = {:?}", sdk.to_str().unwrap())),
        "the SDK of the tree the binary was built from:\n{manifest}"
    );

    let wasm = test_and_build(&dir, "user_check");

    let installed = s.json(&[
        "plugin",
        "install",
        wasm.to_str().unwrap(),
        "--grant",
        "jumpcloud:users.readonly",
        "--json",
    ]);
    assert_eq!(installed["name"], "user-check", "{installed:#}");
    let out = s.json(&[
        "plugin",
        "call",
        "user-check",
        "--input-json",
        r#"{"username": "jane.doe"}"#,
        "--json",
    ]);
    let output = &out["result"]["output"];
    assert_eq!(output["found"], true, "{out:#}");
    assert_eq!(output["state"], "ACTIVATED", "{out:#}");
    assert_eq!(
        output["user_id"].as_str().map(str::len),
        Some(24),
        "{out:#}"
    );
}

/// The walk-through of docs/writing-plugins.md, step by step: a new plugin, its native
/// tests, the component, a key, the signature, the trusted key and the standing
/// require-signatures setting, the install, a workflow run using it, and `plugin inspect`
/// naming the signer and the digest. A copy with one byte changed after signing is refused
/// (exit 2) and nothing is stored. A name of its own (`user-lookup`), so its component in
/// the shared target dir is not the one the other tests build.
#[test]
fn the_guide_end_to_end_a_signed_plugin_runs_in_a_workflow_and_a_tampered_one_is_refused() {
    let s = Sluice::new();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("user-lookup");
    let out = new_plugin(&s, &["user-lookup", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let built = test_and_build(&dir, "user_lookup");
    // The component as the publisher ships it, taken out of the shared target dir.
    let wasm = root.path().join("user_lookup.wasm");
    std::fs::copy(&built, &wasm).unwrap();
    let wasm = wasm.to_str().unwrap();

    // The publisher: a key, and the signed component.
    let key = root.path().join("acme.key");
    let out = s.run(&["plugin", "keygen", "--out", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(public.starts_with("ed25519:"), "{public}");
    let signed = root.path().join("user_lookup.signed.wasm");
    let signed = signed.to_str().unwrap();
    let out = s.run(&[
        "plugin",
        "sign",
        wasm,
        "--key",
        key.to_str().unwrap(),
        "--out",
        signed,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(signed).unwrap();
    let digest = hex(&sha2::Sha256::digest(&bytes));

    // The administrator: trust the key, require signatures from now on.
    s.json(&["trust", "add", "acme", &public, "--json"]);
    let v = s.json(&["trust", "require-signatures", "on", "--json"]);
    assert_eq!(v["require_signatures"], true, "{v}");

    // One byte changed after signing: refused, exit 2, nothing stored. The unsigned
    // build is refused too, under the setting.
    let mut tampered = bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let tampered_file = root.path().join("tampered.wasm");
    std::fs::write(&tampered_file, &tampered).unwrap();
    let grant = ["--grant", "jumpcloud:users.readonly"];
    for (file, says) in [
        (tampered_file.to_str().unwrap(), "signature does not verify"),
        (wasm, "is not signed"),
    ] {
        let out = s.run(&[&["plugin", "install", file][..], &grant].concat());
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{file}: {}", stderr(&out));
    }
    let list = s.json(&["plugin", "list", "--json"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["bundled"] == true),
        "nothing was installed: {list:#}"
    );
    let stored = sluice::store::open(s.data.path(), None)
        .unwrap()
        .blob_list()
        .unwrap();
    assert_eq!(stored, Vec::<String>::new(), "no component was kept");

    // The signed component installs under the setting.
    let out = s.run(&[&["plugin", "install", signed][..], &grant].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("signer acme (trusted key"), "{printed}");

    // Used in a workflow: its output, its log line, its JumpCloud call, and the digest the
    // run resolved `uses: user-lookup` to.
    let flow = root.path().join("check-user.yaml");
    std::fs::write(&flow, CHECK_USER).unwrap();
    let out = s.run(&[
        "run",
        flow.to_str().unwrap(),
        "--input-json",
        r#"{"username": "jane.doe"}"#,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], "succeeded", "{result:#}");
    assert_eq!(result["output"]["found"], true, "{result:#}");
    assert_eq!(result["output"]["state"], "ACTIVATED", "{result:#}");
    let run = s.json(&["runs", "show", result["run_id"].as_str().unwrap(), "--json"]);
    assert_eq!(run["run"]["pins"]["user-lookup"]["digest"], digest.as_str());
    let text = run.to_string();
    assert!(text.contains("jane.doe: found true"), "{run:#}");
    assert!(text.contains("/api/systemusers"), "{run:#}");

    // Measured as the guide measures it; the plugin logs on every call, and the floor's
    // reused instance starts each call with an empty log, as a step does.
    let bench = s.json(&[
        "bench",
        "step",
        "--plugin",
        "user-lookup",
        "--input-json",
        r#"{"username": "jane.doe"}"#,
        "--iterations",
        "3000",
        "--json",
    ]);
    for row in ["fresh_instance", "reused_instance"] {
        assert_eq!(bench[row]["iterations"], 3000, "{bench:#}");
    }

    // `plugin inspect` names the signer and the digest.
    let v = s.json(&["plugin", "inspect", "user-lookup", "--json"]);
    assert_eq!(v["digest"], digest.as_str(), "{v:#}");
    assert_eq!(v["signer"]["status"], "trusted", "{v:#}");
    assert_eq!(v["signer"]["key"], "acme", "{v:#}");
    let out = s.run(&["plugin", "inspect", "user-lookup"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("sha256   {digest}")), "{text}");
    assert!(
        text.contains("signer   acme (trusted key sha256:"),
        "{text}"
    );
}

/// The guide's workflow.
const CHECK_USER: &str = "version: 1
name: check-user
trigger: {type: manual}
run_as: Read Only
steps:
  - id: lookup
    uses: user-lookup
    with: {username: \"${input.username}\"}
output:
  found: \"${steps.lookup.output.found}\"
  state: \"${steps.lookup.output.state}\"
";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn conditions_and_connectors_are_scaffolded_with_passing_tests() {
    let s = Sluice::new();
    let root = tempfile::tempdir().unwrap();
    let sdk = workspace().join("plugins/sdk");
    for (name, kind) in [("user-active", "condition"), ("chat-post", "connector")] {
        let dir = root.path().join(name);
        let out = new_plugin(
            &s,
            &[
                name,
                "--kind",
                kind,
                "--dir",
                dir.to_str().unwrap(),
                "--sdk",
                sdk.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(
            lib.contains(&format!("sluice_plugin::export_{kind}!")),
            "{lib}"
        );
        run_cargo(&dir, &["test", "--offline"], "");
    }
}

#[test]
fn bad_names_and_occupied_directories_are_refused_and_nothing_is_written() {
    let s = Sluice::new();
    let root = tempfile::tempdir().unwrap();
    for bad in ["User_Check", "2fa", "fn", "a--b"] {
        let dir = root.path().join("x");
        let out = new_plugin(&s, &[bad, "--dir", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("plugin name") || stderr(&out).contains("reserved"));
        assert!(!dir.exists(), "{bad}: nothing written");
    }
    let busy = root.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let out = new_plugin(&s, &["user-check", "--dir", busy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    let entries: Vec<_> = std::fs::read_dir(&busy).unwrap().collect();
    assert_eq!(entries.len(), 1, "nothing written beside notes.txt");
    let out = new_plugin(
        &s,
        &[
            "user-check",
            "--dir",
            root.path().join("y").to_str().unwrap(),
            "--sdk",
            root.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--sdk PATH"), "{}", stderr(&out));
    assert!(!root.path().join("y").exists());
}
