//! `sluice template list|show|use`: ready-made workflows by category (seed 000's Device
//! Management, Security and User Management), compiled into the binary from `examples/`.
//! `use` writes one to a file to edit; every template validates and runs against the
//! sandbox as shipped (tests/templates.rs).

use std::path::PathBuf;

use super::{Failure, print_json, table, usage};
use crate::workflow::model::{Trigger, WorkflowDoc};

/// One template: its category, its workflow, and an input that runs it.
pub(crate) struct Template {
    pub(crate) category: &'static str,
    pub(crate) source: &'static str,
    pub(crate) example_input: &'static str,
}

macro_rules! template {
    ($category:literal, $file:literal, $input:literal) => {
        Template {
            category: $category,
            source: include_str!(concat!("../../../examples/", $file)),
            example_input: include_str!(concat!("../../../examples/", $input)),
        }
    };
}

pub(crate) const TEMPLATES: &[Template] = &[
    template!(
        "User Management",
        "provision-user.yaml",
        "inputs/provision-user.json"
    ),
    template!(
        "User Management",
        "templates/offboarding.yaml",
        "templates/inputs/offboarding.json"
    ),
    template!(
        "User Management",
        "templates/reactivate-user.yaml",
        "templates/inputs/reactivate-user.json"
    ),
    template!(
        "User Management",
        "templates/department-change.yaml",
        "templates/inputs/department-change.json"
    ),
    template!(
        "Security",
        "templates/suspend-on-lockout.yaml",
        "templates/inputs/suspend-on-lockout.json"
    ),
    template!(
        "Security",
        "templates/mfa-exclusion-report.yaml",
        "templates/inputs/mfa-exclusion-report.json"
    ),
    template!(
        "Security",
        "templates/inactive-users-report.yaml",
        "templates/inputs/inactive-users-report.json"
    ),
    template!("Security", "jira-ticket.yaml", "inputs/jira-ticket.json"),
    template!(
        "Security",
        "admin-elevation-alert.yaml",
        "inputs/admin-elevation-alert.json"
    ),
    template!(
        "Device Management",
        "templates/new-device-to-group.yaml",
        "templates/inputs/new-device-to-group.json"
    ),
];

fn doc(t: &Template) -> Result<WorkflowDoc, Failure> {
    crate::workflow::model::parse("template", t.source).map_err(|e| Failure {
        code: 1,
        error: anyhow::anyhow!("a bundled template does not parse: {e}"),
    })
}

fn find(name: &str) -> Result<(&'static Template, WorkflowDoc), Failure> {
    for t in TEMPLATES {
        let d = doc(t)?;
        if d.name == name {
            return Ok((t, d));
        }
    }
    Err(usage(format!(
        "no template named `{name}`; `sluice template list` shows them"
    )))
}

fn trigger(d: &WorkflowDoc) -> String {
    match &d.trigger {
        Trigger::Manual { .. } => "manual".into(),
        Trigger::Schedule { cron, timezone } => format!("schedule {cron} ({timezone})"),
        Trigger::Event { event_type, .. } => format!("event {event_type}"),
        Trigger::Webhook { .. } => "webhook".into(),
    }
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum TemplateCommand {
    /// The templates, by category.
    List {
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

pub(crate) fn run(cmd: TemplateCommand) -> Result<(), Failure> {
    match cmd {
        TemplateCommand::List { json } => {
            let mut rows = Vec::new();
            for t in TEMPLATES {
                let d = doc(t)?;
                rows.push(serde_json::json!({
                    "name": d.name,
                    "category": t.category,
                    "trigger": trigger(&d),
                    "run_as": d.run_as.to_string(),
                    "description": d.description,
                }));
            }
            rows.sort_by(|a, b| {
                (a["category"].as_str(), a["name"].as_str())
                    .cmp(&(b["category"].as_str(), b["name"].as_str()))
            });
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
