//! Device (system) actions: list, get, bind a user, a user's devices, add a device to a
//! device group, bind a policy to a device or device group.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_plugin::PluginError;

use crate::api::{self, DeviceRef, GroupRef, UserRef, str_field};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIn {
    /// Operating system as JumpCloud names it (`Windows`, `Mac OS X`, `Ubuntu`, ...).
    #[serde(default)]
    pub os: Option<String>,
    /// `windows`, `darwin` or `linux`.
    #[serde(default)]
    pub os_family: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    /// More v1 filters, `field:$op:value`.
    #[serde(default)]
    pub filter: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListOut {
    pub devices: Vec<Value>,
    pub total: usize,
}

pub fn list(input: ListIn) -> Result<ListOut, PluginError> {
    let query = api::v1_filters(
        &input.filter,
        &[
            ("os", input.os.as_ref()),
            ("osFamily", input.os_family.as_ref()),
            ("hostname", input.hostname.as_ref()),
        ],
    );
    let (devices, total) = api::list_v1("/api/systems", &query, 10_000, "listing devices")?;
    Ok(ListOut { devices, total })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeviceOut {
    pub device: Value,
}

pub fn get(device: DeviceRef) -> Result<DeviceOut, PluginError> {
    Ok(DeviceOut {
        device: device.get()?,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BindIn {
    #[serde(flatten)]
    pub device: DeviceRef,
    #[serde(flatten)]
    pub user: UserRef,
    /// Administrator (sudo) rights on the device.
    #[serde(default)]
    pub sudo: bool,
    /// sudo without a password.
    #[serde(default)]
    pub without_password: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BindOut {
    pub system_id: String,
    pub system_name: String,
    pub user_id: String,
    pub sudo: bool,
    pub changed: bool,
}

pub fn bind_user(input: BindIn) -> Result<BindOut, PluginError> {
    let fail = |e: PluginError| {
        if e.retryable {
            e
        } else {
            PluginError::new("SYSTEM_BINDING_FAILED", e.message)
        }
    };
    let device = input.device.get().map_err(fail)?;
    let sid = str_field(&device, "_id");
    let uid = input.user.id()?;
    let attrs = json!({"sudo": {"enabled": input.sudo, "withoutPassword": input.sudo && input.without_password}});
    let path = format!("/api/v2/users/{uid}/associations");
    let r = api::send(
        "POST",
        &path,
        Some(&api::graph_op("add", "system", &sid, Some(attrs.clone()))),
    )?;
    let changed = if api::already_exists(&r) {
        // Bound already: make the sudo flag what was asked.
        api::write(
            "POST",
            &path,
            Some(&api::graph_op("update", "system", &sid, Some(attrs))),
            "updating the binding",
        )
        .map_err(fail)?;
        false
    } else if r.ok() {
        true
    } else {
        return Err(fail(api::error_for(&r, "binding the user to the device")));
    };
    Ok(BindOut {
        system_id: sid,
        system_name: str_field(&device, "displayName"),
        user_id: uid,
        sudo: input.sudo,
        changed,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserDevice {
    pub system_id: String,
    pub system_name: String,
    pub os: String,
    pub sudo: bool,
    /// `direct`, or the names of the groups the access comes through.
    pub access_via: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserDevicesOut {
    pub user_id: String,
    pub devices: Vec<UserDevice>,
}

pub fn user_devices(who: UserRef) -> Result<UserDevicesOut, PluginError> {
    let uid = who.id()?;
    let bound = api::bound_to_user(
        &uid,
        "systems",
        |sid| format!("/api/systems/{sid}"),
        ["listing the user's devices", "reading a device"],
    )?;
    let mut devices = Vec::new();
    for (s, d) in bound {
        let sid = str_field(&s, "id");
        let via = api::access_via(&s);
        devices.push(UserDevice {
            system_id: sid,
            system_name: str_field(&d, "displayName"),
            os: format!("{} {}", str_field(&d, "os"), str_field(&d, "version"))
                .trim()
                .to_owned(),
            sudo: s["compiledAttributes"]["sudo"]["enabled"] == json!(true),
            access_via: via,
        });
    }
    Ok(UserDevicesOut {
        user_id: uid,
        devices,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupAddIn {
    #[serde(flatten)]
    pub device: DeviceRef,
    #[serde(flatten)]
    pub group: GroupRef,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupAddOut {
    pub system_id: String,
    pub group_id: String,
    pub group_name: String,
    pub changed: bool,
}

pub fn group_add(input: GroupAddIn) -> Result<GroupAddOut, PluginError> {
    let device = input.device.get()?;
    let sid = str_field(&device, "_id");
    let group = input.group.get("systemgroups")?;
    let gid = str_field(&group, "id");
    let changed = api::add_edge(
        &format!("/api/v2/systemgroups/{gid}/members"),
        "system",
        &sid,
        "adding the device to the group",
    )?;
    Ok(GroupAddOut {
        system_id: sid,
        group_id: gid,
        group_name: str_field(&group, "name"),
        changed,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBindIn {
    /// The policy, by id or name.
    #[serde(default)]
    pub policy_id: Option<String>,
    #[serde(default)]
    pub policy_name: Option<String>,
    /// A device (`system_id` or `hostname`) ...
    #[serde(flatten)]
    pub device: DeviceRef,
    /// ... or a device group (`group_id` or `group_name`).
    #[serde(flatten)]
    pub group: GroupRef,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyBindOut {
    pub policy_id: String,
    pub policy_name: String,
    /// `system:<id>` or `system_group:<id>`.
    pub target: String,
    pub changed: bool,
}

pub fn policy_bind(input: PolicyBindIn) -> Result<PolicyBindOut, PluginError> {
    let policy = match (&input.policy_id, &input.policy_name) {
        (Some(id), _) => {
            api::check_id(id, "policy_id")?;
            api::get(&format!("/api/v2/policies/{id}"), &[], "reading the policy")?
        }
        (None, Some(name)) => {
            let filter = format!("name:eq:{name}");
            api::get(
                "/api/v2/policies",
                &[("filter", filter.as_str())],
                "finding the policy",
            )?
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .ok_or_else(|| PluginError::new("NOT_FOUND", format!("no policy named `{name}`")))?
        }
        (None, None) => {
            return Err(PluginError::invalid_input(
                "name the policy with policy_id or policy_name",
            ));
        }
    };
    let pid = str_field(&policy, "id");
    let device_given = input.device.system_id.is_some() || input.device.hostname.is_some();
    let group_given = input.group.group_id.is_some() || input.group.group_name.is_some();
    let (ty, tid) = match (device_given, group_given) {
        (true, false) => ("system", str_field(&input.device.get()?, "_id")),
        (false, true) => (
            "system_group",
            str_field(&input.group.get("systemgroups")?, "id"),
        ),
        _ => {
            return Err(PluginError::invalid_input(
                "bind to exactly one target: a device (system_id/hostname) or a device group (group_id/group_name)",
            ));
        }
    };
    let changed = api::add_edge(
        &format!("/api/v2/policies/{pid}/associations"),
        ty,
        &tid,
        "binding the policy",
    )?;
    Ok(PolicyBindOut {
        policy_id: pid,
        policy_name: str_field(&policy, "name"),
        target: format!("{ty}:{tid}"),
        changed,
    })
}
