//! The failure report of seed 001: what completed, what failed with which error, its impact
//! and remediation, and whether a person has to step in.

use serde_json::{Value, json};

use super::FailedStep;
use crate::plugin::{ErrorSource, codes};

/// The error type shown in the report, from the error's origin and code.
fn error_type(f: &FailedStep) -> &'static str {
    match (f.error.origin, f.error.code.as_str()) {
        (_, codes::PERMISSION_DENIED) => "permission_error",
        (_, "TEMPLATE_ERROR") => "template_error",
        (_, codes::PLUGIN_TIMEOUT) => "timeout",
        (ErrorSource::Host, c) if c.starts_with("PLUGIN_") => "sandbox_error",
        (ErrorSource::Host, _) => "runtime_error",
        (ErrorSource::Plugin, _) => "plugin_error",
    }
}

/// Builds the report from the steps that completed and the ones that failed.
pub fn failure_report(completed: &[String], failures: &[FailedStep]) -> Value {
    let failed_steps: Vec<Value> = failures
        .iter()
        .map(|f| {
            let mut error = json!({
                "type": error_type(f),
                "message": f.error.message,
                "code": f.error.code,
                "timestamp": f.timestamp,
                "details": f.error.details,
            });
            // Scalar details (`affected_group`, counts) sit beside the code, as in seed 001.
            if let Some(Value::Object(details)) = &f.error.details {
                for (k, v) in details {
                    if !v.is_object() && !v.is_array() && error.get(k).is_none() {
                        error[k] = v.clone();
                    }
                }
            }
            json!({
                "step": f.step,
                "path": f.path,
                "error": error,
                "impact": f.impact.clone().unwrap_or_else(|| format!("step `{}` did not complete", f.step)),
                "remediation": f.remediation.clone().unwrap_or_else(|| default_remediation(&f.error.code).to_owned()),
                "handled": f.handled,
            })
        })
        .collect();
    let unhandled = failures.iter().any(|f| !f.handled);
    let mut actions: Vec<String> = Vec::new();
    for f in failures {
        let mine = if f.recommended_actions.is_empty() {
            vec![
                f.remediation
                    .clone()
                    .unwrap_or_else(|| default_remediation(&f.error.code).to_owned()),
            ]
        } else {
            f.recommended_actions.clone()
        };
        for a in mine {
            if !actions.contains(&a) {
                actions.push(a);
            }
        }
    }
    json!({
        "success": false,
        "partial_completion": !completed.is_empty(),
        "completed_steps": completed,
        "failed_steps": failed_steps,
        // A failure no retry can fix leaves work for a person, even when the run went on.
        "manual_intervention_required": unhandled && !completed.is_empty()
            || failures.iter().any(|f| !f.error.retryable),
        "recommended_actions": actions,
    })
}

fn default_remediation(code: &str) -> &'static str {
    match code {
        codes::PERMISSION_DENIED => {
            "Grant the plugin the permission it needs, or run the workflow as a role that has the scope"
        }
        codes::PLUGIN_TIMEOUT => "Check the service the step calls, or raise the step's timeout",
        "TEMPLATE_ERROR" => "Fix the template or provide the missing input field",
        _ => "Inspect the step's error and logs (`sluice runs show`) and retry the run",
    }
}
