//! The SDK is ready to publish: `cargo package` of `sluice-plugin` (with `sluice-jcsim`,
//! which its `testing` feature uses) succeeds offline, and the package holds the README,
//! the licence and the contract, and nothing of the repository's contract history.
//! Unverified (`--no-verify`): building both packages from scratch takes minutes; that
//! full check is `cargo package -p sluice-plugin -p sluice-jcsim --locked --offline`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo_package(target: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args(["package", "-p", "sluice-plugin", "-p", "sluice-jcsim"])
        .args(["--locked", "--offline", "--no-verify", "--allow-dirty"])
        .arg("--target-dir")
        .arg(target)
        .args(extra)
        .output()
        .expect("cargo runs")
}

#[test]
fn the_sdk_packages_with_its_readme_licence_and_contract() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-package");
    let listed = cargo_package(&target, &["--list"]);
    let err = String::from_utf8_lossy(&listed.stderr);
    assert!(listed.status.success(), "{err}");
    let out = String::from_utf8_lossy(&listed.stdout);
    // The simulator's package has none of these: they are the SDK's.
    let files: Vec<&str> = out.lines().map(str::trim).collect();
    for file in ["README.md", "LICENSE", "wit/plugin.wit", "src/bindings.rs"] {
        assert!(files.contains(&file), "{file} is not packaged:\n{out}");
    }
    assert!(
        !out.contains("fixture.wasm") && !out.contains("wit/0."),
        "released contract versions and fixtures stay out of the SDK:\n{out}"
    );

    let packaged = cargo_package(&target, &[]);
    let err = String::from_utf8_lossy(&packaged.stderr);
    assert!(packaged.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    let version = env!("CARGO_PKG_VERSION");
    for name in ["sluice-plugin", "sluice-jcsim"] {
        let krate = target
            .join("package")
            .join(format!("{name}-{version}.crate"));
        assert!(krate.is_file(), "{}", krate.display());
    }
}
