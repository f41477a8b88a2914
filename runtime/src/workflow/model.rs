//! The workflow document as admins write it (YAML or JSON, one model), parsed strictly:
//! unknown fields are errors, and the version must be one this runtime knows.
//!
//! A step is one flat record so that a misspelt or misplaced key is reported by name; which
//! kind of step it is (action, `if`, `for_each`, `parallel`, `workflow`, `connector`) is
//! decided and checked by validation, which reports every problem at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broker::permissions::RunAs;

/// The document versions this runtime reads.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];

/// A workflow document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDoc {
    #[serde(deserialize_with = "whole")]
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub trigger: Trigger,
    /// The JumpCloud role the workflow runs as, predefined or custom (least privilege:
    /// choose the narrowest).
    pub run_as: RunAs,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Organisation variables the admin edits, available to templates as `vars`.
    #[serde(default)]
    pub vars: serde_json::Map<String, Value>,
    pub steps: Vec<StepDoc>,
    /// The run's output, templated over the final scope; default: the last step's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Fields added to the failure report when the run does not fully succeed, templated
    /// over the scope where it stopped (e.g. the provisioning workflow's `account_created`,
    /// `jumpcloud_user_id`). The report's own fields are not overridden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Value>,
    /// When the journal is flushed to disk: around every step with effects, which waits
    /// for everything before it and has its own record flushed at once (the default: a
    /// crash repeats no finished effect), or once when the run ends (a crash may run the
    /// interrupted run's steps again; for short, repeatable workflows).
    #[serde(default, skip_serializing_if = "Durability::is_default")]
    pub durability: Durability,
}

/// When a run's journal is flushed to disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    #[default]
    Step,
    Run,
}

impl Durability {
    fn is_default(&self) -> bool {
        *self == Durability::Step
    }
}

fn enabled_by_default() -> bool {
    true
}

/// What starts a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Trigger {
    /// Started by an admin (CLI, API) with input JSON matching `input_schema`.
    Manual {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input_schema: Option<Value>,
    },
    /// Started on a cron schedule (with seconds) in an IANA timezone.
    Schedule {
        cron: String,
        #[serde(default = "utc")]
        timezone: String,
        /// What the service does with fire times it missed while it was down.
        #[serde(default)]
        misfire: Misfire,
    },
    /// Started by a Directory Insights event of `event_type`, optionally filtered by a
    /// condition over the event.
    Event {
        event_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<Value>,
    },
    /// Started by a signed `POST /hooks/{workflow}`.
    Webhook {
        /// Answer with the run's output instead of 202 and the run id.
        #[serde(default)]
        respond_with_output: bool,
    },
}

/// What happens to schedule fires missed by more than the grace period (the service was
/// stopped): fires up to a minute late always run, each once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Misfire {
    /// Drop them; the schedule goes on from the next fire time.
    #[default]
    Skip,
    /// Run once for the whole missed period (for the latest missed fire time).
    RunOnce,
}

fn utc() -> String {
    "UTC".into()
}

/// One step, as written. See the module doc for why it is flat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDoc {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A guard: the step runs only when this template is truthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Value>,

    /// Action: `plugin` or `plugin@version`, with its templated input in `with`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<Value>,

    /// `if`: a condition plugin and its input, with `then` / `else` step lists.
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Vec<StepDoc>>,
    #[serde(rename = "else", default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<Vec<StepDoc>>,

    /// `for_each`: a list template, the item's name, a concurrency cap, and the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(
        default,
        deserialize_with = "whole_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub concurrency: Option<u32>,
    #[serde(rename = "do", default, skip_serializing_if = "Option::is_none")]
    pub do_steps: Option<Vec<StepDoc>>,

    /// `parallel`: branches (step lists) that all run to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<Vec<Vec<StepDoc>>>,

    /// `workflow`: a sub-workflow by name, with its input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,

    /// `connector`: an External App Connector call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(
        default,
        deserialize_with = "whole_list_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub expect: Option<Vec<u16>>,

    /// Every step: retries, a deadline (`30s`, `2m`), and what to do on error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<OnErrorDoc>,
    /// Shown in the failure report when this step fails; templates, rendered with the
    /// step's error in scope (`steps.<id>.error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// What a person should do when this step fails: a list of (templated) sentences for
    /// the report's `recommended_actions`; default: the remediation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_actions: Option<Vec<String>>,
    /// Report texts for particular error codes (`USER_ALREADY_EXISTS: { remediation: … }`).
    /// The step's own `impact`, `remediation` and `recommended_actions` describe its own
    /// failures; a failure the platform caused (rate limit, outage, timeout, refused
    /// permission or key, an error still retryable after the retries) gets the host's
    /// texts for its code, unless it is named here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, ErrorTextsDoc>,
}

/// A step's report texts for one error code; each one unset falls back as if the code were
/// not listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorTextsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_actions: Option<Vec<String>>,
}

/// The condition of an `if` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionDoc {
    pub uses: String,
    #[serde(default)]
    pub with: Value,
}

/// Retry policy of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryDoc {
    /// Attempts in all, the first included.
    #[serde(deserialize_with = "whole")]
    pub attempts: u32,
    /// First backoff (`500ms`, `2s`); doubled each retry, with jitter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    /// Retry these error codes even when the error is not marked retryable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
}

/// What a step's failure does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OnErrorDoc {
    /// `fail` (the default) or `continue`.
    Mode(OnErrorMode),
    /// Steps to run, then the run fails unless they recover.
    Steps(Vec<StepDoc>),
}

/// `fail` or `continue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnErrorMode {
    Fail,
    Continue,
}

/// An integer of the document, also when written with a zero fraction (`3.0`): JSON and its
/// Schema make them the same number.
struct Whole<T>(T);

/// The integer types of the document.
trait WholeNumber: TryFrom<u64> {
    const MAX: u64;
}

impl WholeNumber for u16 {
    const MAX: u64 = u16::MAX as u64;
}

impl WholeNumber for u32 {
    const MAX: u64 = u32::MAX as u64;
}

impl<'de, T: WholeNumber> Deserialize<'de> for Whole<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<T: WholeNumber> serde::de::Visitor<'_> for V<T> {
            type Value = Whole<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "a whole number from 0 to {}", T::MAX)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
                T::try_from(n)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
                u64::try_from(n)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
                // Whole and within the type's range (at most 2^32 here, so the cast is exact).
                if n.fract() == 0.0 && (0.0..=T::MAX as f64).contains(&n) {
                    self.visit_u64(n as u64)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(n), &self))
                }
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

fn whole<'de, D: serde::Deserializer<'de>, T: WholeNumber>(d: D) -> Result<T, D::Error> {
    Whole::<T>::deserialize(d).map(|w| w.0)
}

fn whole_opt<'de, D: serde::Deserializer<'de>, T: WholeNumber>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<Whole<T>>::deserialize(d).map(|o| o.map(|w| w.0))
}

fn whole_list_opt<'de, D: serde::Deserializer<'de>, T: WholeNumber>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Option::<Vec<Whole<T>>>::deserialize(d).map(|o| o.map(|l| l.into_iter().map(|w| w.0).collect()))
}

/// Checks a JSON document against the document's JSON Schema as the API publishes it
/// (`#/components/schemas/WorkflowDocument` of its OpenAPI document). Serde has read it
/// already and reported the usual mistakes in its words; this refuses what serde alone would
/// let through although the schema does not: a mapping written as a list of its values
/// (`"retry": [3]`), a trigger as `["manual"]`. YAML is read as serde reads it (a plain
/// scalar where text is expected is that text), so the schema applies to JSON only.
fn check_json_shape(file: &str, text: &str) -> Result<(), ParseError> {
    static VALIDATOR: std::sync::OnceLock<Result<jsonschema::Validator, String>> =
        std::sync::OnceLock::new();
    let problem = |message: String| ParseError {
        file: file.to_owned(),
        line: None,
        message,
    };
    let validator = VALIDATOR
        .get_or_init(|| {
            let openapi: Value =
                serde_json::from_str(crate::workflow::OPENAPI).map_err(|e| e.to_string())?;
            let schema = serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": "#/components/schemas/WorkflowDocument",
                "components": openapi["components"],
            });
            jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| problem(format!("the document schema does not compile: {e}")))?;
    let value: Value = serde_json::from_str(text).map_err(|e| problem(e.to_string()))?;
    match validator.iter_errors(&value).next() {
        None => Ok(()),
        Some(e) => {
            let at = e.instance_path.to_string();
            Err(problem(if at.is_empty() {
                e.to_string()
            } else {
                format!("{}: {e}", at.trim_start_matches('/').replace('/', "."))
            }))
        }
    }
}

/// A document that could not be read, with its location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ParseError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Parses a workflow document. JSON when `file` ends in `.json` or the text starts with `{`,
/// YAML otherwise.
pub fn parse(file: &str, text: &str) -> Result<WorkflowDoc, ParseError> {
    let doc: WorkflowDoc = if file.ends_with(".json") || text.trim_start().starts_with('{') {
        let doc = serde_json::from_str(text).map_err(|e| ParseError {
            file: file.to_owned(),
            line: Some(e.line()),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        })?;
        check_json_shape(file, text)?;
        doc
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| ParseError {
            file: file.to_owned(),
            line: e.location().map(|l| l.line()),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        })?
    };
    if !SUPPORTED_VERSIONS.contains(&doc.version) {
        return Err(ParseError {
            file: file.to_owned(),
            line: None,
            message: format!(
                "version {} is not supported (this runtime reads version {})",
                doc.version,
                SUPPORTED_VERSIONS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "\
version: 1
name: hello
trigger: { type: manual }
run_as: Read Only
steps:
  - id: shape
    uses: transform
    with: { greeting: 'hello ${input.name}' }
";

    #[test]
    fn yaml_and_json_read_into_one_model() {
        let yaml = parse("hello.yaml", MINIMAL).unwrap();
        assert_eq!(
            yaml.run_as,
            RunAs::Predefined(crate::broker::permissions::Role::ReadOnly)
        );
        assert!(yaml.enabled);
        assert_eq!(yaml.steps[0].uses.as_deref(), Some("transform"));
        let json = serde_json::to_string(&yaml).unwrap();
        assert_eq!(parse("hello.json", &json).unwrap(), yaml);
    }

    #[test]
    fn unknown_fields_are_errors_with_a_line() {
        let text = MINIMAL.replace("    uses: transform", "    uses: transform\n    wiht: {}");
        let err = parse("hello.yaml", &text).unwrap_err();
        assert_eq!(err.line, Some(8), "{err}");
        assert!(err.message.contains("unknown field `wiht`"), "{err}");
        assert!(
            err.to_string()
                .starts_with("hello.yaml:8: steps[0]: unknown field `wiht`"),
            "{err}"
        );
    }

    #[test]
    fn report_texts_per_error_code_are_read_strictly() {
        let text = MINIMAL.replace(
            "    with: { greeting: 'hello ${input.name}' }\n",
            "    with: { greeting: 'hello ${input.name}' }\n    remediation: Fix it\n    \
             errors:\n      USER_ALREADY_EXISTS: { remediation: Use it, recommended_actions: [a] }\n",
        );
        let doc = parse("w.yaml", &text).unwrap();
        let step = &doc.steps[0];
        assert_eq!(step.remediation.as_deref(), Some("Fix it"));
        let dup = &step.errors["USER_ALREADY_EXISTS"];
        assert_eq!(dup.remediation.as_deref(), Some("Use it"));
        assert_eq!(dup.recommended_actions, Some(vec!["a".to_owned()]));
        assert_eq!(dup.impact, None);
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(parse("w.json", &json).unwrap(), doc);
        let misspelt = text.replace("{ remediation: Use it", "{ remedy: Use it");
        let err = parse("w.yaml", &misspelt).unwrap_err();
        assert!(err.message.contains("unknown field `remedy`"), "{err}");
        assert_eq!(err.line, Some(11), "{err}");
    }

    #[test]
    fn bad_types_versions_and_roles_are_reported() {
        let err = parse("w.yaml", &MINIMAL.replace("version: 1", "version: 2")).unwrap_err();
        assert!(err.message.contains("version 2 is not supported"), "{err}");
        // Any name parses (a custom role's); validation says whether it is defined.
        let doc = parse("w.yaml", &MINIMAL.replace("Read Only", "Root")).unwrap();
        assert_eq!(doc.run_as, RunAs::Custom("Root".into()));
        let err = parse("w.yaml", &MINIMAL.replace("Read Only", "[Root]")).unwrap_err();
        assert!(err.message.contains("invalid type"), "{err}");
        let err = parse("w.yaml", &MINIMAL.replace("type: manual", "type: cronjob")).unwrap_err();
        assert!(err.message.contains("unknown variant `cronjob`"), "{err}");
        let err = parse("w.json", "{\"version\": \"one\"}").unwrap_err();
        assert!(err.message.contains("invalid type"), "{err}");
        assert!(parse("w.yaml", "steps: [").is_err());
    }

    /// JSON documents are read exactly as the published schema describes them.
    #[test]
    fn json_documents_follow_the_published_schema() {
        let doc = parse("hello.yaml", MINIMAL).unwrap();
        let mut json = serde_json::to_value(&doc).unwrap();
        json["steps"][0]["retry"] = serde_json::json!({"attempts": 3.0, "codes": []});
        json["steps"][0]["expect"] = serde_json::json!([200.0, 201]);
        json["version"] = serde_json::json!(1.0);
        let read = parse("w.json", &json.to_string()).unwrap();
        assert_eq!(read.steps[0].retry.as_ref().unwrap().attempts, 3);
        assert_eq!(read.steps[0].expect, Some(vec![200, 201]));
        for (at, value, says) in [
            ("retry", serde_json::json!([3]), "steps.0.retry"),
            ("if", serde_json::json!(["compare", {}]), "steps.0.if"),
            (
                "errors",
                serde_json::json!({"X": [null]}),
                "steps.0.errors.X",
            ),
            ("expect", serde_json::json!([2.5]), "2.5"),
            ("concurrency", serde_json::json!(-1), "-1"),
        ] {
            let mut bad = json.clone();
            bad["steps"][0][at] = value;
            let err = parse("w.json", &bad.to_string()).unwrap_err();
            assert!(err.message.contains(says), "{at}: {err}");
        }
        let mut bad = json.clone();
        bad["trigger"] = serde_json::json!(["manual"]);
        assert!(parse("w.json", &bad.to_string()).is_err());
        let steps = serde_json::json!([doc.steps[0].id, doc.steps[0].uses]);
        json["steps"] = serde_json::json!([steps]);
        assert!(parse("w.json", &json.to_string()).is_err());
        // YAML reads a plain scalar where text is expected as that text.
        let yaml = MINIMAL.replace("id: shape", "id: 1");
        assert_eq!(parse("w.yaml", &yaml).unwrap().steps[0].id, "1");
    }

    /// Every example and template, as JSON, is a document the schema admits.
    #[test]
    fn the_examples_follow_the_published_schema() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        let mut seen = 0;
        for dir in [root.to_owned(), format!("{root}/templates")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "yaml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let doc = parse("w.yaml", &text).unwrap();
                    let json = serde_json::to_string(&doc).unwrap();
                    assert_eq!(parse("w.json", &json).unwrap(), doc, "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen >= 10, "{seen} examples");
    }
}
