//! Administrators (read-only) and `jumpcloud-api`, the generic call for everything the
//! catalogue does not cover.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_plugin::PluginError;

use crate::api::{self, str_field};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminsIn {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Admin {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub suspended: bool,
    pub mfa_enabled: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AdminsOut {
    pub administrators: Vec<Admin>,
}

pub fn admins(_input: AdminsIn) -> Result<AdminsOut, PluginError> {
    let (found, _) = api::list_v1("/api/users", &[], 10_000, "listing administrators")?;
    Ok(AdminsOut {
        administrators: found
            .iter()
            .map(|a| Admin {
                id: str_field(a, "_id"),
                email: str_field(a, "email"),
                name: format!("{} {}", str_field(a, "firstname"), str_field(a, "lastname"))
                    .trim()
                    .to_owned(),
                role: str_field(a, "roleName"),
                suspended: a["suspended"] == Value::Bool(true),
                mfa_enabled: a["enableMultiFactor"] == Value::Bool(true),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallIn {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// `/api/...`, `/api/v2/...` or `/insights/directory/v1/...`.
    pub path: String,
    /// Query parameters; a list value repeats the parameter (`filter`).
    #[serde(default)]
    pub query: BTreeMap<String, Value>,
    #[serde(default)]
    pub body: Option<Value>,
    /// Fail the step on a non-2xx status (default true).
    #[serde(default)]
    pub fail_on_error: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CallOut {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// The body, parsed when it is JSON.
    pub body: Value,
}

pub fn call(input: CallIn) -> Result<CallOut, PluginError> {
    let mut query = Vec::new();
    for (k, v) in &input.query {
        match v {
            Value::Array(items) => {
                for i in items {
                    query.push((k.clone(), text(i)));
                }
            }
            other => query.push((k.clone(), text(other))),
        }
    }
    let method = input.method.to_ascii_uppercase();
    let r = api::call(&method, &input.path, &query, input.body.as_ref())?;
    if !r.ok() && input.fail_on_error.unwrap_or(true) {
        return Err(api::error_for(&r, &format!("{method} {}", input.path)));
    }
    let body = serde_json::from_str(&r.body).unwrap_or(Value::String(r.body.clone()));
    Ok(CallOut {
        status: r.status,
        headers: r.headers.into_iter().collect(),
        body,
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
