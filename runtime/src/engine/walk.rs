//! The walk: steps in order, each guarded by its `when`, dispatched on its kind (one arm
//! per kind, each in `step/`), its output recorded in the scope later steps see as
//! `steps.<id>`; a failure is recorded for the report and ends the run, is continued, or is
//! handled by `on_error` steps.

use std::collections::BTreeMap;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::records::now;
use super::{Engine, FailedStep, Progress, RunRecord, StepRecord, report};
use crate::code::Code;
use crate::host::registry::PluginRecord;
use crate::host::{LoadedPlugin, LogLine, StepError};
use crate::workflow::step::{Common, OnError, Step, StepKind, Workflow};
use crate::workflow::{redact, template};

/// A failure that stops the run (an unhandled step error).
#[derive(Debug, Clone)]
pub(super) struct Stop;

/// How a step kind ended: its output and, when the step changed the scope beyond
/// `steps.<id>` (a branch's steps), the scope after it; or the step's error. A failure
/// inside a nested step that stops the run is `Err(Stop)` around it.
pub(super) type Outcome = Result<(Value, Option<Value>), StepError>;

/// One execution of a run: what it needs and what it has found so far.
pub(super) struct RunCtx<'a> {
    pub(super) engine: &'a Engine,
    pub(super) run: &'a RunRecord,
    /// The run's sub-workflows by name, typed.
    pub(super) subworkflows: BTreeMap<String, Workflow>,
    pub(super) progress: &'a dyn Progress,
    /// The run's write-only input values, masked wherever the run records text.
    pub(super) secrets: Vec<String>,
    /// What the journal held when the run started (a resumed run, or a retry's copied
    /// steps), by step path: those steps are not run again.
    pub(super) journaled: BTreeMap<String, StepRecord>,
    pub(super) plugins: Mutex<BTreeMap<String, (PluginRecord, LoadedPlugin)>>,
    pub(super) failures: Mutex<Vec<FailedStep>>,
    pub(super) completed: Mutex<Vec<String>>,
    /// The scope where the last failure happened, for the workflow's `report:` fields.
    pub(super) failed_scope: Mutex<Option<Value>>,
    /// The run-as role, resolved when the run (or its resumption) started: a custom role
    /// with the scopes it had then; one not defined grants nothing.
    pub(super) role: crate::broker::permissions::RunRole,
}

/// The output of the last step that produced one.
pub(super) fn last_output(steps: &[Step], scope: &Value) -> Value {
    steps
        .iter()
        .rev()
        .find_map(|s| {
            scope["steps"]
                .get(&s.common.id)
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

/// The path of step `id` under `prefix` (`a.then.b`, `sub/b`).
pub(super) fn join(prefix: &str, id: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{id}")
    } else {
        format!("{prefix}.{id}")
    }
}

pub(super) fn template_error(field: &str, e: template::TemplateError) -> StepError {
    StepError::host(
        Code::TemplateError,
        format!("{field}.{}: {}", e.location, e.message),
    )
}

fn error_value(e: &StepError) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

/// Sets `scope.steps.<id>` to `record`.
pub(super) fn record_step(scope: &mut Value, id: &str, record: Value) {
    if let Some(steps) = scope.get_mut("steps").and_then(Value::as_object_mut) {
        steps.insert(id.to_owned(), record);
    }
}

impl RunCtx<'_> {
    pub(super) fn masked_error(&self, e: &StepError) -> StepError {
        let mut e = e.clone();
        if !self.secrets.is_empty() {
            e.message = redact::mask_text(&e.message, &self.secrets);
            if let Some(d) = e.details.as_mut() {
                redact::mask(d, &self.secrets);
            }
        }
        e
    }

    pub(super) fn masked_logs(&self, mut logs: Vec<LogLine>) -> Vec<LogLine> {
        if !self.secrets.is_empty() {
            for l in &mut logs {
                l.message = redact::mask_text(&l.message, &self.secrets);
            }
        }
        logs
    }

    /// Runs `steps` in order under `prefix`; the scope after the last one.
    pub(super) fn steps<'s>(
        &'s self,
        steps: &'s [Step],
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

    async fn step(&self, s: &Step, mut scope: Value, prefix: &str) -> Result<Value, Stop> {
        let c = &s.common;
        let path = join(prefix, &c.id);
        if let Some(guard) = &c.when {
            match template::render(guard, &scope) {
                Ok(v) if !truthy(&v) => {
                    record_step(&mut scope, &c.id, json!({"skipped": true}));
                    return Ok(scope);
                }
                Ok(_) => {}
                Err(e) => return self.fail(c, &path, template_error("when", e), scope).await,
            }
        }
        // One arm per step kind (see `step/`).
        let outcome = match &s.kind {
            StepKind::Action(a) => self.action(c, a, &path, &scope).await?,
            StepKind::If(i) => self.if_else(c, i, &path, &scope).await?,
            StepKind::ForEach(f) => self.for_each(f, &path, &scope).await?,
            StepKind::Parallel(p) => self.parallel(p, &path, &scope).await?,
            StepKind::Workflow(w) => self.sub_workflow(w, &path, &scope).await?,
            StepKind::Connector(k) => self.connector(c, k, &path, &scope).await?,
        };
        match outcome {
            Ok((output, after)) => {
                let mut after = after.unwrap_or(scope);
                record_step(
                    &mut after,
                    &c.id,
                    json!({"output": output, "finished_at": now()}),
                );
                self.completed.lock().await.push(c.id.clone());
                Ok(after)
            }
            Err(e) => self.fail(c, &path, e, scope).await,
        }
    }

    /// A step failed: record it, then stop the run or go on as `on_error` says.
    async fn fail(
        &self,
        s: &Common,
        path: &str,
        error: StepError,
        mut scope: Value,
    ) -> Result<Value, Stop> {
        let handled = !matches!(s.on_error, OnError::Fail);
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
            OnError::Fail => Err(Stop),
            OnError::Continue => Ok(scope),
            OnError::Steps(handler) => self.steps(handler, scope, format!("{path}.on_error")).await,
        }
    }

    /// The plugin a spec names, resolved once per run: the component the run pinned when
    /// it started (see [`RunRecord::pins`]).
    pub(super) async fn plugin(
        &self,
        spec: &str,
    ) -> Result<(PluginRecord, LoadedPlugin), StepError> {
        let mut cache = self.plugins.lock().await;
        if let Some(p) = cache.get(spec) {
            return Ok(p.clone());
        }
        let registry = &self.engine.registry;
        let resolved = match self.run.pins.get(spec) {
            Some(pin) => registry.resolve_pin(pin).await,
            None => registry.resolve(spec).await,
        }
        .map_err(|e| StepError::host(e.code(), e.to_string()))?;
        cache.insert(spec.to_owned(), resolved.clone());
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::{by_path, engine, first_failure, run, run_with, workflow};
    use crate::engine::{Quiet, RunStatus, lock};

    #[test]
    fn truthiness_paths_and_scope_records() {
        for v in [
            json!(true),
            json!(1),
            json!("yes"),
            json!([0]),
            json!({"a": 0}),
        ] {
            assert!(truthy(&v), "{v}");
        }
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!("false"),
        ] {
            assert!(!truthy(&v), "{v}");
        }
        for v in [json!([]), json!({})] {
            assert!(!truthy(&v), "{v}");
        }
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a.then", "b"), "a.then.b");
        assert_eq!(join("call/", "b"), "call/b");
        let mut scope = json!({"steps": {}});
        record_step(&mut scope, "a", json!({"output": 1}));
        record_step(&mut scope, "b", json!({"skipped": true}));
        assert_eq!(scope["steps"]["a"]["output"], 1);
        // A scope without `steps` is left alone rather than given one.
        let mut bare = json!({"input": {}});
        record_step(&mut bare, "a", json!(1));
        assert_eq!(bare, json!({"input": {}}));
    }

    #[test]
    fn the_last_output_is_the_last_step_that_produced_one() {
        let doc = workflow(
            "w",
            "  - { id: a, uses: transform }\n  - { id: b, uses: transform }\n",
        );
        let steps = crate::workflow::validate::typed("w", &doc).unwrap().steps;
        let scope = json!({"steps": {"a": {"output": 1}, "b": {"skipped": true}}});
        assert_eq!(last_output(&steps, &scope), json!(1));
        assert_eq!(last_output(&steps, &json!({"steps": {}})), Value::Null);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn steps_run_in_order_and_see_earlier_outputs() {
        let (done, journal) = run(
            "  - { id: a, uses: transform, with: { n: '${input.n}' } }\n  \
             - { id: b, uses: transform, with: { twice: ['${steps.a.output.n}', '${steps.a.output.n}'] } }\n",
            json!({"n": 3}),
        )
        .await;
        assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.report);
        assert_eq!(done.output, Some(json!({"twice": [3, 3]})));
        let paths: Vec<&str> = journal.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["a", "b"]);
        assert_eq!(journal[0].kind, "action");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_false_guard_skips_the_step() {
        let (done, journal) = run(
            "  - { id: a, uses: transform, when: '${input.go}', with: { a: 1 } }\n  \
             - { id: b, uses: transform, with: { skipped: '${steps.a.skipped}' } }\n",
            json!({"go": false}),
        )
        .await;
        assert_eq!(done.status, RunStatus::Succeeded);
        assert_eq!(done.output, Some(json!({"skipped": true})));
        assert_eq!(by_path(&journal).keys().copied().collect::<Vec<_>>(), ["b"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unhandled_failure_stops_the_run() {
        let (done, journal) = run(
            "  - { id: a, uses: transform, with: { x: '${input.missing}' } }\n  \
             - { id: b, uses: transform }\n",
            json!({}),
        )
        .await;
        assert_eq!(done.status, RunStatus::Failed);
        assert_eq!(first_failure(&done), ("a".into(), "TEMPLATE_ERROR".into()));
        assert!(journal.is_empty(), "b did not run: {journal:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_error_continues_or_runs_its_handler() {
        let (done, journal) = run(
            "  - { id: a, uses: transform, with: { x: '${input.missing}' }, on_error: continue }\n  \
             - id: b\n    uses: transform\n    with: { x: '${input.missing}' }\n    on_error:\n      \
             - { id: h, uses: transform, with: { saw: '${steps.b.error.code}' } }\n  \
             - { id: c, uses: transform, with: { after: true } }\n",
            json!({}),
        )
        .await;
        assert_eq!(done.status, RunStatus::PartiallyCompleted);
        let report = done.report.as_ref().unwrap();
        let failed: Vec<(&str, bool)> = report["failed_steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["step"].as_str().unwrap(), f["handled"].as_bool().unwrap()))
            .collect();
        assert_eq!(failed, [("a", true), ("b", true)]);
        let journal = by_path(&journal);
        assert_eq!(
            journal["b.on_error.h"].result.as_ref().unwrap(),
            &json!({"saw": "TEMPLATE_ERROR"})
        );
        assert_eq!(done.output, Some(json!({"after": true})));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_run_stops_before_its_next_step() {
        let engine = engine();
        let doc = workflow("w", "  - { id: a, uses: transform }\n");
        let run = engine
            .create_run(
                doc,
                BTreeMap::new(),
                Default::default(),
                json!({}),
                json!({}),
            )
            .unwrap();
        lock(&engine.cancelled).insert(run.id.clone());
        let done = engine.execute(&run.id, &Quiet).await.unwrap();
        assert_eq!(done.status, RunStatus::Cancelled);
        assert!(engine.journal(&run.id).unwrap().is_empty());
        // The request is forgotten once the run has ended.
        assert!(!engine.is_cancelled(&run.id));
        let again = workflow("w", "  - { id: a, uses: transform }\n");
        let (done, _) = run_with(&engine, again, Vec::new(), json!({}), &Quiet).await;
        assert_eq!(done.status, RunStatus::Succeeded);
    }
}
