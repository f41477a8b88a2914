//! The command-line reference, `docs/cli.md`, generated from the command's own clap
//! definition so that it cannot drift from what `sluice help` prints. A test compares the
//! file with what this module generates and fails while it is stale;
//! `SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --lib cli::reference` rewrites it.
//! Another test follows every relative link of the README and the docs, to a file and, for
//! `page.md#part`, to a heading of that page.

use clap::{Command, CommandFactory};

use super::Cli;

/// Where the generated reference lives, from the workspace root.
const PATH: &str = "docs/cli.md";

/// The whole reference: a contents list, then every command's long help, parents first.
pub(crate) fn markdown() -> String {
    let mut cli = hide_env_values(Cli::command()).term_width(100);
    // Building propagates the global options and gives every subcommand its full name.
    cli.build();
    let mut commands = Vec::new();
    collect(&cli, &mut commands);

    let mut out = String::from(
        "# The `sluice` command line\n\n\
         <!-- Generated from the command's definition; do not edit by hand. After changing an\n     \
         option or its help, regenerate this file with\n     \
         SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --lib cli::reference -->\n\n\
         Every command and option, exactly as `sluice help COMMAND` prints it. What the data\n\
         directory holds, the exit codes and the output formats are in\n\
         [operations.md](operations.md); each topic page explains its commands at length.\n\n",
    );
    for (depth, name, command) in &commands {
        let indent = "  ".repeat(depth.saturating_sub(1));
        let about = command
            .get_about()
            .map(|a| format!(": {}", first_line(&a.to_string())))
            .unwrap_or_default();
        out.push_str(&format!("{indent}- [`{name}`](#{}){about}\n", anchor(name)));
    }
    for (_, name, command) in &commands {
        let mut command = command.clone();
        let help = command.render_long_help().to_string();
        out.push_str(&format!("\n## `{name}`\n\n```text\n"));
        for line in help.trim_end().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str("```\n");
    }
    out
}

/// `sluice` and every subcommand below it, depth first, without clap's own `help`.
fn collect(command: &Command, out: &mut Vec<(usize, String, Command)>) {
    fn walk(command: &Command, depth: usize, out: &mut Vec<(usize, String, Command)>) {
        let name = command
            .get_bin_name()
            .unwrap_or(command.get_name())
            .to_owned();
        out.push((depth, name, command.clone()));
        for sub in command.get_subcommands() {
            if sub.get_name() != "help" && !sub.is_hide_set() {
                walk(sub, depth + 1, out);
            }
        }
    }
    walk(command, 0, out);
}

/// Environment variables are named in the help, but their values on the machine that
/// generates the file are not part of the reference.
fn hide_env_values(command: Command) -> Command {
    command
        .mut_args(|a| a.hide_env_values(true))
        .mut_subcommands(hide_env_values)
}

fn first_line(text: &str) -> &str {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
}

/// The anchor a Markdown renderer gives the heading `` `NAME` ``.
fn anchor(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_cli_md_is_current() {
        crate::code::docs::assert_generated_file_is_current(
            PATH,
            &markdown(),
            "the command line",
            "SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --lib cli::reference",
        );
    }

    #[test]
    fn every_command_and_option_is_in_the_reference() {
        let text = markdown();
        for needle in [
            "## `sluice plugin install`",
            "## `sluice runs resume`",
            "## `sluice bench isolation`",
            "--data-dir <DIR>",
            "--adopt-state",
            "--max-connections",
            "[env: SLUICE_DATA_DIR]",
        ] {
            assert!(text.contains(needle), "{needle} missing from the reference");
        }
        // No value of the generating machine's environment leaks into the file.
        assert!(!text.contains("SLUICE_DATA_DIR="), "{text}");
        // Every contents entry points at a heading that exists.
        for line in text.lines().filter(|l| l.trim_start().starts_with("- [`")) {
            let target = line.split("](#").nth(1).unwrap().split(')').next().unwrap();
            let heading = text
                .lines()
                .filter_map(|l| l.strip_prefix("## `"))
                .any(|h| anchor(h.trim_end_matches('`')) == target);
            assert!(heading, "{line} points at no heading");
        }
    }

    /// The Markdown files a reader moves between.
    fn documents(root: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = ["README.md", "BENCHMARKS.md", "examples/README.md"]
            .iter()
            .chain(&["plugins/README.md", "tests/README.md"])
            .map(|f| root.join(f))
            .collect();
        for entry in std::fs::read_dir(root.join("docs")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
        files
    }

    /// A document's lines outside fenced code blocks, with their line numbers.
    fn prose(text: &str) -> Vec<(usize, &str)> {
        let mut fenced = false;
        text.lines()
            .enumerate()
            .filter(|(_, line)| {
                if line.trim_start().starts_with("```") {
                    fenced = !fenced;
                    return false;
                }
                !fenced
            })
            .map(|(n, line)| (n + 1, line))
            .collect()
    }

    /// The anchors a page offers: its headings, and `<a id="…">` marks.
    fn anchors(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (_, line) in prose(text) {
            if line.starts_with('#') {
                out.push(anchor(line.trim_start_matches('#').trim()));
            }
            for part in line.split("<a id=\"").skip(1) {
                out.push(part.split('"').next().unwrap_or_default().to_owned());
            }
        }
        out
    }

    /// `(target, line number)` of every inline link `[text](target)` outside code blocks.
    fn links(text: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for (n, line) in prose(text) {
            for part in line.split("](").skip(1) {
                if let Some(end) = part.find(')') {
                    out.push((part[..end].to_owned(), n));
                }
            }
        }
        out
    }

    #[test]
    fn every_relative_link_in_the_docs_resolves() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut dead = Vec::new();
        let mut checked = 0;
        for file in documents(&root) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (target, line) in links(&text) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
                let resolved = if path.is_empty() {
                    file.clone()
                } else {
                    file.parent().unwrap().join(path)
                };
                let name = file.strip_prefix(&root).unwrap().display().to_string();
                if !resolved.exists() {
                    dead.push(format!("{name}:{line}: {target}: no such file"));
                } else if !fragment.is_empty() {
                    let page = std::fs::read_to_string(&resolved).unwrap_or_default();
                    if !anchors(&page).iter().any(|a| a == fragment) {
                        dead.push(format!("{name}:{line}: {target}: no such heading"));
                    }
                }
            }
        }
        assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
        assert!(checked > 50, "only {checked} links found");
    }

    #[test]
    fn the_link_check_sees_links_headings_and_marks() {
        let page = "# Title\n## The `sluice` command\n<a id=\"bulk\"></a>\n```\n[x](in-code.md)\n```\n\
                    See [a](b.md#c) and [d](#the-sluice-command).\n";
        assert_eq!(anchors(page), ["title", "the-sluice-command", "bulk"]);
        assert_eq!(
            links(page),
            [
                ("b.md#c".to_owned(), 7),
                ("#the-sluice-command".to_owned(), 7)
            ]
        );
    }

    #[test]
    fn anchors_follow_markdown_renderers() {
        assert_eq!(anchor("sluice plugin install"), "sluice-plugin-install");
        assert_eq!(anchor("sluice"), "sluice");
    }
}
