//! A leaf step's plugin call: replayed from the journal when the run already has it,
//! otherwise called with the step's deadline and retry policy, every attempt recorded, and
//! the step's record journaled (flushed at once for a step with effects).

use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use super::records::now;
use super::walk::RunCtx;
use super::{Attempt, StepRecord, retry};
use crate::broker::permissions::Grants;
use crate::code::Code;
use crate::host::{CallContext, StepError};
use crate::workflow::model::Durability;
use crate::workflow::redact;
use crate::workflow::step::Common;

impl RunCtx<'_> {
    /// Runs a leaf (one plugin call, with retries) unless the journal already has it.
    pub(in crate::engine) async fn leaf(
        &self,
        s: &Common,
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
        if let Some(t) = s.timeout {
            limits.timeout = t;
        }
        // Validation refuses a larger `timeout:`; a workflow saved under a larger ceiling
        // still gets no more than today's.
        limits.timeout = limits.timeout.min(host.timeout_ceiling());
        let text = input.to_string();
        let policy = s.retry.as_ref();
        let grants = Arc::new(grants.unwrap_or_else(|| record.grants()));
        if self.run.doc.durability == Durability::Step && !grants.is_empty() {
            // Write-ahead for effects: everything journaled so far (this run's and any
            // other's) is on disk before a plugin that can reach the outside runs.
            store
                .commit_run(&self.run.id)
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
                // A step of a resumed run may have been started by the execution that
                // stopped (a crash, or a node that died): it is told it is not the first
                // attempt, so a plugin with effects can recognise its own earlier one.
                attempt: attempt + u32::from(self.run.executions > 1),
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
                Err(e) => match policy {
                    Some(p) if retry::again(policy, attempt, &e) => {
                        // Exponential backoff with jitter.
                        let wait = retry::delay(p.backoff, attempt, &mut fastrand::Rng::new());
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    _ => break Err(e),
                },
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
        let v = serde_json::to_vec(&rec)
            .map_err(|e| StepError::host(Code::StoreError, e.to_string()))?;
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
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use serde_json::json;

    use crate::engine::testing::{by_path, engine, run, workflow};
    use crate::engine::{Progress, RunStatus, StepRecord};

    /// Counts finished steps, replayed or not.
    #[derive(Default)]
    struct Seen(Mutex<Vec<(String, bool)>>);

    impl Progress for Seen {
        fn step_finished(&self, _run: &str, path: &str, _ok: bool, replayed: bool) {
            self.0.lock().unwrap().push((path.to_owned(), replayed));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_journaled_leaf_is_replayed_not_called() {
        let engine = engine();
        let doc = workflow(
            "w",
            "  - { id: a, uses: transform, with: { fresh: true } }\n  \
             - { id: b, uses: transform, with: { from_a: '${steps.a.output}' } }\n",
        );
        let run = engine
            .create_run(
                doc,
                BTreeMap::new(),
                Default::default(),
                json!({}),
                json!({}),
            )
            .unwrap();
        let recorded = StepRecord {
            path: "a".into(),
            step: "a".into(),
            kind: "action".into(),
            attempts: Vec::new(),
            result: Ok(json!({"replayed": true})),
            finished_at: "t".into(),
        };
        let bytes = serde_json::to_vec(&recorded).unwrap();
        engine.store.journal_put(&run.id, &bytes).unwrap();
        let seen = Seen::default();
        let done = engine.execute(&run.id, &seen).await.unwrap();
        assert_eq!(done.status, RunStatus::Succeeded);
        assert_eq!(done.output, Some(json!({"from_a": {"replayed": true}})));
        assert_eq!(
            *seen.0.lock().unwrap(),
            [("a".to_owned(), true), ("b".to_owned(), false)]
        );
        assert_eq!(engine.journal(&run.id).unwrap().len(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retryable_errors_are_retried_up_to_the_attempts_each_recorded() {
        let (done, journal) = run(
            "  - id: call\n    connector: crm\n    method: GET\n    path: /status/503\n    \
             retry: { attempts: 3, backoff: 1ms }\n",
            json!({}),
        )
        .await;
        assert_eq!(done.status, RunStatus::Failed);
        let rec = by_path(&journal)["call"];
        let numbers: Vec<u32> = rec.attempts.iter().map(|a| a.attempt).collect();
        assert_eq!(numbers, [1, 2, 3]);
        let err = rec.result.as_ref().unwrap_err();
        assert!(err.retryable, "{err:?}");
        assert_eq!(rec.kind, "connector");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn other_errors_are_retried_only_when_their_code_is_listed() {
        let steps = |codes: &str| {
            format!(
                "  - id: call\n    connector: crm\n    method: GET\n    path: /status/404\n    \
                 retry: {{ attempts: 2, backoff: 1ms{codes} }}\n"
            )
        };
        let (_, journal) = run(&steps(""), json!({})).await;
        assert_eq!(by_path(&journal)["call"].attempts.len(), 1);
        let (_, journal) = run(&steps(", codes: [HTTP_STATUS]"), json!({})).await;
        assert_eq!(by_path(&journal)["call"].attempts.len(), 2);
        // Success ends the attempts at once.
        let ok = steps("").replace("/status/404", "/fine");
        let (done, journal) = run(&ok, json!({})).await;
        assert_eq!(done.status, RunStatus::Succeeded);
        assert_eq!(by_path(&journal)["call"].attempts.len(), 1);
    }
}
