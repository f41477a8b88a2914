//! `/api/v1/plugins`, `/connectors`, `/roles`, `/secrets`, `/templates`, `/tokens` and
//! `/audit`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Caller, Path, Query, audit, object_body, page_limit};
use crate::code::Code;
use crate::connector::{self, ConnectorDef};
use crate::host::category;
use crate::host::registry::PluginRecord;
use crate::role::{self, RoleStore as _};
use crate::secrets;
use crate::service::{Service, tokens};

type Api<T> = Result<T, ApiError>;

/// The largest component accepted by `POST /api/v1/plugins`.
pub(super) const MAX_PLUGIN_BYTES: usize = 64 << 20;

fn key(service: &Service) -> Api<&crate::secrets::SecretKey> {
    service
        .secret_key
        .as_ref()
        .ok_or_else(|| ApiError::from(secrets::SecretError::NoKey))
}

/// A plugin's record as the API shows it: with the category lists group it under.
fn plugin_row(record: &PluginRecord) -> Value {
    let mut v = json!(record);
    v["category"] = json!(category::of(record));
    v
}

/// Every plugin, and the categories in the order lists show them.
pub(super) async fn plugins(State(service): State<Arc<Service>>) -> Api<Json<Value>> {
    let list: Vec<Value> = service
        .registry
        .list()
        .await?
        .iter()
        .map(plugin_row)
        .collect();
    Ok(Json(
        json!({ "plugins": list, "categories": category::CATEGORIES }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InstallQuery {
    /// Permissions granted, comma-separated (each must be declared by the plugin).
    #[serde(default)]
    grant: Option<String>,
    #[serde(default)]
    replace: bool,
    /// The plugin's state quota (default 10,000 keys and 16 MiB).
    #[serde(default)]
    state_max_keys: Option<u64>,
    #[serde(default)]
    state_max_bytes: Option<u64>,
    /// `NAME[@VERSION]` of an installed plugin whose state this one takes over.
    #[serde(default)]
    adopt_state: Option<String>,
    /// Refuse the component unless a trusted key signed it (the standing policy may
    /// require this for every install).
    #[serde(default)]
    require_signature: bool,
}

pub(super) async fn install_plugin(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<InstallQuery>,
    body: Bytes,
) -> Api<Response> {
    let grants: Vec<String> = q
        .grant
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    let records = service
        .registry
        .install_with(
            "the uploaded component",
            &body,
            &grants,
            Default::default(),
            q.replace,
            crate::host::registry::StateOptions {
                max_keys: q.state_max_keys,
                max_bytes: q.state_max_bytes,
                adopt: q.adopt_state,
            },
            q.require_signature,
        )
        .await?;
    for record in &records {
        audit(
            &service,
            &caller,
            "plugin.install",
            &record.id(),
            json!({"digest": record.digest, "grants": record.grants, "state": record.state,
                   "signer": record.signer, "pack": record.pack}),
        )?;
    }
    // One plugin: its row, as before packs. A pack: the pack and a row per plugin.
    let body = match (
        records.first().and_then(|r| r.pack.as_ref()),
        records.as_slice(),
    ) {
        (None, [one]) => plugin_row(one),
        (pack, _) => {
            json!({"pack": pack, "plugins": records.iter().map(plugin_row).collect::<Vec<_>>()})
        }
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsBody {
    /// The permissions granted from now on (each declared by the plugin); `[]` revokes all.
    grants: Vec<String>,
    /// The sha256 of the component whose permissions were reviewed: refused if the
    /// installed one is another.
    #[serde(default)]
    digest: Option<String>,
}

/// Sets what an installed plugin is granted, without uploading it again.
pub(super) async fn set_plugin_grants(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Api<Json<Value>> {
    let b: GrantsBody = object_body(&body, "grants", Code::BadRequest)?;
    let record = service
        .registry
        .set_grants(&id, &b.grants, b.digest.as_deref())
        .await?;
    audit(
        &service,
        &caller,
        "plugin.grant",
        &record.id(),
        json!({"digest": record.digest, "grants": record.grants}),
    )?;
    Ok(Json(plugin_row(&record)))
}

pub(super) async fn plugin(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Api<Json<Value>> {
    // Plugins and packs share names: a pack's name shows the pack and its plugins.
    if let Some((pack, members)) = service.registry.find_pack(&id).await? {
        let rows: Vec<Value> = members.iter().map(plugin_row).collect();
        return Ok(Json(json!({ "pack": pack, "plugins": rows })));
    }
    let (record, loaded) = service.registry.resolve(&id).await?;
    Ok(Json(json!({
        "plugin": plugin_row(&record),
        "manifest": &*loaded.manifest,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RemoveQuery {
    /// Remove even while enabled saved workflows pin the plugin.
    #[serde(default)]
    force: bool,
}

pub(super) async fn remove_plugin(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Api<StatusCode> {
    // A pack by `NAME@VERSION` is removed as a unit; its plugins are not removed alone.
    let removed = match service.registry.find_pack(&id).await? {
        Some(_) => service.registry.remove_pack(&id, q.force).await?.1,
        None => vec![service.registry.remove(&id, q.force).await?],
    };
    for record in &removed {
        audit(
            &service,
            &caller,
            "plugin.remove",
            &record.id(),
            json!({"force": q.force, "pack": record.pack}),
        )?;
    }
    Ok(StatusCode::NO_CONTENT)
}

fn connector_row(service: &Service, def: &ConnectorDef) -> Api<Value> {
    let stored = service
        .store
        .secret_get(&connector::secret_name(&def.name))?
        .is_some();
    let mut v = json!(def);
    v["credential"] = json!(if !def.auth.needs_secret() {
        "none"
    } else if stored {
        "****"
    } else {
        "missing"
    });
    Ok(v)
}

pub(super) async fn connectors(State(service): State<Arc<Service>>) -> Api<Json<Value>> {
    let mut rows = Vec::new();
    for d in service.store.connector_list()? {
        rows.push(connector_row(&service, &d)?);
    }
    Ok(Json(json!({ "connectors": rows })))
}

pub(super) async fn connector(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
) -> Api<Json<Value>> {
    let def = service
        .store
        .connector_get(&name)?
        .ok_or(connector::ConnectorError::NotFound(name))?;
    Ok(Json(connector_row(&service, &def)?))
}

/// A connector as the API takes it: the definition's fields, and the credential (sealed at
/// once; never returned).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectorInput {
    name: String,
    base_url: String,
    auth: connector::Auth,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    allow_hosts: Vec<String>,
    #[serde(default)]
    allow_http: bool,
    #[serde(default)]
    timeout_ms: Option<u64>,
    #[serde(default)]
    max_response_bytes: Option<u64>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    replace: bool,
}

pub(super) async fn add_connector(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Api<Response> {
    let input: ConnectorInput = object_body(&body, "connector", Code::ConnectorInvalid)?;
    let def = ConnectorDef {
        version: connector::VERSION,
        name: input.name,
        base_url: input.base_url,
        auth: input.auth,
        headers: input.headers,
        allow_hosts: input.allow_hosts,
        allow_http: input.allow_http,
        timeout_ms: input.timeout_ms.unwrap_or(connector::DEFAULT_TIMEOUT_MS),
        max_response_bytes: input
            .max_response_bytes
            .unwrap_or(connector::DEFAULT_MAX_RESPONSE_BYTES),
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    def.validate()?;
    if !input.replace && service.store.connector_get(&def.name)?.is_some() {
        return Err(connector::ConnectorError::Exists(def.name).into());
    }
    let name = connector::secret_name(&def.name);
    let sealed = match (def.auth.needs_secret(), input.secret) {
        (true, Some(s)) if !s.trim().is_empty() => {
            Some(secrets::seal(key(&service)?, &name, s.trim().as_bytes())?)
        }
        (true, _) => {
            return Err(ApiError::new(
                Code::ConnectorInvalid,
                format!(
                    "connector `{}` authenticates with a credential: give `secret`",
                    def.name
                ),
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::new(
                Code::ConnectorInvalid,
                format!(
                    "connector `{}` has auth `none`: it takes no `secret`",
                    def.name
                ),
            ));
        }
        (false, None) => None,
    };
    match sealed {
        Some(bytes) => service.store.secret_put(&name, &bytes)?,
        None => {
            service.store.secret_remove(&name)?;
        }
    }
    service.store.connector_put(&def)?;
    audit(
        &service,
        &caller,
        "connector.add",
        &def.name,
        json!({"base_url": def.base_url}),
    )?;
    Ok((StatusCode::CREATED, Json(connector_row(&service, &def)?)).into_response())
}

pub(super) async fn remove_connector(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<StatusCode> {
    if !service.store.connector_remove(&name)? {
        return Err(connector::ConnectorError::NotFound(name).into());
    }
    service
        .store
        .secret_remove(&connector::secret_name(&name))?;
    audit(&service, &caller, "connector.remove", &name, json!({}))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn roles(State(service): State<Arc<Service>>) -> Api<Json<Value>> {
    Ok(Json(json!({ "roles": service.store.role_list()? })))
}

pub(super) async fn role(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
) -> Api<Json<Value>> {
    let def = service
        .store
        .role_get(&name)?
        .ok_or(role::RoleError::NotFound(name))?;
    Ok(Json(json!(def)))
}

/// A custom role as the API takes it: the definition's fields and `replace`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    name: String,
    #[serde(default)]
    description: String,
    scopes: Vec<String>,
    #[serde(default)]
    replace: bool,
}

pub(super) async fn add_role(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Api<Response> {
    let input: RoleBody = object_body(&body, "role", Code::RoleInvalid)?;
    let def = role::define(role::RoleInput {
        name: input.name,
        description: input.description,
        scopes: input.scopes,
    })?;
    role::save(&*service.store, &def, input.replace)?;
    audit(
        &service,
        &caller,
        "role.save",
        &def.name,
        json!({"scopes": def.scopes, "replace": input.replace}),
    )?;
    Ok((StatusCode::CREATED, Json(json!(def))).into_response())
}

pub(super) async fn remove_role(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<StatusCode> {
    role::remove(&*service.store, &name)?;
    audit(&service, &caller, "role.remove", &name, json!({}))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn secrets(State(service): State<Arc<Service>>) -> Api<Json<Value>> {
    Ok(Json(json!({ "secrets": service.store.secret_names()? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretInput {
    value: String,
}

pub(super) async fn put_secret(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Api<StatusCode> {
    secrets::check_name(&name)?;
    let input: SecretInput =
        object_body(&body, "secret", Code::BadRequest).map_err(|e| ApiError {
            message: format!("{}; send {{\"value\": \"…\"}}", e.message),
            ..e
        })?;
    let sealed = secrets::seal(key(&service)?, &name, input.value.as_bytes())?;
    service.store.secret_put(&name, &sealed)?;
    audit(&service, &caller, "secret.set", &name, json!({}))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn remove_secret(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<StatusCode> {
    if !service.store.secret_remove(&name)? {
        return Err(ApiError::new(
            Code::SecretNotFound,
            format!("no secret named `{name}`"),
        ));
    }
    audit(&service, &caller, "secret.remove", &name, json!({}))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn templates() -> Api<Json<Value>> {
    let rows =
        crate::workflow::catalogue::rows().map_err(|e| ApiError::new(Code::TemplateBroken, e))?;
    Ok(Json(json!({ "templates": rows })))
}

pub(super) async fn template(Path(name): Path<String>) -> Api<Json<Value>> {
    let (t, doc) = crate::workflow::catalogue::find(&name).ok_or_else(|| {
        ApiError::new(
            Code::TemplateNotFound,
            format!("no template named `{name}`"),
        )
    })?;
    let example: Value = serde_json::from_str(t.example_input).unwrap_or(Value::Null);
    Ok(Json(json!({
        "name": doc.name,
        "category": t.category,
        "description": doc.description,
        "source": t.source,
        "example_input": example,
    })))
}

pub(super) async fn tokens(State(service): State<Arc<Service>>) -> Api<Json<Value>> {
    Ok(Json(json!({ "tokens": tokens::list(&*service.store)? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenInput {
    name: String,
}

pub(super) async fn create_token(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Api<Response> {
    let input: TokenInput =
        object_body(&body, "token request", Code::BadRequest).map_err(|e| ApiError {
            message: format!("{}; send {{\"name\": \"…\"}}", e.message),
            ..e
        })?;
    let (token, mut record) = tokens::create(&*service.store, &input.name)?;
    audit(&service, &caller, "token.create", &input.name, json!({}))?;
    record["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

pub(super) async fn revoke_token(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Api<StatusCode> {
    tokens::revoke(&*service.store, &name)?;
    audit(&service, &caller, "token.revoke", &name, json!({}))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    limit: Option<usize>,
}

/// The nodes sharing the store (this one alone on sled): which are alive, which leads, how
/// many unfinished runs each holds.
pub(super) async fn nodes(State(service): State<Arc<Service>>) -> Api<Json<Value>> {
    let nodes = service.cluster.nodes()?;
    Ok(Json(json!({
        "node": service.cluster.node(),
        "shared": service.cluster.shared(),
        "lease_seconds": if service.cluster.shared() {
            json!(service.cluster.lease().as_secs_f64())
        } else {
            Value::Null
        },
        "nodes": nodes,
    })))
}

pub(super) async fn audit_log(
    State(service): State<Arc<Service>>,
    Query(q): Query<AuditQuery>,
) -> Api<Json<Value>> {
    let limit = page_limit(q.limit, 100, 10_000)?;
    Ok(Json(json!({ "entries": service.store.audit_list(limit)? })))
}
