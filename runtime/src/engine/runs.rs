//! Runs: creating one (also once per trigger fire), starting or resuming it, cancelling it,
//! retrying a finished one, and finishing it (its status, output and failure report). The
//! run's workflow is typed by validation when execution starts; the walk is `walk.rs`.

use std::collections::BTreeMap;

use futures::FutureExt;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::records::now;
use super::walk::{RunCtx, Stop, last_output};
use super::{Engine, EngineError, FailedStep, Progress, RunPage, RunQuery, RunRecord};
use super::{RunStatus, RunSummary, StepRecord, lock, report};
use crate::code::Code;
use crate::host::StepError;
use crate::host::registry::Pins;
use crate::store::StoreError;
use crate::workflow::model::{Trigger, WorkflowDoc};
use crate::workflow::step::Workflow;
use crate::workflow::validate::{self, Problem};
use crate::workflow::{redact, template};

impl Engine {
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

    /// Records a new run (status `queued`) and returns it. `pins` are the saved version's
    /// (empty for a workflow that was not saved: the run resolves its plugins when it
    /// starts, and records them).
    pub fn create_run(
        &self,
        doc: WorkflowDoc,
        subworkflows: BTreeMap<String, WorkflowDoc>,
        pins: Pins,
        input: Value,
        trigger: Value,
    ) -> Result<RunRecord, EngineError> {
        let (input, originals) = redacted_input(&doc, input);
        let record = RunRecord::queued(doc, subworkflows, pins, input, trigger);
        if !originals.is_empty() {
            self.store
                .sensitive_put(&record.id, &Value::Object(originals))?;
        }
        let v = serde_json::to_vec(&record).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        self.store.run_create(&record.id, &v)?;
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
        pins: Pins,
        input: Value,
        trigger: Value,
    ) -> Result<(RunRecord, bool), EngineError> {
        let (input, originals) = redacted_input(&doc, input);
        let record = RunRecord::queued(doc, subworkflows, pins, input, trigger);
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
        // The same plugins as the run retried: its pins, and what it resolved itself.
        let run = self.create_run(old.doc, old.subworkflows, old.pins, old.input, trigger)?;
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
        decode_record(id, self.store.run_get(id)?)
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
        decode_journal(self.store.journal_list(id)?)
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
                crate::host::codes::INTERNAL_ERROR,
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
        self.store.commit_run(id).await?;
        Ok(run)
    }

    async fn execute_inner(
        &self,
        id: &str,
        progress: &dyn Progress,
    ) -> Result<RunRecord, EngineError> {
        let opened = self.store.run_open(id)?;
        let mut run = decode_record(id, opened.record)?;
        if run.status.is_finished() {
            return Err(EngineError::Finished(id.to_owned()));
        }
        lock(&self.executing).insert(id.to_owned());
        let _executing = Executing { engine: self, id };
        run.status = RunStatus::Running;
        run.executions += 1;
        // What each `uses:` resolves to, recorded before any step runs.
        let mut specs = validate::plugin_specs(&run.doc);
        for sub in run.subworkflows.values() {
            specs.extend(validate::plugin_specs(sub));
        }
        run.pins = self.registry.pins_for_run(&run.pins, &specs).await;
        // Not flushed on its own: the first journaled step flushes it, and a crash before
        // that leaves a queued run, which resumes the same way.
        self.save(&run)?;
        let originals = match opened.input {
            Some(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let mut input = run.input.clone();
        redact::restore(&mut input, &originals);
        let role = crate::role::run_role(&*self.store, &run.doc.run_as)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let (steps, subworkflows, untyped) = match typed(&run) {
            Ok((workflow, subworkflows)) => (workflow.steps, subworkflows, None),
            Err(e) => (Vec::new(), BTreeMap::new(), Some(e)),
        };
        let ctx = RunCtx {
            role,
            subworkflows,
            engine: self,
            run: &run,
            progress,
            secrets: redact::secrets_of(&originals),
            journaled: decode_journal(opened.journal)?
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
        let result = match untyped {
            None => ctx.steps(&steps, scope, String::new()).await,
            Some(error) => {
                ctx.failures.lock().await.push(FailedStep {
                    step: "run".into(),
                    path: "run".into(),
                    error,
                    timestamp: now(),
                    impact: None,
                    remediation: None,
                    recommended_actions: Vec::new(),
                    handled: false,
                });
                Err(Stop)
            }
        };
        if lock(&self.abandoned).contains(id) {
            // Another node holds the run now and records its end.
            return Err(EngineError::Abandoned(id.to_owned()));
        }
        let failures = ctx.failures.lock().await.clone();
        let completed = ctx.completed.lock().await.clone();
        let mut done = run.clone();
        let final_scope = result.as_ref().ok().cloned();
        match result {
            Ok(scope) => {
                let output = match &run.doc.output {
                    Some(template) => template::render(template, &scope).map_err(|e| {
                        StepError::host(
                            Code::TemplateError,
                            format!("output.{}: {}", e.location, e.message),
                        )
                    }),
                    None => Ok(last_output(&steps, &scope)),
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
        self.store.commit_run(id).await?;
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

/// Removes a run from the executing set however `execute` ends.
struct Executing<'a> {
    engine: &'a Engine,
    id: &'a str,
}

impl Drop for Executing<'_> {
    fn drop(&mut self) {
        lock(&self.engine.executing).remove(self.id);
        lock(&self.engine.cancelled).remove(self.id);
        lock(&self.engine.abandoned).remove(self.id);
    }
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

/// The run's workflow and sub-workflows, typed by validation; an `INVALID_STEP` error that
/// names every problem when one does not type (a document recorded under other rules is
/// refused, not run with guesses).
fn typed(run: &RunRecord) -> Result<(Workflow, BTreeMap<String, Workflow>), StepError> {
    let refused = |name: &str, problems: Vec<Problem>| {
        let problems: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.location, p.message))
            .collect();
        StepError::host(
            Code::InvalidStep,
            format!(
                "workflow `{name}` does not validate: {}",
                problems.join("; ")
            ),
        )
    };
    let workflow =
        validate::typed(&run.workflow, &run.doc).map_err(|p| refused(&run.workflow, p))?;
    let mut subworkflows = BTreeMap::new();
    for (name, doc) in &run.subworkflows {
        let sub = validate::typed(name, doc).map_err(|p| refused(name, p))?;
        subworkflows.insert(name.clone(), sub);
    }
    Ok((workflow, subworkflows))
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

/// The record of run `id` as the store returned it.
fn decode_record(id: &str, record: Option<Value>) -> Result<RunRecord, EngineError> {
    let v = record.ok_or_else(|| EngineError::NoSuchRun(id.to_owned()))?;
    serde_json::from_value(v).map_err(|e| EngineError::Corrupt(e.to_string()))
}

/// A run's journal as the store returned it.
fn decode_journal(journal: Vec<Value>) -> Result<Vec<StepRecord>, EngineError> {
    journal
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(|e| EngineError::Corrupt(e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Quiet;
    use crate::engine::testing::{engine, first_failure, run_with, workflow};

    fn doc() -> WorkflowDoc {
        workflow(
            "w",
            "  - { id: a, uses: transform, with: { a: 1 } }\n  \
             - { id: b, uses: transform, with: { b: '${input.b}' } }\n",
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_is_queued_then_executed_once() {
        let engine = engine();
        let run = engine
            .create_run(
                doc(),
                BTreeMap::new(),
                Default::default(),
                json!({"b": 2}),
                json!({"type": "manual"}),
            )
            .unwrap();
        assert_eq!(engine.get(&run.id).unwrap().status, RunStatus::Queued);
        assert_eq!(engine.unfinished().unwrap().len(), 1);
        let done = engine.execute(&run.id, &Quiet).await.unwrap();
        assert_eq!(done.status, RunStatus::Succeeded);
        assert_eq!(
            (done.executions, done.output.clone()),
            (1, Some(json!({"b": 2})))
        );
        assert!(done.finished_at.is_some() && done.report.is_none());
        assert_eq!(engine.get(&run.id).unwrap().status, RunStatus::Succeeded);
        assert!(engine.unfinished().unwrap().is_empty());
        let again = engine.execute(&run.id, &Quiet).await.unwrap_err();
        assert!(matches!(again, EngineError::Finished(_)), "{again}");
        assert!(matches!(engine.get("nope"), Err(EngineError::NoSuchRun(_))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_queued_run_is_cancelled_at_once_and_a_finished_one_not_at_all() {
        let engine = engine();
        let run = engine
            .create_run(
                doc(),
                BTreeMap::new(),
                Default::default(),
                json!({"b": 1}),
                json!({}),
            )
            .unwrap();
        let cancelled = engine.cancel(&run.id).unwrap();
        assert_eq!(cancelled.status, RunStatus::Cancelled);
        assert_eq!(engine.get(&run.id).unwrap().status, RunStatus::Cancelled);
        assert!(matches!(
            engine.cancel(&run.id),
            Err(EngineError::Finished(_))
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fire_gets_one_run() {
        let engine = engine();
        let (first, new) = engine
            .create_run_once(
                "fire-1",
                doc(),
                BTreeMap::new(),
                Default::default(),
                json!({}),
                json!({}),
            )
            .unwrap();
        assert!(new);
        let (second, new) = engine
            .create_run_once(
                "fire-1",
                doc(),
                BTreeMap::new(),
                Default::default(),
                json!({}),
                json!({}),
            )
            .unwrap();
        assert!(!new);
        assert_eq!(first.id, second.id);
        let page = engine.runs(&RunQuery::default(), None, 10).unwrap();
        assert_eq!(page.runs.len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn listings_page_newest_first() {
        let engine = engine();
        let ids: Vec<String> = (0..5)
            .map(|_| {
                engine
                    .create_run(
                        doc(),
                        BTreeMap::new(),
                        Default::default(),
                        json!({}),
                        json!({}),
                    )
                    .unwrap()
                    .id
            })
            .collect();
        let first = engine.runs(&RunQuery::default(), None, 2).unwrap();
        let got: Vec<&str> = first.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(got, [ids[4].as_str(), ids[3].as_str()]);
        let next = first.next.clone().unwrap();
        let rest = engine.runs(&RunQuery::default(), Some(&next), 10).unwrap();
        assert_eq!(rest.runs.len(), 3);
        assert!(rest.next.is_none());
        let none = RunQuery {
            workflow: Some("other".into()),
            ..RunQuery::default()
        };
        assert!(engine.runs(&none, None, 10).unwrap().runs.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retry_from_the_failed_step_replays_what_succeeded() {
        let engine = engine();
        // `b` fails: the input has no `b`.
        let (failed, _) = run_with(&engine, doc(), Vec::new(), json!({}), &Quiet).await;
        assert_eq!(failed.status, RunStatus::Failed);
        assert_eq!(first_failure(&failed).0, "b");
        let retry = engine.retry(&failed.id, false).unwrap();
        assert_eq!(retry.trigger["retry_of"], json!(failed.id));
        assert_eq!(retry.trigger["from"], "failed_step");
        let copied: Vec<String> = engine
            .journal(&retry.id)
            .unwrap()
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(copied, ["a"]);
        let from_start = engine.retry(&failed.id, true).unwrap();
        assert!(engine.journal(&from_start.id).unwrap().is_empty());
        // A run that has not finished is not retried.
        assert!(matches!(
            engine.retry(&retry.id, true),
            Err(EngineError::NotFinished(_))
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_recorded_workflow_that_does_not_validate_fails_without_running() {
        let engine = engine();
        let mut bad = doc();
        bad.steps[0].retry = Some(crate::workflow::model::RetryDoc {
            attempts: 2,
            backoff: Some("soon".into()),
            codes: Vec::new(),
        });
        bad.steps[1].timeout = Some("0s".into());
        let (done, journal) = run_with(&engine, bad, Vec::new(), json!({"b": 1}), &Quiet).await;
        assert_eq!(done.status, RunStatus::Failed);
        assert_eq!(first_failure(&done), ("run".into(), "INVALID_STEP".into()));
        let message = done.report.as_ref().unwrap()["failed_steps"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("`retry.backoff` `soon`"), "{message}");
        assert!(
            message.contains("steps[1] b: `timeout` must be more than zero"),
            "{message}"
        );
        assert!(journal.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_records_what_it_resolved_and_a_bundled_pin_gone_runs_the_bundled_one() {
        let engine = engine();
        let bundled = engine.registry.find("transform").await.unwrap();
        // Unpinned (a file run): the run records what `uses:` resolved to when it started.
        let run = engine
            .create_run(
                doc(),
                BTreeMap::new(),
                Pins::new(),
                json!({"b": 1}),
                json!({}),
            )
            .unwrap();
        assert!(run.pins.is_empty());
        let done = engine.execute(&run.id, &Quiet).await.unwrap();
        assert_eq!(done.status, RunStatus::Succeeded);
        let pin = &engine.get(&run.id).unwrap().pins["transform"];
        assert_eq!(
            (pin.digest.as_str(), pin.bundled, &pin.note),
            (bundled.digest.as_str(), true, &None)
        );
        // A bundled component an older Sluice pinned is not in this binary: the run uses
        // the bundled one and says so.
        let old = crate::host::registry::Pin {
            name: "transform".into(),
            version: "0.0.1".into(),
            digest: "0".repeat(64),
            bundled: true,
            note: None,
        };
        let pins = Pins::from([("transform".to_owned(), old)]);
        let run = engine
            .create_run(doc(), BTreeMap::new(), pins, json!({"b": 1}), json!({}))
            .unwrap();
        let done = engine.execute(&run.id, &Quiet).await.unwrap();
        assert_eq!(done.status, RunStatus::Succeeded);
        let pin = &engine.get(&run.id).unwrap().pins["transform"];
        assert_eq!(pin.digest, bundled.digest);
        let note = pin.note.as_deref().unwrap_or_default();
        assert!(
            note.contains(&format!("transform@0.0.1 sha256:{}", "0".repeat(64)))
                && note.contains("not part of this Sluice binary"),
            "{note}"
        );
    }

    #[test]
    fn a_manual_trigger_names_the_workflows_own() {
        let t = manual_trigger(&doc());
        assert_eq!(
            (t["type"].as_str(), t["workflow_trigger"].as_str()),
            (Some("manual"), Some("manual"))
        );
    }
}
