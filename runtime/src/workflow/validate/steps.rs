//! The checks of each step, which also build its typed form ([`Step`]): one arm per step
//! kind in [`Checker::step`], then what every step has (retry, timeout, `on_error`, report
//! texts). A step with a problem is not built; every problem is still reported.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use super::{
    MAX_BACKOFF, MAX_CONCURRENCY, PluginTable, Problem, check_relative_path, contains_template,
    valid_error_code, valid_step_id,
};
use crate::broker::permissions::RunRole;
use crate::host::PluginKind;
use crate::workflow::model::{OnErrorDoc, OnErrorMode, StepDoc};
use crate::workflow::step::{
    Action, Common, Connector, DEFAULT_BACKOFF, ForEach, If, OnError, Parallel, Retry, Step,
    StepKind, SubWorkflow,
};
use crate::workflow::template;

/// Validation's state: what it was given, and what it found so far.
pub(super) struct Checker<'a> {
    pub(super) file: &'a str,
    pub(super) plugins: &'a PluginTable,
    /// The host's ceiling on a call's deadline: a step `timeout:` above it is refused.
    pub(super) max_timeout: Duration,
    /// Only the steps' shapes are checked (no plugins, templates or report texts): typing a
    /// document validated before, for the engine.
    pub(super) structural: bool,
    pub(super) problems: Vec<Problem>,
    pub(super) ids: BTreeMap<String, usize>,
    pub(super) role: RunRole,
    pub(super) needed_scopes: BTreeMap<String, BTreeSet<String>>,
}

impl Checker<'_> {
    pub(super) fn report(&mut self, location: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            location: location.to_owned(),
            message: message.into(),
        });
    }

    pub(super) fn templates(&mut self, location: &str, field: &str, value: &Value) {
        if self.structural {
            return;
        }
        for e in template::check(value) {
            self.report(
                location,
                format!("{field}.{}: bad template: {}", e.location, e.message),
            );
        }
    }

    /// Records the JumpCloud scopes in `grants` as needed by `user` (for the run-as check).
    pub(super) fn need_scopes(&mut self, grants: &[String], user: &str) {
        for g in grants {
            if let Some(scope) = g.strip_prefix("jumpcloud:") {
                self.needed_scopes
                    .entry(scope.to_owned())
                    .or_default()
                    .insert(user.to_owned());
            }
        }
    }

    fn plugin(&mut self, location: &str, spec: &str, kind: PluginKind, input: Option<&Value>) {
        if self.structural {
            return;
        }
        let info = match self.plugins.get(spec) {
            Some(Ok(info)) => info.clone(),
            Some(Err(reason)) => return self.report(location, reason.clone()),
            None => return self.report(location, format!("plugin `{spec}` was not resolved")),
        };
        // A connector plugin may be used as an action (`uses: jira`).
        let fits =
            info.kind == kind || (kind == PluginKind::Action && info.kind == PluginKind::Connector);
        if !fits {
            return self.report(
                location,
                format!(
                    "`{}` is a {} plugin; this step needs {} {kind} plugin",
                    info.id,
                    info.kind,
                    if kind == PluginKind::Action {
                        "an"
                    } else {
                        "a"
                    }
                ),
            );
        }
        self.need_scopes(&info.grants, &info.id);
        // A connector plugin step reaches the one connector it names; a literal `*` or
        // pattern would be refused when the step runs.
        if info.kind == PluginKind::Connector
            && let Some(c) = input.and_then(|i| i.get("connector"))
            && !c.as_str().is_some_and(template::is_template)
            && let Err(e) = crate::broker::permissions::one_connector(Some(c))
        {
            self.report(location, format!("with.connector: {e}"));
        }
        let input = input.cloned().unwrap_or(Value::Object(Default::default()));
        // Only a static input can be checked before the run; templates are checked then.
        if contains_template(&input) {
            return;
        }
        if let Ok(validator) = jsonschema::validator_for(&info.input_schema) {
            for e in validator.iter_errors(&input) {
                let at = e.instance_path.to_string();
                let at = if at.is_empty() {
                    String::new()
                } else {
                    format!(" at {at}")
                };
                self.report(
                    location,
                    format!("input{at} does not match `{}`: {e}", info.id),
                );
            }
        }
    }

    /// Checks `steps` and builds their typed form; `None` when any has a problem.
    pub(super) fn steps(&mut self, steps: &[StepDoc], prefix: &str) -> Option<Vec<Step>> {
        let mut out = Some(Vec::with_capacity(steps.len()));
        for (i, s) in steps.iter().enumerate() {
            let here = format!("{prefix}[{i}] {}", s.id);
            let step = self.step(s, &here);
            out = out.zip(step).map(|(mut all, one)| {
                all.push(one);
                all
            });
        }
        out
    }

    /// Checks one step and builds it: the kind's arm checks and types that kind's fields,
    /// then what every step has. `None` when the step or one inside it has a problem.
    fn step(&mut self, s: &StepDoc, here: &str) -> Option<Step> {
        let before = self.problems.len();
        if !valid_step_id(&s.id) {
            self.report(
                here,
                format!(
                    "step id `{}`: use letters, digits and `_` (not starting with a digit)",
                    s.id
                ),
            );
        }
        *self.ids.entry(s.id.clone()).or_default() += 1;
        let kinds: Vec<&str> = [
            ("uses", s.uses.is_some()),
            ("if", s.condition.is_some()),
            ("for_each", s.for_each.is_some()),
            ("parallel", s.parallel.is_some()),
            ("workflow", s.workflow.is_some()),
            ("connector", s.connector.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
        .collect();
        let kind = match kinds.as_slice() {
            [one] => *one,
            [] => {
                self.report(here, "the step does nothing: give one of uses, if, for_each, parallel, workflow, connector");
                return None;
            }
            many => {
                self.report(
                    here,
                    format!("a step is one kind; this one has {}", many.join(", ")),
                );
                return None;
            }
        };
        let allowed: &[&str] = match kind {
            "uses" => &["with"],
            "if" => &["then", "else"],
            "for_each" => &["item", "concurrency", "do"],
            "parallel" => &[],
            "workflow" => &["input"],
            _ => &["method", "path", "headers", "query", "body", "expect"],
        };
        let present = [
            ("with", s.with.is_some()),
            ("then", s.then.is_some()),
            ("else", s.otherwise.is_some()),
            ("item", s.item.is_some()),
            ("concurrency", s.concurrency.is_some()),
            ("do", s.do_steps.is_some()),
            ("input", s.input.is_some()),
            ("method", s.method.is_some()),
            ("path", s.path.is_some()),
            ("headers", s.headers.is_some()),
            ("query", s.query.is_some()),
            ("body", s.body.is_some()),
            ("expect", s.expect.is_some()),
        ];
        for (field, is_set) in present {
            if is_set && !allowed.contains(&field) {
                self.report(
                    here,
                    format!("`{field}` does not belong to a `{kind}` step"),
                );
            }
        }
        if let Some(w) = &s.when {
            self.templates(here, "when", w);
        }
        // One arm per step kind.
        let typed = match kind {
            "uses" => self.action(s, here),
            "if" => self.if_step(s, here),
            "for_each" => self.for_each(s, here),
            "parallel" => self.parallel(s, here),
            "workflow" => self.sub_workflow(s, here),
            _ => self.connector(s, here),
        };
        let retry = self.retry(s, here);
        let timeout = self.timeout(s, here);
        self.report_texts(s, here);
        let on_error = match &s.on_error {
            None | Some(OnErrorDoc::Mode(OnErrorMode::Fail)) => Some(OnError::Fail),
            Some(OnErrorDoc::Mode(OnErrorMode::Continue)) => Some(OnError::Continue),
            Some(OnErrorDoc::Steps(handler)) => self
                .steps(handler, &format!("{here} > on_error"))
                .map(OnError::Steps),
        };
        if self.problems.len() != before {
            return None;
        }
        Some(Step {
            common: Common {
                id: s.id.clone(),
                name: s.name.clone(),
                when: s.when.clone(),
                retry: retry?,
                timeout: timeout?,
                on_error: on_error?,
                impact: s.impact.clone(),
                remediation: s.remediation.clone(),
                recommended_actions: s.recommended_actions.clone(),
                errors: s.errors.clone(),
            },
            kind: typed?,
        })
    }

    fn action(&mut self, s: &StepDoc, here: &str) -> Option<StepKind> {
        let spec = s.uses.clone()?;
        if let Some(with) = &s.with {
            self.templates(here, "with", with);
        }
        self.plugin(here, &spec, PluginKind::Action, s.with.as_ref());
        Some(StepKind::Action(Action {
            uses: spec,
            with: s.with.clone(),
        }))
    }

    fn if_step(&mut self, s: &StepDoc, here: &str) -> Option<StepKind> {
        let condition = s.condition.clone()?;
        self.templates(here, "if.with", &condition.with);
        self.plugin(
            here,
            &condition.uses,
            PluginKind::Condition,
            Some(&condition.with),
        );
        if s.then.is_none() && s.otherwise.is_none() {
            self.report(here, "an `if` step needs `then` or `else`");
        }
        let then = s
            .then
            .as_ref()
            .map(|t| self.steps(t, &format!("{here} > then")));
        let otherwise = s
            .otherwise
            .as_ref()
            .map(|e| self.steps(e, &format!("{here} > else")));
        Some(StepKind::If(If {
            condition,
            then: lift(then)?,
            otherwise: lift(otherwise)?,
        }))
    }

    fn for_each(&mut self, s: &StepDoc, here: &str) -> Option<StepKind> {
        let list = s.for_each.clone()?;
        self.templates(here, "for_each", &list);
        if !contains_template(&list) && !list.is_array() {
            self.report(here, "`for_each` must be a list or a template giving one");
        }
        if let Some(item) = &s.item
            && !valid_step_id(item)
        {
            self.report(
                here,
                format!("item name `{item}`: use letters, digits and `_`"),
            );
        }
        let concurrency = s.concurrency.unwrap_or(1);
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            self.report(
                here,
                format!("`concurrency` {concurrency} must be between 1 and {MAX_CONCURRENCY}"),
            );
        }
        let body = match &s.do_steps {
            Some(body) if !body.is_empty() => self.steps(body, &format!("{here} > do")),
            _ => {
                self.report(here, "a `for_each` step needs `do` steps");
                None
            }
        };
        Some(StepKind::ForEach(ForEach {
            list,
            item: s.item.clone().unwrap_or_else(|| "item".into()),
            concurrency: usize::try_from(concurrency).ok()?,
            body: body?,
        }))
    }

    fn parallel(&mut self, s: &StepDoc, here: &str) -> Option<StepKind> {
        let branches = s.parallel.as_ref()?;
        if branches.len() < 2 {
            self.report(here, "`parallel` needs at least two branches");
        }
        let typed: Vec<Option<Vec<Step>>> = branches
            .iter()
            .enumerate()
            .map(|(b, branch)| self.steps(branch, &format!("{here} > parallel[{b}]")))
            .collect();
        Some(StepKind::Parallel(Parallel {
            branches: typed.into_iter().collect::<Option<_>>()?,
        }))
    }

    fn sub_workflow(&mut self, s: &StepDoc, here: &str) -> Option<StepKind> {
        if let Some(input) = &s.input {
            self.templates(here, "input", input);
        }
        Some(StepKind::Workflow(SubWorkflow {
            name: s.workflow.clone()?,
            input: s.input.clone(),
        }))
    }

    fn connector(&mut self, s: &StepDoc, here: &str) -> Option<StepKind> {
        let name = s.connector.clone()?;
        if name.is_empty() {
            self.report(here, "`connector` needs a connector name");
        } else if !crate::connector::valid_name(&name) {
            self.report(
                here,
                format!(
                    "connector `{name}`: name exactly one defined connector (lower-case letters, digits, `-` and `_`), not a pattern"
                ),
            );
        }
        match s.method.as_deref() {
            Some("GET" | "POST" | "PUT" | "PATCH" | "DELETE") => {}
            Some(other) => self.report(
                here,
                format!("method `{other}`: use GET, POST, PUT, PATCH or DELETE"),
            ),
            None => self.report(here, "a connector step needs `method`"),
        }
        match s.path.as_deref() {
            None => self.report(here, "a connector step needs `path`"),
            Some(p) => {
                if let Err(why) = check_relative_path(p) {
                    self.report(here, format!("path `{p}`: {why}"));
                }
            }
        }
        for (field, v) in [
            ("headers", &s.headers),
            ("query", &s.query),
            ("body", &s.body),
        ] {
            if let Some(v) = v {
                self.templates(here, field, v);
            }
        }
        Some(StepKind::Connector(Connector {
            connector: name,
            method: s.method.clone()?,
            path: s.path.clone()?,
            headers: s.headers.clone(),
            query: s.query.clone(),
            body: s.body.clone(),
            expect: s.expect.clone(),
        }))
    }

    /// The retry policy, its backoff parsed; `Some(None)` when the step has none.
    fn retry(&mut self, s: &StepDoc, here: &str) -> Option<Option<Retry>> {
        let Some(r) = &s.retry else {
            return Some(None);
        };
        if r.attempts == 0 || r.attempts > 20 {
            self.report(here, "`retry.attempts` must be between 1 and 20");
        }
        let backoff = match &r.backoff {
            None => Some(DEFAULT_BACKOFF),
            Some(b) => match humantime::parse_duration(b) {
                Ok(d) if d > MAX_BACKOFF => {
                    self.report(
                        here,
                        format!(
                            "`retry.backoff` `{b}` is more than the longest backoff, {}",
                            humantime::format_duration(MAX_BACKOFF)
                        ),
                    );
                    None
                }
                Ok(d) => Some(d),
                Err(e) => {
                    self.report(
                        here,
                        format!(
                            "`retry.backoff` `{b}` is not a duration such as `500ms` or `2s` ({e})"
                        ),
                    );
                    None
                }
            },
        };
        Some(Some(Retry {
            attempts: r.attempts,
            backoff: backoff?,
            codes: r.codes.clone(),
        }))
    }

    /// The step's deadline, parsed; `Some(None)` when the step gives none.
    fn timeout(&mut self, s: &StepDoc, here: &str) -> Option<Option<Duration>> {
        let Some(t) = &s.timeout else {
            return Some(None);
        };
        match humantime::parse_duration(t) {
            Ok(d) if d.is_zero() => self.report(here, "`timeout` must be more than zero"),
            Ok(d) if d > self.max_timeout => self.report(
                here,
                format!(
                    "`timeout` `{t}` is more than the longest a step may run, {} \
                     (SLUICE_MAX_STEP_TIMEOUT)",
                    humantime::format_duration(self.max_timeout)
                ),
            ),
            Ok(d) => return Some(Some(d)),
            Err(e) => self.report(
                here,
                format!("`timeout` `{t}` is not a duration such as `30s` or `2m` ({e})"),
            ),
        }
        None
    }

    /// The failure report's texts: template syntax, and `errors:` keyed by error codes
    /// with at least one text each.
    fn report_texts(&mut self, s: &StepDoc, here: &str) {
        if self.structural {
            return;
        }
        let own = (&s.impact, &s.remediation, &s.recommended_actions);
        let mut texts = report_text_values(String::new(), own);
        for (code, t) in &s.errors {
            let named = (&t.impact, &t.remediation, &t.recommended_actions);
            texts.extend(report_text_values(format!("errors.{code}."), named));
        }
        for (field, value) in &texts {
            for e in template::check(value) {
                let at = if e.location.starts_with('[') {
                    e.location.as_str()
                } else {
                    ""
                };
                self.report(here, format!("{field}{at}: bad template: {}", e.message));
            }
        }
        for (code, t) in &s.errors {
            if !valid_error_code(code) {
                self.report(
                    here,
                    format!(
                        "errors: `{code}` is not an error code: use upper-case letters, digits \
                         and `_`, as in `USER_ALREADY_EXISTS`"
                    ),
                );
            }
            if t.impact.is_none() && t.remediation.is_none() && t.recommended_actions.is_none() {
                self.report(
                    here,
                    format!("errors.{code}: give `impact`, `remediation` or `recommended_actions`"),
                );
            }
        }
    }
}

/// A step's report texts (impact, remediation, recommended actions) as values to check,
/// each named by `prefix` and its field.
fn report_text_values(
    prefix: String,
    (impact, remediation, actions): (&Option<String>, &Option<String>, &Option<Vec<String>>),
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, t) in [("impact", impact), ("remediation", remediation)] {
        if let Some(t) = t {
            out.push((format!("{prefix}{name}"), Value::String(t.clone())));
        }
    }
    if let Some(a) = actions {
        out.push((format!("{prefix}recommended_actions"), serde_json::json!(a)));
    }
    out
}

/// `Some(None)` for an absent list, `None` for a list that did not type.
fn lift<T>(o: Option<Option<T>>) -> Option<Option<T>> {
    match o {
        None => Some(None),
        Some(inner) => inner.map(Some),
    }
}

#[cfg(test)]
#[path = "steps_tests.rs"]
mod tests;
