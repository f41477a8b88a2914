//! The plugin contract's versions (see wit/README.md): every released version is kept,
//! frozen, in `wit/<version>/`, with the prebuilt component that proves the host still
//! runs it (the binary test `runtime/tests/contract.rs` installs and calls each one); and
//! the current contract, `wit/plugin.wit`, may not break the last released version while it
//! keeps a semver-compatible version number. The check is `wit-component`'s semver check:
//! a component built against the released world must still be a valid instance of the
//! current one (the host may offer more imports and ask for fewer exports; every type a
//! released world uses stays structurally the same).

use std::path::{Path, PathBuf};

use semver::Version;
use wit_parser::{PackageId, Resolve, UnresolvedPackageGroup};

fn wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

/// The released versions, oldest first: each folder of `wit/` named as a version.
fn released() -> Vec<(Version, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(wit_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let v = Version::parse(&name)
                .unwrap_or_else(|e| panic!("wit/{name}: a folder of wit/ is a version: {e}"));
            (v, p)
        })
        .collect();
    out.sort();
    out
}

/// Whether a component built against `old` may be loaded as `new` by semver's rules
/// (0.x: the same minor version; else the same major).
fn compatible(old: &Version, new: &Version) -> bool {
    old.major == new.major && (old.major != 0 || old.minor == new.minor)
}

fn parse(path: &str, text: &str) -> UnresolvedPackageGroup {
    UnresolvedPackageGroup::parse(path, text)
        .unwrap_or_else(|(map, e)| panic!("{path}: {}", e.render(&map)))
}

fn version_of(text: &str) -> Version {
    parse("wit", text)
        .main
        .name
        .version
        .expect("the contract's package has a version")
}

/// Every world of `released` against the world of the same name in `current`: an error
/// names each world that `current` breaks (or dropped).
fn check(released: &str, current: &str) -> Result<(), String> {
    let mut resolve = Resolve::new();
    let mut old = parse("released.wit", released);
    // Both packages carry the same name (and maybe version) in one resolve; the check
    // itself ignores versions.
    if let Some(v) = old.main.name.version.as_mut() {
        v.pre = semver::Prerelease::new("released").unwrap();
    }
    let old: PackageId = resolve.push_group(old).map_err(|e| format!("{e:#}"))?;
    let new: PackageId = resolve
        .push_group(parse("current.wit", current))
        .map_err(|e| format!("{e:#}"))?;
    let mut problems = Vec::new();
    for (name, &prev) in &resolve.packages[old].worlds {
        let Some(&next) = resolve.packages[new].worlds.get(name) else {
            problems.push(format!("world `{name}` was removed"));
            continue;
        };
        if let Err(e) = wit_component::semver_check(resolve.clone(), prev, next) {
            problems.push(format!("world `{name}`: {e:#}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_current_contract_keeps_the_last_released_version() {
    let versions = released();
    let (last, dir) = versions
        .last()
        .expect("at least one released version in wit/");
    let current = read(&wit_dir().join("plugin.wit"));
    let now = version_of(&current);
    assert!(
        now >= *last,
        "wit/plugin.wit is {now}, older than the released {last}"
    );
    if compatible(last, &now)
        && let Err(e) = check(&read(&dir.join("plugin.wit")), &current)
    {
        panic!(
            "wit/plugin.wit ({now}) breaks the released {last} (wit/{last}/plugin.wit); \
                 keep the change additive or publish it as a new incompatible version:\n{e}"
        );
    }
}

#[test]
fn every_released_version_is_complete_and_names_itself() {
    for (v, dir) in released() {
        let text = read(&dir.join("plugin.wit"));
        assert_eq!(
            version_of(&text),
            v,
            "wit/{v}/plugin.wit declares another version"
        );
        for file in ["fixture.wasm", "README.md"] {
            assert!(dir.join(file).is_file(), "wit/{v}/{file} is missing");
        }
        let fixture = std::fs::read(dir.join("fixture.wasm")).unwrap();
        let import = format!("sluice:plugin/log@{v}");
        assert!(
            fixture
                .windows(import.len())
                .any(|w| w == import.as_bytes()),
            "wit/{v}/fixture.wasm was not built against {v}"
        );
    }
}

/// The real contract with `from` replaced by `to` (which must occur once).
fn edited(from: &str, to: &str) -> String {
    let current = read(&wit_dir().join("plugin.wit"));
    assert_eq!(
        current.matches(from).count(),
        1,
        "`{from}` in wit/plugin.wit"
    );
    current.replacen(from, to, 1)
}

#[test]
fn the_check_refuses_a_removed_function_or_a_changed_field() {
    let current = read(&wit_dir().join("plugin.wit"));
    let removed = edited("delete: func(key: string) -> result<_, plugin-error>;", "");
    let err = check(&current, &removed).unwrap_err();
    assert!(err.contains("delete"), "{err}");
    let field = edited("attempt: u32,", "attempt: u64,");
    assert!(check(&current, &field).is_err());
    let renamed = edited("attempt: u32,", "try: u32,");
    assert!(check(&current, &renamed).is_err());
    // A plugin built against the released contract does not export a new function.
    let new_export = edited(
        "describe: func() -> manifest;\n    /// Evaluates",
        "describe: func() -> manifest;\n    version: func() -> string;\n    /// Evaluates",
    );
    let err = check(&current, &new_export).unwrap_err();
    assert!(err.contains("condition"), "{err}");
    let dropped = edited("world connector-plugin {", "world connector-only-plugin {");
    let err = check(&current, &dropped).unwrap_err();
    assert!(err.contains("connector-plugin"), "{err}");
}

#[test]
fn the_check_accepts_the_same_contract_and_additions_to_what_the_host_offers() {
    let current = read(&wit_dir().join("plugin.wit"));
    check(&current, &current).unwrap();
    let added = edited(
        "delete: func(key: string) -> result<_, plugin-error>;",
        "delete: func(key: string) -> result<_, plugin-error>;\n    \
         exists: func(key: string) -> result<bool, plugin-error>;",
    );
    check(&current, &added).unwrap();
    let interface = edited(
        "world platform {",
        "interface clock {\n    now: func() -> u64;\n}\n\nworld platform {\n    import clock;",
    );
    check(&current, &interface).unwrap();
}

#[test]
fn semver_compatibility_follows_the_zero_major_rule() {
    let v = |s: &str| Version::parse(s).unwrap();
    assert!(compatible(&v("0.1.0"), &v("0.1.3")));
    assert!(!compatible(&v("0.1.0"), &v("0.2.0")));
    assert!(compatible(&v("1.2.0"), &v("1.5.0")));
    assert!(!compatible(&v("1.2.0"), &v("2.0.0")));
}
