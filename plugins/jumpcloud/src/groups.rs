//! Group actions: find, list, create, add and remove members, list members, a user's
//! groups.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_plugin::PluginError;

use crate::api::{self, GroupRef, UserRef, str_field};

/// `user` (user groups, the default) or `system` (device groups).
fn collection(kind: Option<&str>) -> Result<&'static str, PluginError> {
    match kind.unwrap_or("user") {
        "user" => Ok("usergroups"),
        "system" | "device" => Ok("systemgroups"),
        other => Err(PluginError::invalid_input(format!(
            "kind `{other}`: expected `user` or `system`"
        ))),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindIn {
    #[serde(flatten)]
    pub group: GroupRef,
    /// `user` (default) or `system`.
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FindOut {
    pub found: bool,
    pub group: Option<Value>,
}

pub fn find(input: FindIn) -> Result<FindOut, PluginError> {
    match input.group.get(collection(input.kind.as_deref())?) {
        Ok(g) => Ok(FindOut {
            found: true,
            group: Some(g),
        }),
        Err(e) if e.code == "GROUP_NOT_FOUND" => Ok(FindOut {
            found: false,
            group: None,
        }),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIn {
    /// v2 filters, `field:op:value` (`name:search:UG-`).
    #[serde(default)]
    pub filter: Vec<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListOut {
    pub groups: Vec<Value>,
}

pub fn list(input: ListIn) -> Result<ListOut, PluginError> {
    let query: Vec<(String, String)> = input
        .filter
        .iter()
        .map(|f| ("filter".to_owned(), f.clone()))
        .collect();
    let groups = api::list_v2(
        &format!("/api/v2/{}", collection(input.kind.as_deref())?),
        &query,
        10_000,
        "listing groups",
    )?;
    Ok(ListOut { groups })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIn {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// Return the existing group of that name instead of failing (default true).
    #[serde(default)]
    pub if_exists_return: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateOut {
    pub group: Value,
    pub created: bool,
}

pub fn create(input: CreateIn) -> Result<CreateOut, PluginError> {
    let coll = collection(input.kind.as_deref())?;
    let mut body = json!({"name": input.name});
    if let Some(d) = &input.description {
        body["description"] = json!(d);
    }
    let r = api::send("POST", &format!("/api/v2/{coll}"), Some(&body))?;
    if api::already_exists(&r) {
        if input.if_exists_return == Some(false) {
            return Err(PluginError::new(
                "GROUP_ALREADY_EXISTS",
                format!("a group named `{}` exists", input.name),
            ));
        }
        let group = GroupRef {
            group_name: Some(input.name),
            group_id: None,
        }
        .get(coll)?;
        return Ok(CreateOut {
            group,
            created: false,
        });
    }
    if !r.ok() {
        return Err(api::error_for(&r, "creating the group"));
    }
    Ok(CreateOut {
        group: r.json()?,
        created: true,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    #[serde(flatten)]
    pub group: GroupRef,
    #[serde(flatten)]
    pub user: UserRef,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberOut {
    pub group_id: String,
    pub group_name: String,
    pub user_id: String,
    /// Whether this call changed the membership (false: it already was as asked).
    pub changed: bool,
}

fn membership(input: MemberIn, op: &str) -> Result<MemberOut, PluginError> {
    let group = input.group.get("usergroups")?;
    let gid = str_field(&group, "id");
    let uid = input.user.id()?;
    let r = api::send(
        "POST",
        &format!("/api/v2/usergroups/{gid}/members"),
        Some(&api::graph_op(op, "user", &uid, None)),
    )?;
    let changed = if r.ok() {
        true
    } else if (op == "add" && api::already_exists(&r)) || (op == "remove" && r.status == 404) {
        false
    } else {
        let e = api::error_for(&r, &format!("{op} group member"));
        return Err(if e.retryable {
            e
        } else {
            PluginError::new("GROUP_MEMBERSHIP_FAILED", e.message)
                .with_details(json!({"group": str_field(&group, "name")}))
        });
    };
    Ok(MemberOut {
        group_id: gid,
        group_name: str_field(&group, "name"),
        user_id: uid,
        changed,
    })
}

pub fn add_member(input: MemberIn) -> Result<MemberOut, PluginError> {
    membership(input, "add")
}

pub fn remove_member(input: MemberIn) -> Result<MemberOut, PluginError> {
    membership(input, "remove")
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersIn {
    #[serde(flatten)]
    pub group: GroupRef,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Member {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub state: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MembersOut {
    pub group_id: String,
    pub group_name: String,
    pub members: Vec<Member>,
}

pub fn members(input: MembersIn) -> Result<MembersOut, PluginError> {
    let group = input.group.get("usergroups")?;
    let gid = str_field(&group, "id");
    let conns = api::list_v2(
        &format!("/api/v2/usergroups/{gid}/members"),
        &[],
        100_000,
        "listing members",
    )?;
    let mut members = Vec::new();
    for c in conns {
        let uid = str_field(&c["to"], "id");
        let u = api::get(
            &format!("/api/systemusers/{uid}"),
            &[("fields", "username email state")],
            "reading a member",
        )?;
        members.push(Member {
            user_id: uid,
            username: str_field(&u, "username"),
            email: str_field(&u, "email"),
            state: str_field(&u, "state"),
        });
    }
    Ok(MembersOut {
        group_id: gid,
        group_name: str_field(&group, "name"),
        members,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupSummary {
    pub group_id: String,
    pub group_name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserGroupsOut {
    pub user_id: String,
    pub groups: Vec<GroupSummary>,
}

pub fn user_groups(who: UserRef) -> Result<UserGroupsOut, PluginError> {
    let uid = who.id()?;
    let bound = api::bound_to_user(
        &uid,
        "memberof",
        |gid| format!("/api/v2/usergroups/{gid}"),
        ["listing the user's groups", "reading a group"],
    )?;
    let mut groups = Vec::new();
    for (g, group) in bound {
        let gid = str_field(&g, "id");
        groups.push(GroupSummary {
            group_id: gid,
            group_name: str_field(&group, "name"),
        });
    }
    groups.sort_by(|a, b| a.group_name.cmp(&b.group_name));
    Ok(UserGroupsOut {
        user_id: uid,
        groups,
    })
}

/// Whether the user is a member of the group (condition `user-in-group`).
pub fn user_in_group(input: MemberIn) -> Result<bool, PluginError> {
    let group = input.group.get("usergroups")?;
    let gid = str_field(&group, "id");
    let Some(user) = input.user.find()? else {
        return Ok(false);
    };
    let uid = str_field(&user, "_id");
    let filter = format!("id:eq:{gid}");
    let found = api::list_v2(
        &format!("/api/v2/users/{uid}/memberof"),
        &[("filter".into(), filter)],
        10_000,
        "listing the user's groups",
    )?;
    Ok(found.iter().any(|g| str_field(g, "id") == gid))
}
