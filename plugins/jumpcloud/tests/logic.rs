//! The catalogue's plugins and logic on the SDK's test host (`sluice_plugin::testing`):
//! JumpCloud calls answered by the JumpCloud simulator in process (no HTTP, no wasm), the same
//! handlers `sluice sandbox` serves, so shapes and status codes are JumpCloud's; permissions
//! checked as the host checks them.

use serde_json::{Value, json};
use sluice_plugin::testing::TestHost;
use sluice_plugin::testing::sluice_jcsim::scopes::SCOPES;

use sluice_jumpcloud::api::{DeviceRef, GroupRef, UserRef};
use sluice_jumpcloud::*;

/// A test host over the simulator's default organisation granting every JumpCloud scope,
/// for tests calling the logic directly (the plugins' own grants are tested through
/// `host.action::<Plugin>`, which grants what each declares).
fn catalogue_host() -> TestHost {
    TestHost::new()
        .name("catalogue")
        .grants(SCOPES.iter().map(|s| format!("jumpcloud:{s}")))
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

fn create_john() -> users::CreateOut {
    users::create(
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
fn a_repeated_create_takes_its_own_earlier_account_and_nothing_else() {
    let jc = catalogue_host();
    let _serving = jc.enter();
    create_john();
    let step = |attempt| sluice_plugin::Step {
        run_id: "r1".into(),
        workflow: "provision".into(),
        step_id: "user_creation".into(),
        attempt,
    };
    let again = |attempt, email: &str| {
        users::create_step(
            &step(attempt),
            serde_json::from_value(json!({"username": "john.smith", "email": email})).unwrap(),
        )
    };
    // A first attempt meeting the account: a real duplicate.
    let first = again(1, "john.smith@acme.example").unwrap_err();
    assert_eq!(first.code, "USER_ALREADY_EXISTS");
    // A repeated attempt (a retry, or a run resumed on another node) meeting the account
    // it created: taken as created, said in a warning.
    let taken = again(2, "John.Smith@acme.example").unwrap();
    assert_eq!(taken.user["username"], "john.smith");
    assert!(!taken.password_set && !taken.password_generated);
    assert!(
        taken.warnings[0].contains("earlier attempt"),
        "{:?}",
        taken.warnings
    );
    // Another person's account under that username is still a duplicate.
    let other = again(3, "someone.else@acme.example").unwrap_err();
    assert_eq!(other.code, "USER_ALREADY_EXISTS");
}

#[test]
fn create_reads_back_every_attribute_and_refuses_duplicates() {
    let jc = catalogue_host();
    let _serving = jc.enter();
    let out = create_john();
    assert!(out.password_generated && out.password_set);
    assert_eq!(out.user["unix_uid"], 5042);
    assert_eq!(out.user["unix_guid"], 5042);
    assert_eq!(out.user["attributes"][0]["value"], "ENG-200");
    assert_eq!(out.user["manager"].as_str().unwrap().len(), 24);
    assert!(out.user.get("password").is_none());
    let again = users::create(
        serde_json::from_value(json!({"username": "john.smith", "email": "x@acme.example"}))
            .unwrap(),
    )
    .unwrap_err();
    assert_eq!(again.code, "USER_ALREADY_EXISTS");
    let bad = |input: Value| {
        users::create(serde_json::from_value(input).unwrap())
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
    let jc = catalogue_host();
    let _serving = jc.enter();
    create_john();
    assert!(!users::find(user("nobody")).unwrap().found);
    assert_eq!(users::get(user("nobody")).unwrap_err().code, "NOT_FOUND");
    let by_email = UserRef {
        email: Some("john.smith@acme.example".into()),
        ..Default::default()
    };
    assert_eq!(users::get(by_email).unwrap().user["username"], "john.smith");
    let listed =
        users::list(serde_json::from_value(json!({"department": "Engineering"})).unwrap()).unwrap();
    assert_eq!(listed.total, 2);
    // STAGED → activate with the email flag
    let r = users::reactivate(
        serde_json::from_value(json!({"username": "john.smith", "send_activation_email": false}))
            .unwrap(),
    )
    .unwrap();
    assert!(r.changed && !r.activation_email_sent && r.state == "ACTIVATED");
    assert!(users::suspend(user("john.smith")).unwrap().changed);
    assert!(!users::suspend(user("john.smith")).unwrap().changed);
    let r = users::reactivate(serde_json::from_value(json!({"username": "john.smith"})).unwrap())
        .unwrap();
    assert_eq!(r.state, "ACTIVATED");
    groups::add_member(groups::MemberIn {
        group: group("UG-Engineering"),
        user: user("john.smith"),
    })
    .unwrap();
    devices::bind_user(devices::BindIn {
        device: DeviceRef {
            hostname: Some("SEA-WS-014".into()),
            system_id: None,
        },
        user: user("john.smith"),
        sudo: true,
        without_password: false,
    })
    .unwrap();
    let d = users::deactivate(user("john.smith")).unwrap();
    assert_eq!(d.state, "SUSPENDED");
    assert_eq!(d.groups_removed, vec!["UG-Engineering"]);
    assert_eq!(d.bindings_removed.len(), 1);
    assert!(
        devices::user_devices(user("john.smith"))
            .unwrap()
            .devices
            .is_empty()
    );
}

#[test]
fn credentials_mfa_keys_and_attributes() {
    let jc = catalogue_host();
    let _serving = jc.enter();
    create_john();
    let mfa = users::reset_mfa(
        serde_json::from_value(json!({"username": "john.smith", "exclusion_days": 7})).unwrap(),
    )
    .unwrap();
    assert_eq!(mfa.mfa["exclusion"], true);
    assert!(mfa.mfa["exclusionUntil"].is_string());
    for mode in ["expire", "generate"] {
        let out = users::reset_password(
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
    assert!(users::add_ssh_key(input(key)).unwrap().added);
    assert!(!users::add_ssh_key(input(key)).unwrap().added);
    assert_eq!(
        users::add_ssh_key(input("ssh-dss AAAA")).unwrap_err().code,
        "SSH_KEY_INVALID"
    );
    let attrs = users::set_attributes(
        serde_json::from_value(json!({"username": "john.smith", "attributes": {"badge": "42"}}))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(attrs.attributes.len(), 2);
    assert!(users::unlock(user("john.smith")).is_ok());
    let upd = users::update(
        serde_json::from_value(
            json!({"username": "john.smith", "set": {"jobTitle": "Staff Engineer"}}),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(upd.user["jobTitle"], "Staff Engineer");
    let pw = users::update(
        serde_json::from_value(json!({"username": "john.smith", "set": {"password": "x"}}))
            .unwrap(),
    );
    assert_eq!(pw.unwrap_err().code, "INVALID_INPUT");
    // jane.doe manages john.smith: deleting her needs the cascade
    let del = |cascade: bool| {
        users::delete(
            serde_json::from_value(json!({"username": "jane.doe", "cascade_manager": cascade}))
                .unwrap(),
        )
    };
    assert_eq!(del(false).unwrap_err().code, "CONFLICT");
    assert!(del(true).unwrap().deleted);
}

#[test]
fn groups_membership_and_conditions() {
    let jc = catalogue_host();
    let _serving = jc.enter();
    create_john();
    let member = |g: &str| groups::MemberIn {
        group: group(g),
        user: user("john.smith"),
    };
    assert!(!groups::user_in_group(member("UG-Developers")).unwrap());
    assert!(groups::add_member(member("UG-Developers")).unwrap().changed);
    assert!(!groups::add_member(member("UG-Developers")).unwrap().changed);
    assert!(groups::user_in_group(member("UG-Developers")).unwrap());
    assert_eq!(
        groups::add_member(member("UG-Nope")).unwrap_err().code,
        "GROUP_NOT_FOUND"
    );
    let members = groups::members(groups::MembersIn {
        group: group("UG-Developers"),
    })
    .unwrap();
    assert_eq!(members.members[0].username, "john.smith");
    let ug = groups::user_groups(user("john.smith")).unwrap();
    assert_eq!(ug.groups.len(), 1);
    assert!(
        groups::remove_member(member("UG-Developers"))
            .unwrap()
            .changed
    );
    assert!(
        !groups::remove_member(member("UG-Developers"))
            .unwrap()
            .changed
    );
    let created =
        groups::create(serde_json::from_value(json!({"name": "UG-New"})).unwrap()).unwrap();
    assert!(created.created);
    assert!(
        !groups::create(serde_json::from_value(json!({"name": "UG-New"})).unwrap())
            .unwrap()
            .created
    );
    assert!(
        groups::find(serde_json::from_value(json!({"group_name": "UG-New"})).unwrap())
            .unwrap()
            .found
    );
    let sgs = groups::list(serde_json::from_value(json!({"kind": "system"})).unwrap()).unwrap();
    assert_eq!(sgs.groups.len(), 5);
    assert!(conditions::user_exists(user("john.smith")).unwrap());
    assert!(!conditions::user_exists(user("ghost")).unwrap());
}

#[test]
fn devices_policies_and_applications() {
    let jc = catalogue_host();
    let _serving = jc.enter();
    create_john();
    let linux =
        devices::list(serde_json::from_value(json!({"os_family": "linux"})).unwrap()).unwrap();
    assert_eq!(linux.total, 10);
    let dev = |h: &str| DeviceRef {
        hostname: Some(h.into()),
        system_id: None,
    };
    assert_eq!(devices::get(dev("nope")).unwrap_err().code, "NOT_FOUND");
    let add = devices::group_add(devices::GroupAddIn {
        device: dev("SEA-WS-014"),
        group: group("SG-Mac-Laptops"),
    })
    .unwrap();
    assert!(add.changed);
    let bound = devices::policy_bind(
        serde_json::from_value(
            json!({"policy_name": "macOS - Screensaver Lock", "group_name": "SG-Mac-Laptops"}),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(bound.changed && bound.target.starts_with("system_group:"));
    let both = devices::policy_bind(
        serde_json::from_value(json!({"policy_name": "macOS - FileVault", "group_name": "SG-Mac-Laptops", "hostname": "AUS-MBP-007"}))
            .unwrap(),
    );
    assert_eq!(both.unwrap_err().code, "INVALID_INPUT");
    groups::add_member(groups::MemberIn {
        group: group("UG-Engineering"),
        user: user("john.smith"),
    })
    .unwrap();
    let d = devices::user_devices(user("john.smith")).unwrap();
    assert_eq!(d.devices.len(), 3);
    assert_eq!(d.devices[0].access_via, vec!["UG-Engineering"]);
    let apps = apps::user_apps(user("john.smith")).unwrap();
    let names: Vec<_> = apps
        .applications
        .iter()
        .map(|a| a.application_name.as_str())
        .collect();
    assert_eq!(names, ["AWS Console", "GitHub", "Jira"]);
    let b = apps::bind_group(
        serde_json::from_value(
            json!({"application_name": "Slack", "group_name": "UG-Engineering"}),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(b.changed);
    assert_eq!(
        apps::list(serde_json::from_value(json!({})).unwrap())
            .unwrap()
            .total,
        13
    );
}

#[test]
fn insights_admins_and_the_generic_call() {
    let jc = catalogue_host();
    let _serving = jc.enter();
    create_john();
    users::suspend(user("john.smith")).unwrap();
    let last =
        insights::last_event(serde_json::from_value(json!({"username": "john.smith"})).unwrap())
            .unwrap();
    assert_eq!(last.event.unwrap()["event_type"], "user_suspended");
    let q =
        insights::query(serde_json::from_value(json!({"event_types": ["user_create"]})).unwrap())
            .unwrap();
    assert_eq!(q.count, 1);
    let admins = admin::admins(admin::AdminsIn {}).unwrap();
    assert_eq!(admins.administrators.len(), 3);
    assert!(admins.administrators.iter().any(|a| a.role == "Help Desk"));
    let out = admin::call(
        serde_json::from_value(json!({"method": "get", "path": "/api/systemusers", "query": {"filter": ["username:$eq:john.smith"], "limit": 1}}))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out.body["totalCount"], 1);
    let err = admin::call(
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
/// no feature names a plugin that is not declared (`pack` builds them all as one).
#[test]
fn every_plugin_has_its_feature_and_every_feature_a_plugin() {
    let manifest = include_str!("../Cargo.toml");
    let features: Vec<&str> = manifest
        .lines()
        .filter(|l| l.contains("= [\"sluice-plugin/"))
        .map(|l| l.split('=').next().unwrap_or_default().trim())
        .filter(|f| *f != "pack")
        .collect();
    assert_eq!(features, PLUGINS);
    assert_eq!(PLUGINS.len(), 43);
}

#[test]
fn an_unknown_manager_fails_or_is_left_out_with_a_warning() {
    let jc = catalogue_host();
    let _serving = jc.enter();
    let input = |skip: bool, name: &str| {
        serde_json::from_value(json!({
            "username": name, "email": format!("{name}@acme.example"),
            "manager": "nobody@acme.example", "skip_unknown_manager": skip
        }))
        .unwrap()
    };
    let err = users::create(input(false, "ann.lee")).unwrap_err();
    assert_eq!(err.code, "NOT_FOUND");
    assert!(!users::find(user("ann.lee")).unwrap().found);
    let out = users::create(input(true, "ann.lee")).unwrap();
    assert!(out.user["manager"].is_null(), "{:#}", out.user);
    assert_eq!(
        out.warnings,
        [
            "manager `nobody@acme.example` is not a JumpCloud user: the account was created without a manager"
        ]
    );
    // A manager who exists is set, with no warning.
    let known = users::create(
        serde_json::from_value(json!({"username": "bo.li", "email": "bo.li@acme.example",
            "manager": "jane.doe", "skip_unknown_manager": true}))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(known.user["manager"].as_str().unwrap().len(), 24);
    assert!(known.warnings.is_empty());
}

/// The plugins themselves, as the host runs them: each with exactly the permissions it
/// declares, so a plugin whose logic calls beyond its manifest fails here.
#[test]
fn plugins_run_with_the_permissions_they_declare() {
    let host = TestHost::new();
    let created = host
        .action::<UserCreate>(json!({
            "username": "john.smith", "email": "john.smith@acme.example",
            "firstname": "John", "lastname": "Smith", "manager": "jane.doe"
        }))
        .unwrap();
    assert!(created.password_generated);
    let member = json!({"username": "john.smith", "group_name": "UG-Engineering"});
    assert!(!host.condition::<UserInGroup>(member.clone()).unwrap());
    assert!(
        host.action::<GroupAddMember>(member.clone())
            .unwrap()
            .changed
    );
    assert!(host.condition::<UserInGroup>(member).unwrap());
    let suspended = host
        .action::<UserSuspend>(json!({"username": "john.smith"}))
        .unwrap();
    assert_eq!(
        (suspended.state.as_str(), suspended.changed),
        ("SUSPENDED", true)
    );
    let report = host
        .action_json::<UserAccessReport>(json!({"user_id": created.user["_id"]}))
        .unwrap();
    assert_eq!(report["user_info"]["username"], "john.smith", "{report:#}");
    assert!(
        report["groups"].to_string().contains("UG-Engineering"),
        "{report:#}"
    );
    assert!(
        host.calls().iter().all(|c| c.error.is_none()),
        "{:?}",
        host.calls()
    );
}

/// A plugin granted less than it needs is refused before JumpCloud is reached, with the
/// host's code and message; the directory is unchanged.
#[test]
fn a_plugin_granted_less_than_it_needs_is_refused() {
    let host = TestHost::new().grants(["jumpcloud:users.readonly"]);
    let err = host
        .action::<UserSuspend>(json!({"username": "jane.doe"}))
        .unwrap_err();
    assert_eq!(err.code, "PERMISSION_DENIED");
    assert!(
        err.message
            .starts_with("plugin `user-suspend` called PUT /api/systemusers/")
            && err.message.contains("it was not granted jumpcloud:users"),
        "{}",
        err.message
    );
    let calls: Vec<String> = host.calls().iter().map(|c| c.to_string()).collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[1].ends_with("PERMISSION_DENIED"), "{calls:?}");
    let jane = host
        .action::<UserGet>(json!({"username": "jane.doe"}))
        .unwrap();
    assert_eq!(jane.user["state"], "ACTIVATED");
}

/// Injected faults reach the plugin as JumpCloud's statuses, mapped to the catalogue's codes.
#[test]
fn injected_faults_map_to_the_catalogues_retryable_codes() {
    let host = TestHost::new().faults("503=1").unwrap();
    let err = host
        .action::<UserGet>(json!({"username": "jane.doe"}))
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.retryable),
        ("JUMPCLOUD_UNAVAILABLE", true)
    );
    let host = TestHost::new().faults("429=1").unwrap();
    let err = host
        .action::<UserFind>(json!({"username": "jane.doe"}))
        .unwrap_err();
    assert_eq!((err.code.as_str(), err.retryable), ("API_RATE_LIMIT", true));
}
