//! `docs/errors.md`, generated from the table so that it cannot drift from the codes the
//! host emits. A test compares the file with what this module generates and fails while it
//! is stale; `SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --lib code::`
//! rewrites it.

use super::{Code, Emitter};

/// Where the generated page lives, from the workspace root.
pub const PATH: &str = "docs/errors.md";

/// The areas of the numbers, in the page's order: `ERR-<AREA>-<NNN>`.
pub const AREAS: &[(&str, &str)] = &[
    ("GEN", "General"),
    ("API", "The service's API"),
    ("HOK", "Webhooks"),
    ("WFL", "Workflows and steps"),
    ("RUN", "Runs"),
    ("PLG", "Plugins and the sandbox"),
    ("SIG", "Plugin signatures and trusted keys"),
    ("STO", "The store and plugin state"),
    ("SEC", "Secrets"),
    ("ROL", "Custom roles"),
    ("TOK", "API tokens"),
    ("CON", "Connectors and outbound HTTP"),
    ("JCL", "The JumpCloud API"),
    ("USR", "JumpCloud users"),
    ("GRP", "JumpCloud groups"),
    ("BND", "Bindings to systems and directories"),
];

/// The area of a number, `GRP` of `ERR-GRP-001`.
pub fn area(number: &str) -> &str {
    number.get(4..7).unwrap_or_default()
}

/// The anchor a Markdown renderer gives the heading `` `CODE` ``.
fn anchor(code: Code) -> String {
    code.as_str().to_ascii_lowercase()
}

/// The whole page.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Errors\n\n\
         <!-- Generated from runtime/src/code/table.rs; do not edit by hand. After changing the\n     \
         table, regenerate this file with\n     \
         SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --lib code:: -->\n\n\
         Every failure Sluice reports carries a stable code: a step's error in a run record\n\
         (`error.code`, with `message`, `retryable`, `details` and `origin`), the API's answers\n\
         (`{\"error\": {\"code\", \"message\", \"details\"}}`), and the failure report. Each code\n\
         below has a stable number of the form `ERR-<AREA>-<NNN>`, the HTTP status of the\n\
         API's answer with it (`-`: it only ends a step), the exit code of a command it ends\n\
         directly (1 the operation failed, 2 the command's own input was wrong; a run that\n\
         fails exits 1 whatever its steps' codes; see [operations.md](operations.md#exit-codes)),\n\
         and whether a retry can help (`depends`: the error's own `retryable` says).\n\n\
         **Who emits a code.** `host` codes come from Sluice itself; `catalogue` codes from the\n\
         plugins bundled with it, which define them; some are emitted by both. A plugin of\n\
         your own may define any code of the form `^[A-Z][A-Z0-9_]{0,63}$`: it is passed on as\n\
         it is, and has no number (unless it is one of the codes below, whose meaning it should\n\
         then keep).\n\n\
         **In the failure report** (a run that did not fully succeed), each failed step's\n\
         `error` has `type`: the symbolic code (`GROUP_NOT_FOUND`), `code`: its number\n\
         (`ERR-GRP-001`, or `null` for a code of a plugin's own), and `origin`: `plugin` or\n\
         `host`, where the error came from.\n\n\
         A step's `retry:` retries only retryable errors, unless it lists the codes to retry\n\
         under `codes` ([workflows.md](workflows.md)); a step's `errors:` gives its own impact,\n\
         remediation and recommended actions per code\n\
         ([the failure report](workflows.md#failure-report)).\n\n\
         ## Index\n\n\
         | code | number | HTTP | exit | retry | emitted by |\n\
         |---|---|---|---|---|---|\n",
    );
    for &code in Code::ALL {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} | {} | {} | {} |\n",
            code.as_str(),
            anchor(code),
            code.number(),
            code.status().map_or("-".to_owned(), |s| s.to_string()),
            code.exit(),
            code.retry().as_str(),
            code.emitter().as_str(),
        ));
    }
    for (area_code, title) in AREAS {
        out.push_str(&format!("\n## {title} ({area_code})\n"));
        for &code in Code::ALL.iter().filter(|c| area(c.number()) == *area_code) {
            out.push_str(&format!(
                "\n### `{}`\n\n`{}` · HTTP {} · exit {} · retry: {} · {}\n\n",
                code.as_str(),
                code.number(),
                code.status().map_or("-".to_owned(), |s| s.to_string()),
                code.exit(),
                code.retry().as_str(),
                match code.emitter() {
                    Emitter::Host => "emitted by the host",
                    Emitter::Catalogue => "defined by catalogue plugins",
                    Emitter::Both => "emitted by the host and by catalogue plugins",
                },
            ));
            out.push_str(&wrap(code.explanation(), 90));
            out.push('\n');
        }
    }
    out
}

/// `text` folded at spaces into lines of at most `width` characters where words allow.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Fails unless the generated file `path` (from the workspace root) holds `generated`;
/// with `SLUICE_BLESS` set it writes the file first. `source` names what the file is
/// generated from and `bless` the command that regenerates it, for the failure message.
/// (Tests of every generated page use it: `docs/errors.md`, `docs/cli.md`.)
#[cfg(test)]
pub(crate) fn assert_generated_file_is_current(
    path: &str,
    generated: &str,
    source: &str,
    bless: &str,
) {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    if std::env::var_os("SLUICE_BLESS").is_some() {
        std::fs::write(&file, generated).unwrap();
    }
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        current == generated,
        "{path} is stale: {source} changed. Regenerate it with\n  {bless}\nand commit the result."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_errors_md_is_current() {
        assert_generated_file_is_current(
            PATH,
            &markdown(),
            "the table of error codes (runtime/src/code/table.rs)",
            "SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --lib code::",
        );
    }

    #[test]
    fn every_area_is_on_the_page_and_every_code_in_an_area() {
        for &code in Code::ALL {
            assert!(
                AREAS.iter().any(|(a, _)| *a == area(code.number())),
                "{} has the number {}, whose area is not in AREAS (runtime/src/code/docs.rs): \
                 add the area there, with a title",
                code.as_str(),
                code.number()
            );
        }
        let page = markdown();
        for (a, title) in AREAS {
            assert!(page.contains(&format!("## {title} ({a})")), "{a}");
        }
    }

    #[test]
    fn wrap_keeps_every_word_in_order() {
        let text = "one two three four five six seven";
        let w = wrap(text, 9);
        assert_eq!(w, "one two\nthree\nfour five\nsix seven\n");
        assert!(w.lines().all(|l| l.len() <= 9));
    }
}
