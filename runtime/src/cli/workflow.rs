//! `sluice validate`, `sluice run` and `sluice runs …`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use serde_json::{Value, json};

use super::plugin::safe;
use super::{App, Failure, json_text, print_json, read_input, table, usage};
use crate::engine::{Engine, Progress, RunQuery, RunRecord, RunStatus, manual_trigger};
use crate::workflow::check_input;
use crate::workflow::model::{Trigger, WorkflowDoc, parse};
use crate::workflow::validate::{
    Problem, Report, WorkflowSource, plugin_table, subworkflow_names, validate,
};

#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// List runs, newest first.
    List {
        #[arg(long)]
        workflow: Option<String>,
        /// queued, running, succeeded, failed, partially_completed or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// Runs per page (1 to 1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1000))]
        limit: u64,
        /// Start after this run id (the `next` of the previous page).
        #[arg(long)]
        after: Option<String>,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// A run's per-step timeline: inputs, outputs, errors, logs, host calls, durations.
    Show {
        id: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a run that is queued or was interrupted (a run executing in `sluice serve` is
    /// cancelled through the service).
    Cancel { id: String },
    /// Resume an interrupted run from its last journaled step.
    Resume {
        id: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Sub-workflows are looked up beside the workflow file: `<dir>/<name>.yaml|.yml|.json`.
struct DirSource {
    dir: PathBuf,
}

impl WorkflowSource for DirSource {
    fn load(&self, name: &str) -> Result<(String, WorkflowDoc), String> {
        for ext in ["yaml", "yml", "json"] {
            let path = self.dir.join(format!("{name}.{ext}"));
            if let Ok(text) = std::fs::read_to_string(&path) {
                let file = path.display().to_string();
                let doc = parse(&file, &text).map_err(|e| e.to_string())?;
                if doc.name != name {
                    return Err(format!("{file} is named `{}`, not `{name}`", doc.name));
                }
                return Ok((file, doc));
            }
        }
        Err(format!(
            "not found as {name}.yaml, {name}.yml or {name}.json in {}",
            self.dir.display()
        ))
    }
}

/// A workflow file, validated, with its sub-workflows.
pub(crate) struct Loaded {
    pub(crate) doc: WorkflowDoc,
    pub(crate) subs: BTreeMap<String, WorkflowDoc>,
    pub(crate) report: Report,
}

pub(crate) async fn load(app: &App, file: &Path) -> Result<Loaded, Failure> {
    let label = file.display().to_string();
    let text =
        std::fs::read_to_string(file).map_err(|e| usage(format!("cannot read {label}: {e}")))?;
    let doc = parse(&label, &text).map_err(|e| usage(e.to_string()))?;
    let source = DirSource {
        dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    // Sub-workflows, transitively (validation reports missing ones and cycles).
    let mut subs: BTreeMap<String, (String, WorkflowDoc)> = BTreeMap::new();
    let mut pending: Vec<String> = subworkflow_names(&doc);
    while let Some(name) = pending.pop() {
        if subs.contains_key(&name) || name == doc.name {
            continue;
        }
        if let Ok((f, d)) = source.load(&name) {
            pending.extend(subworkflow_names(&d));
            subs.insert(name, (f, d));
        }
    }
    let mut all: Vec<&WorkflowDoc> = vec![&doc];
    all.extend(subs.values().map(|(_, d)| d));
    let plugins = plugin_table(&app.registry, &all).await;
    let ceiling = app.registry.host().timeout_ceiling();
    let roles = crate::role::RoleBook::load(&*app.store).map_err(|e| Failure {
        code: 1,
        error: anyhow::anyhow!(e),
    })?;
    let mut report = validate(&label, &doc, &plugins, &roles, Some(&source), ceiling);
    for (f, d) in subs.values() {
        report
            .problems
            .extend(validate(f, d, &plugins, &roles, None, ceiling).problems);
    }
    Ok(Loaded {
        subs: subs.into_iter().map(|(k, (_, d))| (k, d)).collect(),
        doc,
        report,
    })
}

fn invalid(problems: &[Problem]) -> Failure {
    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    let n = problems.len();
    let plural = if n == 1 { "" } else { "s" };
    usage(format!(
        "the workflow is invalid ({n} problem{plural}):\n{}",
        list.join("\n")
    ))
}

/// `sluice validate FILE`.
pub(crate) async fn validate_cmd(app: &App, file: &Path, json_out: bool) -> Result<(), Failure> {
    let loaded = match load(app, file).await {
        Ok(l) => l,
        Err(f) if json_out => {
            print_json(
                &json!({"valid": false, "problems": [{"message": format!("{:#}", f.error)}]}),
            )?;
            return Err(Failure {
                code: 2,
                error: anyhow::anyhow!("the workflow is invalid"),
            });
        }
        Err(f) => return Err(f),
    };
    let report = &loaded.report;
    if json_out {
        print_json(&json!({
            "valid": report.problems.is_empty(),
            "problems": report.problems,
            "scopes": report.scopes,
            "narrowest_role": report.narrowest_role,
            "run_as": loaded.doc.run_as,
        }))?;
        if !report.problems.is_empty() {
            return Err(Failure {
                code: 2,
                error: anyhow::anyhow!("the workflow is invalid"),
            });
        }
        return Ok(());
    }
    if !report.problems.is_empty() {
        return Err(invalid(&report.problems));
    }
    let steps = count_steps(&loaded.doc);
    println!(
        "{} is valid ({steps} step{}, runs as {})",
        safe(&loaded.doc.name),
        if steps == 1 { "" } else { "s" },
        loaded.doc.run_as
    );
    if let Some(role) = &report.narrowest_role {
        let scopes: Vec<_> = report
            .scopes
            .iter()
            .map(|s| format!("jumpcloud:{s}"))
            .collect();
        println!(
            "narrowest role covering it: {role}{}",
            if scopes.is_empty() {
                String::new()
            } else {
                format!(" (needs {})", scopes.join(", "))
            }
        );
    }
    Ok(())
}

fn count_steps(doc: &WorkflowDoc) -> usize {
    let mut n = 0;
    crate::workflow::validate::visit(&doc.steps, &mut |_| n += 1);
    n
}

/// Checks the input against the trigger's schema, after filling in top-level defaults.
fn prepare_input(doc: &WorkflowDoc, input: Option<String>) -> Result<Value, Failure> {
    let value: Value = match input {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| usage(format!("the input is not valid JSON: {e}")))?,
        None => json!({}),
    };
    check_input(doc, value).map_err(|e| {
        usage(format!(
            "the input does not match the workflow's input schema:\n{e}"
        ))
    })
}

/// Prints progress on stderr as steps finish.
struct StderrProgress;

impl Progress for StderrProgress {
    fn step_finished(&self, _run: &str, path: &str, ok: bool, replayed: bool) {
        let mark = match (ok, replayed) {
            (_, true) => "= (journaled)",
            (true, false) => "ok",
            (false, false) => "FAILED",
        };
        eprintln!("  {} {mark}", safe(path));
    }
}

fn finish(run: &RunRecord, json_out: bool) -> Result<(), Failure> {
    if json_out {
        print_json(&json!({
            "run_id": run.id,
            "status": run.status,
            "output": run.output,
            "report": run.report,
        }))?;
    } else {
        eprintln!("run {} {}", run.id, run.status);
        // The result on stdout: the output of a run that succeeded, else the failure report
        // (as JSON); a partial run's output goes to stderr.
        match (&run.report, &run.output) {
            (Some(report), output) => {
                if let Some(out) = output {
                    eprintln!("{}", json_text(out)?);
                }
                println!("{}", json_text(report)?);
            }
            (None, Some(out)) => println!("{}", json_text(out)?),
            (None, None) => {}
        }
    }
    match run.status {
        RunStatus::Failed | RunStatus::Cancelled | RunStatus::PartiallyCompleted => Err(Failure {
            code: 1,
            error: anyhow::anyhow!("run {} {}", run.id, run.status),
        }),
        _ => Ok(()),
    }
}

pub(crate) fn engine(app: &App) -> Engine {
    Engine::new(Arc::clone(&app.registry), app.store.clone())
}

/// `sluice run FILE`.
pub(crate) async fn run_cmd(
    app: &App,
    file: &Path,
    input_file: Option<&PathBuf>,
    input_json: Option<&str>,
    json_out: bool,
    concurrency: usize,
) -> Result<(), Failure> {
    let loaded = load(app, file).await?;
    if !loaded.report.problems.is_empty() {
        return Err(invalid(&loaded.report.problems));
    }
    if let (Some(path), None) = (input_file, input_json) {
        let schema = match &loaded.doc.trigger {
            Trigger::Manual { input_schema } => input_schema.as_ref(),
            _ => None,
        };
        if let Some(rows) = super::bulk::read_rows(path, schema)? {
            if let Some(notice) = app.jumpcloud.notice() {
                eprintln!("note: {notice}");
            }
            let doc = &loaded.doc;
            return super::bulk::run_rows(
                &Arc::new(engine(app)),
                doc,
                &loaded.subs,
                rows,
                concurrency,
                |row| {
                    check_input(doc, row)
                        .map_err(|e| format!("does not match the input schema: {}", e.trim()))
                },
                json_out,
            )
            .await;
        }
    }
    let input = prepare_input(&loaded.doc, read_input(input_json, input_file)?)?;
    let engine = engine(app);
    let trigger = manual_trigger(&loaded.doc);
    let run = engine.create_run(loaded.doc, loaded.subs, Default::default(), input, trigger)?;
    eprintln!("run {} started ({})", run.id, safe(&run.workflow));
    if let Some(notice) = app.jumpcloud.notice() {
        eprintln!("note: {notice}");
    }
    let done = engine.execute(&run.id, &StderrProgress).await?;
    finish(&done, json_out)
}

pub(crate) async fn runs_cmd(app: &App, cmd: RunsCommand) -> Result<(), Failure> {
    let engine = engine(app);
    match cmd {
        RunsCommand::List {
            workflow,
            status,
            limit,
            after,
            json,
        } => {
            let query = RunQuery {
                workflow,
                status: status
                    .as_deref()
                    .map(RunStatus::parse)
                    .transpose()
                    .map_err(usage)?,
                unfinished: false,
            };
            if let Some(after) = &after
                && matches!(
                    engine.get(after),
                    Err(crate::engine::EngineError::NoSuchRun(_))
                )
            {
                return Err(usage(format!(
                    "--after {after}: no such run; give the run id a previous page ended with"
                )));
            }
            let page = engine.runs(&query, after.as_deref(), limit as usize)?;
            if json {
                let rows: Vec<Value> = page.runs.iter().map(|r| r.row()).collect();
                return print_json(&json!({"runs": rows, "next": page.next}));
            }
            let mut t = table(["run", "workflow", "status", "started", "finished"]);
            for r in &page.runs {
                t.add_row(vec![
                    safe(&r.id),
                    safe(&r.workflow),
                    r.status.to_string(),
                    r.started_at.clone(),
                    r.finished_at.clone().unwrap_or_default(),
                ]);
            }
            println!("{t}");
            if let Some(next) = page.next {
                // The same filters, from where this page ended.
                let mut again = String::from("sluice runs list");
                if let Some(w) = &query.workflow {
                    again.push_str(&format!(" --workflow {}", safe(w)));
                }
                if let Some(s) = &status {
                    again.push_str(&format!(" --status {s}"));
                }
                if limit != 50 {
                    again.push_str(&format!(" --limit {limit}"));
                }
                println!("more runs: {again} --after {}", safe(&next));
            }
            Ok(())
        }
        RunsCommand::Show { id, json } => {
            let run = engine.get(&id)?;
            let journal = engine.journal(&id)?;
            if json {
                return print_json(&json!({"run": run, "steps": journal}));
            }
            // Everything below may quote plugins (logs, errors, call targets, results) or
            // the run's input: escaped, so it cannot drive the terminal.
            println!(
                "run {} of {} — {}",
                safe(&run.id),
                safe(&run.workflow),
                run.status
            );
            println!(
                "started {}  finished {}",
                run.started_at,
                run.finished_at.clone().unwrap_or_else(|| "-".into())
            );
            let mut t = table(["step", "kind", "attempts", "duration", "result"]);
            for s in &journal {
                let duration: u64 = s.attempts.iter().map(|a| a.duration_us).sum();
                let result = match &s.result {
                    Ok(v) => {
                        let text = v.to_string();
                        if text.len() > 80 {
                            format!("{}…", &text[..text.floor_char_boundary(80)])
                        } else {
                            text
                        }
                    }
                    Err(e) => format!("{}: {}", e.code, e.message),
                };
                t.add_row(vec![
                    safe(&s.path),
                    safe(&s.kind),
                    s.attempts.len().to_string(),
                    format!("{duration} µs"),
                    safe(&result),
                ]);
            }
            println!("{t}");
            for s in &journal {
                for a in &s.attempts {
                    let path = safe(&s.path);
                    for l in &a.logs {
                        println!("[{path} #{}] {:?} {}", a.attempt, l.level, safe(&l.message));
                    }
                    for c in &a.calls {
                        println!(
                            "[{path} #{}] call {:?} {} {} -> {} ({} µs)",
                            a.attempt,
                            c.kind,
                            safe(&c.method),
                            safe(&c.target),
                            safe(
                                &c.status
                                    .map(|x| x.to_string())
                                    .or(c.error.clone())
                                    .unwrap_or_default()
                            ),
                            c.latency_us
                        );
                    }
                }
            }
            if let Some(report) = &run.report {
                println!("{}", json_text(report)?);
            }
            Ok(())
        }
        RunsCommand::Cancel { id } => {
            let run = engine.cancel(&id)?;
            println!("run {} cancelled", run.id);
            Ok(())
        }
        RunsCommand::Resume { id, json } => {
            if engine.get(&id)?.status.is_finished() {
                return Err(crate::engine::EngineError::Finished(id).into());
            }
            eprintln!("run {id} resuming");
            let done = engine.execute(&id, &StderrProgress).await?;
            finish(&done, json)
        }
    }
}
