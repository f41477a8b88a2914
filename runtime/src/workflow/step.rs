//! A step as the engine runs it: the kind decided, only that kind's fields, durations and
//! the retry policy parsed. Validation (`validate.rs`) is the one place that builds it from
//! the document's flat [`StepDoc`](super::model::StepDoc); the engine matches on
//! [`StepKind`] and parses nothing.
//!
//! A new step kind is one variant here, one arm in validation (`validate/steps.rs`) and one
//! file in the engine (`engine/step/`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::model::{ConditionDoc, Durability, ErrorTextsDoc, WorkflowDoc};

/// One step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub common: Common,
    pub kind: StepKind,
}

/// What every step has, whatever its kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Common {
    pub id: String,
    pub name: Option<String>,
    /// A guard: the step runs only when this template is truthy.
    pub when: Option<Value>,
    /// Absent: one attempt.
    pub retry: Option<Retry>,
    /// The step's deadline; absent: the plugin's (or the host's) limit.
    pub timeout: Option<Duration>,
    pub on_error: OnError,
    /// Report texts, see [`ErrorTextsDoc`] and `engine/report.rs`.
    pub impact: Option<String>,
    pub remediation: Option<String>,
    pub recommended_actions: Option<Vec<String>>,
    pub errors: BTreeMap<String, ErrorTextsDoc>,
}

/// A step's retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The first backoff; doubled each retry, with jitter (see `engine/retry.rs`).
    pub backoff: Duration,
    /// Retried even when the error is not marked retryable.
    pub codes: Vec<String>,
}

/// The first backoff when `retry.backoff` is not given.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(200);

/// What a step's failure does.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum OnError {
    /// The run fails (the default).
    #[default]
    Fail,
    /// The run goes on; the failure is in the report.
    Continue,
    /// These steps run; the run fails unless they recover.
    Steps(Vec<Step>),
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// `uses:` a plugin with its templated input.
    Action(Action),
    /// `if:` a condition plugin, then one branch.
    If(If),
    /// `for_each:` the body once per item.
    ForEach(ForEach),
    /// `parallel:` branches that all run to the end.
    Parallel(Parallel),
    /// `workflow:` a sub-workflow.
    Workflow(SubWorkflow),
    /// `connector:` an External App Connector call.
    Connector(Connector),
}

impl StepKind {
    /// The key that names the kind in the document (`uses`, `if`, …).
    pub fn key(&self) -> &'static str {
        match self {
            StepKind::Action(_) => "uses",
            StepKind::If(_) => "if",
            StepKind::ForEach(_) => "for_each",
            StepKind::Parallel(_) => "parallel",
            StepKind::Workflow(_) => "workflow",
            StepKind::Connector(_) => "connector",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// `plugin` or `plugin@version`.
    pub uses: String,
    pub with: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct If {
    pub condition: ConditionDoc,
    pub then: Option<Vec<Step>>,
    pub otherwise: Option<Vec<Step>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForEach {
    /// A list, or a template giving one.
    pub list: Value,
    /// The item's name in the body's scope (default `item`).
    pub item: String,
    /// Items in flight at once (at least 1).
    pub concurrency: usize,
    pub body: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parallel {
    pub branches: Vec<Vec<Step>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubWorkflow {
    pub name: String,
    pub input: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Connector {
    pub connector: String,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// Relative to the connector's base URL; may be a template.
    pub path: String,
    pub headers: Option<Value>,
    pub query: Option<Value>,
    pub body: Option<Value>,
    pub expect: Option<Vec<u16>>,
}

/// A workflow whose steps are typed: the document (kept for its name, trigger, vars,
/// output and report templates) and its steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub doc: WorkflowDoc,
    pub steps: Vec<Step>,
}

impl Workflow {
    pub fn name(&self) -> &str {
        &self.doc.name
    }

    pub fn durability(&self) -> Durability {
        self.doc.durability
    }
}
