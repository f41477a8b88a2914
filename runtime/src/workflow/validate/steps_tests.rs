//! Tests of the steps' checks and their typed form.

use std::time::Duration;

use serde_json::json;

use crate::workflow::model::{WorkflowDoc, parse};
use crate::workflow::step::*;
use crate::workflow::validate::typed;

fn doc(steps: &str) -> WorkflowDoc {
    let text = format!(
        "version: 1\nname: w\ntrigger: {{ type: manual }}\nrun_as: Read Only\nsteps:\n{steps}"
    );
    parse("w.yaml", &text).unwrap()
}

fn messages(steps: &str) -> Vec<String> {
    typed("w.yaml", &doc(steps))
        .unwrap_err()
        .into_iter()
        .map(|p| format!("{}: {}", p.location, p.message))
        .collect()
}

#[test]
fn each_kind_is_typed_with_only_its_fields() {
    let w = typed(
        "w.yaml",
        &doc("  - { id: a, uses: transform, with: { x: 1 } }\n  \
              - id: b\n    if: { uses: compare, with: { field: 1, operator: eq, value: 1 } }\n    \
              else: [ { id: c, uses: transform } ]\n  \
              - id: d\n    for_each: '${input.list}'\n    do: [ { id: e, uses: transform } ]\n  \
              - id: f\n    parallel: [ [ { id: g, uses: transform } ], [ { id: h, uses: transform } ] ]\n  \
              - { id: i, workflow: other, input: { y: 2 } }\n  \
              - { id: j, connector: crm, method: PUT, path: /x, expect: [204] }\n"),
    )
    .unwrap();
    let keys: Vec<&str> = w.steps.iter().map(|s| s.kind.key()).collect();
    assert_eq!(
        keys,
        [
            "uses",
            "if",
            "for_each",
            "parallel",
            "workflow",
            "connector"
        ]
    );
    let StepKind::Action(a) = &w.steps[0].kind else {
        panic!()
    };
    assert_eq!(
        (a.uses.as_str(), a.with.clone()),
        ("transform", Some(json!({"x": 1})))
    );
    let StepKind::If(i) = &w.steps[1].kind else {
        panic!()
    };
    assert_eq!(i.condition.uses, "compare");
    assert!(i.then.is_none());
    assert_eq!(i.otherwise.as_ref().unwrap()[0].common.id, "c");
    let StepKind::ForEach(f) = &w.steps[2].kind else {
        panic!()
    };
    // The defaults are the document's: the item is `item`, one at a time.
    assert_eq!(
        (f.item.as_str(), f.concurrency, f.body.len()),
        ("item", 1, 1)
    );
    let StepKind::Parallel(p) = &w.steps[3].kind else {
        panic!()
    };
    assert_eq!(p.branches.len(), 2);
    let StepKind::Workflow(s) = &w.steps[4].kind else {
        panic!()
    };
    assert_eq!(
        (s.name.as_str(), s.input.clone()),
        ("other", Some(json!({"y": 2})))
    );
    let StepKind::Connector(c) = &w.steps[5].kind else {
        panic!()
    };
    assert_eq!((c.method.as_str(), c.path.as_str()), ("PUT", "/x"));
    assert_eq!(c.expect, Some(vec![204]));
}

#[test]
fn durations_and_the_retry_policy_are_parsed_once() {
    let w = typed(
        "w.yaml",
        &doc("  - id: a\n    uses: transform\n    timeout: 2m\n    \
              retry: { attempts: 4, backoff: 1500ms, codes: [USER_LOCKED] }\n    \
              on_error: continue\n  \
              - id: b\n    uses: transform\n    retry: { attempts: 2 }\n    \
              on_error: [ { id: h, uses: transform } ]\n  \
              - { id: c, uses: transform, when: '${input.go}' }\n"),
    )
    .unwrap();
    let a = &w.steps[0].common;
    assert_eq!(a.timeout, Some(Duration::from_secs(120)));
    assert_eq!(
        a.retry,
        Some(Retry {
            attempts: 4,
            backoff: Duration::from_millis(1500),
            codes: vec!["USER_LOCKED".into()],
        })
    );
    assert_eq!(a.on_error, OnError::Continue);
    let b = &w.steps[1].common;
    assert_eq!(b.retry.as_ref().unwrap().backoff, DEFAULT_BACKOFF);
    assert!(matches!(&b.on_error, OnError::Steps(h) if h[0].common.id == "h"));
    let c = &w.steps[2].common;
    assert_eq!(
        (c.retry.clone(), c.timeout, c.on_error.clone()),
        (None, None, OnError::Fail)
    );
    assert_eq!(c.when, Some(json!("${input.go}")));
}

#[test]
fn a_step_that_cannot_be_typed_is_refused_with_every_problem() {
    assert_eq!(
        messages("  - { id: a }\n"),
        [
            "steps[0] a: the step does nothing: give one of uses, if, for_each, parallel, workflow, connector"
        ]
    );
    assert_eq!(
        messages("  - { id: a, uses: x, workflow: y }\n"),
        ["steps[0] a: a step is one kind; this one has uses, workflow"]
    );
    let found = messages(
        "  - { id: a, uses: x, retry: { attempts: 2, backoff: soon }, timeout: 0s }\n  \
         - { id: b, connector: crm, path: 'https://x.example/' }\n  \
         - id: c\n    for_each: [1]\n    concurrency: 0\n    do: [ { id: d, uses: x, with: 1, input: 2 } ]\n",
    );
    assert_eq!(found.len(), 6, "{found:#?}");
    assert!(found[0].starts_with("steps[0] a: `retry.backoff` `soon` is not a duration"));
    assert_eq!(found[1], "steps[0] a: `timeout` must be more than zero");
    assert_eq!(found[2], "steps[1] b: a connector step needs `method`");
    assert!(found[3].starts_with("steps[1] b: path `https://x.example/`: absolute URLs"));
    assert_eq!(
        found[4],
        "steps[2] c: `concurrency` 0 must be between 1 and 1000"
    );
    assert_eq!(
        found[5],
        "steps[2] c > do[0] d: `input` does not belong to a `uses` step"
    );
}

#[test]
fn typing_leaves_plugins_and_templates_to_validation() {
    // An unknown plugin, a broken template and a huge timeout type: validation refuses
    // them before a save or run, with the plugins and the host's limits at hand.
    let w = typed(
        "w.yaml",
        &doc("  - { id: a, uses: nowhere, with: { x: '{{ ( }}' }, timeout: 1000h }\n"),
    );
    assert!(w.is_ok(), "{w:?}");
    let roles = crate::role::RoleBook::default();
    let plugins = super::super::PluginTable::new();
    let d = doc("  - { id: a, uses: nowhere, with: { x: '{{ ( }}' }, timeout: 1000h }\n");
    let report = super::super::validate(
        "w.yaml",
        &d,
        &plugins,
        &roles,
        None,
        Duration::from_secs(60),
    );
    assert!(report.problems.len() >= 3, "{:#?}", report.problems);
    assert!(report.workflow.is_none());
    let good = doc("  - { id: a, uses: transform, timeout: 30s }\n");
    let plugins = [(
        "transform".to_owned(),
        Ok(super::super::PluginInfo {
            id: "transform@1.0.0".into(),
            kind: crate::host::PluginKind::Action,
            input_schema: json!({}),
            grants: Vec::new(),
        }),
    )]
    .into();
    let report = super::super::validate(
        "w.yaml",
        &good,
        &plugins,
        &roles,
        None,
        Duration::from_secs(60),
    );
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    let w = report.workflow.unwrap();
    assert_eq!(w.steps[0].common.timeout, Some(Duration::from_secs(30)));
    assert_eq!(w.name(), "w");
}
