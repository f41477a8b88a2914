//! `POST /hooks/{workflow}`: starts a webhook-triggered workflow with the request's JSON
//! body as its input, once its HMAC-SHA256 signature checks out. Answers 202 with the run
//! id, or — `respond_with_output: true` — waits and answers with the run's output.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, header_str, json_body};
use crate::engine::RunStatus;
use crate::service::Service;
use crate::trigger::webhook;
use crate::workflow::model::Trigger;

fn unknown(name: &str) -> ApiError {
    ApiError::not_found(
        "WEBHOOK_NOT_FOUND",
        format!("no enabled webhook-triggered workflow named `{name}`"),
    )
}

pub(super) async fn receive(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let current = match service.startable(&name) {
        Ok(c) => Some(c),
        Err(crate::service::workflows::WorkflowError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let Some(current) = current.filter(|c| c.record.enabled) else {
        service.metrics.webhook_rejected();
        return Err(unknown(&name));
    };
    let Trigger::Webhook {
        respond_with_output,
    } = current.version.doc.trigger
    else {
        service.metrics.webhook_rejected();
        return Err(unknown(&name));
    };
    let secret = crate::secrets::read(
        &*service.store,
        service.secret_key.as_ref(),
        &webhook::secret_name(&name),
    )?
    .ok_or_else(|| unknown(&name))?;
    if !webhook::verify(
        secret.as_bytes(),
        &body,
        header_str(&headers, webhook::SIGNATURE_HEADER),
    ) {
        service.metrics.webhook_rejected();
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "BAD_SIGNATURE",
            format!(
                "the {} header is missing or is not the HMAC-SHA256 of the body under this \
                 workflow's signing secret",
                webhook::SIGNATURE_HEADER
            ),
        ));
    }
    let input = json_body(&body, "webhook body")?;
    let admission = service.admit().map_err(super::workflows::refused)?;
    let trigger = json!({
        "type": "webhook",
        "workflow_version": current.record.version,
        "received_at": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
    });
    let run = service.engine.create_run(
        current.version.doc.clone(),
        current.subs.clone(),
        input,
        trigger,
    )?;
    if !respond_with_output {
        service.start_admitted(admission, &run);
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"run_id": run.id, "status": run.status})),
        )
            .into_response());
    }
    let done = service.wait_for(&run.id);
    service.start_admitted(admission, &run);
    let run_header = [("x-sluice-run-id", run.id.clone())];
    match tokio::time::timeout(service.config.webhook_wait, done).await {
        Ok(Ok(r)) if r.status == RunStatus::Succeeded => {
            Ok((run_header, Json(r.output.unwrap_or_default())).into_response())
        }
        Ok(Ok(r)) => Ok((
            StatusCode::INTERNAL_SERVER_ERROR,
            run_header,
            Json(json!({"run_id": r.id, "status": r.status, "output": r.output, "report": r.report})),
        )
            .into_response()),
        _ => Ok((
            StatusCode::ACCEPTED,
            run_header,
            Json(json!({"run_id": run.id, "status": "running", "note": "the run did not finish in time; follow it at /api/v1/runs/{id}"})),
        )
            .into_response()),
    }
}
