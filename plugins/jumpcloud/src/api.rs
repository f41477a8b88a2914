//! The JumpCloud calls every catalogue plugin shares: [`call`] (the host's `jumpcloud`
//! import in a component, the SDK's test host over the JumpCloud simulator in tests), JSON helpers
//! that turn non-2xx answers into the catalogue's error codes, pagination, and resolving users,
//! groups and devices given by id or by name.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use sluice_plugin::PluginError;

/// A response from JumpCloud.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<Value, PluginError> {
        if self.body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&self.body).map_err(|e| {
            PluginError::new(
                "JUMPCLOUD_BAD_RESPONSE",
                format!("JumpCloud answered with a body that is not JSON: {e}"),
            )
        })
    }

    /// The error message JumpCloud put in the body, if any.
    pub fn message(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| self.body.chars().take(200).collect())
    }
}

/// One JumpCloud call through the host's `jumpcloud` import (credentials, scope checks and
/// retries are the host's; in native tests, `sluice_plugin::testing`'s host answers).
pub fn call(
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Result<Resp, PluginError> {
    let q: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = sluice_plugin::jumpcloud::call(method, path, &q, body)?;
    Ok(Resp {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// The error for a non-2xx answer, with the catalogue's codes where one applies.
pub fn error_for(r: &Resp, what: &str) -> PluginError {
    let msg = format!("{what}: JumpCloud answered {} ({})", r.status, r.message());
    match r.status {
        401 => PluginError::new("AUTHENTICATION_FAILED", msg),
        403 => PluginError::new("PERMISSION_DENIED", msg),
        404 if r.message().contains("Organization") => {
            PluginError::new("ORGANIZATION_NOT_FOUND", msg)
        }
        404 => PluginError::new("NOT_FOUND", msg),
        409 => PluginError::new("CONFLICT", msg),
        429 => PluginError::retryable("API_RATE_LIMIT", msg),
        500..=599 => PluginError::retryable("JUMPCLOUD_UNAVAILABLE", msg),
        400 if r.message().contains("Password validation") => {
            PluginError::new("PASSWORD_POLICY_VIOLATION", msg)
        }
        _ => PluginError::new("JUMPCLOUD_REQUEST_FAILED", msg),
    }
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// GET returning JSON, any non-2xx an error.
pub fn get(path: &str, query: &[(&str, &str)], what: &str) -> Result<Value, PluginError> {
    let r = call("GET", path, &q(query), None)?;
    if !r.ok() {
        return Err(error_for(&r, what));
    }
    r.json()
}

/// A write (POST/PUT/DELETE) returning the raw response, for callers that give some
/// statuses a meaning (409 "Already Exists", 404 on remove).
pub fn send(method: &str, path: &str, body: Option<&Value>) -> Result<Resp, PluginError> {
    call(method, path, &[], body)
}

/// A write whose every non-2xx is an error; returns the JSON body (null for 204).
pub fn write(
    method: &str,
    path: &str,
    body: Option<&Value>,
    what: &str,
) -> Result<Value, PluginError> {
    let r = send(method, path, body)?;
    if !r.ok() {
        return Err(error_for(&r, what));
    }
    r.json()
}

/// Page size: JumpCloud's maximum.
const PAGE: usize = 100;

/// Every item of a v1 list (`{results, totalCount}`), up to `max`.
pub fn list_v1(
    path: &str,
    query: &[(String, String)],
    max: usize,
    what: &str,
) -> Result<(Vec<Value>, usize), PluginError> {
    let mut out = Vec::new();
    let mut total;
    loop {
        let mut qq = query.to_vec();
        qq.push(("limit".into(), PAGE.to_string()));
        qq.push(("skip".into(), out.len().to_string()));
        if !query.iter().any(|(k, _)| k == "sort") {
            qq.push(("sort".into(), "_id".into()));
        }
        let r = call("GET", path, &qq, None)?;
        if !r.ok() {
            return Err(error_for(&r, what));
        }
        let body = r.json()?;
        total = body["totalCount"].as_u64().unwrap_or(0) as usize;
        let page = body["results"].as_array().cloned().unwrap_or_default();
        let n = page.len();
        out.extend(page);
        if n < PAGE || out.len() >= total || out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    Ok((out, total))
}

/// Every item of a v2 list (bare array, `x-total-count`), up to `max`.
pub fn list_v2(
    path: &str,
    query: &[(String, String)],
    max: usize,
    what: &str,
) -> Result<Vec<Value>, PluginError> {
    let mut out = Vec::new();
    loop {
        let mut qq = query.to_vec();
        qq.push(("limit".into(), PAGE.to_string()));
        qq.push(("skip".into(), out.len().to_string()));
        let r = call("GET", path, &qq, None)?;
        if !r.ok() {
            return Err(error_for(&r, what));
        }
        let total = r
            .header("x-total-count")
            .and_then(|t| t.parse::<usize>().ok());
        let page = r.json()?.as_array().cloned().unwrap_or_default();
        let n = page.len();
        out.extend(page);
        if n < PAGE || total.is_some_and(|t| out.len() >= t) || out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    Ok(out)
}

/// A user given by id, username, email or employee id (the first that is set).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    /// The user's 24-hex JumpCloud id.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub employee_id: Option<String>,
}

impl UserRef {
    fn describe(&self) -> String {
        match (
            &self.user_id,
            &self.username,
            &self.email,
            &self.employee_id,
        ) {
            (Some(id), ..) => format!("user id `{id}`"),
            (_, Some(u), ..) => format!("username `{u}`"),
            (_, _, Some(e), _) => format!("email `{e}`"),
            (_, _, _, Some(e)) => format!("employee id `{e}`"),
            _ => "no user".into(),
        }
    }

    /// Finds the user, or `None` when none matches.
    pub fn find(&self) -> Result<Option<Value>, PluginError> {
        if let Some(id) = &self.user_id {
            check_id(id, "user_id")?;
            let r = call("GET", &format!("/api/systemusers/{id}"), &[], None)?;
            return match r.status {
                404 => Ok(None),
                _ if r.ok() => r.json().map(Some),
                _ => Err(error_for(&r, "reading the user")),
            };
        }
        let (field, value) = match (&self.username, &self.email, &self.employee_id) {
            (Some(u), ..) => ("username", u),
            (_, Some(e), _) => ("email", e),
            (_, _, Some(e)) => ("employeeIdentifier", e),
            _ => {
                return Err(PluginError::invalid_input(
                    "name the user with user_id, username, email or employee_id",
                ));
            }
        };
        let filter = format!("{field}:$eq:{value}");
        let body = get(
            "/api/systemusers",
            &[("filter", filter.as_str()), ("limit", "2")],
            "looking the user up",
        )?;
        Ok(body["results"].as_array().and_then(|a| a.first()).cloned())
    }

    /// The user, or `NOT_FOUND`.
    pub fn get(&self) -> Result<Value, PluginError> {
        self.find()?.ok_or_else(|| {
            PluginError::new(
                "NOT_FOUND",
                format!("no JumpCloud user with {}", self.describe()),
            )
        })
    }

    /// The user's id (one lookup unless the id was given).
    pub fn id(&self) -> Result<String, PluginError> {
        if let Some(id) = &self.user_id {
            check_id(id, "user_id")?;
            return Ok(id.clone());
        }
        Ok(str_field(&self.get()?, "_id"))
    }
}

/// A group given by id or by name.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRef {
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub group_name: Option<String>,
}

impl GroupRef {
    /// The group (`usergroups` or `systemgroups`), or `GROUP_NOT_FOUND`.
    pub fn get(&self, collection: &str) -> Result<Value, PluginError> {
        let not_found = |what: &str| {
            PluginError::new("GROUP_NOT_FOUND", format!("no group {what} in JumpCloud"))
        };
        match (&self.group_id, &self.group_name) {
            (Some(id), _) => {
                check_id(id, "group_id")?;
                let r = call("GET", &format!("/api/v2/{collection}/{id}"), &[], None)?;
                match r.status {
                    404 => Err(not_found(&format!("with id `{id}`"))),
                    _ if r.ok() => r.json(),
                    _ => Err(error_for(&r, "reading the group")),
                }
            }
            (None, Some(name)) => {
                let filter = format!("name:eq:{name}");
                let found = get(
                    &format!("/api/v2/{collection}"),
                    &[("filter", filter.as_str()), ("limit", "2")],
                    "looking the group up",
                )?;
                found
                    .as_array()
                    .and_then(|a| a.first())
                    .cloned()
                    .ok_or_else(|| not_found(&format!("named `{name}`")))
            }
            (None, None) => Err(PluginError::invalid_input(
                "name the group with group_id or group_name",
            )),
        }
    }
}

/// A device given by id or by display name / hostname.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRef {
    #[serde(default)]
    pub system_id: Option<String>,
    /// The device's display name or hostname.
    #[serde(default)]
    pub hostname: Option<String>,
}

impl DeviceRef {
    pub fn get(&self) -> Result<Value, PluginError> {
        match (&self.system_id, &self.hostname) {
            (Some(id), _) => {
                check_id(id, "system_id")?;
                let r = call("GET", &format!("/api/systems/{id}"), &[], None)?;
                match r.status {
                    404 => Err(PluginError::new(
                        "NOT_FOUND",
                        format!("no device with id `{id}`"),
                    )),
                    _ if r.ok() => r.json(),
                    _ => Err(error_for(&r, "reading the device")),
                }
            }
            (None, Some(name)) => {
                for field in ["displayName", "hostname"] {
                    let filter = format!("{field}:$eq:{name}");
                    let found = get(
                        "/api/systems",
                        &[("filter", filter.as_str()), ("limit", "2")],
                        "looking the device up",
                    )?;
                    if let Some(d) = found["results"].as_array().and_then(|a| a.first()) {
                        return Ok(d.clone());
                    }
                }
                Err(PluginError::new(
                    "NOT_FOUND",
                    format!("no device named `{name}`"),
                ))
            }
            (None, None) => Err(PluginError::invalid_input(
                "name the device with system_id or hostname",
            )),
        }
    }
}

/// Ids go into paths: refuse anything but JumpCloud's 24-hex form.
pub fn check_id(id: &str, field: &str) -> Result<(), PluginError> {
    if id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(PluginError::invalid_input(format!(
            "{field} `{id}` is not a JumpCloud id (24 hexadecimal characters)"
        )))
    }
}

/// A string field of an object, empty when absent.
pub fn str_field(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A graph operation body.
pub fn graph_op(op: &str, ty: &str, id: &str, attributes: Option<Value>) -> Value {
    let mut b = json!({"op": op, "type": ty, "id": id});
    if let Some(a) = attributes {
        b["attributes"] = a;
    }
    b
}

/// Whether a response is JumpCloud's "Already Exists" for an existing edge.
pub fn already_exists(r: &Resp) -> bool {
    r.status == 409 || (r.status == 400 && r.message().contains("Already Exists"))
}

/// Adds a graph edge (`POST path` with an `add` operation): `Ok(true)` when it was added,
/// `Ok(false)` when it existed already (an action's `changed`), an error otherwise.
pub fn add_edge(path: &str, ty: &str, id: &str, what: &str) -> Result<bool, PluginError> {
    let r = send("POST", path, Some(&graph_op("add", ty, id, None)))?;
    if already_exists(&r) {
        Ok(false)
    } else if r.ok() {
        Ok(true)
    } else {
        Err(error_for(&r, what))
    }
}

/// The query of a v1 list: each `filter` as given (`field:$op:value`), then an equality
/// filter for each named field that is set.
pub fn v1_filters(filters: &[String], equal: &[(&str, Option<&String>)]) -> Vec<(String, String)> {
    let given = filters.iter().map(|f| ("filter".to_owned(), f.clone()));
    let named = equal.iter().filter_map(|(field, value)| {
        value.map(|v| ("filter".to_owned(), format!("{field}:$eq:{v}")))
    });
    given.chain(named).collect()
}

/// What is bound to a user through `/api/v2/users/{uid}/{relation}` (`applications`,
/// `systems`, `memberof`): each association (with its `paths`, see [`access_via`]) and the
/// object it names, read from `object_path(id)`; `doing` names the two steps in errors.
pub fn bound_to_user(
    uid: &str,
    relation: &str,
    object_path: impl Fn(&str) -> String,
    doing: [&str; 2],
) -> Result<Vec<(Value, Value)>, PluginError> {
    let [listing, reading] = doing;
    let found = list_v2(
        &format!("/api/v2/users/{uid}/{relation}"),
        &[],
        10_000,
        listing,
    )?;
    found
        .into_iter()
        .map(|assoc| {
            let object = get(&object_path(&str_field(&assoc, "id")), &[], reading)?;
            Ok((assoc, object))
        })
        .collect()
}

/// A user group's name (its id when it cannot be read).
pub fn group_name(gid: &str) -> String {
    get(&format!("/api/v2/usergroups/{gid}"), &[], "reading a group")
        .map(|g| str_field(&g, "name"))
        .unwrap_or_else(|_| gid.to_owned())
}

/// How a traversal result (`GraphObjectWithPaths`) is reached: `direct` for a one-hop path,
/// else the name of the user group (or the type of object) the path starts through.
pub fn access_via(found: &Value) -> Vec<String> {
    let mut via = Vec::new();
    for path in found["paths"].as_array().into_iter().flatten() {
        let first = &path[0]["to"];
        let name = if path.as_array().is_some_and(|p| p.len() == 1) {
            "direct".to_owned()
        } else if first["type"] == "user_group" {
            group_name(first["id"].as_str().unwrap_or_default())
        } else {
            str_field(first, "type")
        };
        if !via.contains(&name) {
            via.push(name);
        }
    }
    via
}
