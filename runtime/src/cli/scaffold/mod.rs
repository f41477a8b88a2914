//! `sluice plugin new NAME [--kind action|condition|connector] [--lang rust|js] [--dir DIR]
//! [--sdk PATH]`: writes a ready plugin crate — Cargo.toml, `src/lib.rs` with typed input
//! and output, one host call and native tests on the SDK's test host, a README with the
//! commands, a `.gitignore` — from templates embedded in the binary; with `--lang js`, a
//! JavaScript plugin (package.json and its lock, `src/plugin.js`, the WIT, a README, a
//! `.gitignore`).
//!
//! # Layout
//! - this file: the command: checking the name, the directory and the SDK, rendering,
//!   writing (all or nothing).
//! - `rust/`: the Rust templates, `{{placeholder}}`s filled by [`render`] (`*.tmpl`, so
//!   no tool takes them for the runtime's source).
//! - `js/`: the JavaScript templates (`--lang js`): package.json, `src/plugin.js` per kind,
//!   a README and a `.gitignore`; with them go the contract (`wit/plugin.wit`) and the
//!   example JavaScript plugin's package-lock.json (plugins/js/user-summary), so `npm ci`
//!   installs exactly the jco and ComponentizeJS the repository builds and tests with
//!   (offline, from npm's cache, on a machine that ran scripts/js-plugins).
//!
//! Until the SDK is published the crate depends on it by path: `--sdk PATH`, else
//! `SLUICE_SDK_PATH`, else the SDK of the source tree this binary was built from, while it
//! is still there. The workspace's `Cargo.lock` is copied beside it, so the crate builds
//! offline with the versions that tree already downloaded.

use std::path::{Path, PathBuf};

use super::{Failure, usage};

/// The SDK of the source tree this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk");

/// One file of a template set: where it goes in the new crate, and its text.
type Template = (&'static str, &'static str);

const RUST_COMMON: &[Template] = &[
    ("Cargo.toml", include_str!("rust/Cargo.toml.tmpl")),
    ("README.md", include_str!("rust/README.md.tmpl")),
    (".gitignore", include_str!("rust/gitignore")),
];

const JS_COMMON: &[Template] = &[
    ("package.json", include_str!("js/package.json.tmpl")),
    ("README.md", include_str!("js/README.md.tmpl")),
    (".gitignore", include_str!("js/gitignore")),
];

/// The contract a JavaScript plugin is built against (`jco componentize --wit`).
const JS_WIT: &str = include_str!("../../../../wit/plugin.wit");

/// The example JavaScript plugin's lock: the scaffold's package.json asks for the same
/// packages (a unit test keeps them in step); only the package's name differs.
const JS_LOCK: &str = include_str!("../../../../plugins/js/user-summary/package-lock.json");
const JS_LOCK_NAME: &str = "\"name\": \"sluice-plugin-user-summary\"";

/// The language a plugin is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Rust,
    Js,
}

impl Lang {
    pub(crate) fn parse(s: &str) -> Option<Lang> {
        match s {
            "rust" => Some(Lang::Rust),
            "js" => Some(Lang::Js),
            _ => None,
        }
    }
}

/// The plugin kinds, with each one's `src/lib.rs` and what its README shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Action,
    Condition,
    Connector,
}

impl Kind {
    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "action" => Some(Kind::Action),
            "condition" => Some(Kind::Condition),
            "connector" => Some(Kind::Connector),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Action => "action",
            Kind::Condition => "condition",
            Kind::Connector => "connector",
        }
    }

    fn lib(self) -> &'static str {
        match self {
            Kind::Action => include_str!("rust/action.rs.tmpl"),
            Kind::Condition => include_str!("rust/condition.rs.tmpl"),
            Kind::Connector => include_str!("rust/connector.rs.tmpl"),
        }
    }

    /// The JavaScript template's `src/plugin.js`.
    fn js(self) -> &'static str {
        match self {
            Kind::Action => include_str!("js/action.js.tmpl"),
            Kind::Condition => include_str!("js/condition.js.tmpl"),
            Kind::Connector => include_str!("js/connector.js.tmpl"),
        }
    }

    fn description(self) -> &'static str {
        match self {
            Kind::Action => "Looks a JumpCloud user up by username.",
            Kind::Condition => "True when the JumpCloud user exists and is active.",
            Kind::Connector => "Posts a message through a connector.",
        }
    }

    /// The README's placeholders that differ by kind.
    fn readme(self, name: &str, wasm: &str) -> Vec<(&'static str, String)> {
        let user_call =
            format!("sluice plugin call {name} --input-json '{{\"username\": \"jane.doe\"}}'");
        let simulator = "Without JumpCloud credentials configured, Sluice answers JumpCloud \
                         calls with its built-in simulator, so this works before you connect \
                         an organisation."
            .to_owned();
        match self {
            Kind::Action => vec![
                (
                    "install",
                    format!("sluice plugin install {wasm} --grant jumpcloud:users.readonly"),
                ),
                ("call", user_call),
                ("call_note", simulator),
                (
                    "workflow",
                    format!(
                        "  - id: lookup\n    uses: {name}\n    with: {{ username: \"${{input.username}}\" }}"
                    ),
                ),
            ],
            Kind::Condition => vec![
                (
                    "install",
                    format!("sluice plugin install {wasm} --grant jumpcloud:users.readonly"),
                ),
                ("call", user_call),
                ("call_note", simulator),
                (
                    "workflow",
                    format!(
                        "  - id: active\n    if: {{ uses: {name}, with: {{ username: \"${{input.username}}\" }} }}\n    then: [ {{ id: suspend, uses: user-suspend, with: {{ username: \"${{input.username}}\" }} }} ]"
                    ),
                ),
            ],
            Kind::Connector => vec![
                (
                    "install",
                    format!(
                        "sluice connector add chat --base-url https://chat.example.com\n\
                         sluice plugin install {wasm} --grant 'http:*'"
                    ),
                ),
                (
                    "call",
                    format!(
                        "sluice plugin call {name} --input-json '{{\"connector\": \"chat\", \"text\": \"hello\"}}'"
                    ),
                ),
                (
                    "call_note",
                    "A step names the one connector it calls (`connector`); the host narrows \
                     the plugin's `http:*` grant to it and adds the connector's credentials."
                        .to_owned(),
                ),
                (
                    "workflow",
                    format!(
                        "  - id: notify\n    uses: {name}\n    with: {{ connector: chat, text: \"Welcome ${{input.username}}\" }}"
                    ),
                ),
            ],
        }
    }
}

/// Rust keywords and the crates every crate sees: names cargo refuses for a library.
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    "abstract", "alloc", "as", "async", "await", "become", "box", "break", "const", "continue",
    "core", "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen",
    "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override",
    "priv", "proc-macro", "pub", "ref", "return", "self", "static", "std", "struct", "super",
    "test", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
    "where", "while", "yield", "schemars", "serde", "serde-json", "sluice-plugin",
];

/// Why `name` cannot name a plugin crate, if it cannot: the plugin manifest's rule
/// (`[a-z0-9-]`, at most 64 bytes) and a lower-case letter first (cargo's), not a keyword.
fn name_problem(name: &str) -> Option<String> {
    if !crate::host::manifest::valid_name(name)
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.ends_with('-')
        || name.contains("--")
    {
        return Some(format!(
            "`{}` is not a plugin name: use lower-case letters, digits and single `-`, starting \
             with a letter (at most 64), e.g. `user-check`",
            name.chars().take(80).collect::<String>()
        ));
    }
    RESERVED
        .contains(&name)
        .then(|| format!("`{name}` is reserved in Rust: choose another plugin name"))
}

/// `user-check` → `UserCheck`; a type name that would shadow what the template imports
/// gets `Plugin` appended.
fn type_name(name: &str) -> String {
    let mut out: String = name
        .split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if matches!(
        out.as_str(),
        "Input" | "Output" | "Step" | "PluginError" | "Action" | "Condition" | "Connector"
    ) {
        out.push_str("Plugin");
    }
    out
}

/// The SDK to depend on: `--sdk` (or `SLUICE_SDK_PATH`, which clap reads into it), else
/// the built-from tree's; canonical, and checked to be the SDK.
fn find_sdk(given: Option<&Path>) -> Result<PathBuf, Failure> {
    let how = "pass the SDK's directory with --sdk PATH or SLUICE_SDK_PATH (plugins/sdk in a \
               clone of Sluice's source)";
    let (dir, source) = match given {
        Some(p) => (p.to_path_buf(), "--sdk / SLUICE_SDK_PATH"),
        None => {
            let built = PathBuf::from(BUILT_SDK);
            if !built.join("Cargo.toml").is_file() {
                return Err(usage(format!(
                    "the Sluice plugin SDK was not found: the source tree this binary was \
                     built from ({}) is gone; {how}",
                    built.display()
                )));
            }
            (built, "the source tree this binary was built from")
        }
    };
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).map_err(|e| {
        usage(format!(
            "{} (from {source}) holds no readable Cargo.toml ({e}); {how}",
            dir.display()
        ))
    })?;
    if !manifest
        .lines()
        .any(|l| l.trim().replace(' ', "") == "name=\"sluice-plugin\"")
    {
        return Err(usage(format!(
            "{} (from {source}) is not the `sluice-plugin` crate; {how}",
            dir.display()
        )));
    }
    dir.canonicalize()
        .map_err(|e| usage(format!("{}: {e}", dir.display())))
}

/// The `Cargo.lock` of the workspace holding the SDK, if there is one.
fn workspace_lock(sdk: &Path) -> Option<PathBuf> {
    sdk.ancestors()
        .skip(1)
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file())
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Fills `{{key}}` placeholders.
fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// The files of the new crate: (path relative to its directory, contents).
fn files(name: &str, kind: Kind, sdk: &Path) -> Vec<(PathBuf, String)> {
    let krate = name.replace('-', "_");
    let wasm = format!("target/wasm32-wasip2/release/{krate}.wasm");
    let mut values = vec![
        ("name", name.to_owned()),
        ("crate", krate),
        ("Type", type_name(name)),
        ("kind", kind.as_str().to_owned()),
        ("description", kind.description().to_owned()),
        (
            "sdk",
            format!("path = {}", toml_string(&sdk.to_string_lossy())),
        ),
    ];
    values.extend(kind.readme(name, &wasm));
    let mut out: Vec<(PathBuf, String)> = RUST_COMMON
        .iter()
        .map(|(path, text)| (PathBuf::from(path), render(text, &values)))
        .collect();
    out.push((PathBuf::from("src/lib.rs"), render(kind.lib(), &values)));
    out
}

/// The files of a new JavaScript plugin: (path relative to its directory, contents).
fn files_js(name: &str, kind: Kind) -> Vec<(PathBuf, String)> {
    let wasm = format!("dist/{name}.wasm");
    let mut values = vec![
        ("name", name.to_owned()),
        ("kind", kind.as_str().to_owned()),
        ("description", kind.description().to_owned()),
    ];
    values.extend(kind.readme(name, &wasm));
    let mut out: Vec<(PathBuf, String)> = JS_COMMON
        .iter()
        .map(|(path, text)| (PathBuf::from(path), render(text, &values)))
        .collect();
    out.push((PathBuf::from("src/plugin.js"), render(kind.js(), &values)));
    out.push((PathBuf::from("wit/plugin.wit"), JS_WIT.to_owned()));
    out.push((
        PathBuf::from("package-lock.json"),
        JS_LOCK.replace(JS_LOCK_NAME, &format!("\"name\": \"{name}\"")),
    ));
    out
}

/// `sluice plugin new`.
pub(crate) fn new(
    name: &str,
    kind: &str,
    lang: &str,
    dir: Option<&Path>,
    sdk: Option<&Path>,
) -> Result<(), Failure> {
    if let Some(problem) = name_problem(name) {
        return Err(usage(problem));
    }
    let kind = Kind::parse(kind).ok_or_else(|| {
        usage(format!(
            "--kind `{kind}`: use action, condition or connector"
        ))
    })?;
    let lang =
        Lang::parse(lang).ok_or_else(|| usage(format!("--lang `{lang}`: use rust or js")))?;
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    let existed = match std::fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(usage(format!(
                    "{} already exists and is not empty: choose another --dir (nothing was written)",
                    dir.display()
                )));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            return Err(usage(format!(
                "{}: {e} (nothing was written)",
                dir.display()
            )));
        }
    };
    if lang == Lang::Js {
        let files: Vec<(PathBuf, Vec<u8>)> = files_js(name, kind)
            .into_iter()
            .map(|(p, text)| (p, text.into_bytes()))
            .collect();
        if let Err(e) = write_all(&dir, &files) {
            // All or nothing, as for a Rust crate.
            if existed {
                for (path, _) in &files {
                    let _ = std::fs::remove_file(dir.join(path));
                }
                for sub in ["src", "wit"] {
                    let _ = std::fs::remove_dir(dir.join(sub));
                }
            } else {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Err(e.into());
        }
        let shown = dir.display();
        println!(
            "Created the {} plugin `{name}` in JavaScript in {shown}.\n\n\
             Next (Node 20+ and npm):\n  cd {shown}\n  npm ci\n  npm run build\n\n\
             The README says how to install and call it.",
            kind.as_str()
        );
        return Ok(());
    }
    let sdk = find_sdk(sdk)?;
    let lock = workspace_lock(&sdk)
        .map(|p| std::fs::read(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display())))
        .transpose()?;
    let mut files: Vec<(PathBuf, Vec<u8>)> = files(name, kind, &sdk)
        .into_iter()
        .map(|(p, text)| (p, text.into_bytes()))
        .collect();
    if let Some(lock) = lock {
        files.push((PathBuf::from("Cargo.lock"), lock));
    }
    if let Err(e) = write_all(&dir, &files) {
        // All or nothing: what was written goes again.
        if existed {
            for (path, _) in &files {
                let _ = std::fs::remove_file(dir.join(path));
            }
            let _ = std::fs::remove_dir(dir.join("src"));
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Err(e.into());
    }
    let shown = dir.display();
    println!(
        "Created the {} plugin `{name}` in {shown} (SDK: {}).\n\n\
         Next:\n  cd {shown}\n  cargo test\n  cargo build --release --target wasm32-wasip2\n\n\
         The README says how to install and call it.",
        kind.as_str(),
        sdk.display()
    );
    Ok(())
}

fn write_all(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> anyhow::Result<()> {
    for (path, bytes) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| anyhow::anyhow!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_manifest_and_cargo() {
        for good in ["user-check", "a", "jira2", "okta-user-suspend"] {
            assert_eq!(name_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "User",
            "user_check",
            "-a",
            "a-",
            "a--b",
            "2fa",
            "a b",
            "é",
            "fn",
            "test",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(name_problem(&"a".repeat(65)).is_some());
        assert_eq!(type_name("user-check"), "UserCheck");
        assert_eq!(type_name("input"), "InputPlugin");
        assert_eq!(type_name("a2-b"), "A2B");
    }

    #[test]
    fn every_kind_renders_with_no_placeholder_left() {
        let sdk = Path::new("/opt/sl\"uice/sdk");
        for kind in [Kind::Action, Kind::Condition, Kind::Connector] {
            let files = files("user-check", kind, sdk);
            let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
            assert_eq!(
                names,
                ["Cargo.toml", "README.md", ".gitignore", "src/lib.rs"]
            );
            for (path, text) in &files {
                assert!(!text.contains("{{"), "{}: {text}", path.display());
            }
            let manifest = &files[0].1;
            assert!(manifest.contains(r#"name = "user-check""#), "{manifest}");
            assert!(
                manifest.contains(r#"path = "/opt/sl\"uice/sdk", features = ["#),
                "{manifest}"
            );
            assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
            assert!(files[3].1.contains("for UserCheck {"));
            assert!(files[1].1.contains("release/user_check.wasm"));
        }
    }

    #[test]
    fn every_kind_renders_in_javascript_with_the_example_plugin_s_packages() {
        let example: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../plugins/js/user-summary/package.json"
        ))
        .unwrap();
        for kind in [Kind::Action, Kind::Condition, Kind::Connector] {
            let files = files_js("user-check", kind);
            let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
            assert_eq!(
                names,
                [
                    "package.json",
                    "README.md",
                    ".gitignore",
                    "src/plugin.js",
                    "wit/plugin.wit",
                    "package-lock.json"
                ]
            );
            for (path, text) in &files[..4] {
                assert!(!text.contains("{{"), "{}: {text}", path.display());
            }
            let package: serde_json::Value = serde_json::from_str(&files[0].1).unwrap();
            assert_eq!(package["name"], "user-check");
            assert_eq!(package["devDependencies"], example["devDependencies"]);
            let build = package["scripts"]["build"].as_str().unwrap();
            let world = format!("--world-name {}-plugin ", kind.as_str());
            assert!(build.contains(&world), "{build}");
            assert!(build.contains("--out dist/user-check.wasm"), "{build}");
            let lock: serde_json::Value = serde_json::from_str(&files[5].1).unwrap();
            assert_eq!(lock["name"], "user-check");
            assert_eq!(lock["packages"][""]["name"], "user-check");
            assert_eq!(
                lock["packages"][""]["devDependencies"],
                example["devDependencies"]
            );
            let js = &files[3].1;
            assert!(
                js.contains(&format!("export const {} = {{", kind.as_str())),
                "{js}"
            );
            assert!(js.contains("name: 'user-check',"), "{js}");
            assert!(files[1].1.contains("dist/user-check.wasm"));
        }
        assert_eq!(Lang::parse("js"), Some(Lang::Js));
        assert_eq!(Lang::parse("python"), None);
    }

    #[test]
    fn the_built_from_sdk_is_found() {
        let sdk = find_sdk(None).unwrap();
        assert!(sdk.join("src/testing/mod.rs").is_file());
        assert!(workspace_lock(&sdk).is_some());
        let err = find_sdk(Some(Path::new("/nonexistent/sdk"))).unwrap_err();
        assert_eq!(err.code, 2);
        assert!(
            err.error.to_string().contains("--sdk PATH"),
            "{}",
            err.error
        );
    }
}
