//! Executing runs: steps, flows (`if`, `for_each`, `parallel`, sub-workflows), connector
//! calls, retries, error handling, and the journal that makes a run durable.
//!
//! Durability is by replay: every finished leaf step (a plugin call, a condition, a
//! connector call) is journaled under its path in the run before the run moves on. The
//! journal is written ahead of effects (concurrent runs share flushes): a step whose plugin
//! holds a permission waits until everything before it is on disk and has its own record
//! flushed at once; the run's end waits for the whole journal. Executing a run walks the
//! workflow from the top; a leaf whose path is already journaled is not called again, its
//! recorded result is used. So a run interrupted by a crash resumes where it stopped and a
//! finished step with effects does not run twice; a step in flight at the crash runs again,
//! and so may a permission-less step whose record had not been flushed yet.
//!
//! # Layout
//! - this file: [`Engine`], run records, the step walker;
//! - `report.rs`: the failure report, its texts fitted to each error's code.

pub mod report;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::broker::HostCall;
use crate::broker::permissions::Grants;
use crate::plugin::manifest::PluginKind;
use crate::plugin::registry::{PluginRecord, Registry};
use crate::plugin::{CallContext, ErrorSource, LoadedPlugin, LogLine, StepError};
use crate::store::{RunStore, SledStore, StoreError};
use crate::workflow::model::{Durability, OnErrorDoc, OnErrorMode, StepDoc, Trigger, WorkflowDoc};
use crate::workflow::redact;
use crate::workflow::template;
use crate::workflow::validate::CONNECTOR_PLUGIN;

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
    fn matches(&self, run: &RunSummary) -> bool {
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
}

impl RunRecord {
    /// A new run, queued, with a fresh id.
    fn queued(
        doc: WorkflowDoc,
        subworkflows: BTreeMap<String, WorkflowDoc>,
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
    #[serde(with = "crate::plugin::error::result_json")]
    pub result: Result<Value, StepError>,
    pub finished_at: String,
}

/// One attempt of a leaf step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub attempt: u32,
    pub input: Value,
    #[serde(with = "crate::plugin::error::result_json")]
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
    #[error("run {0} has not finished; cancel it or wait before retrying")]
    NotFinished(String),
    #[error(
        "run {0}'s input had write-only fields (such as a password) that are not kept after \
         a run ends; start a new run with the full input instead"
    )]
    InputNotKept(String),
}

impl EngineError {
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Store(e) => e.code(),
            EngineError::NoSuchRun(_) => "RUN_NOT_FOUND",
            EngineError::Finished(_) => "RUN_FINISHED",
            EngineError::Active(_) => "RUN_ACTIVE",
            EngineError::Corrupt(_) => "STORE_CORRUPT",
            EngineError::NotFinished(_) => "RUN_NOT_FINISHED",
            EngineError::InputNotKept(_) => "RUN_INPUT_NOT_KEPT",
        }
    }
}

fn now() -> String {
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

/// A failure that stops the run (an unhandled step error).
#[derive(Debug, Clone)]
struct Stop;

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

/// Observes a run's progress (the CLI prints it; tests count it).
pub trait Progress: Send + Sync {
    fn step_finished(&self, _run: &str, _path: &str, _ok: bool, _replayed: bool) {}
    /// A step ran (not replayed) and its record was journaled.
    fn step_recorded(&self, _run: &str, _record: &StepRecord) {}
}

/// A progress observer that says nothing.
#[derive(Debug, Default)]
pub struct Quiet;
impl Progress for Quiet {}

/// Runs workflows.
pub struct Engine {
    registry: Arc<Registry>,
    store: Arc<SledStore>,
    /// Runs executing in this process, and those asked to stop.
    executing: std::sync::Mutex<std::collections::HashSet<String>>,
    cancelled: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

struct RunCtx<'a> {
    engine: &'a Engine,
    run: &'a RunRecord,
    progress: &'a dyn Progress,
    /// The run's write-only input values, masked wherever the run records text.
    secrets: Vec<String>,
    /// What the journal held when the run started (a resumed run, or a retry's copied
    /// steps), by step path: those steps are not run again.
    journaled: BTreeMap<String, StepRecord>,
    plugins: Mutex<BTreeMap<String, (PluginRecord, LoadedPlugin)>>,
    failures: Mutex<Vec<FailedStep>>,
    completed: Mutex<Vec<String>>,
    /// The scope where the last failure happened, for the workflow's `report:` fields.
    failed_scope: Mutex<Option<Value>>,
    /// The run-as role, resolved when the run (or its resumption) started: a custom role
    /// with the scopes it had then; one not defined grants nothing.
    role: crate::broker::permissions::RunRole,
}

impl Engine {
    pub fn new(registry: Arc<Registry>, store: Arc<SledStore>) -> Self {
        Self {
            registry,
            store,
            executing: Default::default(),
            cancelled: Default::default(),
        }
    }

    /// Asks a run to stop. A run executing in this process stops before its next step (the
    /// step in flight finishes and is journaled); a run that is not executing (queued, or
    /// interrupted) is marked cancelled at once.
    pub fn cancel(&self, id: &str) -> Result<RunRecord, EngineError> {
        let mut run = self.get(id)?;
        if run.status.is_finished() {
            return Err(EngineError::Finished(id.to_owned()));
        }
        lock(&self.cancelled).insert(id.to_owned());
        if !lock(&self.executing).contains(id) {
            run.status = RunStatus::Cancelled;
            run.finished_at = Some(now());
            self.save(&run)?;
            self.store.sensitive_remove(id)?;
            self.store.flush()?;
        }
        Ok(run)
    }

    fn is_cancelled(&self, id: &str) -> bool {
        lock(&self.cancelled).contains(id)
    }

    pub fn store(&self) -> &Arc<SledStore> {
        &self.store
    }

    /// The plugin host runs call into (and whose guest pool they run on).
    pub fn host(&self) -> &Arc<crate::plugin::PluginHost> {
        self.registry.host()
    }

    /// Records a new run (status `queued`) and returns it.
    pub fn create_run(
        &self,
        doc: WorkflowDoc,
        subworkflows: BTreeMap<String, WorkflowDoc>,
        input: Value,
        trigger: Value,
    ) -> Result<RunRecord, EngineError> {
        let (input, originals) = redacted_input(&doc, input);
        let record = RunRecord::queued(doc, subworkflows, input, trigger);
        if !originals.is_empty() {
            self.store
                .sensitive_put(&record.id, &Value::Object(originals))?;
        }
        self.save(&record)?;
        Ok(record)
    }

    /// Records a new run for trigger fire `fire` (a schedule time, an event id) unless that
    /// fire already has a run; returns the run and whether it is new. One transaction, so a
    /// fire never gets two runs, also across crashes and restarts.
    pub fn create_run_once(
        &self,
        fire: &str,
        doc: WorkflowDoc,
        subworkflows: BTreeMap<String, WorkflowDoc>,
        input: Value,
        trigger: Value,
    ) -> Result<(RunRecord, bool), EngineError> {
        let (input, originals) = redacted_input(&doc, input);
        let record = RunRecord::queued(doc, subworkflows, input, trigger);
        if !originals.is_empty() {
            self.store
                .sensitive_put(&record.id, &Value::Object(originals))?;
        }
        let v = serde_json::to_value(&record).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        match crate::store::ServiceStore::run_put_once(&*self.store, fire, &record.id, &v)? {
            None => Ok((record, true)),
            Some(existing) => {
                self.store.sensitive_remove(&record.id)?;
                Ok((self.get(&existing)?, false))
            }
        }
    }

    /// A new run of a finished run's workflow version and input. From the start, or from
    /// the failed step: then every step that succeeded is copied into the new run's journal
    /// and replays instead of running again.
    pub fn retry(&self, id: &str, from_start: bool) -> Result<RunRecord, EngineError> {
        let old = self.get(id)?;
        if !old.status.is_finished() {
            return Err(EngineError::NotFinished(id.to_owned()));
        }
        if let Trigger::Manual {
            input_schema: Some(schema),
        } = &old.doc.trigger
            && redact::has_write_only(schema)
            && old.input.to_string().contains(redact::REDACTED)
        {
            return Err(EngineError::InputNotKept(id.to_owned()));
        }
        let trigger = json!({
            "type": "retry",
            "retry_of": old.id,
            "from": if from_start { "start" } else { "failed_step" },
            "original_trigger": old.trigger,
        });
        let run = self.create_run(old.doc, old.subworkflows, old.input, trigger)?;
        if !from_start {
            for rec in self.journal(id)? {
                if rec.result.is_ok() {
                    let v = serde_json::to_vec(&rec)
                        .map_err(|e| EngineError::Corrupt(e.to_string()))?;
                    self.store.journal_put(&run.id, &v)?;
                }
            }
        }
        self.store.flush()?;
        Ok(run)
    }

    fn save(&self, record: &RunRecord) -> Result<(), EngineError> {
        let v = serde_json::to_vec(record).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        self.store.run_put(&record.id, &v)?;
        Ok(())
    }

    /// A run by id.
    pub fn get(&self, id: &str) -> Result<RunRecord, EngineError> {
        let v = self
            .store
            .run_get(id)?
            .ok_or_else(|| EngineError::NoSuchRun(id.to_owned()))?;
        serde_json::from_value(v).map_err(|e| EngineError::Corrupt(e.to_string()))
    }

    /// A page of runs, newest first: those after the run `after` (exclusive) that match
    /// `query`, at most `limit`. `next` names the last run of the page when more match.
    /// Only each run's summary fields are decoded, one record at a time.
    pub fn runs(
        &self,
        query: &RunQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<RunPage, EngineError> {
        let mut page = RunPage::default();
        self.store.run_scan(after, &mut |key, bytes| {
            let run: RunSummary =
                serde_json::from_slice(bytes).map_err(|e| crate::store::StoreError::Corrupt {
                    key: key.to_owned(),
                    reason: e.to_string(),
                })?;
            if !query.matches(&run) {
                return Ok(true);
            }
            if page.runs.len() == limit {
                page.next = page.runs.last().map(|r| r.id.clone());
                return Ok(false);
            }
            page.runs.push(run);
            Ok(true)
        })?;
        Ok(page)
    }

    /// A run's journal.
    pub fn journal(&self, id: &str) -> Result<Vec<StepRecord>, EngineError> {
        self.store
            .journal_list(id)?
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(|e| EngineError::Corrupt(e.to_string())))
            .collect()
    }

    /// Runs (or resumes) a run to its end and returns the final record.
    ///
    /// A panic inside the run (a host bug, whatever its cause) ends this run only: it is
    /// marked failed with `INTERNAL_ERROR`, so it is neither left `running` nor resumed
    /// into the same panic, and the process and other runs go on.
    pub async fn execute(
        &self,
        id: &str,
        progress: &dyn Progress,
    ) -> Result<RunRecord, EngineError> {
        match std::panic::AssertUnwindSafe(self.execute_inner(id, progress))
            .catch_unwind()
            .await
        {
            Ok(result) => result,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown cause".to_owned());
                tracing::error!("run {id} stopped on an internal error: {text}");
                self.fail_internal(id, &text).await
            }
        }
    }

    /// Marks a run that panicked as failed, with a report that says so.
    async fn fail_internal(&self, id: &str, cause: &str) -> Result<RunRecord, EngineError> {
        let mut run = self.get(id)?;
        if run.status.is_finished() {
            return Ok(run);
        }
        let completed: Vec<String> = self
            .journal(id)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.result.is_ok())
            .map(|r| r.step)
            .collect();
        let failure = FailedStep {
            step: "run".into(),
            path: "run".into(),
            error: StepError::host(
                crate::plugin::codes::INTERNAL_ERROR,
                format!(
                    "the run stopped on an internal error in Sluice ({cause}); steps already \
                     journaled are kept; please report this"
                ),
            ),
            timestamp: now(),
            impact: None,
            remediation: None,
            recommended_actions: Vec::new(),
            handled: false,
        };
        run.status = RunStatus::Failed;
        run.report = Some(report::failure_report(&completed, &[failure]));
        run.finished_at = Some(now());
        self.save(&run)?;
        self.store.sensitive_remove(id)?;
        self.store.commit().await?;
        Ok(run)
    }

    async fn execute_inner(
        &self,
        id: &str,
        progress: &dyn Progress,
    ) -> Result<RunRecord, EngineError> {
        let mut run = self.get(id)?;
        if run.status.is_finished() {
            return Err(EngineError::Finished(id.to_owned()));
        }
        lock(&self.executing).insert(id.to_owned());
        let _executing = Executing { engine: self, id };
        run.status = RunStatus::Running;
        run.executions += 1;
        // Not flushed on its own: the first journaled step flushes it, and a crash before
        // that leaves a queued run, which resumes the same way.
        self.save(&run)?;
        let originals = match self.store.sensitive_get(id)? {
            Some(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let mut input = run.input.clone();
        redact::restore(&mut input, &originals);
        let role = crate::role::run_role(&*self.store, &run.doc.run_as)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let ctx = RunCtx {
            role,
            engine: self,
            run: &run,
            progress,
            secrets: redact::secrets_of(&originals),
            journaled: self
                .journal(id)?
                .into_iter()
                .map(|r| (r.path.clone(), r))
                .collect(),
            plugins: Mutex::new(BTreeMap::new()),
            failures: Mutex::new(Vec::new()),
            completed: Mutex::new(Vec::new()),
            failed_scope: Mutex::new(None),
        };
        let scope = json!({
            "input": input,
            "vars": run.doc.vars,
            "steps": {},
            "run": {"id": run.id, "started_at": run.started_at},
            "trigger": run.trigger,
        });
        let result = ctx.steps(&run.doc.steps, scope, String::new()).await;
        let failures = ctx.failures.lock().await.clone();
        let completed = ctx.completed.lock().await.clone();
        let mut done = run.clone();
        let final_scope = result.as_ref().ok().cloned();
        match result {
            Ok(scope) => {
                let output = match &run.doc.output {
                    Some(template) => template::render(template, &scope).map_err(|e| {
                        StepError::host(
                            "TEMPLATE_ERROR",
                            format!("output.{}: {}", e.location, e.message),
                        )
                    }),
                    None => Ok(last_output(&run.doc.steps, &scope)),
                };
                match output {
                    Ok(output) => {
                        done.output = Some(output);
                        done.status = if failures.is_empty() {
                            RunStatus::Succeeded
                        } else {
                            RunStatus::PartiallyCompleted
                        };
                    }
                    Err(e) => {
                        let mut failures = failures.clone();
                        failures.push(FailedStep {
                            step: "output".into(),
                            path: "output".into(),
                            error: e,
                            timestamp: now(),
                            impact: None,
                            remediation: None,
                            recommended_actions: Vec::new(),
                            handled: false,
                        });
                        done.status = RunStatus::Failed;
                        done.report = Some(report::failure_report(&completed, &failures));
                    }
                }
                if done.status == RunStatus::PartiallyCompleted {
                    done.report = Some(report::failure_report(&completed, &failures));
                }
            }
            Err(Stop) if self.is_cancelled(id) => {
                done.status = RunStatus::Cancelled;
            }
            Err(Stop) => {
                done.status = RunStatus::Failed;
                done.report = Some(report::failure_report(&completed, &failures));
            }
        }
        if let (Some(extra), Some(Value::Object(report))) = (&run.doc.report, done.report.as_mut())
        {
            let scope = match &final_scope {
                Some(s) => Some(s.clone()),
                None => ctx.failed_scope.lock().await.clone(),
            };
            if let Some(scope) = scope {
                match template::render(extra, &scope) {
                    Ok(Value::Object(fields)) => {
                        for (k, v) in fields {
                            report.entry(k).or_insert(v);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        report.insert(
                            "report_error".into(),
                            json!(format!("report.{}: {}", e.location, e.message)),
                        );
                    }
                }
            }
        }
        if let Some(o) = done.output.as_mut() {
            redact::mask(o, &ctx.secrets);
        }
        if let Some(r) = done.report.as_mut() {
            redact::mask(r, &ctx.secrets);
        }
        done.finished_at = Some(now());
        self.save(&done)?;
        if !originals.is_empty() {
            // The run is over: its write-only values are not kept beyond it.
            self.store.sensitive_remove(id)?;
        }
        self.store.commit().await?;
        Ok(done)
    }

    /// Runs that have not finished (interrupted by a crash, or never started).
    pub fn unfinished(&self) -> Result<Vec<RunRecord>, EngineError> {
        let query = RunQuery {
            unfinished: true,
            ..RunQuery::default()
        };
        self.runs(&query, None, usize::MAX)?
            .runs
            .iter()
            .map(|r| self.get(&r.id))
            .collect()
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes a run from the executing set however `execute` ends.
struct Executing<'a> {
    engine: &'a Engine,
    id: &'a str,
}

impl Drop for Executing<'_> {
    fn drop(&mut self) {
        lock(&self.engine.executing).remove(self.id);
        lock(&self.engine.cancelled).remove(self.id);
    }
}

/// How long to wait before the attempt after `attempt` (1-based): exponential backoff
/// from `backoff`, doubling per attempt up to 2¹⁰ times and capped at the longest backoff,
/// with jitter (`jitter` in [0, 1) picks a point in the upper half). Never panics.
pub fn retry_delay(backoff: Duration, attempt: u32, jitter: f64) -> Duration {
    let max = crate::workflow::validate::MAX_BACKOFF;
    let ceiling = backoff
        .min(max)
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(max);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ceiling.mul_f64(0.5 + jitter * 0.5)
}

/// The input as the run record keeps it: write-only fields of the trigger's input schema
/// redacted; and what they held, by JSON pointer.
fn redacted_input(doc: &WorkflowDoc, mut input: Value) -> (Value, serde_json::Map<String, Value>) {
    let originals = match &doc.trigger {
        Trigger::Manual {
            input_schema: Some(schema),
        } => redact::redact(schema, &mut input),
        _ => serde_json::Map::new(),
    };
    (input, originals)
}

/// The output of the last step that produced one.
fn last_output(steps: &[StepDoc], scope: &Value) -> Value {
    steps
        .iter()
        .rev()
        .find_map(|s| {
            scope["steps"]
                .get(&s.id)
                .and_then(|r| r.get("output"))
                .cloned()
        })
        .unwrap_or(Value::Null)
}

/// Whether a guard's or condition's value counts as true.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty() && s != "false",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn join(prefix: &str, id: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{id}")
    } else {
        format!("{prefix}.{id}")
    }
}

fn template_error(field: &str, e: template::TemplateError) -> StepError {
    StepError::host(
        "TEMPLATE_ERROR",
        format!("{field}.{}: {}", e.location, e.message),
    )
}

fn error_value(e: &StepError) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

/// Sets `scope.steps.<id>` to `record`.
fn record_step(scope: &mut Value, id: &str, record: Value) {
    if let Some(steps) = scope.get_mut("steps").and_then(Value::as_object_mut) {
        steps.insert(id.to_owned(), record);
    }
}

impl RunCtx<'_> {
    fn masked_error(&self, e: &StepError) -> StepError {
        let mut e = e.clone();
        if !self.secrets.is_empty() {
            e.message = redact::mask_text(&e.message, &self.secrets);
            if let Some(d) = e.details.as_mut() {
                redact::mask(d, &self.secrets);
            }
        }
        e
    }

    fn masked_logs(&self, mut logs: Vec<LogLine>) -> Vec<LogLine> {
        if !self.secrets.is_empty() {
            for l in &mut logs {
                l.message = redact::mask_text(&l.message, &self.secrets);
            }
        }
        logs
    }

    fn steps<'s>(
        &'s self,
        steps: &'s [StepDoc],
        scope: Value,
        prefix: String,
    ) -> BoxFuture<'s, Result<Value, Stop>> {
        async move {
            let mut scope = scope;
            for s in steps {
                if self.engine.is_cancelled(&self.run.id) {
                    return Err(Stop);
                }
                scope = self.step(s, scope, &prefix).await?;
            }
            Ok(scope)
        }
        .boxed()
    }

    async fn step(&self, s: &StepDoc, mut scope: Value, prefix: &str) -> Result<Value, Stop> {
        let path = join(prefix, &s.id);
        if let Some(guard) = &s.when {
            match template::render(guard, &scope) {
                Ok(v) if !truthy(&v) => {
                    record_step(&mut scope, &s.id, json!({"skipped": true}));
                    return Ok(scope);
                }
                Ok(_) => {}
                Err(e) => return self.fail(s, &path, template_error("when", e), scope).await,
            }
        }
        // The step output, and the scope after the step when it changed beyond `steps.<id>`.
        let outcome: Result<(Value, Option<Value>), StepError> = if let Some(spec) = &s.uses {
            self.action(s, &path, spec, &scope)
                .await
                .map(|out| (out, None))
        } else if let Some(cond) = &s.condition {
            match self
                .condition(s, &path, &cond.uses, &cond.with, &scope)
                .await
            {
                Err(e) => Err(e),
                Ok(result) => {
                    let branch = if result { &s.then } else { &s.otherwise };
                    let label = if result { "then" } else { "else" };
                    let mut inner = scope.clone();
                    record_step(&mut inner, &s.id, json!({"output": {"result": result}}));
                    match branch {
                        Some(steps) => {
                            match self.steps(steps, inner, format!("{path}.{label}")).await {
                                Ok(after) => {
                                    Ok((json!({"result": result, "branch": label}), Some(after)))
                                }
                                Err(stop) => return Err(stop),
                            }
                        }
                        None => Ok((json!({"result": result, "branch": label}), Some(inner))),
                    }
                }
            }
        } else if let Some(list) = &s.for_each {
            match template::render(list, &scope) {
                Err(e) => Err(template_error("for_each", e)),
                Ok(Value::Array(items)) => match self.for_each(s, &path, items, &scope).await {
                    Ok(results) => Ok((Value::Array(results), None)),
                    Err(stop) => return Err(stop),
                },
                Ok(other) => Err(StepError::host(
                    "TEMPLATE_ERROR",
                    format!("for_each: expected a list, got {other}"),
                )),
            }
        } else if let Some(branches) = &s.parallel {
            let runs = branches
                .iter()
                .enumerate()
                .map(|(i, b)| self.steps(b, scope.clone(), format!("{path}.parallel[{i}]")));
            let results = futures::future::join_all(runs).await;
            let mut merged = scope.clone();
            let mut outputs = Vec::new();
            let mut stopped = false;
            for r in results {
                match r {
                    Ok(branch_scope) => {
                        let mut out = serde_json::Map::new();
                        if let Some(steps) = branch_scope["steps"].as_object() {
                            for (id, rec) in steps {
                                if scope["steps"].get(id).is_none() {
                                    record_step(&mut merged, id, rec.clone());
                                    out.insert(
                                        id.clone(),
                                        rec.get("output").cloned().unwrap_or(Value::Null),
                                    );
                                }
                            }
                        }
                        outputs.push(Value::Object(out));
                    }
                    Err(Stop) => stopped = true,
                }
            }
            if stopped {
                return Err(Stop);
            }
            Ok((Value::Array(outputs), Some(merged)))
        } else if let Some(name) = &s.workflow {
            self.sub_workflow(s, &path, name, &scope)
                .await
                .map(|out| (out, None))
        } else if let Some(connector) = &s.connector {
            self.connector(s, &path, connector, &scope)
                .await
                .map(|out| (out, None))
        } else {
            Err(StepError::host(
                "INVALID_STEP",
                format!("step `{}` has no kind", s.id),
            ))
        };
        match outcome {
            Ok((output, after)) => {
                let mut after = after.unwrap_or(scope);
                record_step(
                    &mut after,
                    &s.id,
                    json!({"output": output, "finished_at": now()}),
                );
                self.completed.lock().await.push(s.id.clone());
                Ok(after)
            }
            Err(e) => self.fail(s, &path, e, scope).await,
        }
    }

    /// A step failed: record it, then stop the run or go on as `on_error` says.
    async fn fail(
        &self,
        s: &StepDoc,
        path: &str,
        error: StepError,
        mut scope: Value,
    ) -> Result<Value, Stop> {
        let handled = !matches!(s.on_error, None | Some(OnErrorDoc::Mode(OnErrorMode::Fail)));
        record_step(&mut scope, &s.id, json!({"error": error_value(&error)}));
        // Report texts may name what failed (`{{ steps.<id>.error.details... }}`); a text
        // that does not render is shown as written.
        let text = |t: &String| match template::render(&Value::String(t.clone()), &scope) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(_) => t.clone(),
        };
        // The step's texts for this error's code (an outage gets the host's, see report.rs).
        let texts = report::step_texts(s, &error);
        self.failures.lock().await.push(FailedStep {
            step: s.id.clone(),
            path: path.to_owned(),
            error: error.clone(),
            timestamp: now(),
            impact: texts.impact.map(text),
            remediation: texts.remediation.map(text),
            recommended_actions: texts
                .recommended_actions
                .into_iter()
                .flatten()
                .map(text)
                .filter(|a| !a.trim().is_empty())
                .collect(),
            handled,
        });
        *self.failed_scope.lock().await = Some(scope.clone());
        match &s.on_error {
            None | Some(OnErrorDoc::Mode(OnErrorMode::Fail)) => Err(Stop),
            Some(OnErrorDoc::Mode(OnErrorMode::Continue)) => Ok(scope),
            Some(OnErrorDoc::Steps(handler)) => {
                self.steps(handler, scope, format!("{path}.on_error")).await
            }
        }
    }

    async fn plugin(&self, spec: &str) -> Result<(PluginRecord, LoadedPlugin), StepError> {
        let mut cache = self.plugins.lock().await;
        if let Some(p) = cache.get(spec) {
            return Ok(p.clone());
        }
        let resolved = self
            .engine
            .registry
            .resolve(spec)
            .await
            .map_err(|e| StepError::host(e.code(), e.to_string()))?;
        cache.insert(spec.to_owned(), resolved.clone());
        Ok(resolved)
    }

    /// Runs a leaf (one plugin call, with retries) unless the journal already has it.
    async fn leaf(
        &self,
        s: &StepDoc,
        path: &str,
        kind: &str,
        spec: &str,
        input: Value,
        grants: Option<Grants>,
    ) -> Result<Value, StepError> {
        let store = &self.engine.store;
        if let Some(rec) = self.journaled.get(path) {
            self.progress
                .step_finished(&self.run.id, path, rec.result.is_ok(), true);
            return rec.result.clone();
        }
        let (record, plugin) = self.plugin(spec).await?;
        let host = self.engine.registry.host();
        let mut limits = host.limits().with(&record.limits);
        if let Some(t) = s
            .timeout
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
        {
            limits.timeout = t;
        }
        // Validation refuses a larger `timeout:`; a workflow saved under a larger ceiling
        // still gets no more than today's.
        limits.timeout = limits.timeout.min(host.timeout_ceiling());
        let text = input.to_string();
        let retry = s.retry.clone();
        let attempts_allowed = retry.as_ref().map(|r| r.attempts.max(1)).unwrap_or(1);
        let backoff = retry
            .as_ref()
            .and_then(|r| r.backoff.as_deref())
            .and_then(|b| humantime::parse_duration(b).ok())
            .unwrap_or(Duration::from_millis(200));
        let grants = Arc::new(grants.unwrap_or_else(|| record.grants()));
        if self.run.doc.durability == Durability::Step && !grants.is_empty() {
            // Write-ahead for effects: everything journaled so far (this run's and any
            // other's) is on disk before a plugin that can reach the outside runs.
            store
                .commit()
                .await
                .map_err(|e| StepError::host(e.code(), e.to_string()))?;
        }
        // What the record shows of the input: write-only fields of the plugin's schema
        // redacted, the run's write-only values masked.
        let mut recorded_input = input.clone();
        redact::redact(&plugin.manifest.input_schema, &mut recorded_input);
        redact::mask(&mut recorded_input, &self.secrets);
        let mut attempts = Vec::new();
        let mut attempt = 1;
        let result = loop {
            let ctx = CallContext {
                run_id: self.run.id.clone(),
                workflow: self.run.workflow.clone(),
                step_id: s.id.clone(),
                attempt,
                grants: grants.clone(),
                role: Some(self.role.clone()),
                limits,
            };
            let started_at = now();
            let started = Instant::now();
            let outcome = self.engine.registry.host().call(&plugin, &ctx, &text).await;
            attempts.push(Attempt {
                attempt,
                input: recorded_input.clone(),
                result: match &outcome.result {
                    Ok(v) => Ok(v.clone()),
                    Err(e) => Err(self.masked_error(e)),
                },
                logs: self.masked_logs(outcome.logs),
                calls: outcome.calls,
                started_at,
                duration_us: started.elapsed().as_micros() as u64,
            });
            match outcome.result {
                Ok(v) => break Ok(v),
                Err(e) => {
                    let listed = retry.as_ref().is_some_and(|r| r.codes.contains(&e.code));
                    if attempt < attempts_allowed && (e.retryable || listed) {
                        // Exponential backoff with full jitter.
                        tokio::time::sleep(retry_delay(backoff, attempt, fastrand::f64())).await;
                        attempt += 1;
                        continue;
                    }
                    break Err(e);
                }
            }
        };
        let rec = StepRecord {
            path: path.to_owned(),
            step: s.id.clone(),
            kind: kind.to_owned(),
            attempts,
            result: result.as_ref().map_err(|e| self.masked_error(e)).cloned(),
            finished_at: now(),
        };
        let v =
            serde_json::to_vec(&rec).map_err(|e| StepError::host("STORE_ERROR", e.to_string()))?;
        store
            .journal_put(&self.run.id, &v)
            .map_err(|e| StepError::host(e.code(), e.to_string()))?;
        if self.run.doc.durability == Durability::Step && !grants.is_empty() {
            // A step with effects: its record is flushed at once (group commit, without
            // waiting), so the window in which a crash would run it again is one flush.
            // A permission-less step's record goes to disk with the next flush: the next
            // step with effects, or the run's end, waits for it.
            store.commit_soon();
        }
        self.progress.step_recorded(&self.run.id, &rec);
        self.progress
            .step_finished(&self.run.id, path, result.is_ok(), false);
        result
    }

    async fn action(
        &self,
        s: &StepDoc,
        path: &str,
        spec: &str,
        scope: &Value,
    ) -> Result<Value, StepError> {
        let input = match &s.with {
            Some(w) => template::render(w, scope).map_err(|e| template_error("with", e))?,
            None => json!({}),
        };
        // A connector plugin used as a step reaches only the one defined connector its
        // rendered input names, whatever else it was granted: no name, `*`, a pattern or
        // an undefined connector fails here, before the plugin runs.
        let (record, _) = self.plugin(spec).await?;
        let grants = if record.kind == PluginKind::Connector {
            let narrowed = record
                .grants()
                .narrowed_to_connector(input.get("connector"))
                .map_err(|e| StepError::host(e.code(), e.to_string()))?;
            let name = input["connector"].as_str().unwrap_or_default();
            // A journaled step is replayed, not run (its connector may be gone since);
            // `sandbox-mail` is the broker's own, present with the embedded simulator.
            let defined = self.journaled.contains_key(path)
                || name == crate::jumpcloud::embedded::SIMULATOR_MAIL
                || crate::connector::ConnectorStore::connector_get(
                    self.engine.store.as_ref(),
                    name,
                )
                .map_err(|e| StepError::host(e.code(), e.to_string()))?
                .is_some();
            if !defined {
                return Err(StepError::host(
                    "CONNECTOR_NOT_FOUND",
                    format!("connector `{name}` is not defined (see `sluice connector list`)"),
                ));
            }
            Some(narrowed)
        } else {
            None
        };
        self.leaf(s, path, "action", spec, input, grants).await
    }

    async fn condition(
        &self,
        s: &StepDoc,
        path: &str,
        spec: &str,
        with: &Value,
        scope: &Value,
    ) -> Result<bool, StepError> {
        let input = template::render(with, scope).map_err(|e| template_error("if.with", e))?;
        let out = self.leaf(s, path, "condition", spec, input, None).await?;
        out.as_bool().ok_or_else(|| {
            StepError::host(
                "PLUGIN_INVALID_OUTPUT",
                "a condition returned a non-boolean",
            )
        })
    }

    async fn for_each(
        &self,
        s: &StepDoc,
        path: &str,
        items: Vec<Value>,
        scope: &Value,
    ) -> Result<Vec<Value>, Stop> {
        let body = s.do_steps.clone().unwrap_or_default();
        let name = s.item.clone().unwrap_or_else(|| "item".into());
        let concurrency = s.concurrency.unwrap_or(1).max(1) as usize;
        let body = &body;
        let name = &name;
        let results: Vec<Result<Value, Stop>> =
            futures::stream::iter(items.into_iter().enumerate())
                .map(|(i, item)| {
                    let mut inner = scope.clone();
                    if let Some(obj) = inner.as_object_mut() {
                        obj.insert(name.clone(), item);
                        obj.insert("index".into(), json!(i));
                    }
                    async move {
                        let after = self.steps(body, inner, format!("{path}[{i}]")).await?;
                        let mut out = serde_json::Map::new();
                        for b in body {
                            if let Some(rec) = after["steps"].get(&b.id) {
                                out.insert(
                                    b.id.clone(),
                                    rec.get("output").cloned().unwrap_or(Value::Null),
                                );
                            }
                        }
                        Ok(Value::Object(out))
                    }
                })
                .buffered(concurrency)
                .collect()
                .await;
        results.into_iter().collect()
    }

    async fn sub_workflow(
        &self,
        s: &StepDoc,
        path: &str,
        name: &str,
        scope: &Value,
    ) -> Result<Value, StepError> {
        let doc = self.run.subworkflows.get(name).ok_or_else(|| {
            StepError::host(
                "WORKFLOW_NOT_FOUND",
                format!("sub-workflow `{name}` was not loaded with the run"),
            )
        })?;
        let mut input = match &s.input {
            Some(i) => template::render(i, scope).map_err(|e| template_error("input", e))?,
            None => json!({}),
        };
        if let Trigger::Manual {
            input_schema: Some(schema),
        } = &doc.trigger
        {
            crate::workflow::apply_defaults(schema, &mut input);
            let problems = crate::workflow::input_problems(schema, &input);
            if !problems.is_empty() {
                return Err(StepError::host(
                    "INVALID_INPUT",
                    format!("input of sub-workflow `{name}`: {}", problems.join("; ")),
                ));
            }
        }
        let inner = json!({
            "input": input,
            "vars": doc.vars,
            "steps": {},
            "run": scope["run"],
            "trigger": {"type": "workflow", "parent": self.run.workflow},
        });
        match self.steps(&doc.steps, inner, format!("{path}/")).await {
            Ok(after) => match &doc.output {
                Some(t) => template::render(t, &after).map_err(|e| template_error("output", e)),
                None => Ok(last_output(&doc.steps, &after)),
            },
            Err(Stop) => Err(StepError {
                code: "SUBWORKFLOW_FAILED".into(),
                message: format!("sub-workflow `{name}` failed; see its steps in this run"),
                retryable: false,
                details: None,
                origin: ErrorSource::Host,
            }),
        }
    }

    async fn connector(
        &self,
        s: &StepDoc,
        path: &str,
        connector: &str,
        scope: &Value,
    ) -> Result<Value, StepError> {
        let render = |field: &str, v: &Option<Value>| -> Result<Value, StepError> {
            match v {
                Some(v) => template::render(v, scope).map_err(|e| template_error(field, e)),
                None => Ok(Value::Null),
            }
        };
        let path_value = render("path", &s.path.clone().map(Value::String))?;
        let path_text = path_value.as_str().unwrap_or_default().to_owned();
        crate::workflow::validate::check_relative_path(&path_text).map_err(|why| {
            StepError::host(
                "INVALID_CONNECTOR_PATH",
                format!("path `{path_text}`: {why}"),
            )
        })?;
        let mut input = json!({
            "connector": connector,
            "method": s.method.clone().unwrap_or_else(|| "GET".into()),
            "path": path_text,
        });
        for (field, v) in [
            ("headers", &s.headers),
            ("query", &s.query),
            ("body", &s.body),
        ] {
            let rendered = render(field, v)?;
            if !rendered.is_null() {
                input[field] = rendered;
            }
        }
        if let Some(expect) = &s.expect {
            input["expect"] = json!(expect);
        }
        let grants = Grants::new([format!("http:{connector}")]);
        self.leaf(s, path, "connector", CONNECTOR_PLUGIN, input, Some(grants))
            .await
    }
}

/// The `trigger` value of a run started by hand.
pub fn manual_trigger(doc: &WorkflowDoc) -> Value {
    let kind = match &doc.trigger {
        Trigger::Manual { .. } => "manual",
        Trigger::Schedule { .. } => "schedule",
        Trigger::Event { .. } => "event",
        Trigger::Webhook { .. } => "webhook",
    };
    json!({"type": "manual", "workflow_trigger": kind, "at": now()})
}
