//! Every JumpCloud catalogue plugin, as the component the runtime embeds, called through
//! the plugin host and the real JumpCloud client over loopback HTTP to the sandbox: the
//! path a workflow step takes, with no mocked layer.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use sluice::broker::Unconfigured;
use sluice::broker::jumpcloud::{ApiKey, JumpCloudClient, JumpCloudConfig};
use sluice::broker::permissions::Role;
use sluice::host::registry::BUNDLED;
use sluice::host::{CallOutcome, Limits, LoadedPlugin, PluginHost, Services};
use sluice_jcsim::{Faults, RunningSimulator, Simulator, seed};
use sluice_tests::ctx;

const KEY: &str = "sk-test-7f3c9a1e5b2d4f60a8c1e9b7d3f5a2c4";

struct Rig {
    host: PluginHost,
    simulator: RunningSimulator,
    plugins: Vec<LoadedPlugin>,
}

impl Rig {
    async fn new() -> Rig {
        let simulator = Arc::new(
            Simulator::new(seed::default_directory(), KEY, Faults::default(), None).unwrap(),
        )
        .spawn(([127, 0, 0, 1], 0).into())
        .unwrap();
        let mut cfg = JumpCloudConfig::new(ApiKey::new(KEY), &simulator.url());
        cfg.rate_per_second = 0.0;
        let services = Services {
            jumpcloud: Arc::new(JumpCloudClient::new(cfg).unwrap()),
            http: Arc::new(Unconfigured),
            state: sluice::store::temporary().unwrap(),
        };
        let host = PluginHost::new(sluice_tests::cached_config(), services).unwrap();
        let mut plugins = Vec::new();
        for (file, bytes) in BUNDLED {
            plugins.extend(host.load(file, bytes).await.unwrap().plugins);
        }
        Rig {
            host,
            simulator,
            plugins,
        }
    }

    fn plugin(&self, name: &str) -> &LoadedPlugin {
        self.plugins
            .iter()
            .find(|p| p.manifest.name == name)
            .unwrap_or_else(|| panic!("no bundled plugin {name}"))
    }

    async fn call_as(&self, name: &str, input: Value, role: Option<Role>) -> CallOutcome {
        let p = self.plugin(name);
        let grants: Vec<&str> = p.manifest.permissions.iter().map(String::as_str).collect();
        self.host
            .call(p, &ctx(&grants, role, Limits::DEFAULT), &input.to_string())
            .await
    }

    async fn ok(&self, name: &str, input: Value) -> (Value, CallOutcome) {
        let out = self.call_as(name, input, Some(Role::Administrator)).await;
        let v = out
            .result
            .clone()
            .unwrap_or_else(|e| panic!("{name} failed: {e:?}"));
        (v, out)
    }

    fn users(&self) -> usize {
        self.simulator.simulator.with_directory(|d| d.users.len())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalogue_plugin_works_against_the_sandbox_over_http() {
    let rig = Rig::new().await;
    let mut tested = BTreeSet::new();
    let mut outcomes = Vec::new();
    macro_rules! run {
        ($name:literal, $input:expr) => {{
            let (v, out) = rig.ok($name, $input).await;
            tested.insert($name);
            outcomes.push(serde_json::to_string(&out).unwrap());
            v
        }};
    }
    let john = json!({"username": "john.smith"});
    let created = run!(
        "user-create",
        json!({
            "username": "john.smith", "email": "john.smith@acme.example", "firstname": "John",
            "lastname": "Smith", "department": "Engineering", "job_title": "Software Engineer",
            "manager": "jane.doe", "custom_attributes": {"costCenter": "ENG-200"}
        })
    );
    assert!(created["password_generated"].as_bool().unwrap());
    let id = created["user"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);
    assert_eq!(
        run!("user-get", json!({"user_id": id}))["user"]["username"],
        "john.smith"
    );
    assert_eq!(
        run!("user-find", json!({"email": "nobody@acme.example"}))["found"],
        false
    );
    assert_eq!(
        run!("user-list", json!({"department": "Engineering"}))["total"],
        2
    );
    assert_eq!(
        run!(
            "user-update",
            json!({"username": "john.smith", "set": {"location": "Seattle"}})
        )["user"]["location"],
        "Seattle"
    );
    assert_eq!(
        run!(
            "user-set-attributes",
            json!({"username": "john.smith", "attributes": {"badge": "7"}})
        )["attributes"]["badge"],
        "7"
    );
    assert_eq!(
        run!(
            "user-add-ssh-key",
            json!({"username": "john.smith", "name": "laptop",
            "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx3 john@laptop"})
        )["added"],
        true
    );
    assert_eq!(
        run!(
            "user-reset-mfa",
            json!({"username": "john.smith", "exclusion_days": 7})
        )["mfa"]["exclusion"],
        true
    );
    assert_eq!(
        run!(
            "user-reset-password",
            json!({"username": "john.smith", "mode": "generate"})
        )["done"],
        "password_set"
    );
    assert_eq!(
        run!(
            "group-add-member",
            json!({"group_name": "UG-Developers", "username": "john.smith"})
        )["changed"],
        true
    );
    assert_eq!(
        run!("user-groups", john.clone())["groups"][0]["group_name"],
        "UG-Developers"
    );
    assert_eq!(
        run!("group-members", json!({"group_name": "UG-Developers"}))["members"][0]["username"],
        "john.smith"
    );
    assert_eq!(
        run!(
            "user-in-group",
            json!({"group_name": "UG-Developers", "username": "john.smith"})
        ),
        json!(true)
    );
    assert_eq!(
        run!("user-exists", json!({"username": "ghost"})),
        json!(false)
    );
    assert_eq!(
        run!("device-list", json!({"os_family": "windows"}))["total"],
        2
    );
    let dev = run!("device-get", json!({"hostname": "SEA-WS-014"}));
    assert_eq!(dev["device"]["os"], "Windows");
    assert_eq!(
        run!(
            "device-bind-user",
            json!({"hostname": "SEA-WS-014", "username": "john.smith", "sudo": true})
        )["changed"],
        true
    );
    let devices = run!("user-devices", john.clone());
    assert_eq!(devices["devices"].as_array().unwrap().len(), 6);
    assert_eq!(
        run!(
            "device-group-add",
            json!({"hostname": "SEA-WS-015", "group_name": "SG-Mac-Laptops"})
        )["changed"],
        true
    );
    assert_eq!(
        run!(
            "policy-bind",
            json!({"policy_name": "Linux - Lock Screen", "hostname": "ci-runner-01"})
        )["changed"],
        true
    );
    assert_eq!(run!("app-list", json!({}))["total"], 13);
    let apps = run!("user-apps", john.clone());
    assert_eq!(apps["applications"].as_array().unwrap().len(), 2);
    assert_eq!(
        run!(
            "app-bind-group",
            json!({"application_name": "Jira", "group_name": "UG-Developers"})
        )["changed"],
        true
    );
    assert_eq!(
        run!("admin-list", json!({}))["administrators"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let events = run!(
        "events-query",
        json!({"event_types": ["association_change"]})
    );
    assert!(events["count"].as_u64().unwrap() >= 4);
    assert_eq!(
        run!("user-last-event", json!({"username": "john.smith"}))["found"],
        true
    );
    assert_eq!(
        run!(
            "jumpcloud-api",
            json!({"method": "GET", "path": "/api/v2/usergroups", "query": {"filter": "name:eq:UG-Sales"}})
        )["body"][0]["name"],
        "UG-Sales"
    );
    assert_eq!(
        run!("group-find", json!({"group_name": "UG-Nope"}))["found"],
        false
    );
    assert_eq!(
        run!("group-list", json!({"filter": ["name:search:Office"]}))["groups"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        run!("group-create", json!({"name": "UG-Interns"}))["created"],
        true
    );
    assert_eq!(
        run!(
            "group-remove-member",
            json!({"group_name": "UG-Developers", "username": "john.smith"})
        )["changed"],
        true
    );
    // The new-user provisioning steps.
    assert_eq!(
        run!(
            "user-check-unique",
            json!({"username": "nobody.new", "email": "nobody.new@acme.example"})
        )["unique"],
        true
    );
    let verified = run!(
        "groups-verify",
        json!({"groups": [{"name": "UG-Seattle-Office", "source": "location"},
                          {"name": "UG-Nope", "source": "additional"}]})
    );
    assert_eq!(verified["not_found"][0]["name"], "UG-Nope");
    let assigned = run!(
        "user-groups-assign",
        json!({"user_id": id, "groups": verified["found"].clone()})
    );
    assert_eq!(assigned["groups_assigned"], 1);
    assert_eq!(
        run!("user-ldap-bind", json!({"user_id": id}))["server_name"],
        "JumpCloud LDAP"
    );
    let report = run!("user-access-report", json!({"user_id": id}));
    assert_eq!(report["user_info"]["username"], "john.smith");
    assert!(
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["group_name"] == "UG-Seattle-Office"
                && g["inherited_access"]["radius_servers"] == 1)
    );
    assert_eq!(run!("user-suspend", john.clone())["state"], "SUSPENDED");
    assert_eq!(run!("user-reactivate", john.clone())["state"], "ACTIVATED");
    assert_eq!(run!("user-unlock", john.clone())["done"], "unlocked");
    let d = run!("user-deactivate", john.clone());
    assert_eq!(d["state"], "SUSPENDED");
    assert_eq!(d["bindings_removed"].as_array().unwrap().len(), 1);
    assert_eq!(run!("user-delete", john.clone())["deleted"], true);

    // Every catalogue plugin has been through this test.
    let catalogue: BTreeSet<&str> = rig
        .plugins
        .iter()
        .filter(|p| {
            p.manifest
                .permissions
                .iter()
                .any(|s| s.starts_with("jumpcloud:"))
        })
        .map(|p| p.manifest.name.as_str())
        .collect();
    let untested: Vec<_> = catalogue.difference(&tested).collect();
    assert!(
        untested.is_empty(),
        "catalogue plugins without a test: {untested:?}"
    );
    // The key is the host's: no output, log or call record holds it.
    for o in &outcomes {
        assert!(
            !o.contains(KEY),
            "the API key leaked into a step record: {o}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_seed_codes_and_roles_stop_calls_in_the_host() {
    let rig = Rig::new().await;
    let before = rig.users();
    let denied = rig
        .call_as(
            "user-create",
            json!({"username": "eve", "email": "eve@acme.example"}),
            Some(Role::ReadOnly),
        )
        .await;
    let e = denied.result.unwrap_err();
    assert_eq!(e.code, "PERMISSION_DENIED");
    assert!(e.message.contains("Read Only"), "{}", e.message);
    assert_eq!(
        rig.users(),
        before,
        "a refused call never reached the directory"
    );
    for (plugin, input, code) in [
        (
            "user-create",
            json!({"username": "jane.doe", "email": "j2@acme.example"}),
            "USER_ALREADY_EXISTS",
        ),
        (
            "user-create",
            json!({"username": "bad name", "email": "b@acme.example"}),
            "INVALID_USERNAME_FORMAT",
        ),
        (
            "user-create",
            json!({"username": "pw", "email": "pw@acme.example", "password": "weak"}),
            "PASSWORD_POLICY_VIOLATION",
        ),
        (
            "group-add-member",
            json!({"group_name": "UG-Missing", "username": "jane.doe"}),
            "GROUP_NOT_FOUND",
        ),
        (
            "user-add-ssh-key",
            json!({"username": "jane.doe", "name": "k", "public_key": "not-a-key"}),
            "SSH_KEY_INVALID",
        ),
        (
            "device-bind-user",
            json!({"hostname": "no-such-host", "username": "jane.doe"}),
            "SYSTEM_BINDING_FAILED",
        ),
        (
            "user-get",
            json!({"user_id": "../../admin"}),
            "INVALID_INPUT",
        ),
        ("user-get", json!({"username": "ghost"}), "NOT_FOUND"),
    ] {
        let out = rig.call_as(plugin, input, Some(Role::Administrator)).await;
        assert_eq!(out.result.unwrap_err().code, code, "{plugin}");
    }
    // A wrong key: AUTHENTICATION_FAILED from the plugin, the key never echoed.
    let mut cfg = JumpCloudConfig::new(ApiKey::new("wrong-key"), &rig.simulator.url());
    cfg.rate_per_second = 0.0;
    let host = PluginHost::new(
        sluice_tests::cached_config(),
        Services {
            jumpcloud: Arc::new(JumpCloudClient::new(cfg).unwrap()),
            http: Arc::new(Unconfigured),
            state: sluice::store::temporary().unwrap(),
        },
    )
    .unwrap();
    let p = rig.plugin("user-get");
    let loaded = host
        .load("jumpcloud.wasm", p_bytes("jumpcloud"))
        .await
        .unwrap()
        .plugin("user-get")
        .cloned()
        .unwrap();
    let grants: Vec<&str> = p.manifest.permissions.iter().map(String::as_str).collect();
    let out = host
        .call(
            &loaded,
            &ctx(&grants, None, Limits::DEFAULT),
            r#"{"username":"jane.doe"}"#,
        )
        .await;
    assert_eq!(out.result.unwrap_err().code, "AUTHENTICATION_FAILED");
}

fn p_bytes(name: &str) -> &'static [u8] {
    BUNDLED
        .iter()
        .find(|(f, _)| *f == format!("{name}.wasm"))
        .map(|(_, b)| *b)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_retries_faults_and_reports_attempts() {
    let simulator = Arc::new(
        Simulator::new(
            seed::default_directory(),
            KEY,
            Faults::parse("429=0.3,503=0.2,retry-after=0,seed=1").unwrap(),
            None,
        )
        .unwrap(),
    )
    .spawn(([127, 0, 0, 1], 0).into())
    .unwrap();
    let mut cfg = JumpCloudConfig::new(ApiKey::new(KEY), &simulator.url());
    cfg.rate_per_second = 0.0;
    cfg.retry.attempts = 12;
    cfg.retry.base = std::time::Duration::from_millis(1);
    let client = JumpCloudClient::new(cfg).unwrap();
    use sluice::broker::{JumpCloudBroker, JumpCloudRequest};
    let mut retried = 0;
    for _ in 0..40 {
        let r = client
            .call(JumpCloudRequest {
                method: "GET".into(),
                path: "/api/systemusers".into(),
                query: vec![("limit".into(), "1".into())],
                body: None,
            })
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        retried += usize::from(r.attempts > 1);
    }
    assert!(
        retried > 5,
        "with half the answers faulted, retries happen ({retried})"
    );
}

/// The catalogue's plugins that link objects declare both ends, so they work with what
/// they declare (the test above) and nothing less, and validation names a role that
/// covers both ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_plugins_declare_both_ends_and_help_desk_cannot_bind_devices() {
    use sluice::role::RoleBook;
    use sluice::workflow::validate::narrowest_role;
    let rig = Rig::new().await;
    let edges = || rig.simulator.simulator.with_directory(|d| d.edges.clone());
    let before = edges();
    let bind = json!({"hostname": "SEA-WS-015", "username": "jane.doe", "sudo": true});
    // Help Desk manages users, not devices.
    let out = rig
        .call_as("device-bind-user", bind.clone(), Some(Role::HelpDesk))
        .await;
    let e = out.result.unwrap_err();
    assert_eq!(e.code, "PERMISSION_DENIED");
    assert!(
        e.message.contains("jumpcloud:systems") && e.message.contains("Help Desk"),
        "{}",
        e.message
    );
    // What device-bind-user used to declare (`users`, `systems.readonly`) cannot bind.
    let out = rig
        .host
        .call(
            rig.plugin("device-bind-user"),
            &ctx(
                &["jumpcloud:users", "jumpcloud:systems.readonly"],
                Some(Role::Administrator),
                Limits::DEFAULT,
            ),
            &bind.to_string(),
        )
        .await;
    assert_eq!(out.result.unwrap_err().code, "PERMISSION_DENIED");
    assert!(edges() == before, "nothing was bound");
    // The narrowest role for a workflow using each plugin.
    for (name, role) in [
        ("device-bind-user", Role::Manager),
        ("device-group-add", Role::Manager),
        ("policy-bind", Role::Manager),
        ("app-bind-group", Role::Manager),
        ("group-add-member", Role::Manager),
        ("user-deactivate", Role::Manager),
        ("user-create", Role::Manager),
        ("user-ldap-bind", Role::Administrator),
        ("user-suspend", Role::HelpDesk),
        ("user-reset-mfa", Role::HelpDesk),
        ("user-devices", Role::ReadOnly),
        ("user-access-report", Role::ReadOnly),
    ] {
        let scopes: Vec<&str> = rig
            .plugin(name)
            .manifest
            .permissions
            .iter()
            .filter_map(|p| p.strip_prefix("jumpcloud:"))
            .collect();
        assert_eq!(
            narrowest_role(scopes.iter().copied(), &RoleBook::default()),
            Some(role.into()),
            "{name}"
        );
    }
}
