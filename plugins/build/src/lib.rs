//! Builds plugin crates into WebAssembly components (`wasm32-wasip2`) from a build script.
//!
//! The runtime embeds the bundled plugins and the test suite uses plugins written for it;
//! both are compiled by nested `cargo build --profile <profile> --target wasm32-wasip2`
//! runs into a separate target directory (`target/plugins`), so the outer build never waits
//! on itself.
//!
//! A crate that builds one component is built on its own: features unify across the
//! packages of one build, and the SDK's kind feature must stay the one the crate chose. A
//! catalogue (a crate declaring many plugins with `sluice_plugin::components!`) is built in
//! one cargo run per plugin kind: a generated workspace (`target/plugins/bundle`) holds one
//! tiny crate per plugin that invokes the catalogue's `export_plugin!`, so the catalogue
//! compiles once and each component is only a link.
//!
//! The profile is [`profile`]: `plugin-dev` (no LTO, parallel code generation: what tests,
//! clippy and everyday builds use) unless `SLUICE_PLUGIN_PROFILE=plugin` asks for the small,
//! fast components the README's run command ships and benchmarks.
//!
//! # Layout
//! One file: [`build_plugins`], [`catalogue_plugins`] and their error type.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crates bundled in the `sluice` binary that build one component each:
/// (package, directory).
pub const BUNDLED_CRATES: &[(&str, &str)] = &[
    ("transform", "plugins/transform"),
    ("compare", "plugins/compare"),
    ("http-request", "plugins/http-request"),
];

/// The catalogue crates bundled in the `sluice` binary, which declare many plugins
/// (`sluice_plugin::components!`): each is bundled as one pack (its cargo feature
/// [`PACK`]), and each of its plugins also has the cargo feature that builds it alone:
/// (package, directory, the pack's name).
pub const BUNDLED_CATALOGUES: &[(&str, &str, &str)] = &[
    ("sluice-jumpcloud", "plugins/jumpcloud", "jumpcloud"),
    ("sluice-connectors", "plugins/connectors", "connectors"),
];

/// The cargo feature of a catalogue crate that builds all its plugins as one pack.
pub const PACK: &str = "pack";

/// The components bundled in the `sluice` binary, in the order it embeds them: the single
/// crates, then one pack per catalogue; each with the file name it is embedded under.
pub fn bundled() -> Vec<(String, PluginCrate<'static>)> {
    let singles = BUNDLED_CRATES
        .iter()
        .map(|(p, d)| (format!("{p}.wasm"), PluginCrate::single(p, d)));
    let packs = BUNDLED_CATALOGUES.iter().map(|(package, dir, pack)| {
        let c = PluginCrate {
            package,
            dir,
            feature: Some(PACK),
        };
        (format!("{pack}.wasm"), c)
    });
    singles.chain(packs).collect()
}

/// The bundled plugins as they were built before packs, one component per plugin: the
/// single crates, then every plugin of each catalogue (for measuring one way against the
/// other, `bench-guests`). Owned names: see [`PluginCrate::borrowed`].
pub fn one_component_per_plugin(
    workspace_root: &Path,
) -> Result<Vec<(String, String, Option<String>)>, BuildError> {
    let mut out: Vec<(String, String, Option<String>)> = BUNDLED_CRATES
        .iter()
        .map(|(p, d)| ((*p).to_owned(), (*d).to_owned(), None))
        .collect();
    for (package, dir, _) in BUNDLED_CATALOGUES {
        for plugin in catalogue_plugins(workspace_root, dir)? {
            out.push(((*package).to_owned(), (*dir).to_owned(), Some(plugin.name)));
        }
    }
    Ok(out)
}

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
    /// A view of one entry of [`bundled`].
    pub fn borrowed(entry: &'a (String, String, Option<String>)) -> Self {
        PluginCrate {
            package: &entry.0,
            dir: &entry.1,
            feature: entry.2.as_deref(),
        }
    }

    /// A crate that builds one component.
    pub const fn single(package: &'a str, dir: &'a str) -> Self {
        PluginCrate {
            package,
            dir,
            feature: None,
        }
    }
}

/// The plugins a catalogue crate declares, from the `[features]` table of
/// `<root>/<dir>/Cargo.toml`, in order: each feature names one plugin and enables the SDK's
/// kind feature (`user-get = ["sluice-plugin/action"]`); features that enable no kind are not
/// plugins.
pub fn catalogue_plugins(workspace_root: &Path, dir: &str) -> Result<Vec<Plugin>, BuildError> {
    let path = workspace_root.join(dir).join("Cargo.toml");
    let manifest = read_toml(&path)?;
    let Some(features) = manifest.get("features").and_then(|f| f.as_table()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, enables) in features {
        let kind = enables
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.strip_prefix("sluice-plugin/"))
            .find(|kind| *kind != "pack");
        if let Some(kind) = kind {
            out.push(Plugin {
                name: name.clone(),
                kind: kind.to_owned(),
            });
        }
    }
    Ok(out)
}

/// One plugin of a catalogue: its name (the cargo feature that builds it alone) and its
/// kind (`action`, `condition` or `connector`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    pub name: String,
    pub kind: String,
}

fn read_toml(path: &Path) -> Result<toml::Table, BuildError> {
    let text = std::fs::read_to_string(path).map_err(|e| BuildError::Io(path.to_owned(), e))?;
    text.parse::<toml::Table>()
        .map_err(|e| BuildError::Manifest(path.to_owned(), e.to_string()))
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
    /// A file could not be read or written.
    Io(PathBuf, std::io::Error),
    /// A `Cargo.toml` is not what this builder expects.
    Manifest(PathBuf, String),
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
            BuildError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            BuildError::Manifest(p, e) => write!(f, "{}: {e}", p.display()),
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
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    ensure_target(&rustc)?;
    let build = Build {
        root: workspace_root,
        profile: profile(),
        target_dir: std::env::var_os("SLUICE_PLUGIN_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root.join("target").join("plugins")),
    };
    // Build scripts (which have an OUT_DIR) tell cargo what to watch; a tool prints nothing.
    let announce = |line: String| {
        if std::env::var_os("OUT_DIR").is_some() {
            println!("{line}");
        }
    };
    announce("cargo:rerun-if-env-changed=SLUICE_PLUGIN_PROFILE".into());
    for watched in [
        "wit",
        "plugins/sdk/wit",
        "plugins/sdk/src",
        // the simulator crate, whose field rules the catalogue shares (`sluice_jcsim::rules`)
        "jcsim/src",
        "jcsim/Cargo.toml",
        "plugins/sdk/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        announce(format!(
            "cargo:rerun-if-changed={}",
            workspace_root.join(watched).display()
        ));
    }
    let mut out = vec![PathBuf::new(); crates.len()];
    let mut catalogue = Vec::new();
    let mut packs = Vec::new();
    for (i, c) in crates.iter().enumerate() {
        // The component is made of `src` and the manifest; tests and docs do not rebuild it.
        for part in ["src", "Cargo.toml"] {
            announce(format!(
                "cargo:rerun-if-changed={}",
                workspace_root.join(c.dir).join(part).display()
            ));
        }
        match c.feature {
            None => out[i] = build.single(c)?,
            Some(PACK) => packs.push(i),
            Some(_) => catalogue.push(i),
        }
    }
    if !packs.is_empty() {
        let members: Vec<PluginCrate<'_>> = packs.iter().map(|&i| crates[i]).collect();
        for (i, path) in packs.iter().zip(build.packs(&members)?) {
            out[*i] = path;
        }
    }
    if !catalogue.is_empty() {
        let members: Vec<PluginCrate<'_>> = catalogue.iter().map(|&i| crates[i]).collect();
        for (i, path) in catalogue.iter().zip(build.catalogue(&members)?) {
            out[*i] = path;
        }
    }
    Ok(out)
}

/// Where and how components are built.
struct Build<'a> {
    root: &'a Path,
    profile: String,
    target_dir: PathBuf,
}

impl Build<'_> {
    /// `cargo build` of the guest target, with the settings meant for the outer (host)
    /// build removed.
    fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(self.root)
            .args(["build", "--profile", &self.profile, "--target", TARGET])
            .arg("--target-dir")
            .arg(&self.target_dir);
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
        cmd
    }

    fn run(&self, mut cmd: Command, package: &str) -> Result<(), BuildError> {
        let output = cmd.output().map_err(BuildError::Spawn)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(BuildError::Cargo {
                package: package.to_owned(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            })
        }
    }

    /// Where cargo puts the component of the library `package`.
    fn output(&self, package: &str) -> Result<PathBuf, BuildError> {
        let wasm = self
            .target_dir
            .join(TARGET)
            .join(&self.profile)
            .join(format!("{}.wasm", package.replace('-', "_")));
        if wasm.is_file() {
            Ok(wasm)
        } else {
            Err(BuildError::Missing(wasm))
        }
    }

    /// A crate that builds one component, in a cargo run of its own.
    fn single(&self, c: &PluginCrate<'_>) -> Result<PathBuf, BuildError> {
        let mut cmd = self.cargo();
        cmd.args(["-p", c.package]);
        self.run(cmd, c.package)?;
        self.output(c.package)
    }

    /// Catalogue crates as packs (their feature [`PACK`]), in one cargo run: the SDK is
    /// compiled once, with only its `pack` world.
    fn packs(&self, crates: &[PluginCrate<'_>]) -> Result<Vec<PathBuf>, BuildError> {
        let mut cmd = self.cargo();
        for c in crates {
            cmd.args(["-p", c.package])
                .arg("--features")
                .arg(format!("{}/{PACK}", c.package));
        }
        let names: Vec<&str> = crates.iter().map(|c| c.package).collect();
        self.run(cmd, &names.join(", "))?;
        crates.iter().map(|c| self.output(c.package)).collect()
    }

    /// The plugins of catalogue crates, in one cargo run per plugin kind through the
    /// generated workspace `bundle/` (see the crate's documentation).
    fn catalogue(&self, plugins: &[PluginCrate<'_>]) -> Result<Vec<PathBuf>, BuildError> {
        let bundle = self.target_dir.join("bundle");
        let root_manifest = read_toml(&self.root.join("Cargo.toml"))?;
        let sdk = root_manifest
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.get("sluice-plugin"))
            .and_then(|d| d.get("path"))
            .and_then(|p| p.as_str())
            .map(|p| self.root.join(p))
            .ok_or_else(|| {
                BuildError::Manifest(
                    self.root.join("Cargo.toml"),
                    "[workspace.dependencies] names no `sluice-plugin` path".into(),
                )
            })?;
        let mut kinds: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut declared: std::collections::HashMap<&str, Vec<Plugin>> = Default::default();
        let mut members = Vec::new();
        for c in plugins {
            let name = c.feature.unwrap_or(c.package);
            if !declared.contains_key(c.dir) {
                declared.insert(c.dir, catalogue_plugins(self.root, c.dir)?);
            }
            let kind = declared[c.dir]
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.kind.clone())
                .ok_or_else(|| {
                    BuildError::Manifest(
                        self.root.join(c.dir).join("Cargo.toml"),
                        format!("no feature `{name}` enabling a `sluice-plugin` kind"),
                    )
                })?;
            if members.contains(&name.to_owned()) {
                return Err(BuildError::Manifest(
                    self.root.join(c.dir).join("Cargo.toml"),
                    format!("two bundled plugins are named `{name}`"),
                ));
            }
            members.push(name.to_owned());
            let package = format!("bundled-{name}");
            let manifest = format!(
                "# Generated by sluice-plugin-build: the `{name}` plugin of `{krate}` as a \
                 component of its own.\n\
                 [package]\nname = {package:?}\nversion = \"0.0.0\"\nedition = \"2024\"\n\
                 publish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\npath = \"lib.rs\"\n\n\
                 [dependencies]\nsluice-plugin = {{ path = {sdk:?}, features = [{kind:?}] }}\n\
                 {krate} = {{ path = {dir:?} }}\n",
                krate = c.package,
                sdk = sdk.display().to_string(),
                dir = self.root.join(c.dir).display().to_string(),
            );
            let lib = format!(
                "//! Generated by sluice-plugin-build.\n{}::export_plugin!({name:?});\n",
                c.package.replace('-', "_")
            );
            write_if_changed(&bundle.join(name).join("Cargo.toml"), &manifest)?;
            write_if_changed(&bundle.join(name).join("lib.rs"), &lib)?;
            kinds.entry(kind).or_default().push(package);
        }
        let mut workspace = toml::Table::new();
        let mut table = toml::Table::new();
        table.insert("resolver".into(), "3".into());
        table.insert(
            "members".into(),
            toml::Value::Array(members.iter().map(|m| m.as_str().into()).collect()),
        );
        workspace.insert("workspace".into(), toml::Value::Table(table));
        // The guest profiles are the workspace's (`plugin`, `plugin-dev`).
        if let Some(profiles) = root_manifest.get("profile") {
            workspace.insert("profile".into(), profiles.clone());
        }
        let text = toml::to_string(&workspace)
            .map_err(|e| BuildError::Manifest(bundle.join("Cargo.toml"), e.to_string()))?;
        write_if_changed(
            &bundle.join("Cargo.toml"),
            &format!("# Generated by sluice-plugin-build; rewritten on every build.\n{text}"),
        )?;
        // The workspace's lock, so the guests build with the versions the workspace pinned
        // (cargo adds the generated crates to it).
        let lock = self.root.join("Cargo.lock");
        let lock_text = std::fs::read_to_string(&lock).map_err(|e| BuildError::Io(lock, e))?;
        write_if_changed(&bundle.join("Cargo.lock.workspace"), &lock_text).and_then(|changed| {
            if changed || !bundle.join("Cargo.lock").is_file() {
                write_if_changed(&bundle.join("Cargo.lock"), &lock_text)?;
            }
            Ok(changed)
        })?;
        for packages in kinds.values() {
            let mut cmd = self.cargo();
            cmd.arg("--manifest-path").arg(bundle.join("Cargo.toml"));
            for p in packages {
                cmd.args(["-p", p]);
            }
            self.run(cmd, &packages.join(", "))?;
        }
        let dir = self.target_dir.join("components").join(&self.profile);
        std::fs::create_dir_all(&dir).map_err(|e| BuildError::Io(dir.clone(), e))?;
        let mut out = Vec::with_capacity(members.len());
        for name in &members {
            let built = self.output(&format!("bundled-{name}"))?;
            let copy = dir.join(format!("{name}.wasm"));
            std::fs::copy(&built, &copy).map_err(|e| BuildError::Io(copy.clone(), e))?;
            out.push(copy);
        }
        Ok(out)
    }
}

/// Writes `text` to `path` unless it already holds it (so cargo sees no change); says
/// whether it wrote.
fn write_if_changed(path: &Path, text: &str) -> Result<bool, BuildError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| BuildError::Io(dir.to_owned(), e))?;
    }
    std::fs::write(path, text).map_err(|e| BuildError::Io(path.to_owned(), e))?;
    Ok(true)
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The SDK builds against its own copy of the contract (a published crate carries its
    /// WIT); the host links `wit/`. A guest built from a different copy would not link.
    #[test]
    fn the_sdk_carries_the_contract_unchanged() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let files = |dir: &str| {
            // The WIT files themselves; `wit/<version>/` holds released versions (see
            // wit/README.md), which the SDK does not carry.
            let mut names: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .map(|p| p.file_name().unwrap().to_owned())
                .filter(|n| n.to_string_lossy().ends_with(".wit"))
                .collect();
            names.sort();
            names
        };
        assert_eq!(files("wit"), files("plugins/sdk/wit"), "the same WIT files");
        for name in files("wit") {
            let read = |dir: &str| std::fs::read_to_string(root.join(dir).join(&name)).unwrap();
            assert!(
                read("wit") == read("plugins/sdk/wit"),
                "plugins/sdk/wit/{} differs from wit/{0}: copy wit/ over the SDK's copy",
                name.to_string_lossy()
            );
        }
    }
}
