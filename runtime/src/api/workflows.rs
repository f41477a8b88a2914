//! `/api/v1/workflows…` and `/api/v1/runs…`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Caller, Path, Query, audit, json_body, object_body, page_limit};
use crate::code::Code;
use crate::engine::{RunQuery, RunStatus};
use crate::service::workflows::{VersionRecord, WorkflowRecord};
use crate::service::{Refused, Service};
use crate::workflow::model::{Trigger, WorkflowDoc};

type Api<T> = Result<T, ApiError>;

fn version_row(v: &VersionRecord) -> Value {
    json!({"version": v.version, "created_at": v.created_at, "created_by": v.created_by})
}

/// What the version pins, each with whether an update is available, and whether any is.
async fn pins_json(service: &Service, v: &VersionRecord) -> Api<(Value, bool)> {
    let states = service.registry.pin_states(&v.pins).await?;
    let any = states.iter().any(|p| p.update_available);
    Ok((json!(states), any))
}

async fn workflow_json(service: &Service, r: &WorkflowRecord, v: &VersionRecord) -> Api<Value> {
    let (pins, update_available) = pins_json(service, v).await?;
    Ok(json!({
        "name": r.name,
        "version": r.version,
        "enabled": r.enabled,
        "trigger": r.trigger,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "updated_by": r.updated_by,
        "description": v.doc.description,
        "run_as": v.doc.run_as.to_string(),
        "document": v.doc,
        "pins": pins,
        "update_available": update_available,
    }))
}

fn body_text(body: &Bytes) -> Api<&str> {
    std::str::from_utf8(body)
        .map_err(|_| ApiError::new(Code::BadBody, "the workflow document is not UTF-8 text"))
}

/// How many of the newest runs the workflow list looks through for each one's last run.
const LAST_RUN_SCAN: usize = 1000;

/// Each workflow's record with what an overview shows: its description, run-as role,
/// trigger type, a schedule's next fire time, and its last run among the newest
/// [`LAST_RUN_SCAN`] runs.
pub(super) async fn list(State(service): State<Arc<Service>>) -> Api<Json<Value>> {
    let records = service.workflows()?;
    let svc = service.clone();
    let recent = tokio::task::spawn_blocking(move || {
        svc.engine.runs(&RunQuery::default(), None, LAST_RUN_SCAN)
    })
    .await
    .map_err(|e| ApiError::new(Code::InternalError, e.to_string()))??;
    let mut rows = Vec::with_capacity(records.len());
    for r in &records {
        let mut row = serde_json::to_value(r).unwrap_or_default();
        if let Ok(v) = service.version(&r.name, r.version) {
            row["description"] = json!(v.doc.description);
            row["run_as"] = json!(v.doc.run_as);
            let (kind, next_fire) = match &v.doc.trigger {
                Trigger::Manual { .. } => ("manual", None),
                Trigger::Event { .. } => ("event", None),
                Trigger::Webhook { .. } => ("webhook", None),
                Trigger::Schedule { cron, timezone, .. } => ("schedule", next_fire(cron, timezone)),
            };
            row["trigger_type"] = json!(kind);
            row["next_fire"] = json!(next_fire);
            row["update_available"] = json!(pins_json(&service, &v).await?.1);
        }
        row["last_run"] = json!(
            recent
                .runs
                .iter()
                .find(|run| run.workflow == r.name)
                .map(|run| run.row())
        );
        rows.push(row);
    }
    Ok(Json(json!({ "workflows": rows })))
}

/// A schedule's next fire time (RFC 3339, in its timezone).
fn next_fire(cron: &str, timezone: &str) -> Option<String> {
    let schedule: cron::Schedule = cron.parse().ok()?;
    let tz: chrono_tz::Tz = timezone.parse().ok()?;
    schedule.upcoming(tz).next().map(|t| t.to_rfc3339())
}

/// Makes sure a webhook workflow has a signing secret before it is saved (nothing is saved
/// when one cannot be kept); returns a new secret to show once.
fn webhook_secret(service: &Service, doc: &WorkflowDoc, rotate: bool) -> Api<Option<String>> {
    if !matches!(doc.trigger, Trigger::Webhook { .. }) {
        return Ok(None);
    }
    let name = crate::trigger::webhook::secret_name(&doc.name);
    if !rotate && service.store.secret_get(&name)?.is_some() {
        return Ok(None);
    }
    let key = service.secret_key.as_ref().ok_or_else(|| {
        ApiError::new(
            Code::SecretKeyMissing,
            "webhook triggers keep a signing secret sealed under SLUICE_SECRET_KEY; start the \
             service with it set (create one with `sluice secret keygen`)",
        )
    })?;
    let secret = crate::trigger::webhook::generate_secret()
        .map_err(|e| ApiError::new(Code::RandomUnavailable, e))?;
    let sealed = crate::secrets::seal(key, &name, secret.as_bytes())?;
    service.store.secret_put(&name, &sealed)?;
    Ok(Some(secret))
}

pub(super) async fn create(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Api<Response> {
    let doc = service.check_workflow(body_text(&body)?).await?;
    if service.record(&doc.name)?.is_some() {
        return Err(crate::service::workflows::WorkflowError::Exists(doc.name).into());
    }
    let secret = webhook_secret(&service, &doc, false)?;
    let (record, v) = service
        .save_checked(doc, body_text(&body)?, None, &caller.0)
        .await?;
    audit(
        &service,
        &caller,
        "workflow.create",
        &record.name,
        json!({"version": record.version}),
    )?;
    let mut out = workflow_json(&service, &record, &v).await?;
    if let Some(s) = secret {
        out["webhook_secret"] = json!(s);
    }
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

pub(super) async fn update(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Api<Json<Value>> {
    let doc = service.check_workflow(body_text(&body)?).await?;
    if doc.name != name {
        return Err(crate::service::workflows::WorkflowError::NameMismatch {
            expected: name,
            found: doc.name,
        }
        .into());
    }
    if service.record(&name)?.is_none() {
        return Err(crate::service::workflows::WorkflowError::NotFound(name).into());
    }
    let secret = webhook_secret(&service, &doc, false)?;
    let (record, v) = service
        .save_checked(doc, body_text(&body)?, Some(&name), &caller.0)
        .await?;
    audit(
        &service,
        &caller,
        "workflow.update",
        &name,
        json!({"version": record.version}),
    )?;
    let mut out = workflow_json(&service, &record, &v).await?;
    if let Some(s) = secret {
        out["webhook_secret"] = json!(s);
    }
    Ok(Json(out))
}

pub(super) async fn show(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
) -> Api<Json<Value>> {
    let (r, v) = service.current(&name)?;
    Ok(Json(workflow_json(&service, &r, &v).await?))
}

pub(super) async fn remove(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<StatusCode> {
    service.delete_workflow(&name)?;
    service
        .store
        .secret_remove(&crate::trigger::webhook::secret_name(&name))?;
    audit(&service, &caller, "workflow.delete", &name, json!({}))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn versions(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
) -> Api<Json<Value>> {
    let rows: Vec<Value> = service.versions(&name)?.iter().map(version_row).collect();
    Ok(Json(json!({ "name": name, "versions": rows })))
}

pub(super) async fn version(
    State(service): State<Arc<Service>>,
    Path((name, version)): Path<(String, u32)>,
) -> Api<Json<Value>> {
    let v = service.version(&name, version)?;
    Ok(Json(json!({
        "name": v.name,
        "version": v.version,
        "created_at": v.created_at,
        "created_by": v.created_by,
        "document": v.doc,
        "source": v.source,
        "pins": v.pins,
    })))
}

async fn toggle(service: &Service, caller: &Caller, name: &str, on: bool) -> Api<Json<Value>> {
    let r = service.set_enabled(name, on, &caller.0)?;
    audit(
        service,
        caller,
        if on {
            "workflow.enable"
        } else {
            "workflow.disable"
        },
        name,
        json!({}),
    )?;
    Ok(Json(serde_json::to_value(&r).unwrap_or_default()))
}

pub(super) async fn enable(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<Json<Value>> {
    toggle(&service, &caller, &name, true).await
}

pub(super) async fn disable(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<Json<Value>> {
    toggle(&service, &caller, &name, false).await
}

pub(super) async fn rotate_webhook_secret(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<Json<Value>> {
    let (_, v) = service.current(&name)?;
    // 409: the request is well formed; the workflow's trigger is what refuses it.
    let secret = webhook_secret(&service, &v.doc, true)?.ok_or_else(|| {
        ApiError::new(
            Code::NotAWebhook,
            format!("workflow `{name}` is not triggered by a webhook"),
        )
    })?;
    audit(
        &service,
        &caller,
        "workflow.webhook_secret",
        &name,
        json!({}),
    )?;
    Ok(Json(json!({ "name": name, "webhook_secret": secret })))
}

/// The HTTP answer when a run cannot be queued.
pub(crate) fn refused(r: Refused) -> ApiError {
    match r {
        Refused::QueueFull => ApiError::new(Code::QueueFull, "the run queue is full; retry later"),
        Refused::ShuttingDown => ApiError::new(Code::ShuttingDown, "the service is shutting down"),
        Refused::Unavailable => ApiError::new(
            Code::StoreUnavailable,
            "the database cannot be reached; nothing was started; retry",
        ),
    }
}

pub(super) async fn start_run(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Api<Response> {
    let current = service.startable(&name)?;
    let (record, v) = (&current.record, &current.version);
    if !record.enabled {
        return Err(crate::service::workflows::WorkflowError::Disabled(name).into());
    }
    let input = json_body(&body, "input")?;
    let input = crate::workflow::check_input(&v.doc, input).map_err(|e| {
        ApiError::new(
            Code::InvalidInput,
            format!("the input does not match the workflow's input schema:\n{e}"),
        )
    })?;
    let admission = service.admit().map_err(refused)?;
    let mut trigger = crate::engine::manual_trigger(&v.doc);
    trigger["started_by"] = json!(caller.0);
    trigger["workflow_version"] = json!(v.version);
    let run = service.engine.create_run(
        v.doc.clone(),
        current.subs.clone(),
        v.pins.clone(),
        input,
        trigger,
    )?;
    audit(
        &service,
        &caller,
        "run.start",
        &run.id,
        json!({"workflow": name, "version": v.version}),
    )?;
    service.start_admitted(admission, &run);
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"run_id": run.id, "workflow": name, "version": v.version, "status": run.status}),
        ),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunFilter {
    workflow: Option<String>,
    status: Option<String>,
    /// Page size (default 50, 1-1000).
    limit: Option<usize>,
    /// The last run id of the previous page.
    after: Option<String>,
}

pub(super) async fn runs(
    State(service): State<Arc<Service>>,
    Query(f): Query<RunFilter>,
) -> Api<Json<Value>> {
    let limit = page_limit(f.limit, 50, 1000)?;
    let query = RunQuery {
        workflow: f.workflow,
        status: f
            .status
            .as_deref()
            .map(RunStatus::parse)
            .transpose()
            .map_err(|e| ApiError::new(Code::BadRequest, e))?,
        unfinished: false,
    };
    let page =
        tokio::task::spawn_blocking(move || service.engine.runs(&query, f.after.as_deref(), limit))
            .await
            .map_err(|e| ApiError::new(Code::InternalError, e.to_string()))??;
    let rows: Vec<Value> = page.runs.iter().map(|r| r.row()).collect();
    Ok(Json(json!({ "runs": rows, "next": page.next })))
}

pub(super) async fn run(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Api<Json<Value>> {
    let run = service.engine.get(&id)?;
    let steps = service.engine.journal(&id)?;
    // Unfinished and nothing runs it, here or on another live node sharing the database:
    // held at start, or its execution stopped.
    let resumable = !run.status.is_finished()
        && !service.is_active(&id)
        && service.cluster.held_elsewhere(&id)?.is_none();
    Ok(Json(
        json!({ "run": run, "steps": steps, "resumable": resumable }),
    ))
}

pub(super) async fn cancel(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Api<Json<Value>> {
    let run = service.cancel(&id)?;
    audit(&service, &caller, "run.cancel", &id, json!({}))?;
    Ok(Json(
        json!({"run_id": run.id, "status": "cancelling", "note": "a run executing stops before its next step"}),
    ))
}

/// Resumes an unfinished run that nothing in the service is running, from its last
/// journaled step (`sluice runs resume` over the API).
pub(super) async fn resume(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Api<Response> {
    let admission = service.admit().map_err(refused)?;
    let run = service.resume(admission, &id, |run| {
        audit(
            &service,
            &caller,
            "run.resume",
            &id,
            json!({"workflow": run.workflow}),
        )
    })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"run_id": run.id, "workflow": run.workflow, "status": run.status})),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryBody {
    /// `failed_step` (default) or `start`.
    #[serde(default)]
    from: Option<String>,
}

pub(super) async fn retry(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Api<Response> {
    let b: RetryBody = object_body(&body, "retry request", Code::BadRequest)?;
    let from_start = match b.from.as_deref() {
        None | Some("failed_step") => false,
        Some("start") => true,
        Some(other) => {
            return Err(ApiError::new(
                Code::BadRequest,
                format!("from: `{other}`; use `failed_step` or `start`"),
            ));
        }
    };
    let admission = service.admit().map_err(refused)?;
    let run = service.engine.retry(&id, from_start)?;
    audit(
        &service,
        &caller,
        "run.retry",
        &run.id,
        json!({"retry_of": id, "from": if from_start { "start" } else { "failed_step" }}),
    )?;
    service.start_admitted(admission, &run);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"run_id": run.id, "retry_of": id, "workflow": run.workflow, "status": run.status})),
    )
        .into_response())
}
