//! The catalogue's logic against the JumpCloud simulator's directory in-process (no HTTP, no wasm):
//! the same handlers the simulator's server runs, so shapes and status codes are JumpCloud's.

use std::cell::RefCell;

use serde_json::{Value, json};
use sluice_jcsim::{Directory, Request, seed};
use sluice_plugin::PluginError;

use sluice_jumpcloud::api::{DeviceRef, GroupRef, Resp, Transport, UserRef};
use sluice_jumpcloud::*;

struct Local(RefCell<Directory>);

impl Local {
    fn new() -> Local {
        Local(RefCell::new(seed::default_directory()))
    }
}

impl Transport for Local {
    fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Resp, PluginError> {
        let req = Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_vec(),
            body: body.cloned(),
        };
        Ok(match self.0.borrow_mut().handle(&req) {
            Ok(r) => Resp {
                status: r.status,
                headers: r.headers,
                body: r.body.map(|b| b.to_string()).unwrap_or_default(),
            },
            Err(e) => Resp {
                status: e.status,
                headers: Vec::new(),
                body: e.body().to_string(),
            },
        })
    }
}

fn user(name: &str) -> UserRef {
    UserRef {
        username: Some(name.into()),
        ..Default::default()
    }
}

fn group(name: &str) -> GroupRef {
    GroupRef {
        group_name: Some(name.into()),
        group_id: None,
    }
}

fn create_john(jc: &Local) -> users::CreateOut {
    users::create(
        jc,
        serde_json::from_value(json!({
            "username": "john.smith", "email": "john.smith@acme.example",
            "firstname": "John", "lastname": "Smith", "department": "Engineering",
            "manager": "jane.doe", "unix_uid": 5042,
            "custom_attributes": {"costCenter": "ENG-200"}
        }))
        .unwrap(),
    )
    .unwrap()
}

#[test]
fn create_reads_back_every_attribute_and_refuses_duplicates() {
    let jc = Local::new();
    let out = create_john(&jc);
    assert!(out.password_generated && out.password_set);
    assert_eq!(out.user["unix_uid"], 5042);
    assert_eq!(out.user["unix_guid"], 5042);
    assert_eq!(out.user["attributes"][0]["value"], "ENG-200");
    assert_eq!(out.user["manager"].as_str().unwrap().len(), 24);
    assert!(out.user.get("password").is_none());
    let again = users::create(
        &jc,
        serde_json::from_value(json!({"username": "john.smith", "email": "x@acme.example"}))
            .unwrap(),
    )
    .unwrap_err();
    assert_eq!(again.code, "USER_ALREADY_EXISTS");
    let bad = |input: Value| {
        users::create(&jc, serde_json::from_value(input).unwrap())
            .unwrap_err()
            .code
    };
    assert_eq!(
        bad(json!({"username": "john smith", "email": "a@b.co"})),
        "INVALID_USERNAME_FORMAT"
    );
    assert_eq!(
        bad(json!({"username": "js", "email": "nope"})),
        "INVALID_EMAIL_FORMAT"
    );
    assert_eq!(
        bad(json!({"username": "js", "email": "a@b.co", "password": "short"})),
        "PASSWORD_POLICY_VIOLATION"
    );
}

#[test]
fn generated_passwords_meet_the_policy_and_differ() {
    let a = users::generate_password(16).unwrap();
    let b = users::generate_password(16).unwrap();
    assert_ne!(a, b);
    assert!(users::password_problem(&a).is_none(), "{a}");
    assert_eq!(users::generate_password(4).unwrap().len(), 12);
}

#[test]
fn lookups_state_changes_and_deactivation() {
    let jc = Local::new();
    create_john(&jc);
    assert!(!users::find(&jc, user("nobody")).unwrap().found);
    assert_eq!(
        users::get(&jc, user("nobody")).unwrap_err().code,
        "NOT_FOUND"
    );
    let by_email = UserRef {
        email: Some("john.smith@acme.example".into()),
        ..Default::default()
    };
    assert_eq!(
        users::get(&jc, by_email).unwrap().user["username"],
        "john.smith"
    );
    let listed = users::list(
        &jc,
        serde_json::from_value(json!({"department": "Engineering"})).unwrap(),
    )
    .unwrap();
    assert_eq!(listed.total, 2);
    // STAGED → activate with the email flag
    let r = users::reactivate(
        &jc,
        serde_json::from_value(json!({"username": "john.smith", "send_activation_email": false}))
            .unwrap(),
    )
    .unwrap();
    assert!(r.changed && !r.activation_email_sent && r.state == "ACTIVATED");
    assert!(users::suspend(&jc, user("john.smith")).unwrap().changed);
    assert!(!users::suspend(&jc, user("john.smith")).unwrap().changed);
    let r = users::reactivate(
        &jc,
        serde_json::from_value(json!({"username": "john.smith"})).unwrap(),
    )
    .unwrap();
    assert_eq!(r.state, "ACTIVATED");
    groups::add_member(
        &jc,
        groups::MemberIn {
            group: group("UG-Engineering"),
            user: user("john.smith"),
        },
    )
    .unwrap();
    devices::bind_user(
        &jc,
        devices::BindIn {
            device: DeviceRef {
                hostname: Some("SEA-WS-014".into()),
                system_id: None,
            },
            user: user("john.smith"),
            sudo: true,
            without_password: false,
        },
    )
    .unwrap();
    let d = users::deactivate(&jc, user("john.smith")).unwrap();
    assert_eq!(d.state, "SUSPENDED");
    assert_eq!(d.groups_removed, vec!["UG-Engineering"]);
    assert_eq!(d.bindings_removed.len(), 1);
    assert!(
        devices::user_devices(&jc, user("john.smith"))
            .unwrap()
            .devices
            .is_empty()
    );
}

#[test]
fn credentials_mfa_keys_and_attributes() {
    let jc = Local::new();
    create_john(&jc);
    let mfa = users::reset_mfa(
        &jc,
        serde_json::from_value(json!({"username": "john.smith", "exclusion_days": 7})).unwrap(),
    )
    .unwrap();
    assert_eq!(mfa.mfa["exclusion"], true);
    assert!(mfa.mfa["exclusionUntil"].is_string());
    for mode in ["expire", "generate"] {
        let out = users::reset_password(
            &jc,
            serde_json::from_value(json!({"username": "john.smith", "mode": mode})).unwrap(),
        )
        .unwrap();
        assert!(out.done.starts_with("password_"));
    }
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx3 john@laptop";
    let input = |k: &str| {
        serde_json::from_value(json!({"username": "john.smith", "name": "laptop", "public_key": k}))
            .unwrap()
    };
    assert!(users::add_ssh_key(&jc, input(key)).unwrap().added);
    assert!(!users::add_ssh_key(&jc, input(key)).unwrap().added);
    assert_eq!(
        users::add_ssh_key(&jc, input("ssh-dss AAAA"))
            .unwrap_err()
            .code,
        "SSH_KEY_INVALID"
    );
    let attrs = users::set_attributes(
        &jc,
        serde_json::from_value(json!({"username": "john.smith", "attributes": {"badge": "42"}}))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(attrs.attributes.len(), 2);
    assert!(users::unlock(&jc, user("john.smith")).is_ok());
    let upd = users::update(
        &jc,
        serde_json::from_value(
            json!({"username": "john.smith", "set": {"jobTitle": "Staff Engineer"}}),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(upd.user["jobTitle"], "Staff Engineer");
    let pw = users::update(
        &jc,
        serde_json::from_value(json!({"username": "john.smith", "set": {"password": "x"}}))
            .unwrap(),
    );
    assert_eq!(pw.unwrap_err().code, "INVALID_INPUT");
    // jane.doe manages john.smith: deleting her needs the cascade
    let del = |cascade: bool| {
        users::delete(
            &jc,
            serde_json::from_value(json!({"username": "jane.doe", "cascade_manager": cascade}))
                .unwrap(),
        )
    };
    assert_eq!(del(false).unwrap_err().code, "CONFLICT");
    assert!(del(true).unwrap().deleted);
}

#[test]
fn groups_membership_and_conditions() {
    let jc = Local::new();
    create_john(&jc);
    let member = |g: &str| groups::MemberIn {
        group: group(g),
        user: user("john.smith"),
    };
    assert!(!groups::user_in_group(&jc, member("UG-Developers")).unwrap());
    assert!(
        groups::add_member(&jc, member("UG-Developers"))
            .unwrap()
            .changed
    );
    assert!(
        !groups::add_member(&jc, member("UG-Developers"))
            .unwrap()
            .changed
    );
    assert!(groups::user_in_group(&jc, member("UG-Developers")).unwrap());
    assert_eq!(
        groups::add_member(&jc, member("UG-Nope")).unwrap_err().code,
        "GROUP_NOT_FOUND"
    );
    let members = groups::members(
        &jc,
        groups::MembersIn {
            group: group("UG-Developers"),
        },
    )
    .unwrap();
    assert_eq!(members.members[0].username, "john.smith");
    let ug = groups::user_groups(&jc, user("john.smith")).unwrap();
    assert_eq!(ug.groups.len(), 1);
    assert!(
        groups::remove_member(&jc, member("UG-Developers"))
            .unwrap()
            .changed
    );
    assert!(
        !groups::remove_member(&jc, member("UG-Developers"))
            .unwrap()
            .changed
    );
    let created = groups::create(
        &jc,
        serde_json::from_value(json!({"name": "UG-New"})).unwrap(),
    )
    .unwrap();
    assert!(created.created);
    assert!(
        !groups::create(
            &jc,
            serde_json::from_value(json!({"name": "UG-New"})).unwrap()
        )
        .unwrap()
        .created
    );
    assert!(
        groups::find(
            &jc,
            serde_json::from_value(json!({"group_name": "UG-New"})).unwrap()
        )
        .unwrap()
        .found
    );
    let sgs = groups::list(
        &jc,
        serde_json::from_value(json!({"kind": "system"})).unwrap(),
    )
    .unwrap();
    assert_eq!(sgs.groups.len(), 5);
    assert!(conditions::user_exists(&jc, user("john.smith")).unwrap());
    assert!(!conditions::user_exists(&jc, user("ghost")).unwrap());
}

#[test]
fn devices_policies_and_applications() {
    let jc = Local::new();
    create_john(&jc);
    let linux = devices::list(
        &jc,
        serde_json::from_value(json!({"os_family": "linux"})).unwrap(),
    )
    .unwrap();
    assert_eq!(linux.total, 10);
    let dev = |h: &str| DeviceRef {
        hostname: Some(h.into()),
        system_id: None,
    };
    assert_eq!(
        devices::get(&jc, dev("nope")).unwrap_err().code,
        "NOT_FOUND"
    );
    let add = devices::group_add(
        &jc,
        devices::GroupAddIn {
            device: dev("SEA-WS-014"),
            group: group("SG-Mac-Laptops"),
        },
    )
    .unwrap();
    assert!(add.changed);
    let bound = devices::policy_bind(
        &jc,
        serde_json::from_value(
            json!({"policy_name": "macOS - Screensaver Lock", "group_name": "SG-Mac-Laptops"}),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(bound.changed && bound.target.starts_with("system_group:"));
    let both = devices::policy_bind(
        &jc,
        serde_json::from_value(json!({"policy_name": "macOS - FileVault", "group_name": "SG-Mac-Laptops", "hostname": "AUS-MBP-007"}))
            .unwrap(),
    );
    assert_eq!(both.unwrap_err().code, "INVALID_INPUT");
    groups::add_member(
        &jc,
        groups::MemberIn {
            group: group("UG-Engineering"),
            user: user("john.smith"),
        },
    )
    .unwrap();
    let d = devices::user_devices(&jc, user("john.smith")).unwrap();
    assert_eq!(d.devices.len(), 3);
    assert_eq!(d.devices[0].access_via, vec!["UG-Engineering"]);
    let apps = apps::user_apps(&jc, user("john.smith")).unwrap();
    let names: Vec<_> = apps
        .applications
        .iter()
        .map(|a| a.application_name.as_str())
        .collect();
    assert_eq!(names, ["AWS Console", "GitHub", "Jira"]);
    let b = apps::bind_group(
        &jc,
        serde_json::from_value(
            json!({"application_name": "Slack", "group_name": "UG-Engineering"}),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(b.changed);
    assert_eq!(
        apps::list(&jc, serde_json::from_value(json!({})).unwrap())
            .unwrap()
            .total,
        13
    );
}

#[test]
fn insights_admins_and_the_generic_call() {
    let jc = Local::new();
    create_john(&jc);
    users::suspend(&jc, user("john.smith")).unwrap();
    let last = insights::last_event(
        &jc,
        serde_json::from_value(json!({"username": "john.smith"})).unwrap(),
    )
    .unwrap();
    assert_eq!(last.event.unwrap()["event_type"], "user_suspended");
    let q = insights::query(
        &jc,
        serde_json::from_value(json!({"event_types": ["user_create"]})).unwrap(),
    )
    .unwrap();
    assert_eq!(q.count, 1);
    let admins = admin::admins(&jc, admin::AdminsIn {}).unwrap();
    assert_eq!(admins.administrators.len(), 3);
    assert!(admins.administrators.iter().any(|a| a.role == "Help Desk"));
    let out = admin::call(
        &jc,
        serde_json::from_value(json!({"method": "get", "path": "/api/systemusers", "query": {"filter": ["username:$eq:john.smith"], "limit": 1}}))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out.body["totalCount"], 1);
    let err = admin::call(
        &jc,
        serde_json::from_value(
            json!({"method": "GET", "path": "/api/systemusers/000000000000000000000000"}),
        )
        .unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.code, "NOT_FOUND");
}

#[test]
fn every_plugin_has_a_manifest_with_scopes() {
    use sluice_plugin::{action_manifest, condition_manifest};
    let m = action_manifest::<UserCreate>("user-create", "0.1.0");
    // `systems` too: its `sudo` flags give sudo on the user's devices.
    assert_eq!(m.permissions, ["jumpcloud:users", "jumpcloud:systems"]);
    assert!(
        m.input_schema["required"]
            .as_array()
            .unwrap()
            .contains(&json!("username"))
    );
    let c = condition_manifest::<UserInGroup>("user-in-group", "0.1.0");
    assert_eq!(c.permissions.len(), 2);
}

/// `components!` declares the plugins; each has the cargo feature that builds it alone, and
/// no feature names a plugin that is not declared.
#[test]
fn every_plugin_has_its_feature_and_every_feature_a_plugin() {
    let manifest = include_str!("../Cargo.toml");
    let features: Vec<&str> = manifest
        .lines()
        .filter(|l| l.contains("= [\"sluice-plugin/"))
        .map(|l| l.split('=').next().unwrap_or_default().trim())
        .collect();
    assert_eq!(features, PLUGINS);
    assert_eq!(PLUGINS.len(), 43);
}

#[test]
fn an_unknown_manager_fails_or_is_left_out_with_a_warning() {
    let jc = Local::new();
    let input = |skip: bool, name: &str| {
        serde_json::from_value(json!({
            "username": name, "email": format!("{name}@acme.example"),
            "manager": "nobody@acme.example", "skip_unknown_manager": skip
        }))
        .unwrap()
    };
    let err = users::create(&jc, input(false, "ann.lee")).unwrap_err();
    assert_eq!(err.code, "NOT_FOUND");
    assert!(!users::find(&jc, user("ann.lee")).unwrap().found);
    let out = users::create(&jc, input(true, "ann.lee")).unwrap();
    assert!(out.user["manager"].is_null(), "{:#}", out.user);
    assert_eq!(
        out.warnings,
        [
            "manager `nobody@acme.example` is not a JumpCloud user: the account was created without a manager"
        ]
    );
    // A manager who exists is set, with no warning.
    let known = users::create(
        &jc,
        serde_json::from_value(json!({"username": "bo.li", "email": "bo.li@acme.example",
            "manager": "jane.doe", "skip_unknown_manager": true}))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(known.user["manager"].as_str().unwrap().len(), 24);
    assert!(known.warnings.is_empty());
}
