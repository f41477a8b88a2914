//! `POST /hooks/{workflow}`: starts a webhook-triggered workflow with the request's JSON
//! body as its input, once its Standard Webhooks signature checks out (see
//! `trigger/webhook.rs`). Each message id starts at most one run: the id is recorded with
//! the run in one transaction and remembered while its timestamp is within the tolerance,
//! so a captured request sent again starts nothing, also across restarts. Answers 202 with
//! the run id, or — `respond_with_output: true` — waits and answers with the run's output.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, Path, header_str, json_body};
use crate::code::Code;
use crate::engine::RunStatus;
use crate::service::Service;
use crate::trigger::webhook::{self, Rejection};
use crate::workflow::model::Trigger;

/// Verifies requests for names with no webhook workflow, so that they cost what a known
/// one costs (32 zero bytes: no sender holds it as a secret).
const NO_WORKFLOW_SECRET: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// The answer to a bad signature, and — word for word — to a workflow name that has no
/// enabled webhook workflow: the answers must not tell which names exist.
fn bad_signature() -> ApiError {
    ApiError::new(
        Code::BadSignature,
        format!(
            "the {} header is missing or none of its `v1,` signatures is the HMAC-SHA256 of \
             `{}.{}.body` under this workflow's signing secret (Standard Webhooks)",
            webhook::SIGNATURE_HEADER,
            webhook::ID_HEADER,
            webhook::TIMESTAMP_HEADER,
        ),
    )
}

/// Remembers the message id until its timestamp leaves the tolerance: from then on the
/// timestamp refuses it. Called once the run has started (nothing about the run waits on
/// it); if it fails, the id is just remembered for good.
fn forget_later(
    service: &Service,
    name: &str,
    fire: &str,
    verified: &webhook::Verified<'_>,
    tolerance: u64,
) {
    let forget_at = verified
        .timestamp
        .saturating_add(i64::try_from(tolerance).unwrap_or(i64::MAX));
    if let Err(e) = service
        .store
        .fire_expires(fire, u64::try_from(forget_at).unwrap_or_default())
    {
        tracing::warn!("webhook `{name}`: cannot schedule forgetting message id: {e}");
    }
}

pub(super) async fn receive(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let message = webhook::Message {
        id: header_str(&headers, webhook::ID_HEADER),
        timestamp: header_str(&headers, webhook::TIMESTAMP_HEADER),
        signature: header_str(&headers, webhook::SIGNATURE_HEADER),
    };
    let tolerance = service.config.webhook_tolerance.as_secs();
    let now = webhook::unix_now();
    let current = match service.startable(&name) {
        Ok(c) => Some(c),
        Err(crate::service::workflows::WorkflowError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let target = current.filter(|c| c.record.enabled).and_then(|c| {
        let Trigger::Webhook {
            respond_with_output,
        } = c.version.doc.trigger
        else {
            return None;
        };
        Some((c, respond_with_output))
    });
    let secret = match &target {
        None => None,
        Some(_) => match crate::secrets::read(
            &*service.store,
            service.secret_key.as_ref(),
            &webhook::secret_name(&name),
        ) {
            Ok(s) => s,
            Err(e @ crate::secrets::SecretError::Store(_)) => return Err(e.into()),
            Err(e) => {
                // The sender cannot fix this and must not learn the name exists from it.
                tracing::error!("webhook `{name}`: cannot read its signing secret: {e}");
                None
            }
        },
    };
    let (Some((current, respond_with_output)), Some(secret)) = (target, secret) else {
        let _ = webhook::verify(NO_WORKFLOW_SECRET, message, &body, now, tolerance);
        service.metrics.webhook_rejected();
        return Err(bad_signature());
    };
    let verified = match webhook::verify(&secret, message, &body, now, tolerance) {
        Ok(v) => v,
        Err(rejection) => {
            service.metrics.webhook_rejected();
            return Err(match rejection {
                Rejection::BadSignature => bad_signature(),
                Rejection::Stale => ApiError::new(
                    Code::WebhookTimestampOutOfTolerance,
                    format!(
                        "the {} is more than {} away from the service's clock: a message sent \
                         again later, or a sender whose clock is off",
                        webhook::TIMESTAMP_HEADER,
                        humantime::format_duration(service.config.webhook_tolerance)
                    ),
                ),
            });
        }
    };
    let input = json_body(&body, "webhook body")?;
    let admission = service.admit().map_err(super::workflows::refused)?;
    let trigger = json!({
        "type": "webhook",
        "workflow_version": current.record.version,
        "webhook_id": verified.id,
        "received_at": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
    });
    let fire = webhook::fire_key(&name, verified.id);
    let (run, new) = service.engine.create_run_once(
        &fire,
        current.version.doc.clone(),
        current.subs.clone(),
        current.version.pins.clone(),
        input,
        trigger,
    )?;
    if !new {
        service.metrics.webhook_rejected();
        return Err(ApiError::new(
            Code::WebhookReplayed,
            format!(
                "message `{}` was already accepted: each {} starts one run",
                verified.id,
                webhook::ID_HEADER
            ),
        ));
    }
    if !respond_with_output {
        service.start_admitted(admission, &run);
        forget_later(&service, &name, &fire, &verified, tolerance);
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"run_id": run.id, "status": run.status})),
        )
            .into_response());
    }
    let done = service.wait_for(&run.id);
    service.start_admitted(admission, &run);
    forget_later(&service, &name, &fire, &verified, tolerance);
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
