//! The layer check: every `crate::` path in this crate's source (in `use` lines and inline,
//! outside comments and literals) names a module that its own module may use, as the
//! `# Layout` table at the top of `lib.rs` says; and that table, without its provisional
//! arrows, has no cycle. The table is the one place the allowed arrows are written.
//!
//! Paths through `super::` stay inside a folder and are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The `# Layout` table: for each module, the modules it may use, each `true` when the
/// arrow is provisional (marked `†`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Table(BTreeMap<String, BTreeMap<String, bool>>);

/// Strips the Markdown around a module name: `` [`api`] `` or `` `api` `` is `api`.
fn bare(cell: &str) -> String {
    cell.trim()
        .trim_matches(|c| c == '[' || c == ']' || c == '`')
        .to_owned()
}

/// Reads the table under `# Layout` in the doc comment of `lib_rs`: rows
/// `| module | what it holds | may use |`, the last cell a comma-separated list (`—`: none).
fn parse_table(lib_rs: &str) -> Result<Table, String> {
    let mut table = Table::default();
    let mut in_layout = false;
    for line in lib_rs.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if doc.starts_with('#') {
            in_layout = doc == "# Layout";
            continue;
        }
        if !in_layout || !doc.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = doc.trim_matches('|').split('|').collect();
        let [module, _, uses] = cells[..] else {
            return Err(format!("a layer table row needs three cells: {doc}"));
        };
        let module = module
            .split_whitespace()
            .next()
            .map(bare)
            .unwrap_or_default();
        if module == "module" || module.starts_with("---") {
            continue;
        }
        let mut allowed = BTreeMap::new();
        for used in uses.split(',').map(str::trim) {
            if used.is_empty() || used == "—" {
                continue;
            }
            let provisional = used.ends_with('†');
            allowed.insert(bare(used.trim_end_matches('†')), provisional);
        }
        if table.0.insert(module.clone(), allowed).is_some() {
            return Err(format!("module `{module}` has two rows in the layer table"));
        }
    }
    if table.0.is_empty() {
        return Err("no layer table under `# Layout`".into());
    }
    Ok(table)
}

/// `src` with comments and the insides of string and character literals blanked (line
/// breaks kept, so lines still count).
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if c[i] == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if (c[i] == 'r' || (c[i] == 'b' && at(i + 1) == 'r'))
            && (i == 0 || !ident(c[i - 1]))
            && {
                let mut k = i + if c[i] == 'b' { 2 } else { 1 };
                while at(k) == '#' {
                    k += 1;
                }
                at(k) == '"'
            }
        {
            // A raw string: r"…", r#"…"#, br#"…"#.
            while c[i] != '"' {
                out.push(c[i]);
                i += 1;
            }
            let hashes = out.chars().rev().take_while(|&h| h == '#').count();
            out.push('"');
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|h| at(i + h) == '#') {
                    out.push('"');
                    out.extend(std::iter::repeat_n('#', hashes));
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            if i < c.len() {
                out.push('"');
                i += 1;
            }
        } else if c[i] == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A character literal ('x', '\n', '\u{1F600}'); a lifetime is left as it is.
            out.push('\'');
            i += 1;
            if c[i] == '\\' {
                // The backslash and the character it escapes (which may be a quote).
                out.push_str("  ");
                i += 2;
            }
            while i < c.len() && c[i] != '\'' {
                blank(&mut out, c[i]);
                i += 1;
            }
            if i < c.len() {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The top-level modules `src` reaches through `crate::` paths, each with its line (from
/// 1): `crate::a::b`, `crate::a`, and each item of `crate::{a::x, b}`.
fn crate_paths(src: &str) -> Vec<(usize, String)> {
    let code = code_only(src);
    let b = code.as_bytes();
    let ident = |ch: u8| ch.is_ascii_alphanumeric() || ch == b'_';
    let line_of = |pos: usize| code[..pos].matches('\n').count() + 1;
    let skip_space = |mut k: usize| {
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        k
    };
    let word_at = |k: usize| {
        let end = (k..b.len()).find(|&e| !ident(b[e])).unwrap_or(b.len());
        &code[k..end]
    };
    let mut out = Vec::new();
    for (pos, _) in code.match_indices("crate") {
        if pos > 0 && ident(b[pos - 1]) {
            continue;
        }
        let mut k = skip_space(pos + "crate".len());
        if !code[k..].starts_with("::") {
            continue;
        }
        k = skip_space(k + 2);
        if b.get(k) == Some(&b'{') {
            // A group: the first name of each item at the group's own depth.
            let mut depth = 0;
            let mut item_start = true;
            while k < b.len() {
                match b[k] {
                    b'{' => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b',' if depth == 1 => item_start = true,
                    ch if ident(ch) && item_start => {
                        let word = word_at(k);
                        if word != "self" {
                            out.push((line_of(k), word.to_owned()));
                        }
                        item_start = false;
                        k += word.len();
                        continue;
                    }
                    _ => {}
                }
                k += 1;
            }
        } else if b.get(k).is_some_and(|&ch| ident(ch)) {
            out.push((line_of(k), word_at(k).to_owned()));
        }
    }
    out
}

/// The arrows of `src` (the file `file` of module `module`) that `table` does not allow,
/// each as a message naming the file, the line and the arrow.
fn check(table: &Table, module: &str, file: &str, src: &str) -> Vec<String> {
    let Some(allowed) = table.0.get(module) else {
        return vec![format!(
            "{file}: module `{module}` has no row in the layer table (`# Layout` in src/lib.rs)"
        )];
    };
    let may: Vec<&str> = allowed.keys().map(String::as_str).collect();
    crate_paths(src)
        .into_iter()
        .filter(|(_, to)| to != module && !allowed.contains_key(to))
        .map(|(line, to)| {
            if table.0.contains_key(&to) {
                format!(
                    "{file}:{line}: `{module}` → `{to}` (`crate::{to}`) is not in the layer \
                     table; `{module}` may use: {}",
                    if may.is_empty() {
                        "nothing".to_owned()
                    } else {
                        may.join(", ")
                    }
                )
            } else {
                format!(
                    "{file}:{line}: `crate::{to}` is not a module of the layer table (give \
                     it a row, or reach it through its module)"
                )
            }
        })
        .collect()
}

/// A cycle among the table's arrows that are not provisional, as the modules around it.
fn cycle(table: &Table) -> Option<Vec<String>> {
    fn visit<'a>(
        table: &'a Table,
        at: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(k) = path.iter().position(|m| *m == at) {
            let mut around: Vec<String> = path[k..].iter().map(|m| m.to_string()).collect();
            around.push(at.to_owned());
            return Some(around);
        }
        if !done.insert(at) {
            return None;
        }
        path.push(at);
        for (to, provisional) in table.0.get(at).into_iter().flatten() {
            if !provisional && let Some(found) = visit(table, to, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    table
        .0
        .keys()
        .find_map(|m| visit(table, m, &mut Vec::new(), &mut done))
}

/// Every `.rs` file under `dir`, with its path relative to `root`.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let src = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            out.push((rel, src));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    fn crate_table() -> Table {
        let lib = std::fs::read_to_string(src_dir().join("lib.rs")).unwrap();
        parse_table(&lib).unwrap_or_else(|e| panic!("src/lib.rs: {e}"))
    }

    #[test]
    fn every_crate_path_in_the_source_is_an_arrow_the_layer_table_allows() {
        let table = crate_table();
        let root = src_dir();
        let mut files = Vec::new();
        rust_files(&root, &root, &mut files);
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (rel, src) in &files {
            if rel == "lib.rs" || rel == "main.rs" {
                continue;
            }
            let module = rel
                .split(['/', '\\'])
                .next()
                .unwrap()
                .trim_end_matches(".rs");
            seen.insert(module.to_owned());
            problems.extend(check(&table, module, &format!("runtime/src/{rel}"), src));
        }
        for module in table.0.keys() {
            if !seen.contains(module) {
                problems.push(format!(
                    "the layer table has a row for `{module}`, which is not a module under src/"
                ));
            }
        }
        assert!(
            files.len() > 50,
            "read only {} files under {}",
            files.len(),
            root.display()
        );
        assert!(
            problems.is_empty(),
            "arrows between modules that the layer table in src/lib.rs does not allow \
             (move the code, or change the table if the layering itself should change):\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn the_layer_table_has_no_cycle_without_its_provisional_arrows() {
        let table = crate_table();
        assert!(table.0.len() >= 10, "{table:?}");
        assert_eq!(cycle(&table), None, "the layer table has a cycle");
    }

    const TABLE: &str = "//! Crate.\n//!\n//! # Layout\n//! | module | what | may use |\n\
                         //! |---|---|---|\n//! | [`api`] | the API | `service`, `store`† |\n\
                         //! | [`service`] | shared | `store` |\n//! | `store` | tables | — |\n\
                         //!\n//! # Other\n//! | `not` | a | `row` |\n";

    #[test]
    fn the_table_is_read_with_its_provisional_arrows() {
        let table = parse_table(TABLE).unwrap();
        let row = |m: &str| {
            table.0[m]
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect::<Vec<_>>()
        };
        assert_eq!(table.0.len(), 3, "{table:?}");
        assert_eq!(row("api"), [("service", false), ("store", true)]);
        assert_eq!(row("service"), [("store", false)]);
        assert!(row("store").is_empty());
        assert!(parse_table("//! # Layout\n//! no table\n").is_err());
        assert!(parse_table("//! # Layout\n//! | a | b |\n").is_err());
    }

    #[test]
    fn paths_are_read_from_code_not_from_comments_or_literals() {
        let src = r###"//! Uses crate::doc_comment.
use crate::api::Router;
use crate::{
    service::{self, Service},
    store,
};
/* crate::block /* nested crate::deeper */ crate::still_comment */
fn f<'a>(x: &'a str) -> char {
    let _ = "crate::in_string \" crate::escaped";
    let _ = r#"crate::raw " still raw crate::raw2"#;
    let _ = mycrate::not_ours::X;
    pub(crate) struct P;
    crate::engine::run(); // crate::line_comment
    crate :: spaced ::X;
    '"'
}
"###;
        let expected = [
            (2, "api"),
            (4, "service"),
            (5, "store"),
            (13, "engine"),
            (14, "spaced"),
        ]
        .map(|(l, m)| (l, m.to_owned()));
        assert_eq!(crate_paths(src), expected);
    }

    #[test]
    fn a_disallowed_arrow_is_reported_with_its_file_and_line() {
        let table = parse_table(TABLE).unwrap();
        let src =
            "use crate::store::Db;\n\n// crate::api is fine here\nfn f() { crate::api::x() }\n";
        let problems = check(&table, "service", "src/service/mod.rs", src);
        assert_eq!(
            problems,
            [
                "src/service/mod.rs:4: `service` → `api` (`crate::api`) is not in the layer \
              table; `service` may use: store"
            ]
        );
        assert!(check(&table, "api", "src/api/mod.rs", src).is_empty());
        assert_eq!(
            check(&table, "store", "src/store/x.rs", "use crate::nowhere;")[0],
            "src/store/x.rs:1: `crate::nowhere` is not a module of the layer table (give it a \
             row, or reach it through its module)"
        );
        assert!(check(&table, "cli", "src/cli/mod.rs", "")[0].contains("has no row"));
    }

    #[test]
    fn a_cycle_is_found_unless_one_of_its_arrows_is_provisional() {
        let table = parse_table(TABLE).unwrap();
        assert_eq!(cycle(&table), None);
        let with = |extra: &str| parse_table(&TABLE.replace("| `store` | tables | — |", extra));
        let cyclic = with("| `store` | tables | `api` |").unwrap();
        let found = cycle(&cyclic).expect("the cycle api → service → store → api");
        assert_eq!(found.first(), found.last(), "{found:?}");
        assert!(found.len() == 4 || found.len() == 3, "{found:?}");
        assert_eq!(cycle(&with("| `store` | tables | `api`† |").unwrap()), None);
    }
}
