//! `for_each:` the body once per item of a rendered list, at most `concurrency` items at
//! once, each under `<path>[<index>]` with the item and `index` in its scope; the output is
//! one object per item of its body steps' outputs.

use futures::StreamExt;
use serde_json::{Value, json};

use crate::code::Code;
use crate::engine::walk::{Outcome, RunCtx, Stop, template_error};
use crate::host::StepError;
use crate::workflow::step::ForEach;
use crate::workflow::template;

impl RunCtx<'_> {
    pub(in crate::engine) async fn for_each(
        &self,
        f: &ForEach,
        path: &str,
        scope: &Value,
    ) -> Result<Outcome, Stop> {
        let items = match template::render(&f.list, scope) {
            Err(e) => return Ok(Err(template_error("for_each", e))),
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return Ok(Err(StepError::host(
                    Code::TemplateError,
                    format!("for_each: expected a list, got {other}"),
                )));
            }
        };
        let results: Vec<Result<Value, Stop>> =
            futures::stream::iter(items.into_iter().enumerate())
                .map(|(i, item)| {
                    let mut inner = scope.clone();
                    if let Some(obj) = inner.as_object_mut() {
                        obj.insert(f.item.clone(), item);
                        obj.insert("index".into(), json!(i));
                    }
                    async move {
                        let after = self.steps(&f.body, inner, format!("{path}[{i}]")).await?;
                        let mut out = serde_json::Map::new();
                        for b in &f.body {
                            if let Some(rec) = after["steps"].get(&b.common.id) {
                                out.insert(
                                    b.common.id.clone(),
                                    rec.get("output").cloned().unwrap_or(Value::Null),
                                );
                            }
                        }
                        Ok(Value::Object(out))
                    }
                })
                // Validation keeps it between 1 and its maximum (0 would never run).
                .buffered(f.concurrency.max(1))
                .collect()
                .await;
        let outputs: Vec<Value> = results.into_iter().collect::<Result<_, Stop>>()?;
        Ok(Ok((Value::Array(outputs), None)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::RunStatus;
    use crate::engine::testing::{by_path, first_failure, run};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_body_runs_once_per_item_with_its_index() {
        for concurrency in [1, 3] {
            let steps = format!(
                "  - id: each\n    for_each: '${{input.users}}'\n    item: user\n    \
                 concurrency: {concurrency}\n    do:\n      \
                 - {{ id: greet, uses: transform, with: {{ who: '${{user}}', at: '${{index}}' }} }}\n"
            );
            let (done, journal) = run(&steps, json!({"users": ["ada", "bob", "cy"]})).await;
            assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.report);
            assert_eq!(
                done.output,
                Some(json!([
                    {"greet": {"who": "ada", "at": 0}},
                    {"greet": {"who": "bob", "at": 1}},
                    {"greet": {"who": "cy", "at": 2}},
                ]))
            );
            let paths = by_path(&journal);
            assert_eq!(
                paths.keys().copied().collect::<Vec<_>>(),
                ["each[0].greet", "each[1].greet", "each[2].greet"]
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_item_is_named_item_by_default_and_a_non_list_is_an_error() {
        let steps = "  - id: each\n    for_each: [1, 2]\n    do:\n      \
                     - { id: b, uses: transform, with: { v: '${item}' } }\n";
        let (done, _) = run(steps, json!({})).await;
        assert_eq!(done.output, Some(json!([{"b": {"v": 1}}, {"b": {"v": 2}}])));
        let steps = "  - id: each\n    for_each: '${input.n}'\n    do:\n      \
                     - { id: b, uses: transform }\n";
        let (done, journal) = run(steps, json!({"n": 4})).await;
        assert_eq!(
            first_failure(&done),
            ("each".into(), "TEMPLATE_ERROR".into())
        );
        assert!(journal.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_item_stops_the_run() {
        let steps = "  - id: each\n    for_each: [1, 'x', 3]\n    do:\n      \
                     - { id: b, uses: transform, with: { v: '{{ item + 1 }}' } }\n";
        let (done, _) = run(steps, json!({})).await;
        assert_eq!(done.status, RunStatus::Failed);
        assert_eq!(first_failure(&done).0, "b");
    }
}
