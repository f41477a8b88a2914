//! The steps of new-user provisioning that the general actions do not cover: checking
//! the input, the duplicate check, resolving and verifying groups, assigning them with a
//! per-group account, binding LDAP, and reading back everything the user can reach for the
//! returned report.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_plugin::PluginError;

use crate::api::{self, str_field};
use crate::users::{email_problem, password_problem, ssh_key_problem, username_problem};

// ---------------------------------------------------------------- user-validate

/// The provisioning input fields that can be checked without JumpCloud.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateIn {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub department: String,
    #[serde(default)]
    pub manager_email: Option<String>,
    /// Checked against the password policy when given (never returned; redacted in run
    /// records).
    #[serde(default)]
    #[schemars(extend("writeOnly" = true))]
    pub password: Option<String>,
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub unix_uid: Option<u64>,
    #[serde(default)]
    pub unix_guid: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ValidateOut {
    pub valid: bool,
    /// The fields that were checked.
    pub checked: Vec<String>,
}

/// Checks the input; the first problem is the error, with its code.
pub fn validate(input: ValidateIn) -> Result<ValidateOut, PluginError> {
    let mut checked = vec![];
    for (field, value) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
        ("department", &input.department),
    ] {
        if value.trim().is_empty() {
            return Err(PluginError::new(
                "INVALID_INPUT",
                format!("`{field}` is required"),
            ));
        }
        checked.push(field.to_owned());
    }
    if let Some(p) = username_problem(&input.username) {
        return Err(PluginError::new("INVALID_USERNAME_FORMAT", p));
    }
    checked.push("username".into());
    for (field, value) in [
        ("email", Some(&input.email)),
        ("manager_email", input.manager_email.as_ref()),
    ] {
        if let Some(v) = value {
            if let Some(p) = email_problem(v) {
                return Err(PluginError::new("INVALID_EMAIL", p));
            }
            checked.push(field.to_owned());
        }
    }
    if let Some(pw) = &input.password {
        if let Some(p) = password_problem(pw) {
            return Err(PluginError::new("PASSWORD_POLICY_VIOLATION", p));
        }
        checked.push("password".into());
    }
    if let Some(k) = input.public_key.as_deref().filter(|k| !k.trim().is_empty()) {
        if let Some(p) = ssh_key_problem(k) {
            return Err(PluginError::new("SSH_KEY_INVALID", p));
        }
        checked.push("public_key".into());
    }
    for (field, v) in [("unix_uid", input.unix_uid), ("unix_guid", input.unix_guid)] {
        if let Some(v) = v {
            if !(100..=4_294_967_294).contains(&v) {
                return Err(PluginError::new(
                    "INVALID_INPUT",
                    format!("`{field}` {v} is outside 100..4294967294"),
                ));
            }
            checked.push(field.to_owned());
        }
    }
    Ok(ValidateOut {
        valid: true,
        checked,
    })
}

// ---------------------------------------------------------------- user-check-unique

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UniqueIn {
    pub username: String,
    pub email: String,
    #[serde(default)]
    pub employee_id: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UniqueOut {
    pub unique: bool,
    /// The fields looked up.
    pub checked: Vec<String>,
}

/// `USER_ALREADY_EXISTS` when a user has this username, email or employee id.
pub fn check_unique(input: UniqueIn) -> Result<UniqueOut, PluginError> {
    let mut checked = vec![];
    let fields = [
        ("username", "username", Some(&input.username)),
        ("email", "email", Some(&input.email)),
        (
            "employee_id",
            "employeeIdentifier",
            input.employee_id.as_ref(),
        ),
    ];
    for (name, field, value) in fields {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        let filter = format!("{field}:$eq:{value}");
        let body = api::get(
            "/api/systemusers",
            &[
                ("filter", &filter),
                ("limit", "1"),
                ("fields", "username email"),
            ],
            "checking for an existing user",
        )?;
        if let Some(existing) = body["results"].as_array().and_then(|a| a.first()) {
            return Err(PluginError::new(
                "USER_ALREADY_EXISTS",
                format!(
                    "a JumpCloud user with {name} `{value}` already exists ({})",
                    str_field(existing, "username")
                ),
            )
            .with_details(json!({
                "field": name,
                "value": value,
                "existing_user_id": str_field(existing, "_id"),
                "existing_username": str_field(existing, "username"),
            })));
        }
        checked.push(name.to_owned());
    }
    Ok(UniqueOut {
        unique: true,
        checked,
    })
}

// ---------------------------------------------------------------- groups-resolve

/// A group and why the user gets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Wanted {
    pub name: String,
    /// `default`, `department`, `role`, `location` or `additional`.
    pub source: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIn {
    /// Groups every user gets unless `skip_group_defaults`.
    #[serde(default)]
    pub defaults: Vec<String>,
    /// Department → groups (matched case-insensitively).
    #[serde(default)]
    pub department_groups: BTreeMap<String, Vec<String>>,
    /// Job-title keyword → groups: a title containing the keyword (any case) matches.
    #[serde(default)]
    pub role_groups: BTreeMap<String, Vec<String>>,
    /// Office location → groups (matched case-insensitively).
    #[serde(default)]
    pub location_groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub office_location: Option<String>,
    /// Groups named for this user.
    #[serde(default)]
    pub user_groups: Vec<String>,
    #[serde(default)]
    pub additional_groups: Vec<String>,
    #[serde(default)]
    pub skip_group_defaults: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ResolveOut {
    /// In assignment order, each group once (its first reason wins).
    pub groups: Vec<Wanted>,
}

/// Maps the user's department, title and location to groups. No JumpCloud call.
pub fn resolve(input: ResolveIn) -> Result<ResolveOut, PluginError> {
    let mut groups: Vec<Wanted> = Vec::new();
    let mut add = |names: &[String], source: &str| {
        for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            if !groups.iter().any(|g| g.name.eq_ignore_ascii_case(n)) {
                groups.push(Wanted {
                    name: n.to_owned(),
                    source: source.to_owned(),
                });
            }
        }
    };
    if !input.skip_group_defaults {
        add(&input.defaults, "default");
    }
    let lookup = |map: &BTreeMap<String, Vec<String>>, key: &Option<String>| -> Vec<String> {
        key.as_deref()
            .and_then(|k| {
                map.iter()
                    .find(|(m, _)| m.eq_ignore_ascii_case(k.trim()))
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_default()
    };
    add(
        &lookup(&input.department_groups, &input.department),
        "department",
    );
    if let Some(title) = &input.job_title {
        let title = title.to_lowercase();
        for (keyword, names) in &input.role_groups {
            if title.contains(&keyword.to_lowercase()) {
                add(names, "role");
            }
        }
    }
    add(
        &lookup(&input.location_groups, &input.office_location),
        "location",
    );
    add(&input.user_groups, "additional");
    add(&input.additional_groups, "additional");
    Ok(ResolveOut { groups })
}

// ---------------------------------------------------------------- groups-verify

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    pub groups: Vec<Wanted>,
}

/// A group that exists.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Found {
    pub name: String,
    pub source: String,
    pub id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyOut {
    pub found: Vec<Found>,
    pub not_found: Vec<Wanted>,
}

/// Looks every group up by name (one listing, not one call per group).
pub fn verify(input: VerifyIn) -> Result<VerifyOut, PluginError> {
    let all = api::list_v2("/api/v2/usergroups", &[], 10_000, "listing user groups")?;
    let mut out = VerifyOut {
        found: vec![],
        not_found: vec![],
    };
    for w in input.groups {
        match all.iter().find(|g| str_field(g, "name") == w.name) {
            Some(g) => out.found.push(Found {
                name: w.name,
                source: w.source,
                id: str_field(g, "id"),
            }),
            None => out.not_found.push(w),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- user-groups-assign

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    pub user_id: String,
    /// The groups that exist (from `groups-verify`).
    pub groups: Vec<Found>,
    /// The groups that do not: each is reported as `GROUP_NOT_FOUND` after the others are
    /// assigned.
    #[serde(default)]
    pub not_found: Vec<Wanted>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Assigned {
    pub name: String,
    pub id: String,
    pub source: String,
    /// False when the user already was a member.
    pub added: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AssignOut {
    pub assigned: Vec<Assigned>,
    pub groups_assigned: usize,
}

/// Adds the user to every group it can; then, if any group is missing or refused, fails
/// with `GROUP_NOT_FOUND` / `GROUP_MEMBERSHIP_FAILED`, the account in the details.
pub fn assign(input: AssignIn) -> Result<AssignOut, PluginError> {
    api::check_id(&input.user_id, "user_id")?;
    let mut assigned = vec![];
    let mut failed: Vec<Value> = vec![];
    let mut retryable = false;
    for g in &input.groups {
        let r = api::send(
            "POST",
            &format!("/api/v2/usergroups/{}/members", g.id),
            Some(&api::graph_op("add", "user", &input.user_id, None)),
        )?;
        if r.ok() || api::already_exists(&r) {
            assigned.push(Assigned {
                name: g.name.clone(),
                id: g.id.clone(),
                source: g.source.clone(),
                added: r.ok(),
            });
        } else {
            let e = api::error_for(&r, "adding the user to the group");
            retryable |= e.retryable;
            failed.push(
                json!({"group": g.name, "source": g.source, "code": e.code, "message": e.message}),
            );
        }
    }
    for w in &input.not_found {
        failed.push(
            json!({"group": w.name, "source": w.source, "code": "GROUP_NOT_FOUND",
            "message": format!("User group '{}' does not exist in JumpCloud", w.name)}),
        );
    }
    if failed.is_empty() {
        return Ok(AssignOut {
            groups_assigned: assigned.len(),
            assigned,
        });
    }
    let total = assigned.len() + failed.len();
    let first = &failed[0];
    let code = if first["code"] == "GROUP_NOT_FOUND" {
        "GROUP_NOT_FOUND"
    } else {
        "GROUP_MEMBERSHIP_FAILED"
    };
    let message = first["message"].as_str().unwrap_or_default().to_owned();
    let err = if retryable && code == "GROUP_MEMBERSHIP_FAILED" {
        PluginError::retryable(code, message)
    } else {
        PluginError::new(code, message)
    };
    Err(err.with_details(json!({
        "affected_group": first["group"],
        "groups_assigned": assigned.len(),
        "groups_failed": failed.len(),
        "groups_total": total,
        "assigned": assigned,
        "failed": failed,
    })))
}

// ---------------------------------------------------------------- user-ldap-bind

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapIn {
    pub user_id: String,
    /// The LDAP server's name; the organisation's only one when absent.
    #[serde(default)]
    pub server: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LdapOut {
    pub server_id: String,
    pub server_name: String,
    pub bound: bool,
}

/// Binds the user to an LDAP server (a direct association).
pub fn ldap_bind(input: LdapIn) -> Result<LdapOut, PluginError> {
    api::check_id(&input.user_id, "user_id")?;
    let servers = api::list_v2("/api/v2/ldapservers", &[], 1000, "listing LDAP servers")?;
    let server = match &input.server {
        Some(name) => servers.iter().find(|s| str_field(s, "name") == *name),
        None if servers.len() == 1 => servers.first(),
        None => None,
    }
    .ok_or_else(|| {
        PluginError::new(
            "LDAP_SERVER_NOT_FOUND",
            match &input.server {
                Some(n) => format!("no LDAP server named `{n}`"),
                None => format!(
                    "the organisation has {} LDAP servers; name one with `server`",
                    servers.len()
                ),
            },
        )
    })?;
    let sid = str_field(server, "id");
    let r = api::send(
        "POST",
        &format!("/api/v2/users/{}/associations", input.user_id),
        Some(&api::graph_op("add", "ldap_server", &sid, None)),
    )?;
    if !(r.ok() || api::already_exists(&r)) {
        return Err(api::error_for(&r, "binding the user to LDAP"));
    }
    Ok(LdapOut {
        server_id: sid,
        server_name: str_field(server, "name"),
        bound: true,
    })
}

// ---------------------------------------------------------------- user-access-report

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    pub user_id: String,
    /// The groups the user was meant to get, with why (sources label the report).
    #[serde(default)]
    pub groups: Vec<Wanted>,
}

/// The provisioning result's sections, read back from JumpCloud.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportOut {
    pub user_info: Value,
    pub account: Value,
    pub security_settings: Value,
    pub unix_attributes: Value,
    pub groups: Vec<Value>,
    pub system_bindings: Value,
    pub application_access: Value,
    pub custom_attributes: Value,
}

/// The user groups a traversal result is reached through (first hop of each path), and
/// whether it is bound directly.
fn via_groups(found: &Value) -> (Vec<String>, bool) {
    let mut groups = vec![];
    let mut direct = false;
    for path in found["paths"].as_array().into_iter().flatten() {
        let hops = path.as_array().map_or(0, Vec::len);
        let first = &path[0]["to"];
        if hops <= 1 {
            direct = true;
        } else if first["type"] == "user_group" {
            let id = str_field(first, "id");
            if !groups.contains(&id) {
                groups.push(id);
            }
        }
    }
    (groups, direct)
}

fn account_status(state: &str) -> &'static str {
    match state {
        "ACTIVATED" => "activated",
        "STAGED" => "pending_activation",
        "SUSPENDED" => "suspended",
        _ => "unknown",
    }
}

/// Reads the user, what it reaches and through which group: one call for the user, one per
/// kind of resource (with paths), one listing of systems and one of applications.
pub fn access_report(input: ReportIn) -> Result<ReportOut, PluginError> {
    api::check_id(&input.user_id, "user_id")?;
    let uid = &input.user_id;
    let u = api::get(&format!("/api/systemusers/{uid}"), &[], "reading the user")?;
    let member_of = api::list_v2(
        &format!("/api/v2/users/{uid}/memberof"),
        &[],
        10_000,
        "listing the user's groups",
    )?;
    let traverse = |rel: &str| {
        api::list_v2(
            &format!("/api/v2/users/{uid}/{rel}"),
            &[],
            10_000,
            "listing what the user can reach",
        )
    };
    let systems = traverse("systems")?;
    let apps = traverse("applications")?;
    let ldap = traverse("ldapservers")?;
    let radius = traverse("radiusservers")?;
    let all_systems = if systems.is_empty() {
        vec![]
    } else {
        api::list_v1("/api/systems", &[], 10_000, "listing systems")?.0
    };
    let all_apps = if apps.is_empty() {
        vec![]
    } else {
        api::get(
            "/api/applications",
            &[("limit", "100")],
            "listing applications",
        )?["results"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    // Names of the user's groups, from one listing.
    let listed = if member_of.is_empty() {
        vec![]
    } else {
        api::list_v2("/api/v2/usergroups", &[], 10_000, "listing user groups")?
    };
    let mut group_names: BTreeMap<String, String> = BTreeMap::new();
    for g in &member_of {
        let gid = str_field(g, "id");
        let name = listed
            .iter()
            .find(|l| str_field(l, "id") == gid)
            .map(|l| str_field(l, "name"))
            .unwrap_or_else(|| api::group_name(&gid));
        group_names.insert(gid, name);
    }
    let source_of = |name: &str| -> String {
        input
            .groups
            .iter()
            .find(|w| w.name == name)
            .map(|w| w.source.clone())
            .unwrap_or_else(|| "existing".into())
    };
    let counts = |items: &[Value], gid: &str| -> usize {
        items
            .iter()
            .filter(|i| via_groups(i).0.iter().any(|g| g == gid))
            .count()
    };
    let app_name = |id: &str| -> String {
        all_apps
            .iter()
            .find(|a| str_field(a, "_id") == id || str_field(a, "id") == id)
            .map(|a| str_field(a, "displayName"))
            .unwrap_or_else(|| id.to_owned())
    };
    let mut groups = vec![];
    // In the order the workflow asked for them, then any other group the user is in.
    let mut order: Vec<(String, String)> = group_names
        .iter()
        .map(|(id, name)| (id.clone(), name.clone()))
        .collect();
    order.sort_by_key(|(_, name)| {
        input
            .groups
            .iter()
            .position(|w| &w.name == name)
            .unwrap_or(usize::MAX)
    });
    for (gid, name) in &order {
        let mut app_names: Vec<String> = apps
            .iter()
            .filter(|a| via_groups(a).0.iter().any(|g| g == gid))
            .map(|a| app_name(&str_field(a, "id")))
            .collect();
        app_names.sort();
        groups.push(json!({
            "group_name": name,
            "group_id": gid,
            "group_type": "user_group",
            "assignment_source": source_of(name),
            "added": true,
            "inherited_access": {
                "systems": counts(&systems, gid),
                "applications": app_names,
                "ldap_servers": counts(&ldap, gid),
                "radius_servers": counts(&radius, gid),
            }
        }));
    }
    let mut system_list = vec![];
    let (mut direct_count, mut inherited_count) = (0, 0);
    for s in &systems {
        let sid = str_field(s, "id");
        let (via, direct) = via_groups(s);
        if direct {
            direct_count += 1;
        }
        if !via.is_empty() {
            inherited_count += 1;
        }
        let d = all_systems
            .iter()
            .find(|d| str_field(d, "_id") == sid)
            .cloned()
            .unwrap_or(Value::Null);
        let access_via = via
            .first()
            .and_then(|g| group_names.get(g).cloned())
            .unwrap_or_else(|| "direct".into());
        system_list.push(json!({
            "system_name": str_field(&d, "displayName"),
            "system_id": sid,
            "os": format!("{} {}", str_field(&d, "os"), str_field(&d, "version")).trim(),
            "access_via": access_via,
            "sudo_access": s["compiledAttributes"]["sudo"]["enabled"] == json!(true),
        }));
    }
    let mut app_list = vec![];
    for a in &apps {
        let aid = str_field(a, "id");
        let app = all_apps
            .iter()
            .find(|x| str_field(x, "_id") == aid)
            .cloned()
            .unwrap_or(Value::Null);
        let (via, _) = via_groups(a);
        app_list.push(json!({
            "application_name": app_name(&aid),
            "access_via": via.first().and_then(|g| group_names.get(g).cloned()).unwrap_or_else(|| "direct".into()),
            "sso_enabled": app["sso"]["type"].as_str().is_some_and(|t| !t.is_empty()),
        }));
    }
    // Listed group by group, in the report's group order, then by name.
    let rank = |via: &Value| {
        order
            .iter()
            .position(|(_, name)| Some(name.as_str()) == via.as_str())
            .unwrap_or(usize::MAX)
    };
    system_list.sort_by(|a, b| {
        (rank(&a["access_via"]), a["system_name"].as_str())
            .cmp(&(rank(&b["access_via"]), b["system_name"].as_str()))
    });
    app_list.sort_by(|a, b| {
        (rank(&a["access_via"]), a["application_name"].as_str())
            .cmp(&(rank(&b["access_via"]), b["application_name"].as_str()))
    });
    let attributes: Vec<Value> = u["attributes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|a| json!({"name": a["name"], "value": a["value"]}))
        .collect();
    let username = str_field(&u, "username");
    let state = str_field(&u, "state");
    Ok(ReportOut {
        user_info: json!({
            "jumpcloud_user_id": u["_id"],
            "username": username,
            "email": u["email"],
            "first_name": u["firstname"],
            "last_name": u["lastname"],
            "display_name": u["displayname"],
            "department": u["department"],
            "job_title": u["jobTitle"],
            "employee_id": u["employeeIdentifier"],
        }),
        account: json!({
            "created_timestamp": u["created"],
            "account_status": account_status(&state),
            "state": state,
            "organization_id": u["organization"],
        }),
        security_settings: json!({
            "mfa_required": u["enable_user_portal_multifactor"] == json!(true)
                || u["mfa"]["exclusion"] == json!(true),
            "mfa_configured": u["mfa"]["configured"] == json!(true),
            "mfa_exclusion_until": u["mfa"]["exclusionUntil"],
            "password_never_expires": u["password_never_expires"] == json!(true),
            "password_expiration_date": u["password_expiration_date"],
            "allow_public_key_auth": u["allow_public_key"] == json!(true),
            "ssh_public_key_added": u["ssh_keys"].as_array().is_some_and(|k| !k.is_empty()),
            "sudo_enabled": u["sudo"] == json!(true),
            "ldap_binding_user": u["ldap_binding_user"] == json!(true),
        }),
        unix_attributes: json!({
            "uid": u["unix_uid"],
            "gid": u["unix_guid"],
            // What the JumpCloud agent creates on Linux and macOS.
            "home_directory": format!("/home/{username}"),
            "default_shell": "/bin/bash",
        }),
        groups,
        system_bindings: json!({
            "directly_bound_systems": direct_count,
            "group_inherited_systems": inherited_count,
            "total_accessible_systems": systems.len(),
            "systems": system_list,
        }),
        application_access: json!({
            "total_applications": app_list.len(),
            "applications": app_list,
        }),
        custom_attributes: json!({
            "attributes_set": attributes.len(),
            "attributes": attributes,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_resolve_in_seed_order_once_each() {
        let out = resolve(ResolveIn {
            defaults: vec!["UG-All-Employees".into()],
            department_groups: [("engineering".to_owned(), vec!["UG-Engineering".to_owned()])]
                .into(),
            role_groups: [("Developer".to_owned(), vec!["UG-Developers".to_owned()])].into(),
            location_groups: [("Seattle".to_owned(), vec!["UG-Seattle-Office".to_owned()])].into(),
            department: Some("Engineering".into()),
            job_title: Some("Software Developer".into()),
            office_location: Some("Seattle".into()),
            user_groups: vec!["UG-Engineering".into()],
            additional_groups: vec!["UG-Project-Phoenix".into()],
            skip_group_defaults: false,
        })
        .unwrap();
        let got: Vec<(&str, &str)> = out
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.source.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("UG-All-Employees", "default"),
                ("UG-Engineering", "department"),
                ("UG-Developers", "role"),
                ("UG-Seattle-Office", "location"),
                ("UG-Project-Phoenix", "additional"),
            ]
        );
        let skipped = resolve(ResolveIn {
            defaults: vec!["UG-All-Employees".into()],
            skip_group_defaults: true,
            ..Default::default()
        })
        .unwrap();
        assert!(skipped.groups.is_empty());
    }

    #[test]
    fn validation_uses_seed_codes() {
        let ok = || ValidateIn {
            first_name: "John".into(),
            last_name: "Smith".into(),
            email: "john.smith@company.com".into(),
            username: "john.smith".into(),
            department: "Engineering".into(),
            manager_email: None,
            password: None,
            public_key: None,
            unix_uid: None,
            unix_guid: None,
        };
        assert!(validate(ok()).unwrap().valid);
        let code = |i: ValidateIn| validate(i).unwrap_err().code;
        assert_eq!(
            code(ValidateIn {
                username: "john smith".into(),
                ..ok()
            }),
            "INVALID_USERNAME_FORMAT"
        );
        assert_eq!(
            code(ValidateIn {
                email: "nobody".into(),
                ..ok()
            }),
            "INVALID_EMAIL"
        );
        assert_eq!(
            code(ValidateIn {
                password: Some("short".into()),
                ..ok()
            }),
            "PASSWORD_POLICY_VIOLATION"
        );
        assert_eq!(
            code(ValidateIn {
                public_key: Some("ssh-rsa nope".into()),
                ..ok()
            }),
            "SSH_KEY_INVALID"
        );
        assert_eq!(
            code(ValidateIn {
                first_name: " ".into(),
                ..ok()
            }),
            "INVALID_INPUT"
        );
        assert_eq!(
            code(ValidateIn {
                unix_uid: Some(5),
                ..ok()
            }),
            "INVALID_INPUT"
        );
    }
}
