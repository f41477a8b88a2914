//! `sluice template list|show|use`: ready-made workflows by category (Device
//! Management, Security and User Management), compiled into the binary from `examples/`.
//! `use` writes one to a file to edit; every template validates and runs against the
//! sandbox as shipped (tests/templates.rs).

use std::path::PathBuf;

use super::{Failure, print_json, table, usage};
use crate::workflow::catalogue;
use crate::workflow::model::WorkflowDoc;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum TemplateCommand {
    /// The templates, by category.
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a template's workflow.
    Show { name: String },
    /// Write a template to a file to edit (default `./NAME.yaml`), with its example input
    /// beside it (`NAME.input.json`).
    Use {
        name: String,
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
}

fn find(name: &str) -> Result<(&'static catalogue::Template, WorkflowDoc), Failure> {
    catalogue::find(name).ok_or_else(|| {
        usage(format!(
            "no template named `{name}`; `sluice template list` shows them"
        ))
    })
}

pub(crate) fn run(cmd: TemplateCommand) -> Result<(), Failure> {
    match cmd {
        TemplateCommand::List { json } => {
            let rows = catalogue::rows().map_err(|e| Failure {
                code: 1,
                error: anyhow::anyhow!(e),
            })?;
            if json {
                return print_json(&rows);
            }
            let mut t = table(["category", "name", "trigger", "run as", "description"]);
            for r in &rows {
                t.add_row(
                    ["category", "name", "trigger", "run_as", "description"]
                        .map(|k| r[k].as_str().unwrap_or_default().to_owned()),
                );
            }
            println!("{t}");
            Ok(())
        }
        TemplateCommand::Show { name } => {
            let (t, _) = find(&name)?;
            print!("{}", t.source);
            Ok(())
        }
        TemplateCommand::Use {
            name,
            output,
            force,
        } => {
            let (t, _) = find(&name)?;
            let path = output.unwrap_or_else(|| PathBuf::from(format!("{name}.yaml")));
            let input = path.with_extension("input.json");
            for p in [&path, &input] {
                if p.exists() && !force {
                    return Err(usage(format!(
                        "{} exists; choose another --output or pass --force",
                        p.display()
                    )));
                }
            }
            std::fs::write(&path, t.source)
                .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
            std::fs::write(&input, t.example_input)
                .map_err(|e| usage(format!("cannot write {}: {e}", input.display())))?;
            eprintln!(
                "wrote {} and {}; edit its vars, then `sluice validate {}` and \
                 `sluice run {} --input {}`",
                path.display(),
                input.display(),
                path.display(),
                path.display(),
                input.display()
            );
            Ok(())
        }
    }
}
