//! Workflows: the document model, its validation and templating.
//!
//! # Layout
//! - `model.rs`: the document (YAML or JSON, strict) and its parser.
//! - `validate/`: every check before a save or run, all problems reported; it builds the
//!   typed steps;
//! - `step.rs`: the typed step (`Step`, `StepKind`) the engine runs, built by validation.
//! - `catalogue.rs`: the bundled templates;
//! - `graph.rs`: the graph the console draws, derived from the steps;
//! - `locate.rs`: a validation problem's path, line and column in the document's text;
//! - `redact.rs`: write-only input (`writeOnly`, `format: password`) kept out of records;
//! - `template.rs`: rendering and checking of `{{ expr }}`, `${path}` and `{{ .path }}`.

pub mod catalogue;
pub mod graph;
pub mod locate;
pub mod model;
pub mod redact;
pub mod step;
pub mod template;
pub mod validate;

use serde_json::Value;

/// The HTTP API's OpenAPI 3.1 document (the API serves it): its `WorkflowDocument` schema
/// is the JSON shape a workflow document is checked against.
pub const OPENAPI: &str = include_str!("../api/openapi.json");

/// How a workflow starts, in a few words (`manual`, `schedule 0 9 * * * (UTC)`,
/// `event user_create`, `webhook`), as lists and the catalogue show it.
pub fn trigger_label(doc: &model::WorkflowDoc) -> String {
    match &doc.trigger {
        model::Trigger::Manual { .. } => "manual".into(),
        model::Trigger::Schedule { cron, timezone, .. } => format!("schedule {cron} ({timezone})"),
        model::Trigger::Event { event_type, .. } => format!("event {event_type}"),
        model::Trigger::Webhook { .. } => "webhook".into(),
    }
}

/// Fills in the top-level `default`s of an object schema that the input leaves out.
pub fn apply_defaults(schema: &Value, input: &mut Value) {
    if let (Some(obj), Some(props)) = (input.as_object_mut(), schema["properties"].as_object()) {
        for (name, prop) in props {
            if let Some(default) = prop.get("default")
                && !obj.contains_key(name)
            {
                obj.insert(name.clone(), default.clone());
            }
        }
    }
}

/// Why `input` does not match `schema` (empty when it does), each with its location.
pub fn input_problems(schema: &Value, input: &Value) -> Vec<String> {
    match jsonschema::validator_for(schema) {
        Err(e) => vec![format!("the input schema is invalid: {e}")],
        Ok(v) => v
            .iter_errors(input)
            .map(|e| {
                let at = e.instance_path.to_string();
                format!("input{at}: {e}")
            })
            .collect(),
    }
}

/// Fills in the trigger schema's defaults and checks a manual run's input; every problem,
/// one per line.
pub fn check_input(doc: &model::WorkflowDoc, mut value: Value) -> Result<Value, String> {
    if let model::Trigger::Manual {
        input_schema: Some(schema),
    } = &doc.trigger
    {
        apply_defaults(schema, &mut value);
        let errors: Vec<String> = input_problems(schema, &value)
            .into_iter()
            .map(|p| format!("  - {p}"))
            .collect();
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
    }
    Ok(value)
}
