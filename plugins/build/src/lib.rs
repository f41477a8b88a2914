//! Builds plugin crates into WebAssembly components (`wasm32-wasip2`) from a build script.
//!
//! The runtime embeds the bundled plugins and the test suite uses plugins written for it;
//! both are compiled by a nested `cargo build --profile <profile> --target wasm32-wasip2`
//! into a separate target directory (`target/plugins`), so the outer build never waits on
//! itself. Each crate is built on its own: features unify across the packages of one build,
//! and the SDK's kind feature must stay the one the crate chose.
//!
//! The profile is [`profile`]: `plugin-dev` (no LTO, parallel code generation: what tests,
//! clippy and everyday builds use) unless `SLUICE_PLUGIN_PROFILE=plugin` asks for the small,
//! fast components the README's run command ships and benchmarks.
//!
//! # Layout
//! One file: [`build_plugins`] and its error type.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The rustc target plugins are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// The cargo profile guests are built with: `SLUICE_PLUGIN_PROFILE` (`plugin` or
/// `plugin-dev`), `plugin-dev` by default.
pub fn profile() -> String {
    match std::env::var("SLUICE_PLUGIN_PROFILE") {
        Ok(p) if p == "plugin" => "plugin".into(),
        _ => "plugin-dev".into(),
    }
}

/// A plugin crate in the workspace: its package name and its directory, and for a crate
/// that builds one component per cargo feature (the JumpCloud catalogue), the feature.
#[derive(Debug, Clone, Copy)]
pub struct PluginCrate<'a> {
    pub package: &'a str,
    pub dir: &'a str,
    pub feature: Option<&'a str>,
}

impl<'a> PluginCrate<'a> {
    /// A crate that builds one component.
    pub const fn single(package: &'a str, dir: &'a str) -> Self {
        PluginCrate {
            package,
            dir,
            feature: None,
        }
    }
}

/// The features declared in the `[features]` table of `<root>/<dir>/Cargo.toml`, in order
/// (a catalogue crate's plugin names).
pub fn features_of(workspace_root: &Path, dir: &str) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(workspace_root.join(dir).join("Cargo.toml"))?;
    let mut in_features = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features
            && let Some((name, _)) = line.split_once('=')
            && !line.starts_with('#')
        {
            out.push(name.trim().to_owned());
        }
    }
    Ok(out)
}

/// Why a plugin could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// The wasm32-wasip2 standard library is not installed for this toolchain.
    TargetMissing,
    /// `cargo` could not be started.
    Spawn(std::io::Error),
    /// `cargo build` failed; its output follows.
    Cargo { package: String, output: String },
    /// The build succeeded but the component is not where cargo puts it.
    Missing(PathBuf),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::TargetMissing => write!(
                f,
                "the {TARGET} target is not installed; run `rustup target add {TARGET}` \
                 (the README's commands do this for you)"
            ),
            BuildError::Spawn(e) => write!(f, "could not run cargo: {e}"),
            BuildError::Cargo { package, output } => {
                write!(
                    f,
                    "building plugin `{package}` for {TARGET} failed:\n{output}"
                )
            }
            BuildError::Missing(p) => write!(f, "cargo did not produce {}", p.display()),
        }
    }
}

impl std::error::Error for BuildError {}

/// Builds each crate and returns the paths of the `.wasm` components, in order.
/// Emits `cargo:rerun-if-changed` lines for the sources the components depend on.
pub fn build_plugins(
    workspace_root: &Path,
    crates: &[PluginCrate<'_>],
) -> Result<Vec<PathBuf>, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    ensure_target(&rustc)?;
    let profile = profile();
    println!("cargo:rerun-if-env-changed=SLUICE_PLUGIN_PROFILE");
    let target_dir = std::env::var_os("SLUICE_PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root.join("target").join("plugins"));
    for watched in [
        "wit",
        "plugins/sdk/src",
        "plugins/sdk/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace_root.join(watched).display()
        );
    }
    let mut out = Vec::with_capacity(crates.len());
    for c in crates {
        // The component is made of `src` and the manifest; tests and docs do not rebuild it.
        for part in ["src", "Cargo.toml"] {
            println!(
                "cargo:rerun-if-changed={}",
                workspace_root.join(c.dir).join(part).display()
            );
        }
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(workspace_root)
            .args([
                "build",
                "--profile",
                &profile,
                "--target",
                TARGET,
                "-p",
                c.package,
            ])
            .arg("--target-dir")
            .arg(&target_dir);
        if let Some(f) = c.feature {
            cmd.args(["--features", f]);
        }
        // Settings meant for the outer (host) build must not leak into the guest build.
        for var in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
        ] {
            cmd.env_remove(var);
        }
        let output = cmd.output().map_err(BuildError::Spawn)?;
        if !output.status.success() {
            return Err(BuildError::Cargo {
                package: c.package.to_owned(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        let wasm = target_dir
            .join(TARGET)
            .join(&profile)
            .join(format!("{}.wasm", c.package.replace('-', "_")));
        if !wasm.is_file() {
            return Err(BuildError::Missing(wasm));
        }
        // The next feature's build overwrites the crate's output: keep a copy per feature.
        let wasm = match c.feature {
            None => wasm,
            Some(f) => {
                let dir = target_dir.join("components").join(&profile);
                let copy = dir.join(format!("{f}.wasm"));
                std::fs::create_dir_all(&dir)
                    .and_then(|_| std::fs::copy(&wasm, &copy))
                    .map_err(BuildError::Spawn)?;
                copy
            }
        };
        out.push(wasm);
    }
    Ok(out)
}

/// For build scripts: builds `crates` of the workspace that holds the calling package (its
/// parent directory), or prints the error and fails the build.
pub fn build_for_build_script(crates: &[PluginCrate<'_>]) -> Vec<PathBuf> {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let root = Path::new(&manifest_dir)
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    match build_plugins(&root, crates) {
        Ok(paths) => paths,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

fn ensure_target(rustc: &std::ffi::OsStr) -> Result<(), BuildError> {
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(BuildError::Spawn)?;
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && !dir.is_empty() && Path::new(&dir).is_dir() {
        Ok(())
    } else {
        Err(BuildError::TargetMissing)
    }
}
