//! `uses:` a plugin: its input rendered from `with`, one journaled call. A connector plugin
//! used as a step reaches only the one defined connector its rendered input names.

use serde_json::json;

use crate::code::Code;
use crate::engine::walk::{Outcome, RunCtx, Stop, template_error};
use crate::host::StepError;
use crate::host::manifest::PluginKind;
use crate::workflow::step::{Action, Common};
use crate::workflow::template;

impl RunCtx<'_> {
    pub(in crate::engine) async fn action(
        &self,
        s: &Common,
        a: &Action,
        path: &str,
        scope: &serde_json::Value,
    ) -> Result<Outcome, Stop> {
        Ok(self
            .call_action(s, a, path, scope)
            .await
            .map(|out| (out, None)))
    }

    async fn call_action(
        &self,
        s: &Common,
        a: &Action,
        path: &str,
        scope: &serde_json::Value,
    ) -> Result<serde_json::Value, StepError> {
        let input = match &a.with {
            Some(w) => template::render(w, scope).map_err(|e| template_error("with", e))?,
            None => json!({}),
        };
        // A connector plugin used as a step reaches only the one defined connector its
        // rendered input names, whatever else it was granted: no name, `*`, a pattern or
        // an undefined connector fails here, before the plugin runs.
        let (record, _) = self.plugin(&a.uses).await?;
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
                    Code::ConnectorNotFound,
                    format!("connector `{name}` is not defined (see `sluice connector list`)"),
                ));
            }
            Some(narrowed)
        } else {
            None
        };
        self.leaf(s, path, "action", &a.uses, input, grants).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::RunStatus;
    use crate::engine::testing::{by_path, first_failure, run};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_input_is_rendered_and_the_plugins_output_kept() {
        let (done, journal) = run(
            "  - { id: a, uses: transform, with: { name: '${input.name}', n: 2 } }\n  \
             - { id: b, uses: transform }\n",
            json!({"name": "ada"}),
        )
        .await;
        assert_eq!(done.status, RunStatus::Succeeded);
        let journal = by_path(&journal);
        assert_eq!(
            journal["a"].attempts[0].input,
            json!({"name": "ada", "n": 2})
        );
        assert_eq!(
            journal["a"].result.as_ref().unwrap(),
            &json!({"name": "ada", "n": 2})
        );
        // Without `with`, the input is an empty object.
        assert_eq!(journal["b"].attempts[0].input, json!({}));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_template_or_an_unknown_plugin_fails_the_step_before_any_call() {
        let (done, journal) = run(
            "  - { id: a, uses: transform, with: { x: '${input.nope}' } }\n",
            json!({}),
        )
        .await;
        assert_eq!(first_failure(&done), ("a".into(), "TEMPLATE_ERROR".into()));
        let message = &done.report.as_ref().unwrap()["failed_steps"][0]["error"]["message"];
        assert!(
            message.as_str().unwrap().starts_with("with.x: "),
            "{message}"
        );
        assert!(journal.is_empty());
        let (done, journal) = run("  - { id: a, uses: no-such-plugin }\n", json!({})).await;
        assert_eq!(done.status, RunStatus::Failed);
        let message = &done.report.as_ref().unwrap()["failed_steps"][0]["error"]["message"];
        assert!(
            message.as_str().unwrap().contains("no-such-plugin"),
            "{message}"
        );
        assert!(journal.is_empty());
    }
}
