//! User actions: get, find, list, create, update, delete, suspend, reactivate, deactivate,
//! unlock, reset password, reset MFA, add an SSH key, set custom attributes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sluice_jcsim::rules;
use sluice_plugin::{PluginError, Step};

use crate::api::{self, UserRef, str_field};

/// A user as actions return it: JumpCloud's systemuser object (it never holds a password).
pub type User = Value;

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserOut {
    pub user: User,
}

pub fn get(who: UserRef) -> Result<UserOut, PluginError> {
    Ok(UserOut { user: who.get()? })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FindOut {
    pub found: bool,
    pub user: Option<User>,
}

/// Like [`get`], but "no such user" is an answer, not an error.
pub fn find(who: UserRef) -> Result<FindOut, PluginError> {
    let user = who.find()?;
    Ok(FindOut {
        found: user.is_some(),
        user,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIn {
    /// v1 filters, `field:$op:value` (`department:$eq:Sales`), all of which must hold.
    #[serde(default)]
    pub filter: Vec<String>,
    #[serde(default)]
    pub department: Option<String>,
    /// `ACTIVATED`, `STAGED` or `SUSPENDED`.
    #[serde(default)]
    pub state: Option<String>,
    /// Space-separated fields to return (all when empty).
    #[serde(default)]
    pub fields: Option<String>,
    /// At most this many users (default 1000).
    #[serde(default)]
    pub max: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListOut {
    pub users: Vec<User>,
    pub total: usize,
}

pub fn list(input: ListIn) -> Result<ListOut, PluginError> {
    let mut query = api::v1_filters(
        &input.filter,
        &[
            ("department", input.department.as_ref()),
            ("state", input.state.as_ref()),
        ],
    );
    if let Some(f) = &input.fields {
        query.push(("fields".into(), f.clone()));
    }
    let (users, total) = api::list_v1(
        "/api/systemusers",
        &query,
        input.max.unwrap_or(1000),
        "listing users",
    )?;
    Ok(ListOut { users, total })
}

/// JumpCloud's username rule ([`rules::valid_username`], as the simulator enforces it).
pub fn username_problem(u: &str) -> Option<String> {
    (!rules::valid_username(u)).then(|| {
        format!(
            "username `{u}` is invalid: use letters, digits, `.`, `-` and `_`, starting with a letter or digit"
        )
    })
}

pub fn email_problem(e: &str) -> Option<String> {
    (!rules::valid_email(e)).then(|| format!("email `{e}` is not a valid address"))
}

/// The password policy ([`rules::password_violations`]): 8+ characters with upper, lower,
/// digit and special characters.
pub fn password_problem(pw: &str) -> Option<String> {
    let missing: Vec<&str> = rules::password_violations(pw)
        .into_iter()
        .map(rules::PasswordRule::needs)
        .collect();
    (!missing.is_empty()).then(|| format!("the password needs {}", missing.join(", ")))
}

/// A random password that satisfies [`password_problem`]: `len` characters (at least 12)
/// with every class present. Never logged or returned.
pub fn generate_password(len: usize) -> Result<String, PluginError> {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SPECIAL: &[u8] = b"!#$%&*+-=?@^_~";
    let len = len.clamp(12, 128);
    let mut random = vec![0u8; len * 2];
    getrandom::fill(&mut random)
        .map_err(|e| PluginError::new("RANDOM_UNAVAILABLE", format!("no randomness: {e}")))?;
    let all: Vec<u8> = [UPPER, LOWER, DIGIT, SPECIAL].concat();
    let mut pw: Vec<u8> = (0..len)
        .map(|i| {
            let class: &[u8] = match i {
                0 => UPPER,
                1 => LOWER,
                2 => DIGIT,
                3 => SPECIAL,
                _ => &all,
            };
            class[random[i] as usize % class.len()]
        })
        .collect();
    // Shuffle so the classes are not in fixed positions (Fisher–Yates).
    for i in (1..len).rev() {
        let j = random[len + i] as usize % (i + 1);
        pw.swap(i, j);
    }
    String::from_utf8(pw).map_err(|e| PluginError::new("INTERNAL_ERROR", e.to_string()))
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIn {
    pub username: String,
    pub email: String,
    #[serde(default)]
    pub firstname: Option<String>,
    #[serde(default)]
    pub lastname: Option<String>,
    #[serde(default)]
    pub middlename: Option<String>,
    #[serde(default)]
    pub displayname: Option<String>,
    #[serde(default)]
    pub alternate_email: Option<String>,
    /// The initial password; when absent one is generated if `generate_password` is true
    /// (the default). It is never logged or returned, and run records show it redacted.
    #[serde(default)]
    #[schemars(extend("writeOnly" = true))]
    pub password: Option<String>,
    #[serde(default = "yes")]
    pub generate_password: bool,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub cost_center: Option<String>,
    #[serde(default)]
    pub employee_type: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub employee_id: Option<String>,
    /// The manager, by JumpCloud id, username or email.
    #[serde(default)]
    pub manager: Option<String>,
    /// When `manager` names no JumpCloud user, create the account without a manager and
    /// say so in `warnings`, instead of failing with `NOT_FOUND` (e.g. when the address is
    /// only there to be notified).
    #[serde(default)]
    pub skip_unknown_manager: bool,
    /// Unix uid and gid; JumpCloud assigns them when absent.
    #[serde(default)]
    pub unix_uid: Option<u64>,
    #[serde(default)]
    pub unix_gid: Option<u64>,
    #[serde(default)]
    pub sudo: bool,
    #[serde(default)]
    pub passwordless_sudo: bool,
    #[serde(default)]
    pub password_never_expires: bool,
    #[serde(default)]
    pub allow_public_key: Option<bool>,
    #[serde(default)]
    pub ldap_binding_user: bool,
    #[serde(default)]
    pub enable_user_portal_multifactor: bool,
    /// `STAGED` (activate later, with an email) or `ACTIVATED`; default: the org's default.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Custom attributes, name → value.
    #[serde(default)]
    pub custom_attributes: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateOut {
    pub user: User,
    /// Whether the password was generated (it is not returned).
    pub password_generated: bool,
    pub password_set: bool,
    /// What was asked for but not done, for people (an unknown manager left out).
    pub warnings: Vec<String>,
}

/// Resolves a manager given by id, username or email to an id; `None` when no user matches
/// (a failed lookup is an error, so an outage is never taken for "no such user").
fn manager_id(m: &str) -> Result<Option<String>, PluginError> {
    let r = if m.len() == 24 && m.bytes().all(|b| b.is_ascii_hexdigit()) {
        UserRef {
            user_id: Some(m.to_owned()),
            ..Default::default()
        }
    } else if m.contains('@') {
        UserRef {
            email: Some(m.to_owned()),
            ..Default::default()
        }
    } else {
        UserRef {
            username: Some(m.to_owned()),
            ..Default::default()
        }
    };
    Ok(r.find()?.map(|u| str_field(&u, "_id")))
}

fn attributes_list(map: &BTreeMap<String, String>) -> Value {
    Value::Array(
        map.iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect(),
    )
}

/// [`create`] as a step: on a repeated attempt (a retry, or a resumed run whose earlier
/// execution may have sent the create before it stopped), an "already exists" answer for
/// the same username and email is this step's own earlier effect, and the account is taken
/// as created, with a warning, rather than failing the run.
pub fn create_step(step: &Step, input: CreateIn) -> Result<CreateOut, PluginError> {
    let (username, email) = (input.username.clone(), input.email.clone());
    match create(input) {
        Err(e) if e.code == "USER_ALREADY_EXISTS" && step.attempt > 1 => {
            let who = UserRef {
                username: Some(username.clone()),
                ..UserRef::default()
            };
            match who.find()? {
                Some(user) if str_field(&user, "email").eq_ignore_ascii_case(&email) => {
                    Ok(CreateOut {
                        user,
                        password_generated: false,
                        password_set: false,
                        warnings: vec![format!(
                            "`{username}` already existed with this email: an earlier attempt \
                             of this step created it (attempt {} of the step)",
                            step.attempt
                        )],
                    })
                }
                _ => Err(e),
            }
        }
        other => other,
    }
}

pub fn create(input: CreateIn) -> Result<CreateOut, PluginError> {
    if let Some(p) = username_problem(&input.username) {
        return Err(PluginError::new("INVALID_USERNAME_FORMAT", p));
    }
    if let Some(p) = email_problem(&input.email) {
        return Err(PluginError::new("INVALID_EMAIL_FORMAT", p));
    }
    let (password, generated) = match input.password {
        Some(p) => {
            if let Some(problem) = password_problem(&p) {
                return Err(PluginError::new("PASSWORD_POLICY_VIOLATION", problem));
            }
            (Some(p), false)
        }
        None if input.generate_password => (Some(generate_password(16)?), true),
        None => (None, false),
    };
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            body.insert(k.to_owned(), v);
        }
    };
    put("username", json!(input.username));
    put("email", json!(input.email));
    put("firstname", json!(input.firstname));
    put("lastname", json!(input.lastname));
    put("middlename", json!(input.middlename));
    put("displayname", json!(input.displayname));
    put("alternateEmail", json!(input.alternate_email));
    put("department", json!(input.department));
    put("jobTitle", json!(input.job_title));
    put("company", json!(input.company));
    put("costCenter", json!(input.cost_center));
    put("employeeType", json!(input.employee_type));
    put("location", json!(input.location));
    put("description", json!(input.description));
    put("employeeIdentifier", json!(input.employee_id));
    put("unix_uid", json!(input.unix_uid));
    put("unix_guid", json!(input.unix_gid.or(input.unix_uid)));
    put("sudo", json!(input.sudo));
    put("passwordless_sudo", json!(input.passwordless_sudo));
    put(
        "password_never_expires",
        json!(input.password_never_expires),
    );
    put("allow_public_key", json!(input.allow_public_key));
    put("ldap_binding_user", json!(input.ldap_binding_user));
    put(
        "enable_user_portal_multifactor",
        json!(input.enable_user_portal_multifactor),
    );
    put("state", json!(input.state));
    if let Some(p) = &input.phone_number {
        put("phoneNumbers", json!([{"type": "work", "number": p}]));
    }
    if !input.custom_attributes.is_empty() {
        put("attributes", attributes_list(&input.custom_attributes));
    }
    let mut warnings = Vec::new();
    if let Some(m) = input.manager.as_deref().filter(|m| !m.trim().is_empty()) {
        match manager_id(m)? {
            Some(id) => put("manager", json!(id)),
            None if input.skip_unknown_manager => warnings.push(format!(
                "manager `{m}` is not a JumpCloud user: the account was created without a manager"
            )),
            None => {
                return Err(PluginError::new(
                    "NOT_FOUND",
                    format!("manager `{m}` is not a JumpCloud user"),
                ));
            }
        }
    }
    let password_set = password.is_some();
    if let Some(p) = password {
        body.insert("password".into(), json!(p));
    }
    let r = api::call(
        "POST",
        "/api/systemusers",
        &[("fullValidationDetails".into(), "password".into())],
        Some(&Value::Object(body)),
    )?;
    if r.status == 400 && r.message().contains("already exists") {
        return Err(PluginError::new(
            "USER_ALREADY_EXISTS",
            format!("a JumpCloud user already exists: {}", r.message()),
        ));
    }
    if !r.ok() {
        return Err(api::error_for(&r, "creating the user"));
    }
    Ok(CreateOut {
        user: r.json()?,
        password_generated: generated,
        password_set,
        warnings,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIn {
    #[serde(flatten)]
    pub user: UserRef,
    /// Fields to change, with JumpCloud's names (`department`, `jobTitle`, `location`, ...).
    pub set: Map<String, Value>,
}

pub fn update(input: UpdateIn) -> Result<UserOut, PluginError> {
    if input.set.contains_key("password") {
        return Err(PluginError::invalid_input(
            "passwords are changed with `user-reset-password`, never through `set`",
        ));
    }
    if input.set.is_empty() {
        return Err(PluginError::invalid_input("`set` names no field to change"));
    }
    let id = input.user.id()?;
    let user = api::write(
        "PUT",
        &format!("/api/systemusers/{id}"),
        Some(&Value::Object(input.set)),
        "updating the user",
    )?;
    Ok(UserOut { user })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteIn {
    #[serde(flatten)]
    pub user: UserRef,
    /// Clear the manager of the user's direct reports instead of refusing.
    #[serde(default)]
    pub cascade_manager: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeleteOut {
    pub deleted: bool,
    pub user_id: String,
    pub username: String,
}

pub fn delete(input: DeleteIn) -> Result<DeleteOut, PluginError> {
    let user = input.user.get()?;
    let id = str_field(&user, "_id");
    let query = if input.cascade_manager {
        vec![("cascade_manager".to_owned(), "null".to_owned())]
    } else {
        Vec::new()
    };
    let r = api::call("DELETE", &format!("/api/systemusers/{id}"), &query, None)?;
    if !r.ok() {
        return Err(api::error_for(&r, "deleting the user"));
    }
    Ok(DeleteOut {
        deleted: true,
        user_id: id,
        username: str_field(&user, "username"),
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StateOut {
    pub user_id: String,
    pub username: String,
    /// The state read back from JumpCloud.
    pub state: String,
    /// Whether this call changed it.
    pub changed: bool,
}

fn set_state(who: &UserRef, state: &str) -> Result<StateOut, PluginError> {
    let user = who.get()?;
    let id = str_field(&user, "_id");
    if str_field(&user, "state") == state {
        return Ok(StateOut {
            user_id: id,
            username: str_field(&user, "username"),
            state: state.to_owned(),
            changed: false,
        });
    }
    let after = api::write(
        "PUT",
        &format!("/api/systemusers/{id}"),
        Some(&json!({"state": state})),
        "changing the user's state",
    )?;
    Ok(StateOut {
        user_id: id,
        username: str_field(&after, "username"),
        state: str_field(&after, "state"),
        changed: true,
    })
}

pub fn suspend(who: UserRef) -> Result<StateOut, PluginError> {
    set_state(&who, "SUSPENDED")
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactivateIn {
    #[serde(flatten)]
    pub user: UserRef,
    /// For a STAGED user: send JumpCloud's activation/welcome email (default true), or send
    /// it to this address instead.
    #[serde(default)]
    pub send_activation_email: Option<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReactivateOut {
    pub user_id: String,
    pub username: String,
    pub state: String,
    pub changed: bool,
    pub activation_email_sent: bool,
}

/// Activates a STAGED user (`state/activate`, with the email flag) or unsuspends a
/// SUSPENDED one (`PUT state=ACTIVATED`).
pub fn reactivate(input: ReactivateIn) -> Result<ReactivateOut, PluginError> {
    let user = input.user.get()?;
    let id = str_field(&user, "_id");
    let username = str_field(&user, "username");
    match str_field(&user, "state").as_str() {
        "STAGED" => {
            let email = match input.send_activation_email {
                None => Value::Bool(true),
                Some(v @ (Value::Bool(_) | Value::String(_))) => v,
                Some(_) => {
                    return Err(PluginError::invalid_input(
                        "send_activation_email: true, false or an email address",
                    ));
                }
            };
            let sent = email != Value::Bool(false);
            api::write(
                "POST",
                &format!("/api/systemusers/{id}/state/activate"),
                Some(&json!({"email": email})),
                "activating the user",
            )?;
            Ok(ReactivateOut {
                user_id: id,
                username,
                state: "ACTIVATED".into(),
                changed: true,
                activation_email_sent: sent,
            })
        }
        _ => {
            let s = set_state(&input.user, "ACTIVATED")?;
            Ok(ReactivateOut {
                user_id: s.user_id,
                username: s.username,
                state: s.state,
                changed: s.changed,
                activation_email_sent: false,
            })
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeactivateOut {
    pub user_id: String,
    pub username: String,
    pub state: String,
    /// Names of the user groups the user was removed from.
    pub groups_removed: Vec<String>,
    /// Direct bindings removed, as `type:id`.
    pub bindings_removed: Vec<String>,
}

/// JumpCloud has no "deactivate": suspend, then remove every group membership and every
/// direct binding, so nothing is inherited when the user is unsuspended.
pub fn deactivate(who: UserRef) -> Result<DeactivateOut, PluginError> {
    let state = set_state(&who, "SUSPENDED")?;
    let id = state.user_id.clone();
    let groups = api::list_v2(
        &format!("/api/v2/users/{id}/memberof"),
        &[],
        10_000,
        "listing the user's groups",
    )?;
    let mut groups_removed = Vec::new();
    for g in groups {
        let gid = str_field(&g, "id");
        let r = api::send(
            "POST",
            &format!("/api/v2/usergroups/{gid}/members"),
            Some(&api::graph_op("remove", "user", &id, None)),
        )?;
        if !r.ok() && r.status != 404 {
            // A rate limit or an outage stays retryable: a retry lists what is left.
            let e = api::error_for(&r, "removing the user from a group");
            return Err(if e.retryable {
                e
            } else {
                PluginError::new("GROUP_MEMBERSHIP_FAILED", e.message)
            });
        }
        groups_removed.push(api::group_name(&gid));
    }
    let mut bindings_removed = Vec::new();
    for target in ["system", "system_group", "application"] {
        let conns = api::list_v2(
            &format!("/api/v2/users/{id}/associations"),
            &[("targets".into(), target.into())],
            10_000,
            "listing the user's bindings",
        )?;
        for c in conns {
            let tid = str_field(&c["to"], "id");
            api::write(
                "POST",
                &format!("/api/v2/users/{id}/associations"),
                Some(&api::graph_op("remove", target, &tid, None)),
                "removing a binding",
            )?;
            bindings_removed.push(format!("{target}:{tid}"));
        }
    }
    Ok(DeactivateOut {
        user_id: id,
        username: state.username,
        state: state.state,
        groups_removed,
        bindings_removed,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DoneOut {
    pub user_id: String,
    pub username: String,
    pub done: String,
}

pub fn unlock(who: UserRef) -> Result<DoneOut, PluginError> {
    let user = who.get()?;
    let id = str_field(&user, "_id");
    api::write(
        "POST",
        &format!("/api/systemusers/{id}/unlock"),
        None,
        "unlocking the user",
    )?;
    Ok(DoneOut {
        user_id: id,
        username: str_field(&user, "username"),
        done: "unlocked".into(),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordIn {
    #[serde(flatten)]
    pub user: UserRef,
    /// `generate` (set a new random, policy-compliant password, never returned) or
    /// `expire` (make the user choose a new one at next login). Default `expire`.
    #[serde(default)]
    pub mode: Option<String>,
}

pub fn reset_password(input: ResetPasswordIn) -> Result<DoneOut, PluginError> {
    let user = input.user.get()?;
    let id = str_field(&user, "_id");
    let done = match input.mode.as_deref().unwrap_or("expire") {
        "expire" => {
            api::write(
                "POST",
                &format!("/api/systemusers/{id}/expire"),
                None,
                "expiring the password",
            )?;
            "password_expired"
        }
        "generate" => {
            let pw = generate_password(16)?;
            api::write(
                "PUT",
                &format!("/api/systemusers/{id}"),
                Some(&json!({"password": pw})),
                "setting the password",
            )?;
            "password_set"
        }
        other => {
            return Err(PluginError::invalid_input(format!(
                "mode `{other}`: expected `generate` or `expire`"
            )));
        }
    };
    Ok(DoneOut {
        user_id: id,
        username: str_field(&user, "username"),
        done: done.into(),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetMfaIn {
    #[serde(flatten)]
    pub user: UserRef,
    /// Days the user may log in without MFA while enrolling (0 = no exclusion). Default 7.
    #[serde(default)]
    pub exclusion_days: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MfaOut {
    pub user_id: String,
    pub username: String,
    /// The user's `mfa` object read back: `configured`, `exclusion`, `exclusionUntil`.
    pub mfa: Value,
}

pub fn reset_mfa(input: ResetMfaIn) -> Result<MfaOut, PluginError> {
    let user = input.user.get()?;
    let id = str_field(&user, "_id");
    let days = input.exclusion_days.unwrap_or(7);
    let body = if days == 0 {
        json!({"exclusion": false})
    } else {
        json!({"exclusion": true, "exclusionDays": days})
    };
    let r = api::send(
        "POST",
        &format!("/api/systemusers/{id}/resetmfa"),
        Some(&body),
    )?;
    if !r.ok() {
        let e = api::error_for(&r, "resetting MFA");
        return Err(if e.retryable {
            e
        } else {
            PluginError::new("MFA_CONFIGURATION_FAILED", e.message)
        });
    }
    let after = api::get(
        &format!("/api/systemusers/{id}"),
        &[],
        "reading the user back",
    )?;
    Ok(MfaOut {
        user_id: id,
        username: str_field(&after, "username"),
        mfa: after["mfa"].clone(),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshKeyIn {
    #[serde(flatten)]
    pub user: UserRef,
    /// A label for the key.
    pub name: String,
    /// The OpenSSH public key (`ssh-ed25519 AAAA... comment`).
    pub public_key: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SshKeyOut {
    pub user_id: String,
    pub key_id: String,
    pub name: String,
    pub added: bool,
}

/// Whether `key` looks like an OpenSSH public key ([`rules::ssh_key_problem`]).
pub fn ssh_key_problem(key: &str) -> Option<String> {
    rules::ssh_key_problem(key).map(|problem| match problem {
        rules::SshKeyProblem::UnknownType => format!(
            "unsupported key type `{}` (ssh-ed25519, ssh-rsa or ecdsa-sha2-*)",
            key.split_whitespace().next().unwrap_or_default()
        ),
        rules::SshKeyProblem::NotBase64 => "the key's body is not base64".into(),
    })
}

pub fn add_ssh_key(input: SshKeyIn) -> Result<SshKeyOut, PluginError> {
    if let Some(p) = ssh_key_problem(&input.public_key) {
        return Err(PluginError::new("SSH_KEY_INVALID", p));
    }
    let id = input.user.id()?;
    let r = api::send(
        "POST",
        &format!("/api/systemusers/{id}/sshkeys"),
        Some(&json!({"name": input.name, "public_key": input.public_key.trim()})),
    )?;
    if api::already_exists(&r) {
        let keys = api::get(
            &format!("/api/systemusers/{id}/sshkeys"),
            &[],
            "listing keys",
        )?;
        let existing = keys
            .as_array()
            .and_then(|ks| {
                ks.iter()
                    .find(|k| k["public_key"].as_str() == Some(input.public_key.trim()))
            })
            .cloned()
            .unwrap_or_default();
        return Ok(SshKeyOut {
            user_id: id,
            key_id: str_field(&existing, "_id"),
            name: str_field(&existing, "name"),
            added: false,
        });
    }
    if r.status == 400 {
        return Err(PluginError::new("SSH_KEY_INVALID", r.message()));
    }
    if !r.ok() {
        return Err(api::error_for(&r, "adding the SSH key"));
    }
    let key = r.json()?;
    Ok(SshKeyOut {
        user_id: id,
        key_id: str_field(&key, "_id"),
        name: str_field(&key, "name"),
        added: true,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributesIn {
    #[serde(flatten)]
    pub user: UserRef,
    /// Custom attributes to set, name → value.
    pub attributes: BTreeMap<String, String>,
    /// Drop the user's other custom attributes (default: keep them).
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AttributesOut {
    pub user_id: String,
    /// The user's custom attributes read back, name → value.
    pub attributes: BTreeMap<String, String>,
}

pub fn set_attributes(input: AttributesIn) -> Result<AttributesOut, PluginError> {
    let user = input.user.get()?;
    let id = str_field(&user, "_id");
    let mut merged: BTreeMap<String, String> = if input.replace {
        BTreeMap::new()
    } else {
        user["attributes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| (str_field(x, "name"), str_field(x, "value")))
                    .collect()
            })
            .unwrap_or_default()
    };
    merged.extend(input.attributes);
    let after = api::write(
        "PUT",
        &format!("/api/systemusers/{id}"),
        Some(&json!({"attributes": attributes_list(&merged)})),
        "setting custom attributes",
    )?;
    let attributes = after["attributes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| (str_field(x, "name"), str_field(x, "value")))
                .collect()
        })
        .unwrap_or_default();
    Ok(AttributesOut {
        user_id: id,
        attributes,
    })
}
