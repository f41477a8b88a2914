//! `workflow:` a sub-workflow, as recorded with the run: its input rendered, defaulted and
//! checked against its schema, its steps walked under `<path>/` in a scope of their own,
//! its output (or its last step's) the step's output. Its failure fails this step.

use serde_json::{Value, json};

use crate::code::Code;
use crate::engine::walk::{Outcome, RunCtx, Stop, last_output, template_error};
use crate::host::{ErrorSource, StepError};
use crate::workflow::model::Trigger;
use crate::workflow::step::SubWorkflow;
use crate::workflow::template;

impl RunCtx<'_> {
    pub(in crate::engine) async fn sub_workflow(
        &self,
        w: &SubWorkflow,
        path: &str,
        scope: &Value,
    ) -> Result<Outcome, Stop> {
        Ok(self
            .call_sub_workflow(w, path, scope)
            .await
            .map(|out| (out, None)))
    }

    async fn call_sub_workflow(
        &self,
        w: &SubWorkflow,
        path: &str,
        scope: &Value,
    ) -> Result<Value, StepError> {
        let name = &w.name;
        let sub = self.subworkflows.get(name).ok_or_else(|| {
            StepError::host(
                Code::WorkflowNotFound,
                format!("sub-workflow `{name}` was not loaded with the run"),
            )
        })?;
        let doc = &sub.doc;
        let mut input = match &w.input {
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
                    Code::InvalidInput,
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
        match self.steps(&sub.steps, inner, format!("{path}/")).await {
            Ok(after) => match &doc.output {
                Some(t) => template::render(t, &after).map_err(|e| template_error("output", e)),
                None => Ok(last_output(&sub.steps, &after)),
            },
            Err(Stop) => Err(StepError {
                code: Code::SubworkflowFailed.into(),
                message: format!("sub-workflow `{name}` failed; see its steps in this run"),
                retryable: false,
                details: None,
                origin: ErrorSource::Host,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::testing::{by_path, engine, first_failure, run, run_with, workflow};
    use crate::engine::{Quiet, RunStatus};
    use crate::workflow::model::parse;

    fn sub() -> crate::workflow::model::WorkflowDoc {
        parse(
            "sub.yaml",
            "version: 1\nname: greet\nrun_as: Read Only\n\
             trigger:\n  type: manual\n  input_schema:\n    type: object\n    required: [who]\n    \
             properties:\n      who: { type: string }\n      greeting: { type: string, default: hello }\n\
             steps:\n  - { id: say, uses: transform, with: { text: '${input.greeting} ${input.who}', parent: '${trigger.parent}' } }\n",
        )
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sub_workflow_runs_with_its_input_defaulted_under_the_steps_path() {
        let doc = workflow(
            "main",
            "  - { id: call, workflow: greet, input: { who: '${input.name}' } }\n",
        );
        let (done, journal) =
            run_with(&engine(), doc, vec![sub()], json!({"name": "ada"}), &Quiet).await;
        assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.report);
        assert_eq!(
            done.output,
            Some(json!({"text": "hello ada", "parent": "main"}))
        );
        assert!(by_path(&journal).contains_key("call/say"), "{journal:?}");
        // With an `output:`, that is the step's output.
        let mut with_output = sub();
        with_output.output = Some(json!({"said": "${steps.say.output.text}"}));
        let doc = workflow(
            "main",
            "  - { id: call, workflow: greet, input: { who: bo } }\n",
        );
        let (done, _) = run_with(&engine(), doc, vec![with_output], json!({}), &Quiet).await;
        assert_eq!(done.output, Some(json!({"said": "hello bo"})));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_input_a_missing_or_a_failing_sub_workflow_fails_the_step() {
        let doc = || {
            workflow(
                "main",
                "  - { id: call, workflow: greet, input: { who: 7 } }\n",
            )
        };
        let (done, journal) = run_with(&engine(), doc(), vec![sub()], json!({}), &Quiet).await;
        assert_eq!(
            first_failure(&done),
            ("call".into(), "INVALID_INPUT".into())
        );
        assert!(journal.is_empty());
        let (done, _) = run_with(&engine(), doc(), Vec::new(), json!({}), &Quiet).await;
        assert_eq!(
            first_failure(&done),
            ("call".into(), "WORKFLOW_NOT_FOUND".into())
        );
        let (done, _) = run("  - { id: call, workflow: greet }\n", json!({})).await;
        assert_eq!(done.status, RunStatus::Failed);
        let mut failing = sub();
        failing.steps[0].with = Some(json!({"x": "${input.nothing}"}));
        let doc = workflow(
            "main",
            "  - { id: call, workflow: greet, input: { who: a } }\n",
        );
        let (done, _) = run_with(&engine(), doc, vec![failing], json!({}), &Quiet).await;
        let failed = &done.report.as_ref().unwrap()["failed_steps"];
        let steps: Vec<&str> = failed
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["say", "call"]);
        assert_eq!(failed[1]["error"]["type"], "SUBWORKFLOW_FAILED");
    }
}
