//! Bulk runs (bulk new-user provisioning): `sluice run FILE --input rows.csv` (or a JSON
//! array) starts one run per row, a few at a time, and ends with a summary — created,
//! skipped because the user already exists, failed with the reason — as a table or JSON.
//! A bad row never stops the others: it is reported and the next row goes on.
//!
//! CSV cells are typed by the workflow's input schema: `true`/`false` (also `yes`/`no`,
//! `1`/`0`) for booleans, numbers, `;`-separated lists for arrays, `name=value;…` or JSON
//! for objects; an empty cell is an absent field.

use std::path::Path;
use std::sync::Arc;

use futures::StreamExt as _;
use serde_json::{Map, Value, json};

use super::{Failure, print_json, table, usage};
use crate::code::Code;
use crate::engine::{Engine, Quiet, RunRecord, RunStatus};
use crate::workflow::model::WorkflowDoc;

/// One input row: its 1-based number and the input, or why it cannot be used.
pub(crate) type Row = (usize, Result<Value, String>);

/// Reads `path` as rows when it is a CSV file or a JSON array; `None` for one input.
pub(crate) fn read_rows(path: &Path, schema: Option<&Value>) -> Result<Option<Vec<Row>>, Failure> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        return csv_rows(path, schema).map(Some);
    }
    if path.as_os_str() == "-" {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read input file {}: {e}", path.display())))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => Ok(Some(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        i + 1,
                        if v.is_object() {
                            Ok(v)
                        } else {
                            Err("the row is not a JSON object".into())
                        },
                    )
                })
                .collect(),
        )),
        _ => Ok(None),
    }
}

fn csv_rows(path: &Path, schema: Option<&Value>) -> Result<Vec<Row>, Failure> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(path)
        .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| usage(format!("{}: no header row: {e}", path.display())))?
        .iter()
        .map(str::to_owned)
        .collect();
    if headers.iter().any(String::is_empty) {
        return Err(usage(format!(
            "{}: every column needs a name in the header row",
            path.display()
        )));
    }
    let props = schema.and_then(|s| s["properties"].as_object());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let n = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push((n, Err(format!("unreadable CSV row: {e}"))));
                continue;
            }
        };
        let mut obj = Map::new();
        let mut problem = None;
        for (name, cell) in headers.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let ty = props
                .and_then(|p| p.get(name))
                .and_then(|p| p["type"].as_str())
                .unwrap_or("string");
            match typed(cell, ty) {
                Ok(v) => {
                    obj.insert(name.clone(), v);
                }
                Err(why) => {
                    problem = Some(format!("column `{name}`: {why}"));
                    break;
                }
            }
        }
        rows.push((n, problem.map_or(Ok(Value::Object(obj)), Err)));
    }
    Ok(rows)
}

/// A CSV cell as the JSON type the schema wants.
fn typed(cell: &str, ty: &str) -> Result<Value, String> {
    match ty {
        "boolean" => match cell.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(json!(true)),
            "false" | "no" | "0" => Ok(json!(false)),
            _ => Err(format!("`{cell}` is not true or false")),
        },
        "integer" => cell
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{cell}` is not a whole number")),
        "number" => cell
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .ok_or_else(|| format!("`{cell}` is not a number")),
        "array" => Ok(Value::Array(
            cell.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| json!(s))
                .collect(),
        )),
        "object" if cell.starts_with('{') => {
            serde_json::from_str(cell).map_err(|e| format!("not a JSON object: {e}"))
        }
        "object" => {
            let mut m = Map::new();
            for pair in cell.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("`{pair}`: write name=value;name=value"))?;
                m.insert(k.trim().to_owned(), json!(v.trim()));
            }
            Ok(Value::Object(m))
        }
        _ => Ok(json!(cell)),
    }
}

/// What became of one row.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Outcome {
    pub(crate) row: usize,
    /// The row's `username`, else `email`, else its number.
    pub(crate) name: String,
    /// `created`, `partially_completed`, `skipped_duplicate` or `failed`.
    pub(crate) result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn row_name(n: usize, input: Option<&Value>) -> String {
    input
        .and_then(|v| v.get("username").or_else(|| v.get("email")))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("row {n}"))
}

fn classify(n: usize, input: &Value, run: &RunRecord) -> Outcome {
    let first = run.report.as_ref().and_then(|r| {
        r["failed_steps"]
            .as_array()
            .and_then(|f| f.first())
            .cloned()
    });
    let code = first
        .as_ref()
        .and_then(|f| f["error"]["type"].as_str().map(str::to_owned));
    let reason = first.as_ref().map(|f| {
        format!(
            "{}: {}",
            f["step"].as_str().unwrap_or_default(),
            f["error"]["message"].as_str().unwrap_or_default()
        )
    });
    let result = match run.status {
        RunStatus::Succeeded => "created",
        RunStatus::PartiallyCompleted => "partially_completed",
        _ if code.as_deref() == Some(Code::UserAlreadyExists.as_str()) => "skipped_duplicate",
        _ => "failed",
    };
    Outcome {
        row: n,
        name: row_name(n, Some(input)),
        result,
        run_id: Some(run.id.clone()),
        code: (result != "created").then_some(code).flatten(),
        reason: (result != "created").then_some(reason).flatten(),
    }
}

/// Runs every row, `concurrency` at a time, and prints the summary. Exit 1 when a row
/// failed (duplicates skipped are not failures).
pub(crate) async fn run_rows(
    engine: &Arc<Engine>,
    doc: &WorkflowDoc,
    subs: &std::collections::BTreeMap<String, WorkflowDoc>,
    rows: Vec<Row>,
    concurrency: usize,
    check: impl Fn(Value) -> Result<Value, String>,
    json_out: bool,
) -> Result<(), Failure> {
    let total = rows.len();
    let (outcomes, elapsed) = execute_rows(engine, doc, subs, rows, concurrency, check).await;
    let count = |r: &str| outcomes.iter().filter(|o| o.result == r).count();
    let (created, partial, skipped, failed) = (
        count("created"),
        count("partially_completed"),
        count("skipped_duplicate"),
        count("failed"),
    );
    if json_out {
        print_json(&json!({
            "workflow": doc.name,
            "total": total,
            "created": created,
            "partially_completed": partial,
            "skipped_duplicates": skipped,
            "failed": failed,
            "seconds": (elapsed * 1000.0).round() / 1000.0,
            "rows": outcomes,
        }))?;
    } else {
        let mut t = table(["row", "user", "result", "reason", "run"]);
        for o in &outcomes {
            // Names come from the input and reasons from plugins: escaped for the terminal.
            t.add_row([
                o.row.to_string(),
                super::plugin::safe(&o.name),
                o.result.to_owned(),
                super::plugin::safe(o.reason.as_deref().unwrap_or_default()),
                o.run_id.clone().unwrap_or_default(),
            ]);
        }
        println!("{t}");
        println!(
            "{total} row{} in {elapsed:.1} s: {created} created, {partial} partially completed, \
             {skipped} skipped (already exist), {failed} failed",
            if total == 1 { "" } else { "s" }
        );
    }
    if failed + partial > 0 {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!("{} of {total} rows did not complete", failed + partial),
        });
    }
    Ok(())
}

/// Runs every row, `concurrency` at a time, with a progress bar on a terminal; the
/// outcomes in row order and the seconds it took. Each run executes in a task of its own,
/// so the runs spread over the runtime's worker threads.
pub(crate) async fn execute_rows(
    engine: &Arc<Engine>,
    doc: &WorkflowDoc,
    subs: &std::collections::BTreeMap<String, WorkflowDoc>,
    rows: Vec<Row>,
    concurrency: usize,
    check: impl Fn(Value) -> Result<Value, String>,
) -> (Vec<Outcome>, f64) {
    let total = rows.len();
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} rows [{bar:30}] {per_sec} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let trigger = crate::engine::manual_trigger(doc);
    let mut outcomes: Vec<Outcome> = futures::stream::iter(rows)
        .map(|(n, row)| {
            let bar = &bar;
            let trigger = trigger.clone();
            let check = &check;
            async move {
                // A row refused by the input checks is still named by its username or email.
                let named = row.as_ref().ok().map(|v| row_name(n, Some(v)));
                let outcome = match row.and_then(check) {
                    Err(why) => Outcome {
                        row: n,
                        name: named.unwrap_or_else(|| format!("row {n}")),
                        result: "failed",
                        run_id: None,
                        code: Some(Code::InvalidInput.into()),
                        reason: Some(why),
                    },
                    Ok(input) => {
                        let name = row_name(n, Some(&input));
                        match engine.create_run(
                            doc.clone(),
                            subs.clone(),
                            Default::default(),
                            input.clone(),
                            trigger,
                        ) {
                            Err(e) => Outcome {
                                row: n,
                                name,
                                result: "failed",
                                run_id: None,
                                code: Some(e.code().into()),
                                reason: Some(e.to_string()),
                            },
                            Ok(run) => match execute(engine, &run.id).await {
                                Ok(done) => classify(n, &input, &done),
                                Err((code, reason)) => Outcome {
                                    row: n,
                                    name,
                                    result: "failed",
                                    run_id: Some(run.id),
                                    code: Some(code),
                                    reason: Some(reason),
                                },
                            },
                        }
                    }
                };
                bar.inc(1);
                outcome
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    outcomes.sort_by_key(|o| o.row);
    (outcomes, started.elapsed().as_secs_f64())
}

/// Executes a recorded run in a task of its own on the guest pool: the code and message
/// of what went wrong.
async fn execute(engine: &Arc<Engine>, id: &str) -> Result<RunRecord, (String, String)> {
    let (task_engine, id) = (engine.clone(), id.to_owned());
    let task = async move { task_engine.execute(&id, &Quiet).await };
    match engine.host().guests().spawn(task).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err((e.code().into(), e.to_string())),
        Err(e) => Err((
            crate::host::codes::INTERNAL_ERROR.into(),
            format!("the run's task failed: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_take_the_schema_type() {
        assert_eq!(typed("Yes", "boolean").unwrap(), json!(true));
        assert!(typed("maybe", "boolean").is_err());
        assert_eq!(typed("7", "integer").unwrap(), json!(7));
        assert!(typed("7.5", "integer").is_err());
        assert_eq!(
            typed("UG-A; UG-B;", "array").unwrap(),
            json!(["UG-A", "UG-B"])
        );
        assert_eq!(
            typed("costCenter=ENG-200; startDate=2026-03-10", "object").unwrap(),
            json!({"costCenter": "ENG-200", "startDate": "2026-03-10"})
        );
        assert_eq!(typed(r#"{"a":"b"}"#, "object").unwrap(), json!({"a": "b"}));
        assert!(typed("novalue", "object").is_err());
        assert_eq!(typed("EMP-1", "string").unwrap(), json!("EMP-1"));
    }
}
