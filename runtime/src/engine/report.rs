//! The failure report: what completed, what failed with which error, its impact and
//! remediation, and whether a person has to step in.
//!
//! Texts fit the error. A step's own `impact`, `remediation` and `recommended_actions`
//! describe its own failures, the codes its author had in mind; a failure the platform
//! caused — a rate limit, an outage, a timeout, a refused permission or API key, or any
//! error still retryable once the step's retries are spent — gets the host's texts for its
//! code instead (an outage at a duplicate check says to retry
//! later, not to use the existing account). A step overrides either for a code it names
//! under `errors:`.

use serde_json::{Value, json};

use super::FailedStep;
use crate::code::Code;
use crate::host::{StepError, codes};
use crate::workflow::step::Common;

/// The host's texts for an error code.
struct Known {
    code: Code,
    /// The platform causes it, not the step's logic: the host's texts win over the step's.
    platform: bool,
    /// Completes "step `x` did not complete: …".
    cause: &'static str,
    remediation: &'static str,
}

/// How to retry what failed, for the remediations of temporary errors.
macro_rules! retry_later {
    ($first:literal) => {
        concat!(
            $first,
            ", then retry the run from the failed step (the service's \
             `POST /api/v1/runs/RUN_ID/retry`; the steps before it are not repeated)"
        )
    };
}

const KNOWN: &[Known] = &[
    Known {
        code: Code::ApiRateLimit,
        platform: true,
        cause: "JumpCloud's rate limit refused its calls after every retry",
        remediation: retry_later!(
            "JumpCloud was rate limiting: wait a few minutes (and lower \
             SLUICE_JUMPCLOUD_RATE_LIMIT or run fewer workflows at once if it recurs)"
        ),
    },
    Known {
        code: Code::JumpcloudUnavailable,
        platform: true,
        cause: "JumpCloud did not answer, or answered with server errors, after every retry",
        remediation: retry_later!(
            "JumpCloud was unavailable: check its status (status.jumpcloud.com) and wait until \
             it answers again"
        ),
    },
    Known {
        code: Code::AuthenticationFailed,
        platform: true,
        cause: "JumpCloud refused the API key",
        remediation: "Check the API key Sluice uses (SLUICE_JUMPCLOUD_API_KEY or the stored \
                      `jumpcloud.api_key`) and that its administrator is still active, then \
                      retry the run",
    },
    Known {
        code: codes::PERMISSION_DENIED,
        platform: true,
        cause: "a call was refused for lack of permission",
        remediation: "Grant the plugin the permission it needs, or run the workflow as a role \
                      that has the scope",
    },
    Known {
        code: codes::PLUGIN_TIMEOUT,
        platform: true,
        cause: "it ran past its deadline",
        remediation: "Check the service the step calls, or raise the step's timeout",
    },
    Known {
        code: Code::ConnectorTimeout,
        platform: true,
        cause: "the external application did not answer in time",
        remediation: retry_later!("Check that the connector's application is up"),
    },
    Known {
        code: Code::ConnectorUnreachable,
        platform: true,
        cause: "the external application could not be reached",
        remediation: retry_later!("Check that the connector's application is up"),
    },
    Known {
        code: Code::TemplateError,
        platform: false,
        cause: "a template in its input could not be rendered",
        remediation: "Fix the template or provide the missing input field",
    },
];

const TEMPORARY_REMEDIATION: &str = retry_later!(
    "The error is temporary: wait a few minutes (if it persists, check the service the \
     step calls)"
);

const GENERIC_REMEDIATION: &str =
    "Inspect the step's error and logs (`sluice runs show`) and retry the run";

fn known(code: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.code == code)
}

/// Whether the platform, not the step's own logic, caused `error`: its report texts are
/// then the host's unless the step names the code under `errors:`.
pub fn platform_caused(error: &StepError) -> bool {
    error.retryable || known(&error.code).is_some_and(|k| k.platform)
}

/// The texts a step gives that apply to a failure with `error`; `None` where the host's
/// default for the code applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepTexts<'a> {
    pub impact: Option<&'a String>,
    pub remediation: Option<&'a String>,
    pub recommended_actions: Option<&'a Vec<String>>,
}

/// Picks, for each text, the one `s` gives for the error's code under `errors:`, else the
/// step's own unless the platform caused the error.
pub fn step_texts<'a>(s: &'a Common, error: &StepError) -> StepTexts<'a> {
    let named = s.errors.get(&error.code);
    let own = !platform_caused(error);
    StepTexts {
        impact: named
            .and_then(|n| n.impact.as_ref())
            .or_else(|| s.impact.as_ref().filter(|_| own)),
        remediation: named
            .and_then(|n| n.remediation.as_ref())
            .or_else(|| s.remediation.as_ref().filter(|_| own)),
        recommended_actions: named
            .and_then(|n| n.recommended_actions.as_ref())
            .or_else(|| s.recommended_actions.as_ref().filter(|_| own)),
    }
}

/// The number of a code of the table (`ERR-GRP-001` for `GROUP_NOT_FOUND`); `None` for a
/// code a plugin defines that the table does not list.
fn number(code: &str) -> Option<&'static str> {
    Code::from_name(code).map(Code::number)
}

/// The host's impact for a failure the step gave no text for.
fn default_impact(f: &FailedStep) -> String {
    let step = &f.step;
    match known(&f.error.code) {
        Some(k) => format!("step `{step}` did not complete: {}", k.cause),
        None if f.error.retryable => format!(
            "step `{step}` did not complete: a temporary error ({}) outlasted its retries",
            f.error.code
        ),
        None => format!("step `{step}` did not complete"),
    }
}

/// The host's remediation for a failure the step gave no text for.
fn default_remediation(error: &StepError) -> &'static str {
    match known(&error.code) {
        Some(k) => k.remediation,
        None if error.retryable => TEMPORARY_REMEDIATION,
        None => GENERIC_REMEDIATION,
    }
}

/// Builds the report from the steps that completed and the ones that failed.
pub fn failure_report(completed: &[String], failures: &[FailedStep]) -> Value {
    let remediation = |f: &FailedStep| {
        f.remediation
            .clone()
            .unwrap_or_else(|| default_remediation(&f.error).to_owned())
    };
    let failed_steps: Vec<Value> = failures
        .iter()
        .map(|f| {
            // As the source format has it: the symbolic code is the type, its number the
            // code; where the error came from is a field of its own.
            let mut error = json!({
                "type": f.error.code,
                "code": number(&f.error.code),
                "origin": f.error.origin,
                "message": f.error.message,
                "timestamp": f.timestamp,
                "details": f.error.details,
            });
            // Scalar details (`affected_group`, counts) sit beside the code.
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
                "impact": f.impact.clone().unwrap_or_else(|| default_impact(f)),
                "remediation": remediation(f),
                "handled": f.handled,
            })
        })
        .collect();
    let unhandled = failures.iter().any(|f| !f.handled);
    let mut actions: Vec<String> = Vec::new();
    for f in failures {
        let mine = if f.recommended_actions.is_empty() {
            vec![remediation(f)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::ErrorSource;
    use crate::workflow::model::ErrorTextsDoc;

    fn plugin_error(code: &str, retryable: bool) -> StepError {
        StepError {
            code: code.into(),
            message: "m".into(),
            retryable,
            details: None,
            origin: ErrorSource::Plugin,
        }
    }

    fn step() -> Common {
        Common {
            id: "duplicate_check".into(),
            impact: Some("Nothing was changed.".into()),
            remediation: Some("Use the existing account".into()),
            recommended_actions: Some(vec!["Check the existing user".into()]),
            errors: [(
                "JUMPCLOUD_UNAVAILABLE".to_owned(),
                ErrorTextsDoc {
                    remediation: Some("Call the JumpCloud admin".into()),
                    ..Default::default()
                },
            )]
            .into(),
            ..Default::default()
        }
    }

    fn failed(s: &Common, error: StepError) -> FailedStep {
        let t = step_texts(s, &error);
        FailedStep {
            step: s.id.clone(),
            path: "steps[1]".into(),
            error,
            timestamp: "t".into(),
            impact: t.impact.cloned(),
            remediation: t.remediation.cloned(),
            recommended_actions: t.recommended_actions.cloned().unwrap_or_default(),
            handled: false,
        }
    }

    #[test]
    fn the_steps_own_texts_apply_to_its_own_errors() {
        let s = step();
        let r = failure_report(
            &[],
            &[failed(&s, plugin_error("USER_ALREADY_EXISTS", false))],
        );
        let f = &r["failed_steps"][0];
        assert_eq!(f["impact"], "Nothing was changed.");
        assert_eq!(f["remediation"], "Use the existing account");
        assert_eq!(r["recommended_actions"], json!(["Check the existing user"]));
    }

    #[test]
    fn platform_errors_get_the_hosts_texts_unless_the_step_names_the_code() {
        let s = step();
        for (code, retryable) in [
            ("API_RATE_LIMIT", true),
            ("AUTHENTICATION_FAILED", false),
            ("GROUP_MEMBERSHIP_FAILED", true),
        ] {
            let r = failure_report(&[], &[failed(&s, plugin_error(code, retryable))]);
            let f = &r["failed_steps"][0];
            let remediation = f["remediation"].as_str().unwrap();
            assert!(!remediation.contains("existing account"), "{code}: {r:#}");
            assert!(
                f["impact"]
                    .as_str()
                    .unwrap()
                    .starts_with("step `duplicate_check` did not complete: "),
                "{code}: {r:#}"
            );
            assert_eq!(r["recommended_actions"], json!([remediation]), "{code}");
        }
        let rate = failure_report(&[], &[failed(&s, plugin_error("API_RATE_LIMIT", true))]);
        assert!(
            rate["failed_steps"][0]["remediation"]
                .as_str()
                .unwrap()
                .contains("retry the run from the failed step"),
            "{rate:#}"
        );
        // Named under `errors:`: the step's text for that code wins; the others fall back.
        let named = failure_report(
            &[],
            &[failed(&s, plugin_error("JUMPCLOUD_UNAVAILABLE", true))],
        );
        let f = &named["failed_steps"][0];
        assert_eq!(f["remediation"], "Call the JumpCloud admin");
        assert_eq!(
            f["impact"],
            "step `duplicate_check` did not complete: JumpCloud did not answer, or answered with \
             server errors, after every retry"
        );
    }

    #[test]
    fn a_step_without_texts_gets_the_defaults() {
        let s = Common {
            id: "x".into(),
            ..Default::default()
        };
        let r = failure_report(&["a".into()], &[failed(&s, plugin_error("NOPE", false))]);
        let f = &r["failed_steps"][0];
        assert_eq!(f["impact"], "step `x` did not complete");
        assert_eq!(f["remediation"], GENERIC_REMEDIATION);
        assert_eq!(r["partial_completion"], true);
        assert_eq!(r["manual_intervention_required"], true);
    }

    #[test]
    fn the_error_reads_as_its_source_format_type_number_and_origin() {
        let s = step();
        let r = failure_report(&[], &[failed(&s, plugin_error("GROUP_NOT_FOUND", false))]);
        let e = &r["failed_steps"][0]["error"];
        assert_eq!(e["type"], "GROUP_NOT_FOUND");
        assert_eq!(e["code"], "ERR-GRP-001");
        assert_eq!(e["origin"], "plugin");
        let host = StepError::host(codes::PLUGIN_TIMEOUT, "late");
        let r = failure_report(&[], &[failed(&s, host)]);
        let e = &r["failed_steps"][0]["error"];
        assert_eq!(e["type"], "PLUGIN_TIMEOUT");
        assert_eq!(e["code"], codes::PLUGIN_TIMEOUT.number());
        assert_eq!(e["origin"], "host");
        // A code of a plugin's own has no number.
        let r = failure_report(&[], &[failed(&s, plugin_error("NOPE", false))]);
        let e = &r["failed_steps"][0]["error"];
        assert_eq!((&e["type"], &e["code"]), (&json!("NOPE"), &Value::Null));
    }
}
