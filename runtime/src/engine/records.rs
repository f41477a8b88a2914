//! What the engine keeps: the run record, the journal's step records with their attempts,
//! the summaries lists show, and the engine's own errors (as opposed to a step failing).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broker::HostCall;
use crate::code::Code;
use crate::host::registry::Pins;
use crate::host::{LogLine, StepError};
use crate::store::StoreError;
use crate::workflow::model::WorkflowDoc;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// Finished, but some steps failed and were continued or handled.
    PartiallyCompleted,
    Cancelled,
}

impl RunStatus {
    /// Every status, in lifecycle order (for error messages and docs).
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::PartiallyCompleted,
        RunStatus::Cancelled,
    ];

    /// Parses a status name (`succeeded`, `partially_completed`, …); the error lists them.
    pub fn parse(name: &str) -> Result<RunStatus, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.to_string() == name)
            .ok_or_else(|| {
                let names: Vec<String> = Self::ALL.iter().map(ToString::to_string).collect();
                format!("unknown run status `{name}`: one of {}", names.join(", "))
            })
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
        f.write_str(v.as_str().unwrap_or_default())
    }
}

/// The fields of a run that lists show; decoded without the rest of the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub workflow: String,
    pub status: RunStatus,
    #[serde(default)]
    pub trigger: Option<TriggerKind>,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

impl RunSummary {
    /// The row lists show (API and CLI alike); the trigger as its type name.
    pub fn row(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "workflow": self.workflow,
            "status": self.status,
            "trigger": self.trigger.as_ref().and_then(|t| t.kind.as_deref()),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        })
    }
}

/// The type of what started a run (`manual`, `schedule`, `event`, `webhook`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TriggerKind {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// Which runs a listing shows.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub workflow: Option<String>,
    pub status: Option<RunStatus>,
    /// Only runs that have not finished.
    pub unfinished: bool,
}

impl RunQuery {
    pub(super) fn matches(&self, run: &RunSummary) -> bool {
        self.workflow.as_ref().is_none_or(|w| &run.workflow == w)
            && self.status.is_none_or(|s| run.status == s)
            && (!self.unfinished || !run.status.is_finished())
    }
}

/// One page of a run listing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A run, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub workflow: String,
    pub status: RunStatus,
    /// The workflow as it was when the run started (a resumed run uses this version).
    pub doc: WorkflowDoc,
    /// Sub-workflows by name, as they were when the run started.
    #[serde(default)]
    pub subworkflows: BTreeMap<String, WorkflowDoc>,
    pub input: Value,
    pub trigger: Value,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub output: Option<Value>,
    /// The failure report when the run failed or partially completed.
    #[serde(default)]
    pub report: Option<Value>,
    /// How many times execution was (re)started: 1, or more after resumption.
    #[serde(default)]
    pub executions: u32,
    /// What each `uses:` resolved to: the saved version's pins, and what the run resolved
    /// itself when it started (a workflow run from a file, a sub-workflow changed since).
    #[serde(default, skip_serializing_if = "Pins::is_empty")]
    pub pins: Pins,
}

impl RunRecord {
    /// A new run, queued, with a fresh id.
    pub(super) fn queued(
        doc: WorkflowDoc,
        subworkflows: BTreeMap<String, WorkflowDoc>,
        pins: Pins,
        input: Value,
        trigger: Value,
    ) -> RunRecord {
        RunRecord {
            id: new_run_id(),
            workflow: doc.name.clone(),
            status: RunStatus::Queued,
            doc,
            subworkflows,
            input,
            trigger,
            started_at: now(),
            finished_at: None,
            output: None,
            report: None,
            executions: 0,
            pins,
        }
    }
}

/// One step's record in the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub path: String,
    pub step: String,
    pub kind: String,
    pub attempts: Vec<Attempt>,
    #[serde(with = "crate::host::error::result_json")]
    pub result: Result<Value, StepError>,
    pub finished_at: String,
}

/// One attempt of a leaf step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub attempt: u32,
    pub input: Value,
    #[serde(with = "crate::host::error::result_json")]
    pub result: Result<Value, StepError>,
    pub logs: Vec<LogLine>,
    pub calls: Vec<HostCall>,
    pub started_at: String,
    pub duration_us: u64,
}

/// Why the engine could not run something at all (as opposed to a step failing).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("run {0} does not exist")]
    NoSuchRun(String),
    #[error("run {0} has already finished; there is nothing to cancel or resume")]
    Finished(String),
    /// Resuming a run that is queued or executing in this process (it would run twice).
    #[error("run {0} is already queued or executing; there is nothing to resume")]
    Active(String),
    #[error("corrupt run record: {0}")]
    Corrupt(String),
    /// Execution here stopped: another node took the run over.
    #[error("run {0} was taken over by another node, which finishes it")]
    Abandoned(String),
    #[error("run {0} has not finished; cancel it or wait before retrying")]
    NotFinished(String),
    #[error(
        "run {0}'s input had write-only fields (such as a password) that are not kept after \
         a run ends; start a new run with the full input instead"
    )]
    InputNotKept(String),
}

impl EngineError {
    pub fn code(&self) -> Code {
        match self {
            EngineError::Store(e) => e.code(),
            EngineError::NoSuchRun(_) => Code::RunNotFound,
            EngineError::Finished(_) => Code::RunFinished,
            EngineError::Active(_) | EngineError::Abandoned(_) => Code::RunActive,
            EngineError::Corrupt(_) => Code::StoreCorrupt,
            EngineError::NotFinished(_) => Code::RunNotFinished,
            EngineError::InputNotKept(_) => Code::RunInputNotKept,
        }
    }
}

/// The time now, as records keep it (RFC 3339, milliseconds).
pub(super) fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

static RUN_SEQ: AtomicU64 = AtomicU64::new(0);

/// A new run id: sortable by time, unique within and across processes.
pub fn new_run_id() -> String {
    let micros = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    let seq = RUN_SEQ.fetch_add(1, Ordering::Relaxed);
    format!(
        "{micros:016}-{:04x}{:04x}",
        std::process::id() & 0xffff,
        seq & 0xffff
    )
}

/// A step that failed, for the failure report.
#[derive(Debug, Clone, Serialize)]
pub struct FailedStep {
    pub step: String,
    pub path: String,
    pub error: StepError,
    pub timestamp: String,
    pub impact: Option<String>,
    pub remediation: Option<String>,
    pub recommended_actions: Vec<String>,
    pub handled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_parse_from_their_names_and_say_which_are_finished() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(&s.to_string()), Ok(s));
        }
        assert_eq!(
            RunStatus::PartiallyCompleted.to_string(),
            "partially_completed"
        );
        let err = RunStatus::parse("done").unwrap_err();
        assert!(err.starts_with("unknown run status `done`"), "{err}");
        assert!(err.contains("partially_completed"), "{err}");
        let finished: Vec<RunStatus> = RunStatus::ALL
            .into_iter()
            .filter(|s| s.is_finished())
            .collect();
        assert_eq!(
            finished,
            [
                RunStatus::Succeeded,
                RunStatus::Failed,
                RunStatus::PartiallyCompleted,
                RunStatus::Cancelled
            ]
        );
    }

    #[test]
    fn run_ids_are_unique_and_sort_by_time() {
        let ids: Vec<String> = (0..2000).map(|_| new_run_id()).collect();
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert!(
            ids.iter().all(|id| id.len() == 25 && &id[16..17] == "-"),
            "{ids:?}"
        );
        assert!(ids.windows(2).all(|w| w[0][..16] <= w[1][..16]));
    }

    fn summary(workflow: &str, status: RunStatus) -> RunSummary {
        RunSummary {
            id: new_run_id(),
            workflow: workflow.into(),
            status,
            trigger: None,
            started_at: now(),
            finished_at: None,
        }
    }

    #[test]
    fn queries_match_on_workflow_status_and_unfinished() {
        let all = RunQuery::default();
        let by_name = RunQuery {
            workflow: Some("a".into()),
            ..RunQuery::default()
        };
        let failed = RunQuery {
            status: Some(RunStatus::Failed),
            ..RunQuery::default()
        };
        let open = RunQuery {
            unfinished: true,
            ..RunQuery::default()
        };
        let a_running = summary("a", RunStatus::Running);
        let b_failed = summary("b", RunStatus::Failed);
        assert!(all.matches(&a_running) && all.matches(&b_failed));
        assert!(by_name.matches(&a_running) && !by_name.matches(&b_failed));
        assert!(!failed.matches(&a_running) && failed.matches(&b_failed));
        assert!(open.matches(&a_running) && !open.matches(&b_failed));
        assert!(open.matches(&summary("c", RunStatus::Queued)));
    }

    #[test]
    fn a_summary_decodes_from_the_full_record() {
        let doc = crate::workflow::model::parse(
            "w.yaml",
            "version: 1\nname: w\ntrigger: { type: manual }\nrun_as: Read Only\nsteps:\n  - { id: a, uses: transform }\n",
        )
        .unwrap();
        let run = RunRecord::queued(
            doc,
            BTreeMap::new(),
            Pins::new(),
            json!({"x": 1}),
            json!({"type": "webhook", "at": "t"}),
        );
        assert_eq!((run.status, run.executions), (RunStatus::Queued, 0));
        assert_eq!(run.workflow, "w");
        let bytes = serde_json::to_vec(&run).unwrap();
        let s: RunSummary = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            (s.id.as_str(), s.status),
            (run.id.as_str(), RunStatus::Queued)
        );
        assert_eq!(s.row()["trigger"], "webhook");
        assert_eq!(s.row()["finished_at"], Value::Null);
        let back: RunRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.doc, run.doc);
        assert_eq!(back.input, json!({"x": 1}));
    }

    #[test]
    fn step_records_keep_results_and_errors() {
        let rec = StepRecord {
            path: "a.then.b".into(),
            step: "b".into(),
            kind: "action".into(),
            attempts: vec![Attempt {
                attempt: 1,
                input: json!({}),
                result: Err(StepError::host(Code::StoreError, "it failed")),
                logs: Vec::new(),
                calls: Vec::new(),
                started_at: now(),
                duration_us: 5,
            }],
            result: Ok(json!({"ok": true})),
            finished_at: now(),
        };
        let back: StepRecord = serde_json::from_slice(&serde_json::to_vec(&rec).unwrap()).unwrap();
        assert_eq!(back.result.unwrap(), json!({"ok": true}));
        let err = back.attempts[0].result.clone().unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("STORE_ERROR", "it failed")
        );
    }

    #[test]
    fn engine_errors_name_their_codes() {
        let r = || "r1".to_owned();
        for (e, code) in [
            (EngineError::NoSuchRun(r()), "RUN_NOT_FOUND"),
            (EngineError::Finished(r()), "RUN_FINISHED"),
            (EngineError::Active(r()), "RUN_ACTIVE"),
            (EngineError::Corrupt(r()), "STORE_CORRUPT"),
            (EngineError::NotFinished(r()), "RUN_NOT_FINISHED"),
            (EngineError::InputNotKept(r()), "RUN_INPUT_NOT_KEPT"),
        ] {
            assert_eq!(e.code(), code);
            assert!(e.to_string().contains("r1"), "{e}");
        }
    }
}
