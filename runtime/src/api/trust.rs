//! `/api/v1/trust`: the keys trusted to sign plugins (read-only here: `sluice trust add`
//! adds them) and the standing install policy, which an admin token can change.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Caller, audit, object_body};
use crate::code::Code;
use crate::host::trust;
use crate::service::Service;

fn policy(service: &Service) -> Result<Value, ApiError> {
    Ok(json!({
        "require_signatures": trust::requires_signatures(&*service.store)?,
        "keys": trust::list(&*service.store)?,
    }))
}

/// The trusted keys and whether installs require a signature by one of them.
pub(super) async fn get(State(service): State<Arc<Service>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(policy(&service)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    /// Whether every install (API and CLI) must be signed by a trusted key.
    require_signatures: bool,
}

/// Turns the require-signatures policy on or off.
pub(super) async fn put(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: PolicyBody =
        object_body(&body, "trust policy", Code::BadRequest).map_err(|e| ApiError {
            message: format!("{}; send {{\"require_signatures\": true|false}}", e.message),
            ..e
        })?;
    trust::set_requires_signatures(&*service.store, b.require_signatures)?;
    audit(
        &service,
        &caller,
        "trust.policy",
        "require_signatures",
        json!({ "require_signatures": b.require_signatures }),
    )?;
    Ok(Json(policy(&service)?))
}
