//! The template catalogue: ready-made workflows by category, each with an example input
//! that runs it against the sandbox. Shown by `sluice template` and `GET /api/v1/templates`.

use serde_json::{Value, json};

use super::model::{WorkflowDoc, parse};

/// One template: its category, its workflow, and an input that runs it.
#[derive(Debug)]
pub struct Template {
    pub category: &'static str,
    pub source: &'static str,
    pub example_input: &'static str,
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

pub const TEMPLATES: &[Template] = &[
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

/// A template's workflow document.
pub fn doc(t: &Template) -> Result<WorkflowDoc, String> {
    parse("template", t.source).map_err(|e| format!("a bundled template does not parse: {e}"))
}

/// The template named `name`.
pub fn find(name: &str) -> Option<(&'static Template, WorkflowDoc)> {
    TEMPLATES
        .iter()
        .filter_map(|t| doc(t).ok().map(|d| (t, d)))
        .find(|(_, d)| d.name == name)
}

/// The catalogue as rows (name, category, trigger, run_as, description, the plugins it
/// uses), by category and name.
pub fn rows() -> Result<Vec<Value>, String> {
    let mut rows = Vec::new();
    for t in TEMPLATES {
        let d = doc(t)?;
        rows.push(json!({
            "name": d.name,
            "category": t.category,
            "trigger": super::trigger_label(&d),
            "run_as": d.run_as.to_string(),
            "description": d.description,
            "plugins": super::validate::plugin_specs(&d),
        }));
    }
    rows.sort_by(|a, b| {
        (a["category"].as_str(), a["name"].as_str())
            .cmp(&(b["category"].as_str(), b["name"].as_str()))
    });
    Ok(rows)
}
