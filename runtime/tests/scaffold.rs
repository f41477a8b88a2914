//! `sluice plugin new`, as a plugin author meets it, offline: the new crate's own tests pass
//! natively on the SDK's test host, it builds for wasm32-wasip2 on the first try, and the
//! component installs and answers `sluice plugin call`. The crates build in one target dir
//! shared between runs (`target/scaffold`), so a rerun is warm.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sluice, stderr, workspace};

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
    let out = cargo(dir, args).output().expect("cargo runs (is it on PATH?)");
    assert!(
        out.status.success(),
        "`cargo {}` in {} failed{hint}:\n{}",
        args.join(" "),
        dir.display(),
        stderr(&out)
    );
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

    run_cargo(&dir, &["test", "--offline"], "");
    run_cargo(
        &dir,
        &["build", "--release", "--offline", "--target", "wasm32-wasip2"],
        " (is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`)",
    );
    let wasm: PathBuf = workspace().join("target/scaffold/wasm32-wasip2/release/user_check.wasm");
    assert!(wasm.is_file(), "{} was not built", wasm.display());

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
    assert_eq!(output["user_id"].as_str().map(str::len), Some(24), "{out:#}");
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
