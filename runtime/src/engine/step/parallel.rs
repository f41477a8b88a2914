//! `parallel:` every branch runs to its end, concurrently, each on a copy of the scope;
//! the steps each branch recorded are merged into the scope after the step, and the output
//! is one object per branch of its steps' outputs. One branch stopping stops the run once
//! all have ended.

use serde_json::Value;

use crate::engine::walk::{Outcome, RunCtx, Stop, record_step};
use crate::workflow::step::Parallel;

impl RunCtx<'_> {
    pub(in crate::engine) async fn parallel(
        &self,
        p: &Parallel,
        path: &str,
        scope: &Value,
    ) -> Result<Outcome, Stop> {
        let runs = p
            .branches
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
        Ok(Ok((Value::Array(outputs), Some(merged))))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::RunStatus;
    use crate::engine::testing::{by_path, first_failure, run};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn branches_all_run_and_their_steps_join_the_scope() {
        let steps = "  - id: both\n    parallel:\n      \
                     - [ { id: l, uses: transform, with: { side: left } } ]\n      \
                     - [ { id: r1, uses: transform, with: { side: right } }, { id: r2, uses: transform, with: { n: 2 } } ]\n  \
                     - { id: after, uses: transform, with: { l: '${steps.l.output.side}', r: '${steps.r2.output.n}' } }\n";
        let (done, journal) = run(steps, json!({})).await;
        assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.report);
        assert_eq!(done.output, Some(json!({"l": "left", "r": 2})));
        let paths = by_path(&journal);
        for p in [
            "both.parallel[0].l",
            "both.parallel[1].r1",
            "both.parallel[1].r2",
        ] {
            assert!(paths.contains_key(p), "{p}: {:?}", paths.keys());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_output_is_one_object_per_branch_and_a_failed_branch_stops_the_run() {
        let steps = "  - id: both\n    parallel:\n      \
                     - [ { id: l, uses: transform, with: { a: 1 } } ]\n      \
                     - [ { id: r, uses: transform, with: { b: 2 } } ]\n";
        let (done, _) = run(steps, json!({})).await;
        assert_eq!(done.output, Some(json!([{"l": {"a": 1}}, {"r": {"b": 2}}])));
        let failing = steps.replace("{ b: 2 }", "{ b: '${input.none}' }");
        let (done, journal) = run(&failing, json!({})).await;
        assert_eq!(done.status, RunStatus::Failed);
        assert_eq!(first_failure(&done), ("r".into(), "TEMPLATE_ERROR".into()));
        // The other branch still ran to its end.
        assert!(by_path(&journal).contains_key("both.parallel[0].l"));
    }
}
