//! The table's own checks, and the scans that keep every code in it: no host code string
//! spelled outside the table, no code-shaped literal that is not in it, and every code the
//! catalogue plugins emit listed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Code, Emitter};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file's text before its unit tests (`#[cfg(test)]` then `mod tests`): tests may spell
/// codes, to pin what the host answers.
fn code_part(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let tests = text
        .match_indices("#[cfg(test)]")
        .find(|(i, m)| text[i + m.len()..].trim_start().starts_with("mod tests"));
    match tests {
        Some((i, _)) => text[..i].to_owned(),
        None => text,
    }
}

/// The string literals of `text` that consist of `A-Z`, `0-9` and `_` only and start with
/// a letter, with their line numbers.
fn upper_literals(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'"' {
                let start = i + 1;
                let mut j = start;
                while j < b.len()
                    && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit() || b[j] == b'_')
                {
                    j += 1;
                }
                if j < b.len() && b[j] == b'"' && j > start && b[start].is_ascii_uppercase() {
                    out.push((n + 1, &line[start..j]));
                    i = j + 1;
                    continue;
                }
            }
            i += 1;
        }
    }
    out
}

/// Shaped like a code of several words (`SOME_CODE`).
fn code_shaped(s: &str) -> bool {
    s.contains('_') && !s.starts_with('_') && !s.ends_with('_') && !s.contains("__")
}

/// Upper-case literals in the host's code that are not error codes: environment variables
/// and values of other vocabularies.
fn not_a_code(s: &str) -> bool {
    const OTHER: &[&str] = &["OUT_DIR"];
    ["SLUICE_", "CARGO_", "RUSTC"]
        .iter()
        .any(|p| s.starts_with(p))
        || OTHER.contains(&s)
}

/// A file of unit tests or test helpers (`tests.rs`, `*_tests.rs`, `testing.rs`): tests
/// may spell codes, and make up codes of plugins of their own.
fn test_file(rel: &str) -> bool {
    rel.ends_with("tests.rs") || rel == "testing.rs" || rel.ends_with("/testing.rs")
}

/// The folders of `runtime/src` the scans skip, and why.
/// (The JumpCloud simulator, which answers with JumpCloud's own error codes, is a crate of
/// its own and not scanned.)
const SKIPPED: &[(&str, &str)] = &[("code", "the table itself and its page")];

#[test]
fn every_code_has_a_unique_string_and_number_and_an_explanation() {
    let mut names = BTreeSet::new();
    let mut numbers = BTreeMap::new();
    for &code in Code::ALL {
        let (name, number) = (code.as_str(), code.number());
        assert!(
            name.len() <= 64
                && name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "{name}: a code is `^[A-Z][A-Z0-9_]{{0,63}}$`; rename it in runtime/src/code/table.rs"
        );
        assert!(
            names.insert(name),
            "{name} is in the table twice: keep one row"
        );
        let b = number.as_bytes();
        assert!(
            b.len() == 11
                && number.starts_with("ERR-")
                && b[4..7].iter().all(u8::is_ascii_uppercase)
                && b[7] == b'-'
                && b[8..].iter().all(u8::is_ascii_digit),
            "{name}: its number {number} is not of the form ERR-<AREA>-<NNN>"
        );
        if let Some(other) = numbers.insert(number, name) {
            panic!(
                "{name} and {other} share the number {number}: give the newer one the next \
                 free number of its area (numbers are never reused)"
            );
        }
        let text = code.explanation();
        assert!(
            text.len() > 30 && text.ends_with('.'),
            "{name}: its explanation must say what it means and what to do, in sentences"
        );
        assert_eq!(Code::from_name(name), Some(code));
        assert!(
            matches!(code.exit(), 1 | 2),
            "{name}: exit codes are 1 or 2"
        );
        if let Some(s) = code.status() {
            assert!(
                (400..600).contains(&s),
                "{name}: {s} is not an error status"
            );
        }
    }
}

#[test]
fn no_host_code_is_spelled_outside_the_table() {
    let src = root().join("runtime/src");
    let names: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let mut found = Vec::new();
    for path in rust_files(&src) {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if SKIPPED
            .iter()
            .any(|(d, _)| rel.starts_with(&format!("{d}/")))
            || test_file(&rel)
        {
            continue;
        }
        let text = code_part(&path);
        for (line, lit) in upper_literals(&text) {
            if names.contains(lit) {
                found.push(format!(
                    "runtime/src/{rel}:{line}: \"{lit}\" is a code of the table: write \
                     Code::{:?} (its string is spelled only in runtime/src/code/table.rs)",
                    Code::from_name(lit).unwrap()
                ));
            } else if code_shaped(lit) && !not_a_code(lit) {
                found.push(format!(
                    "runtime/src/{rel}:{line}: \"{lit}\" looks like an error code but is not \
                     in the table: add a row to runtime/src/code/table.rs (string, number, \
                     status, exit code, retry, explanation) and use the Code, or, if it is not \
                     an error code, list it in `not_a_code` in runtime/src/code/tests.rs"
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_scans_see_literals_and_only_literals() {
    let text = "a(\"GROUP_NOT_FOUND\", x); let s = \"Not A Code\"; b(\"X\")\"Y_Z\"";
    assert_eq!(
        upper_literals(text),
        vec![(1, "GROUP_NOT_FOUND"), (1, "X"), (1, "Y_Z")]
    );
    assert!(code_shaped("GROUP_NOT_FOUND") && !code_shaped("CONFLICT"));
    assert!(not_a_code("SLUICE_DATA_DIR") && !not_a_code("STORE_ERROR"));
}

/// The bundled plugins whose codes the table lists.
const CATALOGUE: &[&str] = &[
    "plugins/jumpcloud/src",
    "plugins/connectors/src",
    "plugins/http-request/src",
    "plugins/transform/src",
    "plugins/compare/src",
    "plugins/sdk/src",
];

/// Folders of [`CATALOGUE`] that are no plugin's code: the SDK's native test host, which
/// runs only in plugin authors' tests (never in a component) and answers as the host does.
const NOT_IN_COMPONENTS: &[&str] = &["plugins/sdk/src/testing"];

/// The codes the catalogue's code emits: every literal a `PluginError` is made with, and
/// every code-shaped literal (codes chosen before the error is made).
fn catalogue_codes() -> BTreeMap<String, String> {
    let mut codes = BTreeMap::new();
    for dir in CATALOGUE {
        for path in rust_files(&root().join(dir)) {
            if NOT_IN_COMPONENTS
                .iter()
                .any(|skip| path.starts_with(root().join(skip)))
            {
                continue;
            }
            let text = code_part(&path);
            let rel = path
                .strip_prefix(root())
                .unwrap_or(&path)
                .display()
                .to_string();
            for (line, lit) in upper_literals(&text) {
                if code_shaped(lit) && !not_a_code(lit) {
                    codes
                        .entry(lit.to_owned())
                        .or_insert(format!("{rel}:{line}"));
                }
            }
            for call in ["PluginError::new(", "PluginError::retryable("] {
                for (i, _) in text.match_indices(call) {
                    let rest = text[i + call.len()..].trim_start();
                    if let Some((_, lit)) = upper_literals(rest)
                        .first()
                        .filter(|_| rest.starts_with('"'))
                    {
                        let line = text[..i].lines().count();
                        codes
                            .entry((*lit).to_owned())
                            .or_insert(format!("{rel}:{line}"));
                    }
                }
            }
        }
    }
    codes
}

#[test]
fn every_code_the_catalogue_emits_is_in_the_table() {
    let emitted = catalogue_codes();
    assert!(
        emitted.contains_key("GROUP_NOT_FOUND"),
        "the scan found nothing: {emitted:?}"
    );
    let mut problems = Vec::new();
    for (code, at) in &emitted {
        match Code::from_name(code) {
            None => problems.push(format!(
                "{at}: the catalogue emits {code}, which is not in the table: add a row to \
                 runtime/src/code/table.rs (emitter Catalogue, the next number of its area) \
                 and regenerate docs/errors.md"
            )),
            Some(c) if c.emitter() == Emitter::Host => problems.push(format!(
                "{at}: the catalogue emits {code}, listed as emitted by the host only: make \
                 its emitter Both in runtime/src/code/table.rs"
            )),
            Some(_) => {}
        }
    }
    for &c in Code::ALL {
        if c.emitter() != Emitter::Host && !emitted.contains_key(c.as_str()) {
            problems.push(format!(
                "{} is listed as a catalogue code, but no catalogue plugin emits it: make its \
                 emitter Host, or remove the row if nothing emits it",
                c.as_str()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_host_code_is_used_by_the_host() {
    let src = root().join("runtime/src");
    let mut text = String::new();
    for path in rust_files(&src) {
        if !path.starts_with(src.join("code")) {
            text.push_str(&code_part(&path));
        }
    }
    let unused: Vec<String> = Code::ALL
        .iter()
        .filter(|c| c.emitter() != Emitter::Catalogue)
        .map(|c| format!("Code::{c:?}"))
        .filter(|v| !text.contains(v.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "no host code uses {unused:?}: make the row's emitter Catalogue if only plugins emit \
         it, or remove the row"
    );
}
