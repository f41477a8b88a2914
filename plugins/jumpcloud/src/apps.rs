//! Application actions: list, a user's applications, bind an application to a user group.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_plugin::PluginError;

use crate::api::{self, GroupRef, UserRef, str_field};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIn {
    /// v1 filters, `field:$op:value`.
    #[serde(default)]
    pub filter: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListOut {
    pub applications: Vec<Value>,
    pub total: usize,
}

pub fn list(input: ListIn) -> Result<ListOut, PluginError> {
    let query: Vec<(String, String)> = input
        .filter
        .iter()
        .map(|f| ("filter".to_owned(), f.clone()))
        .collect();
    let (applications, total) =
        api::list_v1("/api/applications", &query, 10_000, "listing applications")?;
    Ok(ListOut {
        applications,
        total,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserApp {
    pub application_id: String,
    pub application_name: String,
    pub sso_enabled: bool,
    /// `direct`, or the names of the groups access comes through.
    pub access_via: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserAppsOut {
    pub user_id: String,
    pub applications: Vec<UserApp>,
}

pub fn user_apps(who: UserRef) -> Result<UserAppsOut, PluginError> {
    let uid = who.id()?;
    let bound = api::bound_to_user(
        &uid,
        "applications",
        |aid| format!("/api/applications/{aid}"),
        ["listing the user's applications", "reading an application"],
    )?;
    let mut applications = Vec::new();
    for (a, app) in bound {
        let aid = str_field(&a, "id");
        let via = api::access_via(&a);
        applications.push(UserApp {
            application_id: aid,
            application_name: str_field(&app, "displayName"),
            sso_enabled: !app["sso"].is_null() || !str_field(&app, "ssoUrl").is_empty(),
            access_via: via,
        });
    }
    applications.sort_by(|a, b| a.application_name.cmp(&b.application_name));
    Ok(UserAppsOut {
        user_id: uid,
        applications,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BindGroupIn {
    /// The application, by id or display name.
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub application_name: Option<String>,
    #[serde(flatten)]
    pub group: GroupRef,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BindGroupOut {
    pub application_id: String,
    pub application_name: String,
    pub group_id: String,
    pub group_name: String,
    pub changed: bool,
}

pub fn bind_group(input: BindGroupIn) -> Result<BindGroupOut, PluginError> {
    let app = match (&input.application_id, &input.application_name) {
        (Some(id), _) => {
            api::check_id(id, "application_id")?;
            api::get(
                &format!("/api/applications/{id}"),
                &[],
                "reading the application",
            )?
        }
        (None, Some(name)) => {
            let filter = format!("displayName:$eq:{name}");
            api::get(
                "/api/applications",
                &[("filter", filter.as_str())],
                "finding the application",
            )?["results"]
                .as_array()
                .and_then(|a| a.first())
                .cloned()
                .ok_or_else(|| {
                    PluginError::new("NOT_FOUND", format!("no application named `{name}`"))
                })?
        }
        (None, None) => {
            return Err(PluginError::invalid_input(
                "name the application with application_id or application_name",
            ));
        }
    };
    let aid = str_field(&app, "_id");
    let group = input.group.get("usergroups")?;
    let gid = str_field(&group, "id");
    let changed = api::add_edge(
        &format!("/api/v2/applications/{aid}/associations"),
        "user_group",
        &gid,
        "binding the application",
    )?;
    Ok(BindGroupOut {
        application_id: aid,
        application_name: str_field(&app, "displayName"),
        group_id: gid,
        group_name: str_field(&group, "name"),
        changed,
    })
}
