//! Validation, in one place, before any save or run. Every problem is reported (not only the
//! first), each with its location: the file and the step path (`steps[2] create_user`).
//!
//! What is checked: names and step ids; that each step is exactly one kind with only that
//! kind's fields; plugins exist with the right kind; static inputs match the plugin's input
//! schema; template syntax; references to steps that do not exist; sub-workflows exist and
//! do not form a cycle; cron expressions and timezones; connector paths stay relative;
//! retry and timeout values; that `run_as` is a predefined or defined custom role, that
//! every plugin's JumpCloud grants fit it (naming the narrowest role that would), and that
//! it stays within the role of the JumpCloud identity Sluice calls with, when that is known.
//!
//! Validation is also the one place that reads a step's kind, durations and retry policy:
//! checking a step builds its typed form ([`Step`](super::step::Step), in `steps.rs`, one
//! arm per kind). [`validate`] returns the typed workflow of a document without problems;
//! [`typed`] types a document validated before (a run's) for the engine.
//!
//! # Layout
//! - this file: [`validate`], [`typed`], the document-wide checks (names, trigger,
//!   references, sub-workflows, roles);
//! - `steps.rs`: each step's checks and its typed form.

mod steps;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use self::steps::Checker;
use super::model::{OnErrorDoc, StepDoc, Trigger, WorkflowDoc};
use super::step::Workflow;
use super::template;
use crate::broker::permissions::{Role, RunAs, RunRole};
use crate::host::PluginKind;
use crate::host::manifest::valid_name;
use crate::host::registry::Wanted;
use crate::role::{IDENTITY_ROLE_VAR, RoleBook};

/// What validation needs to know about one plugin.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub id: String,
    pub kind: PluginKind,
    pub input_schema: Value,
    pub grants: Vec<String>,
}

/// Plugins by the spec a workflow wrote (`transform`, `compare@0.1.0`); `Err` says why a
/// spec does not resolve.
pub type PluginTable = HashMap<String, Result<PluginInfo, String>>;

/// Finds sub-workflows by name.
pub trait WorkflowSource {
    /// The sub-workflow `name`: where it was found and its document.
    fn load(&self, name: &str) -> Result<(String, WorkflowDoc), String>;
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    /// `workflow`, `trigger`, `steps[1] add_groups > do[0] add`, ...
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.location, self.message)
    }
}

/// Every plugin spec a document uses (actions, conditions, the connector plugin).
pub fn plugin_specs(doc: &WorkflowDoc) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    visit(&doc.steps, &mut |s| {
        if let Some(u) = &s.uses {
            out.insert(u.clone());
        }
        if let Some(c) = &s.condition {
            out.insert(c.uses.clone());
        }
        if s.connector.is_some() {
            out.insert(CONNECTOR_PLUGIN.to_owned());
        }
    });
    out
}

/// The plugin that executes `connector` steps.
pub const CONNECTOR_PLUGIN: &str = "http-request";

/// Calls `f` on every step, nested ones included.
pub fn visit<'a>(steps: &'a [StepDoc], f: &mut dyn FnMut(&'a StepDoc)) {
    for s in steps {
        f(s);
        for child in children(s) {
            visit(child, f);
        }
    }
}

fn children(s: &StepDoc) -> Vec<&Vec<StepDoc>> {
    let mut out: Vec<&Vec<StepDoc>> = Vec::new();
    out.extend(s.then.iter());
    out.extend(s.otherwise.iter());
    out.extend(s.do_steps.iter());
    if let Some(branches) = &s.parallel {
        out.extend(branches.iter());
    }
    if let Some(OnErrorDoc::Steps(steps)) = &s.on_error {
        out.push(steps);
    }
    out
}

/// Whether a step id is usable in templates as `steps.<id>`.
/// The sub-workflows a document calls directly, by name.
pub fn subworkflow_names(doc: &WorkflowDoc) -> Vec<String> {
    let mut out = Vec::new();
    visit(&doc.steps, &mut |s| {
        if let Some(w) = &s.workflow {
            out.push(w.clone());
        }
    });
    out
}

pub fn valid_step_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && id.len() <= 64
}

/// The longest `retry.backoff` a document may ask for; the delay doubles per attempt and is
/// capped here too.
pub const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(3600);

/// The highest `for_each` concurrency a document may ask for.
pub const MAX_CONCURRENCY: u32 = 1000;

/// Whether `code` has the form of an error code (`USER_ALREADY_EXISTS`, `HTTP_STATUS`).
pub fn valid_error_code(code: &str) -> bool {
    let mut bytes = code.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && code.len() <= 64
}

fn contains_template(v: &Value) -> bool {
    match v {
        Value::String(s) => template::is_template(s),
        Value::Array(items) => items.iter().any(contains_template),
        Value::Object(map) => map.values().any(contains_template),
        _ => false,
    }
}

/// A connector path must stay below the connector's base URL.
pub fn check_relative_path(p: &str) -> Result<(), &'static str> {
    if p.chars().any(char::is_control) {
        // URL parsers drop tabs and line breaks, which would let `.\t.` become `..`.
        return Err("control characters (tabs, line breaks) are not allowed in a path");
    }
    if p.contains("://") || p.starts_with("//") {
        return Err(
            "absolute URLs are not allowed; give a path relative to the connector's base URL",
        );
    }
    if p.split(['/', '?', '#'])
        .any(|seg| seg == ".." || seg.eq_ignore_ascii_case("%2e%2e"))
    {
        return Err("`..` would escape the connector's base URL");
    }
    if !p.starts_with('/') && !template::is_template(p) {
        return Err("start the path with `/`");
    }
    Ok(())
}

/// Names of steps a template string refers to as `steps.<id>`.
fn referenced_steps(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if template::is_template(s) => {
            let mut rest = s.as_str();
            while let Some(i) = rest.find("steps.") {
                let before_ok = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric();
                let tail = &rest[i + 6..];
                let id: String = tail
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if before_ok && !id.is_empty() {
                    out.insert(id);
                }
                rest = tail;
            }
        }
        Value::Array(items) => items.iter().for_each(|i| referenced_steps(i, out)),
        Value::Object(map) => map.values().for_each(|i| referenced_steps(i, out)),
        _ => {}
    }
}

/// Roles from the narrowest to the broadest, for "the narrowest role that covers it".
const ROLES_BY_PRIVILEGE: [Role; 5] = [
    Role::ReadOnly,
    Role::HelpDesk,
    Role::Manager,
    Role::Administrator,
    Role::AdministratorWithBilling,
];

/// The narrowest role granting all `scopes`: of the predefined roles and the custom roles
/// in `roles` that grant them all, the one granting the fewest scopes (a predefined role
/// when one grants as few).
pub fn narrowest_role<'a>(
    scopes: impl IntoIterator<Item = &'a str> + Clone,
    roles: &RoleBook,
) -> Option<RunAs> {
    let predefined = ROLES_BY_PRIVILEGE.into_iter().map(RunRole::Predefined);
    predefined
        .chain(roles.custom().cloned())
        .filter(|r| {
            let granted = r.scopes();
            scopes.clone().into_iter().all(|s| granted.contains(s))
        })
        .min_by_key(|r| r.scopes().len())
        .map(|r| r.run_as())
}

/// The result of validating a document: its problems, and the narrowest role covering the
/// JumpCloud scopes its plugins were granted.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub problems: Vec<Problem>,
    pub narrowest_role: Option<RunAs>,
    pub scopes: BTreeSet<String>,
    /// The document with its steps typed, when there is no problem.
    #[serde(skip)]
    pub workflow: Option<Workflow>,
}

/// The typed form of a document validated before (a run's workflow or sub-workflow, as
/// recorded when the run started): each step's shape is checked and typed as [`validate`]
/// does it, without what needs the plugins, the templates or the host's limits. A document
/// that does not type is refused with its problems, never run with guesses.
pub fn typed(file: &str, doc: &WorkflowDoc) -> Result<Workflow, Vec<Problem>> {
    let plugins = PluginTable::new();
    let mut c = Checker {
        file,
        plugins: &plugins,
        max_timeout: std::time::Duration::MAX,
        structural: true,
        problems: Vec::new(),
        ids: BTreeMap::new(),
        role: RoleBook::default().resolve(&doc.run_as),
        needed_scopes: BTreeMap::new(),
    };
    match c.steps(&doc.steps, "steps") {
        Some(steps) if c.problems.is_empty() => Ok(Workflow {
            doc: doc.clone(),
            steps,
        }),
        _ => Err(c.problems),
    }
}

/// Validates `doc` (read from `file`), its sub-workflows included.
///
/// `source` resolves sub-workflows for the existence and cycle checks; pass `None` when
/// validating a sub-workflow whose parent already checked its chain.
/// `max_timeout` is the host's ceiling on a call's deadline (`PluginHost::timeout_ceiling`).
pub fn validate(
    file: &str,
    doc: &WorkflowDoc,
    plugins: &PluginTable,
    roles: &RoleBook,
    source: Option<&dyn WorkflowSource>,
    max_timeout: std::time::Duration,
) -> Report {
    let mut c = Checker {
        file,
        plugins,
        max_timeout,
        structural: false,
        problems: Vec::new(),
        ids: BTreeMap::new(),
        role: roles.resolve(&doc.run_as),
        needed_scopes: BTreeMap::new(),
    };
    if !valid_name(&doc.name) {
        c.report(
            "workflow",
            format!(
                "name `{}`: use lower-case letters, digits and `-`",
                doc.name
            ),
        );
    }
    if doc.steps.is_empty() {
        c.report("workflow", "a workflow needs at least one step");
    }
    match &doc.trigger {
        Trigger::Manual {
            input_schema: Some(schema),
        } => {
            if let Err(e) = jsonschema::meta::validate(schema) {
                c.report(
                    "trigger.input_schema",
                    format!("not a valid JSON Schema: {e}"),
                );
            }
        }
        Trigger::Schedule { cron, timezone, .. } => {
            if let Err(e) = cron.parse::<cron::Schedule>() {
                c.report("trigger.cron", cron_problem(cron, &e.to_string()));
            }
            if timezone.parse::<chrono_tz::Tz>().is_err() {
                c.report(
                    "trigger.timezone",
                    format!("`{timezone}` is not an IANA timezone such as `Europe/Paris`"),
                );
            }
        }
        Trigger::Event {
            event_type,
            condition,
        } => {
            if event_type.trim().is_empty() {
                c.report(
                    "trigger.event_type",
                    "give the Directory Insights event type, e.g. `user_create`",
                );
            }
            if let Some(cond) = condition {
                c.templates("trigger", "condition", cond);
            }
        }
        _ => {}
    }
    let typed_steps = c.steps(&doc.steps, "steps");
    let duplicates: Vec<String> = c
        .ids
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id.clone())
        .collect();
    for id in duplicates {
        c.report("steps", format!("step id `{id}` is used more than once"));
    }
    let mut refs = BTreeSet::new();
    visit(&doc.steps, &mut |s| {
        for v in [
            &s.with,
            &s.input,
            &s.body,
            &s.headers,
            &s.query,
            &s.for_each,
            &s.when,
        ]
        .into_iter()
        .flatten()
        {
            referenced_steps(v, &mut refs);
        }
        if let Some(cond) = &s.condition {
            referenced_steps(&cond.with, &mut refs);
        }
    });
    if let Some(report) = &doc.report {
        c.templates("report", "report", report);
    }
    if let Some(out) = &doc.output {
        c.templates("output", "output", out);
        referenced_steps(out, &mut refs);
    }
    for r in refs {
        if !c.ids.contains_key(&r) {
            c.report(
                "steps",
                format!("a template refers to `steps.{r}`, but no step has id `{r}`"),
            );
        }
    }
    // Sub-workflows: they exist, they are valid, and no chain leads back to this one.
    if let Some(source) = source {
        let mut chain = vec![doc.name.clone()];
        sub_workflows(&mut c, doc, source, &mut chain);
    }
    // The role must cover every JumpCloud scope granted to the plugins used.
    let scopes: BTreeSet<String> = c.needed_scopes.keys().cloned().collect();
    let narrowest = narrowest_role(scopes.iter().map(String::as_str), roles);
    let role = c.role.clone();
    let granted = role.scopes();
    if let RunRole::Undefined(name) = &role {
        let name: String = name.chars().take(80).collect();
        let custom = roles.custom_names();
        let defined = if custom.is_empty() {
            "none is defined".to_owned()
        } else {
            format!("defined: {}", custom.join(", "))
        };
        c.report(
            "run_as",
            format!(
                "`{name}` is neither a predefined role ({}) nor a custom role ({defined}; see \
                 `sluice role list`)",
                Role::ALL.map(|r| r.to_string()).join(", ")
            ),
        );
    }
    // Beyond the identity's own role, JumpCloud would refuse the calls.
    if let Some(identity) = &roles.identity {
        match roles.resolve(identity) {
            RunRole::Undefined(name) => c.report(
                "run_as",
                format!(
                    "{IDENTITY_ROLE_VAR} names `{name}`, which is neither a predefined role nor \
                     a defined custom role"
                ),
            ),
            id if !matches!(role, RunRole::Undefined(_)) => {
                let beyond: Vec<&str> = granted.difference(id.scopes()).copied().collect();
                if !beyond.is_empty() {
                    c.report(
                        "run_as",
                        format!(
                            "the role `{role}` grants {} beyond `{id}`, the role of the JumpCloud \
                             identity Sluice calls with ({IDENTITY_ROLE_VAR}): JumpCloud would \
                             refuse those calls; run as a role within `{id}`",
                            beyond
                                .iter()
                                .map(|s| format!("`jumpcloud:{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    for (scope, users) in c.needed_scopes.clone() {
        if !matches!(role, RunRole::Undefined(_)) && !granted.contains(scope.as_str()) {
            let users: Vec<_> = users.into_iter().collect();
            let hint = narrowest
                .as_ref()
                .map(|r| format!("; the narrowest role covering this workflow is `{r}`"))
                .unwrap_or_default();
            c.report(
                "run_as",
                format!(
                    "{} needs `jumpcloud:{scope}`, which the role `{role}` does not grant{hint}",
                    users.join(", ")
                ),
            );
        }
    }
    let workflow = typed_steps
        .filter(|_| c.problems.is_empty())
        .map(|steps| Workflow {
            doc: doc.clone(),
            steps,
        });
    Report {
        problems: c.problems,
        narrowest_role: narrowest,
        scopes,
        workflow,
    }
}

fn sub_workflows(
    c: &mut Checker<'_>,
    doc: &WorkflowDoc,
    source: &dyn WorkflowSource,
    chain: &mut Vec<String>,
) {
    let mut names = Vec::new();
    visit(&doc.steps, &mut |s| {
        if let Some(w) = &s.workflow {
            names.push((s.id.clone(), w.clone()));
        }
    });
    for (step, name) in names {
        let here = format!("workflow {} > step {step}", doc.name);
        if chain.contains(&name) {
            c.report(
                &here,
                format!("sub-workflow cycle: {} -> {name}", chain.join(" -> ")),
            );
            continue;
        }
        match source.load(&name) {
            Err(e) => c.report(&here, format!("sub-workflow `{name}`: {e}")),
            Ok((_, sub)) => {
                // A sub-workflow's steps run under this workflow's role: its plugins'
                // JumpCloud scopes count here.
                for spec in plugin_specs(&sub) {
                    if let Some(Ok(info)) = c.plugins.get(&spec) {
                        c.need_scopes(&info.grants, &format!("{} (sub-workflow {name})", info.id));
                    }
                }
                chain.push(name);
                sub_workflows(c, &sub, source, chain);
                chain.pop();
            }
        }
    }
}

/// Why `cron` does not parse, in words: the crate's message without its echo of the input
/// and caret line, and the fix for the usual mistake (five fields, without seconds).
fn cron_problem(cron: &str, crate_message: &str) -> String {
    let fields = cron.split_whitespace().count();
    if fields == 5 {
        return format!(
            "`{cron}` has 5 fields; Sluice's cron starts with seconds (sec min hour day month \
             weekday [year]): write `0 {cron}`"
        );
    }
    let why: Vec<&str> = crate_message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "^" && *l != cron.trim())
        .collect();
    let why = why.join("; ");
    let why = why
        .strip_prefix(cron.trim())
        .map_or(why.as_str(), str::trim_start);
    format!(
        "`{cron}` is not a valid cron expression (sec min hour day month weekday [year]): {why}"
    )
}

/// What validation needs to know of each plugin the documents use, resolved from the
/// registry (a plugin that does not resolve is a problem reported where it is used).
pub async fn plugin_table(
    registry: &crate::host::registry::Registry,
    docs: &[&WorkflowDoc],
) -> PluginTable {
    let mut table = PluginTable::new();
    for doc in docs {
        for spec in plugin_specs(doc) {
            if table.contains_key(&spec) {
                continue;
            }
            let wanted = match crate::host::registry::parse_spec(&spec) {
                Ok((name, wanted)) => (name.to_owned(), wanted),
                Err(why) => {
                    table.insert(spec.clone(), Err(format!("plugin {why}")));
                    continue;
                }
            };
            let info = match registry.resolve(&spec).await {
                Ok((record, loaded)) => Ok(PluginInfo {
                    id: record.id(),
                    kind: record.kind,
                    input_schema: loaded.manifest.input_schema.clone(),
                    grants: record.grants.clone(),
                }),
                Err(crate::host::PluginHostError::NotFound(_)) if wanted.1 != Wanted::Newest => {
                    Err(unknown_pin(registry, &spec, &wanted.0, &wanted.1).await)
                }
                Err(e) => Err(format!("plugin `{spec}`: {e}")),
            };
            table.insert(spec, info);
        }
    }
    table
}

/// Why a pinned `uses:` (`NAME@1.2.3`, `NAME@sha256:<hex>`) names nothing, with the
/// versions there are.
async fn unknown_pin(
    registry: &crate::host::registry::Registry,
    spec: &str,
    name: &str,
    wanted: &Wanted<'_>,
) -> String {
    let versions: Vec<String> = match registry.list().await {
        Ok(all) => all
            .into_iter()
            .filter(|r| r.name == name)
            .map(|r| r.version)
            .collect(),
        Err(e) => return format!("plugin `{spec}`: {e}"),
    };
    let there = if versions.is_empty() {
        format!("no plugin `{name}` is installed or bundled")
    } else {
        format!("`{name}` is there as {}", versions.join(", "))
    };
    match wanted {
        Wanted::Digest(_) => format!(
            "plugin `{spec}`: no component of `{name}` has that sha256 ({there}; `sluice \
             plugin list --json` shows each one's digest)"
        ),
        Wanted::Version(v) => format!("plugin `{spec}`: no version {v} of `{name}` ({there})"),
        Wanted::Newest => format!("plugin `{spec}`: {there}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_paths_must_stay_relative() {
        assert!(check_relative_path("/rest/api/2/issue").is_ok());
        assert!(check_relative_path("/users/${input.id}").is_ok());
        assert!(check_relative_path("https://evil.example/x").is_err());
        assert!(check_relative_path("//evil.example/x").is_err());
        assert!(check_relative_path("/a/../../admin").is_err());
        assert!(check_relative_path("/a/%2E%2E/admin").is_err());
        assert!(check_relative_path("relative").is_err());
        assert!(check_relative_path("/.\t./.\t./admin").is_err());
    }

    #[test]
    fn narrowest_role_orders_roles_by_privilege() {
        let none = RoleBook::default();
        let n = |scopes: &[&str], book: &RoleBook| narrowest_role(scopes.iter().copied(), book);
        assert_eq!(n(&["users.readonly"], &none), Some(Role::ReadOnly.into()));
        assert_eq!(
            n(&["users", "users.readonly"], &none),
            Some(Role::HelpDesk.into())
        );
        assert_eq!(n(&["users", "groups"], &none), Some(Role::Manager.into()));
        assert_eq!(
            n(&["settings.readonly", "organizations"], &none),
            Some(Role::Administrator.into())
        );
        assert_eq!(
            n(&["administrators"], &none),
            Some(Role::AdministratorWithBilling.into())
        );
    }

    #[test]
    fn narrowest_role_considers_custom_roles() {
        let def = |name: &str, scopes: &[&str]| {
            crate::role::define(crate::role::RoleInput {
                name: name.into(),
                description: String::new(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            })
            .unwrap()
        };
        let book = RoleBook::from_defs(&[
            def("Onboarding", &["users", "groups"]),
            def("Everything", crate::broker::permissions::SCOPES),
        ]);
        let n = |scopes: &[&str]| narrowest_role(scopes.iter().copied(), &book);
        // Narrower than Manager, which also grants systems, applications, ...
        assert_eq!(
            n(&["users", "groups.readonly"]),
            Some(RunAs::Custom("Onboarding".into()))
        );
        // Not covered by the custom role: the predefined chain answers.
        assert_eq!(n(&["systems"]), Some(Role::Manager.into()));
        // As broad as a predefined role: the predefined one is named.
        assert_eq!(
            n(&["administrators"]),
            Some(Role::AdministratorWithBilling.into())
        );
    }

    #[test]
    fn step_references_are_found_in_templates() {
        let mut refs = BTreeSet::new();
        referenced_steps(
            &serde_json::json!({"a": "${steps.create_user.output.id}", "b": ["{{ steps.x.output | length }}"], "c": "mysteps.y"}),
            &mut refs,
        );
        assert_eq!(refs.into_iter().collect::<Vec<_>>(), ["create_user", "x"]);
    }
}
