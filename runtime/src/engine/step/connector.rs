//! `connector:` an External App Connector call, made by the bundled `http-request` plugin
//! with the one grant `http:<connector>`: the path rendered and kept relative to the
//! connector's base URL, headers, query and body rendered, the expected statuses passed on.

use serde_json::{Value, json};

use crate::broker::permissions::Grants;
use crate::code::Code;
use crate::engine::walk::{Outcome, RunCtx, Stop, template_error};
use crate::host::StepError;
use crate::workflow::step::{Common, Connector};
use crate::workflow::template;
use crate::workflow::validate::CONNECTOR_PLUGIN;

impl RunCtx<'_> {
    pub(in crate::engine) async fn connector(
        &self,
        s: &Common,
        k: &Connector,
        path: &str,
        scope: &Value,
    ) -> Result<Outcome, Stop> {
        Ok(self
            .call_connector(s, k, path, scope)
            .await
            .map(|out| (out, None)))
    }

    async fn call_connector(
        &self,
        s: &Common,
        k: &Connector,
        path: &str,
        scope: &Value,
    ) -> Result<Value, StepError> {
        let render = |field: &str, v: &Option<Value>| -> Result<Value, StepError> {
            match v {
                Some(v) => template::render(v, scope).map_err(|e| template_error(field, e)),
                None => Ok(Value::Null),
            }
        };
        let path_value = render("path", &Some(Value::String(k.path.clone())))?;
        let path_text = path_value.as_str().unwrap_or_default().to_owned();
        crate::workflow::validate::check_relative_path(&path_text).map_err(|why| {
            StepError::host(
                Code::InvalidConnectorPath,
                format!("path `{path_text}`: {why}"),
            )
        })?;
        let connector = &k.connector;
        let mut input = json!({
            "connector": connector,
            "method": k.method,
            "path": path_text,
        });
        for (field, v) in [
            ("headers", &k.headers),
            ("query", &k.query),
            ("body", &k.body),
        ] {
            let rendered = render(field, v)?;
            if !rendered.is_null() {
                input[field] = rendered;
            }
        }
        if let Some(expect) = &k.expect {
            input["expect"] = json!(expect);
        }
        let grants = Grants::new([format!("http:{connector}")]);
        self.leaf(s, path, "connector", CONNECTOR_PLUGIN, input, Some(grants))
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::RunStatus;
    use crate::engine::testing::{by_path, first_failure, run};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_call_is_rendered_and_made_through_the_connector() {
        let steps = "  - id: call\n    connector: crm\n    method: POST\n    path: '/users/${input.id}'\n    \
                     query: { page: '${input.page}' }\n    body: { name: '${input.name}' }\n    expect: [200]\n";
        let (done, journal) = run(steps, json!({"id": "u1", "page": "2", "name": "ada"})).await;
        assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.report);
        let rec = by_path(&journal)["call"];
        assert_eq!(rec.kind, "connector");
        let input = &rec.attempts[0].input;
        assert_eq!(input["connector"], "crm");
        assert_eq!(input["method"], "POST");
        assert_eq!(input["path"], "/users/u1");
        assert_eq!(input["expect"], json!([200]));
        let out = done.output.unwrap();
        assert_eq!(out["status"], 200);
        assert_eq!(out["body"]["path"], "/users/u1");
        assert_eq!(out["body"]["method"], "POST");
        assert_eq!(out["body"]["connector"], "crm");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rendered_path_that_leaves_the_base_url_is_refused() {
        let steps =
            "  - id: call\n    connector: crm\n    method: GET\n    path: '/a/${input.p}'\n";
        let (done, journal) = run(steps, json!({"p": "../../admin"})).await;
        assert_eq!(
            first_failure(&done),
            ("call".into(), "INVALID_CONNECTOR_PATH".into())
        );
        assert!(journal.is_empty());
        // An unexpected status is the step's error, with the status in its details.
        let (done, _) = run(&steps.replace("/a/${input.p}", "/status/404"), json!({})).await;
        assert_eq!(first_failure(&done), ("call".into(), "HTTP_STATUS".into()));
    }
}
