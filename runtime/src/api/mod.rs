//! The HTTP API under `/api/v1` (axum), the webhook receiver at `/hooks/{workflow}` and the
//! metrics at `/metrics`.
//!
//! Every `/api/v1` route but the OpenAPI document needs `Authorization: Bearer <token>`
//! (`sluice token create`); every change is written to the audit log under the token's
//! name. Errors are `{"error": {"code", "message", "details"}}` with a stable code.
//!
//! # Layout
//! - this file: the router, authentication, errors, the extractors and body reader that
//!   refuse in the API's error shape, the OpenAPI document, metrics, health;
//! - `workflows.rs`: workflows (versions, enable/disable) and runs;
//! - `admin.rs`: plugins, connectors, secrets, templates, tokens and the audit log;
//! - `trust.rs`: the keys trusted to sign plugins and the require-signatures policy;
//! - `hooks.rs`: signed inbound webhooks (Standard Webhooks), each message accepted once;
//! - `documents.rs`: validation and the graph of a document, for the console's builder;
//! - `console.rs`: the embedded web console, served at `/` by the fallback.

mod admin;
pub mod console;
mod documents;
mod hooks;
mod trust;
mod workflows;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::code::Code;
use crate::service::Service;

/// The OpenAPI 3.1 document of this API (kept with the workflow model, whose JSON shape
/// it defines).
pub use crate::workflow::OPENAPI;

/// An API error: a stable code of the table in [`crate::code`], the HTTP status the table
/// gives it, a message, and optional details.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    /// The answer with `code`, at its status in the table.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        let status = code
            .status()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::with_status(status, code, message)
    }

    /// The answer with `code` at a status axum chose (a rejected path or query).
    pub fn with_status(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code.as_str(), "message": self.message});
        if let Some(d) = self.details {
            error["details"] = d;
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}

/// The errors whose code and message are the whole answer.
macro_rules! coded_errors {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(e: $error) -> Self {
                Self::new(e.code(), e.to_string())
            }
        }
    )*};
}

coded_errors!(
    crate::store::StoreError,
    crate::engine::EngineError,
    crate::host::PluginHostError,
    crate::service::tokens::TokenError,
    crate::connector::ConnectorError,
    crate::role::RoleError,
    crate::secrets::SecretError,
    crate::host::trust::TrustError,
);

impl From<crate::service::workflows::WorkflowError> for ApiError {
    fn from(e: crate::service::workflows::WorkflowError) -> Self {
        use crate::service::workflows::WorkflowError as W;
        let mut err = Self::new(e.code(), e.to_string());
        if let W::Invalid(problems) = &e {
            err.message = format!(
                "the workflow is invalid ({} problem{}): {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.location, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            err.details = Some(json!({ "problems": problems }));
        }
        err
    }
}

/// The caller, as authenticated: the token's name (for the audit log).
#[derive(Debug, Clone)]
pub struct Caller(pub String);

async fn authenticate(
    State(service): State<Arc<Service>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let who = match token {
        Some(t) => crate::service::tokens::authenticate(&*service.store, t),
        None => Ok(None),
    };
    match who {
        Ok(Some(name)) => {
            req.extensions_mut().insert(Caller(name));
            next.run(req).await
        }
        Ok(None) => {
            let mut r = ApiError::new(
                Code::Unauthorized,
                "an admin API token is required: `Authorization: Bearer <token>` \
                 (create one with `sluice token create --name NAME`)",
            )
            .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
            r
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Writes an audit entry; a failure to write it fails the request (an unaudited change
/// must not pass silently).
pub(crate) fn audit(
    service: &Service,
    caller: &Caller,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), ApiError> {
    crate::service::tokens::audit(&*service.store, &caller.0, action, target, detail)
        .map_err(ApiError::from)
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    let body = service.metrics.render(
        service.exec.queued(),
        service.exec.running(),
        service.started.elapsed().as_secs_f64(),
        crate::service::metrics::NodeGauges {
            node: service.cluster.node(),
            leader: service.leading(),
        },
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Whether this node takes work: 503 while it shuts down or cannot reach the database
/// its store is in (a load balancer sends requests elsewhere meanwhile).
async fn health(State(service): State<Arc<Service>>) -> Response {
    let database = if service.cluster.shared() {
        Some(service.cluster.ping())
    } else {
        None
    };
    let (status, word) = match (&database, service.exec.accepting()) {
        (_, false) => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
        (Some(Err(_)), _) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
        _ => (StatusCode::OK, "ok"),
    };
    let mut body = json!({
        "status": word,
        "version": env!("CARGO_PKG_VERSION"),
        "node": service.cluster.node(),
        "leader": service.leading(),
        "queued": service.exec.queued(),
        "running": service.exec.running(),
    });
    if let Some(Err(e)) = database {
        body["error"] = json!(e.to_string());
    }
    (status, axum::Json(body)).into_response()
}

/// A request body's JSON, or a 400 naming the problem.
pub(crate) fn json_body(body: &[u8], what: &str) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(Code::BadJson, format!("the {what} is not valid JSON: {e}")))
}

/// A request body that must be a JSON object of `T`'s fields, refused with `code` otherwise.
///
/// Stricter than serde alone, so that the API takes exactly what its OpenAPI document
/// describes: serde would also read a struct from an array of its fields in order, and it
/// refuses `2.0` where an integer is expected although JSON (and JSON Schema) make it the
/// integer 2. The request types have no free-form values, so whole numbers written with a
/// fraction are read as integers throughout.
pub(crate) fn object_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
    code: Code,
) -> Result<T, ApiError> {
    let mut value = json_body(body, what)?;
    if !value.is_object() {
        return Err(ApiError::new(
            code,
            format!("the {what} must be a JSON object"),
        ));
    }
    whole_numbers(&mut value);
    serde_json::from_value(value).map_err(|e| ApiError::new(code, e.to_string()))
}

/// A page size from the query: `default` when absent, refused outside 1..=`max`.
pub(crate) fn page_limit(
    limit: Option<usize>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::new(
            Code::BadQuery,
            format!("limit {n}: give 1 to {max}"),
        )),
    }
}

/// Replaces numbers written with a zero fraction (`2.0`) by the integers they are.
fn whole_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() <= 9_007_199_254_740_992.0
            {
                // Exact: every integer up to 2^53 is a float, so the cast loses nothing.
                *value = json!(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// `axum::extract::Path`, refused as the API refuses everything: `{"error": …}` with the
/// code `BAD_PATH` (axum's own refusal is plain text).
#[derive(Debug)]
pub(crate) struct Path<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiError::with_status(
                e.status(),
                Code::BadPath,
                e.body_text(),
            )),
        }
    }
}

/// `axum::extract::Query`, refused with the code `BAD_QUERY` in the API's error shape.
#[derive(Debug)]
pub(crate) struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(ApiError::with_status(
                e.status(),
                Code::BadQuery,
                e.body_text(),
            )),
        }
    }
}

/// The paths and methods the router serves, as `METHOD /path`; the OpenAPI document must
/// describe exactly these (a test checks it).
pub const ROUTES: &[&str] = &[
    "GET /healthz",
    "GET /metrics",
    "GET /api/v1/nodes",
    "POST /hooks/{workflow}",
    "GET /api/v1/openapi.json",
    "GET /api/v1/workflows",
    "POST /api/v1/workflows",
    "GET /api/v1/workflows/{name}",
    "PUT /api/v1/workflows/{name}",
    "DELETE /api/v1/workflows/{name}",
    "GET /api/v1/workflows/{name}/versions",
    "GET /api/v1/workflows/{name}/versions/{version}",
    "POST /api/v1/workflows/{name}/enable",
    "POST /api/v1/workflows/{name}/disable",
    "POST /api/v1/workflows/{name}/webhook-secret",
    "POST /api/v1/workflows/{name}/runs",
    "GET /api/v1/runs",
    "GET /api/v1/runs/{id}",
    "POST /api/v1/runs/{id}/cancel",
    "POST /api/v1/runs/{id}/retry",
    "POST /api/v1/runs/{id}/resume",
    "GET /api/v1/plugins",
    "POST /api/v1/plugins",
    "GET /api/v1/plugins/{id}",
    "DELETE /api/v1/plugins/{id}",
    "PUT /api/v1/plugins/{id}/grants",
    "GET /api/v1/trust",
    "PUT /api/v1/trust",
    "GET /api/v1/connectors",
    "POST /api/v1/connectors",
    "GET /api/v1/connectors/{name}",
    "DELETE /api/v1/connectors/{name}",
    "GET /api/v1/roles",
    "POST /api/v1/roles",
    "GET /api/v1/roles/{name}",
    "DELETE /api/v1/roles/{name}",
    "GET /api/v1/secrets",
    "PUT /api/v1/secrets/{name}",
    "DELETE /api/v1/secrets/{name}",
    "GET /api/v1/templates",
    "GET /api/v1/templates/{name}",
    "GET /api/v1/tokens",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{name}",
    "GET /api/v1/audit",
    "POST /api/v1/validate",
    "POST /api/v1/graph",
];

/// The whole HTTP surface of `sluice serve`.
pub fn router(service: Arc<Service>) -> Router {
    use axum::routing::{delete, put};
    let api = Router::new()
        .route("/workflows", get(workflows::list).post(workflows::create))
        .route(
            "/workflows/{name}",
            get(workflows::show)
                .put(workflows::update)
                .delete(workflows::remove),
        )
        .route("/workflows/{name}/versions", get(workflows::versions))
        .route(
            "/workflows/{name}/versions/{version}",
            get(workflows::version),
        )
        .route("/workflows/{name}/enable", post(workflows::enable))
        .route("/workflows/{name}/disable", post(workflows::disable))
        .route(
            "/workflows/{name}/webhook-secret",
            post(workflows::rotate_webhook_secret),
        )
        .route("/workflows/{name}/runs", post(workflows::start_run))
        .route("/runs", get(workflows::runs))
        .route("/runs/{id}", get(workflows::run))
        .route("/runs/{id}/cancel", post(workflows::cancel))
        .route("/runs/{id}/retry", post(workflows::retry))
        .route("/runs/{id}/resume", post(workflows::resume))
        .route(
            "/plugins",
            get(admin::plugins).post(admin::install_plugin).layer(
                axum::extract::DefaultBodyLimit::max(admin::MAX_PLUGIN_BYTES),
            ),
        )
        .route(
            "/plugins/{id}",
            get(admin::plugin).delete(admin::remove_plugin),
        )
        .route("/plugins/{id}/grants", put(admin::set_plugin_grants))
        .route("/trust", get(trust::get).put(trust::put))
        .route(
            "/connectors",
            get(admin::connectors).post(admin::add_connector),
        )
        .route(
            "/connectors/{name}",
            get(admin::connector).delete(admin::remove_connector),
        )
        .route("/roles", get(admin::roles).post(admin::add_role))
        .route("/roles/{name}", get(admin::role).delete(admin::remove_role))
        .route("/secrets", get(admin::secrets))
        .route(
            "/secrets/{name}",
            put(admin::put_secret).delete(admin::remove_secret),
        )
        .route("/templates", get(admin::templates))
        .route("/templates/{name}", get(admin::template))
        .route("/tokens", get(admin::tokens).post(admin::create_token))
        .route("/tokens/{name}", delete(admin::revoke_token))
        .route("/audit", get(admin::audit_log))
        .route("/nodes", get(admin::nodes))
        .route("/validate", post(documents::validate))
        .route("/graph", post(documents::graph))
        .route_layer(axum::middleware::from_fn_with_state(
            service.clone(),
            authenticate,
        ))
        .route("/openapi.json", get(openapi));
    Router::new()
        .nest("/api/v1", api)
        .route("/hooks/{workflow}", post(hooks::receive))
        .route("/metrics", get(metrics))
        .route("/healthz", get(health))
        .fallback(console::fallback)
        .with_state(service)
}

/// The value of a header as text.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: String,
        #[serde(default)]
        count: Option<u32>,
    }

    #[test]
    fn bodies_are_objects_and_whole_numbers_are_integers() {
        let read = |text: &str| object_body::<Body>(text.as_bytes(), "body", Code::BadRequest);
        assert_eq!(
            read(r#"{"name": "a", "count": 2.0}"#).unwrap(),
            Body {
                name: "a".into(),
                count: Some(2)
            }
        );
        for bad in [
            r#"["a", 2]"#,
            r#""a""#,
            r#"{"name": "a", "count": 2.5}"#,
            "{",
        ] {
            let e = read(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
        }
        assert_eq!(read(r#"["a"]"#).unwrap_err().code, "BAD_REQUEST");
        assert_eq!(read("{").unwrap_err().code, "BAD_JSON");
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_limit(None, 50, 1000).unwrap(), 50);
        assert_eq!(page_limit(Some(1000), 50, 1000).unwrap(), 1000);
        for n in [0, 1001] {
            assert_eq!(page_limit(Some(n), 50, 1000).unwrap_err().code, "BAD_QUERY");
        }
    }
}
