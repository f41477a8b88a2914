//! `POST /api/v1/validate` and `POST /api/v1/graph`: what the console's builder asks about
//! a document as it is edited. Neither saves anything.
//!
//! Validation answers 200 whether the document is valid or not (it is a question, not a
//! save): every problem with its file, step path, graph node, line and column where the
//! text shows them, and the narrowest role covering the document's plugins.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};

use super::ApiError;
use crate::code::Code;
use crate::service::Service;
use crate::workflow::model::{WorkflowDoc, parse};
use crate::workflow::validate::{WorkflowSource, plugin_table, validate as check};
use crate::workflow::{graph as wgraph, locate};

type Api<T> = Result<T, ApiError>;

fn text(body: &Bytes) -> Api<&str> {
    std::str::from_utf8(body)
        .map_err(|_| ApiError::new(Code::BadBody, "the workflow document is not UTF-8 text"))
}

/// Sub-workflows from the stored workflows, as a save would see them.
struct Stored<'a>(&'a Service);

impl WorkflowSource for Stored<'_> {
    fn load(&self, name: &str) -> Result<(String, WorkflowDoc), String> {
        match self.0.current(name) {
            Ok((_, v)) => Ok((format!("workflow {name} v{}", v.version), v.doc)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The parse error of a document that cannot be read, as one problem.
fn parse_problem(text: &str, e: &crate::workflow::model::ParseError) -> Value {
    let (line, column) = match locate::parse_error_position(text) {
        Some((l, c)) => (Some(l), Some(c)),
        None => (e.line, None),
    };
    json!({
        "file": "workflow",
        "location": "document",
        "message": e.message,
        "path": null,
        "node": null,
        "line": line,
        "column": column,
    })
}

pub(super) async fn validate(State(service): State<Arc<Service>>, body: Bytes) -> Api<Json<Value>> {
    let text = text(&body)?;
    let doc = match parse("workflow", text) {
        Ok(doc) => doc,
        Err(e) => {
            return Ok(Json(json!({
                "valid": false,
                "problems": [parse_problem(text, &e)],
                "name": null,
                "run_as": null,
                "narrowest_role": null,
                "broader_than_needed": false,
                "scopes": [],
            })));
        }
    };
    let label = format!("workflow {}", doc.name);
    let subs = service.subworkflows_of(&doc)?;
    let mut all: Vec<&WorkflowDoc> = vec![&doc];
    all.extend(subs.values());
    let plugins = plugin_table(&service.registry, &all).await;
    let ceiling = service.registry.host().timeout_ceiling();
    let roles = crate::role::RoleBook::load(&*service.store)?;
    let report = check(
        &label,
        &doc,
        &plugins,
        &roles,
        Some(&Stored(&service)),
        ceiling,
    );
    let problems: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            let at = locate::locate(text, &doc, &p.location, &p.message);
            json!({
                "file": p.file,
                "location": p.location,
                "message": p.message,
                "path": at.path,
                "node": at.node,
                "line": at.line,
                "column": at.column,
            })
        })
        .collect();
    // Broader than needed: the chosen role grants more than the narrowest one covering
    // every scope the document's plugins were granted.
    let broader = report.narrowest_role.as_ref().is_some_and(|n| {
        *n != doc.run_as
            && roles
                .resolve(n)
                .scopes()
                .is_subset(roles.resolve(&doc.run_as).scopes())
    });
    Ok(Json(json!({
        "valid": problems.is_empty(),
        "problems": problems,
        "name": doc.name,
        "run_as": doc.run_as,
        "narrowest_role": report.narrowest_role,
        "broader_than_needed": broader,
        "scopes": report.scopes,
    })))
}

pub(super) async fn graph(body: Bytes) -> Api<Json<Value>> {
    let text = text(&body)?;
    let doc = parse("workflow", text).map_err(|e| {
        let mut err = ApiError::new(Code::WorkflowParseError, e.to_string());
        err.details = Some(json!({ "problems": [parse_problem(text, &e)] }));
        err
    })?;
    Ok(Json(json!(wgraph::graph(&doc))))
}
