//! `if:` a condition plugin's answer (journaled like any leaf) picks `then` or `else`; the
//! branch's steps see the answer as `steps.<id>.output.result`.

use serde_json::{Value, json};

use crate::code::Code;
use crate::engine::walk::{Outcome, RunCtx, Stop, record_step, template_error};
use crate::host::StepError;
use crate::workflow::step::{Common, If};
use crate::workflow::template;

impl RunCtx<'_> {
    pub(in crate::engine) async fn if_else(
        &self,
        s: &Common,
        i: &If,
        path: &str,
        scope: &Value,
    ) -> Result<Outcome, Stop> {
        let result = match self.condition(s, i, path, scope).await {
            Ok(result) => result,
            Err(e) => return Ok(Err(e)),
        };
        let (branch, label) = if result {
            (&i.then, "then")
        } else {
            (&i.otherwise, "else")
        };
        let mut inner = scope.clone();
        record_step(&mut inner, &s.id, json!({"output": {"result": result}}));
        let output = json!({"result": result, "branch": label});
        Ok(Ok(match branch {
            Some(steps) => {
                let after = self.steps(steps, inner, format!("{path}.{label}")).await?;
                (output, Some(after))
            }
            None => (output, Some(inner)),
        }))
    }

    async fn condition(
        &self,
        s: &Common,
        i: &If,
        path: &str,
        scope: &Value,
    ) -> Result<bool, StepError> {
        let with = &i.condition.with;
        let input = template::render(with, scope).map_err(|e| template_error("if.with", e))?;
        let out = self
            .leaf(s, path, "condition", &i.condition.uses, input, None)
            .await?;
        out.as_bool().ok_or_else(|| {
            StepError::host(
                Code::PluginInvalidOutput,
                "a condition returned a non-boolean",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::RunStatus;
    use crate::engine::testing::{by_path, run};

    const STEPS: &str = "  - id: check\n    if: { uses: compare, with: { field: '${input.n}', operator: gt, value: 2 } }\n    \
        then:\n      - { id: big, uses: transform, with: { saw: '${steps.check.output.result}' } }\n    \
        else:\n      - { id: small, uses: transform, with: { small: true } }\n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_condition_picks_the_branch() {
        let (done, journal) = run(STEPS, json!({"n": 5})).await;
        assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.report);
        let journal = by_path(&journal);
        assert_eq!(
            journal.keys().copied().collect::<Vec<_>>(),
            ["check", "check.then.big"]
        );
        assert_eq!(journal["check"].kind, "condition");
        assert_eq!(journal["check"].result.as_ref().unwrap(), &json!(true));
        // The branch sees the answer; the run's output is the `if` step's own.
        assert_eq!(
            journal["check.then.big"].attempts[0].input,
            json!({"saw": true})
        );
        assert_eq!(done.output, Some(json!({"result": true, "branch": "then"})));

        let (done, journal) = run(STEPS, json!({"n": 1})).await;
        assert_eq!(
            done.output,
            Some(json!({"result": false, "branch": "else"}))
        );
        assert!(by_path(&journal).contains_key("check.else.small"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_branch_runs_nothing_and_a_failing_condition_fails_the_step() {
        let only_then = STEPS.split("    else:").next().unwrap().to_owned();
        let (done, journal) = run(&only_then, json!({"n": 0})).await;
        assert_eq!(done.status, RunStatus::Succeeded);
        assert_eq!(
            done.output,
            Some(json!({"result": false, "branch": "else"}))
        );
        assert_eq!(journal.len(), 1);
        // Comparing a string with a number is the plugin's error; no branch runs.
        let (done, journal) = run(STEPS, json!({"n": "five"})).await;
        assert_eq!(done.status, RunStatus::Failed);
        assert_eq!(journal.len(), 1);
        assert!(journal[0].result.is_err());
    }
}
