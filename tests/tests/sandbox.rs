//! The hostile-plugin suite: every sandbox limit and permission check, each proven by a
//! plugin that breaks it. After each attack the same host must serve a normal call.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice::broker::CallKind;
use sluice::broker::permissions::Role;
use sluice::host::{CallOutcome, ErrorSource, Limits, LoadedPlugin, codes};
use sluice_tests::{TestHost, ctx, hostile_wasm};

const GRANTS: &[&str] = &["jumpcloud:users.readonly", "http:allowed", "state"];

fn limits() -> Limits {
    Limits {
        timeout: Duration::from_millis(500),
        memory_bytes: 16 << 20,
        ..Limits::DEFAULT
    }
}

async fn setup() -> (TestHost, LoadedPlugin) {
    let t = TestHost::new(limits());
    let p = t.load(&hostile_wasm()).await;
    (t, p)
}

async fn attack(t: &TestHost, p: &LoadedPlugin, mode: &str, arg: Value) -> CallOutcome {
    let input = json!({"mode": mode, "arg": arg}).to_string();
    let outcome = t.host.call(p, &ctx(GRANTS, None, limits()), &input).await;
    // Whatever the attack did, the host serves the next call normally.
    let echo = t
        .host
        .call(
            p,
            &ctx(GRANTS, None, limits()),
            r#"{"mode":"echo","arg":{"ok":1}}"#,
        )
        .await;
    assert_eq!(
        echo.result.expect("host still serves calls"),
        json!({"ok": 1})
    );
    outcome
}

fn error_of(outcome: &CallOutcome) -> (&str, &str) {
    let e = outcome
        .result
        .as_ref()
        .expect_err("the attack must fail the step");
    (e.code.as_str(), e.message.as_str())
}

#[tokio::test]
async fn infinite_loop_times_out() {
    let (t, p) = setup().await;
    let started = Instant::now();
    let out = attack(&t, &p, "loop", Value::Null).await;
    assert_eq!(error_of(&out).0, codes::PLUGIN_TIMEOUT, "{:?}", out.result);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "deadline of 500 ms held"
    );
}

#[tokio::test]
async fn memory_bomb_hits_the_memory_limit() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "memory", Value::Null).await;
    let (code, message) = error_of(&out);
    assert_eq!(code, codes::PLUGIN_MEMORY_LIMIT, "{message}");
    assert!(message.contains("its limit is 16.0 MiB"), "{message}");
}

#[tokio::test]
async fn deep_recursion_traps_with_stack_overflow() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "recursion", Value::Null).await;
    let (code, message) = error_of(&out);
    assert_eq!(code, codes::PLUGIN_TRAP);
    // Either the engine's stack guard or the guest's own shadow stack (in linear memory)
    // gives out first; both end the step with a message naming the stack.
    assert!(message.contains("stack"), "{message}");
}

#[tokio::test]
async fn huge_output_is_refused() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "huge-output", json!(2 << 20)).await;
    let (code, message) = error_of(&out);
    assert_eq!(code, codes::PLUGIN_OUTPUT_TOO_LARGE);
    assert!(
        message.contains("the output limit is 1048576 bytes"),
        "{message}"
    );
}

#[tokio::test]
async fn log_spam_through_the_log_import_is_capped() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "log-spam", Value::Null).await;
    assert_eq!(error_of(&out).0, codes::PLUGIN_LOG_LIMIT);
    let kept: usize = out.logs.iter().map(|l| l.message.len()).sum();
    assert!(
        kept <= Limits::DEFAULT.max_log_bytes + 100,
        "kept {kept} bytes of log"
    );
    assert!(out.logs.last().unwrap().message.contains("log truncated"));
}

#[tokio::test]
async fn stdout_spam_is_captured_and_capped() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "stdout-spam", Value::Null).await;
    assert_eq!(
        error_of(&out).0,
        codes::PLUGIN_LOG_LIMIT,
        "{:?}",
        out.result
    );
    assert!(out.logs.iter().any(|l| l.message.starts_with("spam spam")));
}

#[tokio::test]
async fn panic_message_reaches_the_step_error() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "panic", Value::Null).await;
    let (code, message) = error_of(&out);
    assert_eq!(code, codes::PLUGIN_TRAP);
    assert!(
        message.contains("hostile plugin panicked on purpose (step step)"),
        "{message}"
    );
}

#[tokio::test]
async fn files_outside_the_sandbox_cannot_be_read() {
    let (t, p) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CONTENT").unwrap();
    for path in [
        secret.display().to_string(),
        "/etc/hostname".into(),
        "secret.txt".into(),
    ] {
        let out = attack(&t, &p, "read-file", json!(path)).await;
        let e = out.result.as_ref().unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.origin),
            ("FILE_DENIED", ErrorSource::Plugin)
        );
        assert!(!serde_json::to_string(&out).unwrap().contains("TOP-SECRET"));
    }
    let out = attack(&t, &p, "list-dir", Value::Null).await;
    assert_eq!(error_of(&out).0, "FILE_DENIED");
}

#[tokio::test]
async fn the_environment_and_arguments_are_empty() {
    // SAFETY: set before any other thread of this test reads the environment.
    unsafe { std::env::set_var("SLUICE_TEST_SECRET", "do-not-leak") };
    let (t, p) = setup().await;
    let out = attack(&t, &p, "env", Value::Null).await;
    assert_eq!(out.result.unwrap(), json!({"vars": [], "args": []}));
}

#[tokio::test]
async fn sockets_cannot_be_opened() {
    let (t, p) = setup().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let out = attack(&t, &p, "socket", json!(addr)).await;
    assert_eq!(error_of(&out).0, "SOCKET_DENIED", "{:?}", out.result);
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing reached the listener: {accepted:?}"
    );
}

#[tokio::test]
async fn jumpcloud_scope_not_declared_is_denied_and_never_sent() {
    let (t, p) = setup().await;
    let out = attack(
        &t,
        &p,
        "jumpcloud",
        json!({"method": "POST", "path": "/api/systemusers"}),
    )
    .await;
    let (code, message) = error_of(&out);
    assert_eq!(code, codes::PERMISSION_DENIED);
    assert!(message.contains("needs jumpcloud:users"), "{message}");
    assert_eq!(out.calls.len(), 1);
    assert_eq!(
        out.calls[0].error.as_deref(),
        Some(codes::PERMISSION_DENIED.as_str())
    );
    assert_eq!(t.broker.jumpcloud_calls.load(Ordering::SeqCst), 0);

    let out = attack(
        &t,
        &p,
        "jumpcloud",
        json!({"method": "GET", "path": "/api/secret-admin"}),
    )
    .await;
    assert_eq!(error_of(&out).0, codes::PERMISSION_DENIED);
    assert_eq!(t.broker.jumpcloud_calls.load(Ordering::SeqCst), 0);

    let out = attack(
        &t,
        &p,
        "jumpcloud",
        json!({"method": "GET", "path": "/api/systemusers"}),
    )
    .await;
    assert_eq!(out.result.unwrap()["status"], 200);
    assert_eq!(out.calls[0].kind, CallKind::Jumpcloud);
    assert_eq!(out.calls[0].status, Some(200));
    assert_eq!(t.broker.jumpcloud_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn declared_but_not_granted_and_beyond_the_role_are_denied() {
    let (t, p) = setup().await;
    let input = json!({"mode": "jumpcloud", "arg": {"method": "GET", "path": "/api/systemusers"}})
        .to_string();
    let out = t.host.call(&p, &ctx(&[], None, limits()), &input).await;
    assert_eq!(error_of(&out).0, codes::PERMISSION_DENIED);

    // Granted `jumpcloud:users`, but the workflow runs as Read Only: a write is refused.
    let input = json!({"mode": "jumpcloud", "arg": {"method": "POST", "path": "/api/systemusers"}})
        .to_string();
    let out = t
        .host
        .call(
            &p,
            &ctx(&["jumpcloud:users"], Some(Role::ReadOnly), limits()),
            &input,
        )
        .await;
    let (code, message) = error_of(&out);
    assert_eq!(code, codes::PERMISSION_DENIED);
    assert!(message.contains("run-as role `Read Only`"), "{message}");
    assert_eq!(t.broker.jumpcloud_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn connector_not_granted_is_denied() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "http", json!("other")).await;
    let (code, message) = error_of(&out);
    assert_eq!(code, codes::PERMISSION_DENIED);
    assert!(message.contains("`http:other`"), "{message}");
    assert_eq!(t.broker.http_calls.load(Ordering::SeqCst), 0);
    let out = attack(&t, &p, "http", json!("allowed")).await;
    assert_eq!(out.result.unwrap(), json!({"status": 204}));
    assert_eq!(t.broker.http_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn state_needs_its_grant_and_is_namespaced() {
    let (t, p) = setup().await;
    let set = json!({"mode": "state", "arg": {"key": "k", "set": "v1"}}).to_string();
    let out = t.host.call(&p, &ctx(&[], None, limits()), &set).await;
    assert_eq!(error_of(&out).0, codes::PERMISSION_DENIED);

    let out = t.host.call(&p, &ctx(GRANTS, None, limits()), &set).await;
    assert_eq!(out.result.unwrap(), json!({"value": "\"v1\""}));
    let get = json!({"mode": "state", "arg": {"key": "k"}}).to_string();
    let out = t.host.call(&p, &ctx(GRANTS, None, limits()), &get).await;
    assert_eq!(
        out.result.unwrap(),
        json!({"value": "\"v1\""}),
        "state persists across calls"
    );
    let mut other = ctx(GRANTS, None, limits());
    other.workflow = "another-workflow".into();
    let out = t.host.call(&p, &other, &get).await;
    assert_eq!(
        out.result.unwrap(),
        json!({"value": null}),
        "another workflow sees nothing"
    );
}

#[tokio::test]
async fn no_state_leaks_between_calls() {
    let (t, p) = setup().await;
    for _ in 0..5 {
        let out = t
            .host
            .call(&p, &ctx(GRANTS, None, limits()), r#"{"mode":"counter"}"#)
            .await;
        assert_eq!(
            out.result.unwrap(),
            json!(1),
            "each call gets a fresh instance"
        );
    }
}

#[tokio::test]
async fn oversized_input_is_refused_before_the_call() {
    let (t, p) = setup().await;
    let input = json!({"mode": "echo", "arg": "x".repeat(2 << 20)}).to_string();
    let out = t.host.call(&p, &ctx(GRANTS, None, limits()), &input).await;
    assert_eq!(error_of(&out).0, codes::PLUGIN_INPUT_TOO_LARGE);
}

#[tokio::test]
async fn plugin_errors_keep_their_code_and_bad_input_is_invalid_input() {
    let (t, p) = setup().await;
    let out = t
        .host
        .call(&p, &ctx(GRANTS, None, limits()), r#"{"mode":"nope"}"#)
        .await;
    let e = out.result.unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.origin),
        ("INVALID_INPUT", ErrorSource::Plugin)
    );
    let out = t
        .host
        .call(&p, &ctx(GRANTS, None, limits()), r#"{"arg":1}"#)
        .await;
    assert!(
        out.result
            .unwrap_err()
            .message
            .contains("missing field `mode`")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_attacks_do_not_disturb_normal_calls() {
    let (t, p) = setup().await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (host, plugin) = (t.host.clone(), p.clone());
        let mode = ["loop", "memory", "echo", "panic"][i % 4];
        tasks.push(tokio::spawn(async move {
            let input = json!({"mode": mode, "arg": i}).to_string();
            (
                mode,
                host.call(&plugin, &ctx(GRANTS, None, limits()), &input)
                    .await,
            )
        }));
    }
    for task in tasks {
        let (mode, out) = task.await.unwrap();
        match mode {
            "echo" => assert!(out.result.is_ok()),
            _ => assert!(out.result.is_err()),
        }
    }
}

#[tokio::test]
async fn encoded_or_dotted_jumpcloud_paths_are_refused() {
    let (t, p) = setup().await;
    for path in [
        "/api/systemusers/%2e%2e/users",
        "/api/systemusers/../users",
        "/api//users",
        "/api/systemusers/./x",
    ] {
        let out = attack(&t, &p, "jumpcloud", json!({"method": "GET", "path": path})).await;
        let (code, message) = error_of(&out);
        assert_eq!(code, codes::PERMISSION_DENIED, "{path}");
        assert!(message.contains("invalid path"), "{message}");
    }
    assert_eq!(t.broker.jumpcloud_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_flood_of_empty_log_lines_is_capped() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "empty-log-spam", Value::Null).await;
    assert_eq!(error_of(&out).0, codes::PLUGIN_LOG_LIMIT);
    assert!(out.logs.len() < 3000, "{} lines kept", out.logs.len());
}

#[tokio::test]
async fn a_flood_of_host_calls_is_capped() {
    let (t, p) = setup().await;
    let out = attack(&t, &p, "call-flood", Value::Null).await;
    assert_eq!(error_of(&out).0, codes::PLUGIN_CALL_LIMIT);
    assert!(out.calls.len() <= 10_000);
}

#[tokio::test]
async fn connector_requests_cannot_escape_or_set_credentials() {
    let (t, p) = setup().await;
    for arg in [
        json!({"path": "https://evil.example/x"}),
        json!({"path": "/a/../../admin"}),
        json!({"path": "//evil.example/x"}),
        json!({"path": "/ok", "header": "Authorization"}),
    ] {
        let out = attack(&t, &p, "http", arg.clone()).await;
        let e = out.result.as_ref().unwrap_err();
        assert_eq!(e.code, "INVALID_REQUEST", "{arg}: {e}");
    }
    assert_eq!(
        t.broker.http_calls.load(Ordering::SeqCst),
        0,
        "nothing reached the broker"
    );
}

/// `sluice bench step` measures the engine alone with the Sluice imports linked as traps:
/// a plugin calling one fails there (and is reported as not measurable) instead of reaching
/// the broker; a plugin that calls none runs.
#[tokio::test]
async fn the_bare_engine_of_the_benchmark_traps_on_sluice_imports() {
    let (t, p) = setup().await;
    let bare = t.host.bare_runner(&p).expect("links");
    bare.call(&r#"{"mode":"echo","arg":1}"#.to_owned())
        .await
        .expect("a call without Sluice imports runs bare");
    let err = bare
        .call(&r#"{"mode":"jumpcloud","arg":"/systemusers"}"#.to_owned())
        .await
        .expect_err("a Sluice import traps in the bare engine");
    assert!(err.contains("sluice:plugin/jumpcloud"), "{err}");
    let err = bare
        .call(&r#"{"mode":"log-spam","arg":null}"#.to_owned())
        .await
        .expect_err("the log import traps too");
    assert!(err.contains("sluice:plugin/log"), "{err}");
}

/// Least privilege across links: an association needs the scopes of both its ends,
/// whichever side it is made from, and sudo needs write on devices. Against the sandbox's
/// directory over HTTP, so "refused" also means "the directory is unchanged".
mod associations {
    use std::sync::Arc;

    use serde_json::{Value, json};
    use sluice::broker::Unconfigured;
    use sluice::broker::jumpcloud::{ApiKey, JumpCloudClient, JumpCloudConfig};
    use sluice::broker::permissions::Role;
    use sluice::host::{CallOutcome, Limits, LoadedPlugin, PluginHost, Services, codes};
    use sluice_jcsim::directory::Edge;
    use sluice_jcsim::{Faults, RunningSimulator, Simulator, seed};
    use sluice_tests::{ctx, hostile_wasm};

    const KEY: &str = "sk-test-3b8d0c6f1e2a4d5b9c7e8f0a1b2c3d4e";

    struct Rig {
        host: PluginHost,
        plugin: LoadedPlugin,
        simulator: RunningSimulator,
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
            let plugin = host
                .load("hostile.wasm", &hostile_wasm())
                .await
                .unwrap()
                .plugins
                .remove(0);
            Rig {
                host,
                plugin,
                simulator,
            }
        }

        /// The hostile plugin POSTs `body` to `path` with these grants, as this role.
        async fn post(
            &self,
            grants: &[&str],
            role: Option<Role>,
            path: &str,
            body: &Value,
        ) -> CallOutcome {
            let input =
                json!({"mode": "jumpcloud", "arg": {"method": "POST", "path": path, "body": body}});
            self.host
                .call(
                    &self.plugin,
                    &ctx(grants, role, Limits::DEFAULT),
                    &input.to_string(),
                )
                .await
        }

        fn edges(&self) -> Vec<Edge> {
            self.simulator.simulator.with_directory(|d| d.edges.clone())
        }

        /// A user and a device with no link between them yet.
        fn strangers(&self) -> (String, String) {
            self.simulator.simulator.with_directory(|d| {
                let uid = d
                    .users
                    .iter()
                    .find(|(_, u)| u["username"] == "jane.doe")
                    .map(|(id, _)| id.clone())
                    .unwrap();
                let linked = |sid: &str| {
                    d.edges.iter().any(|e| {
                        let ends = [e.a.id.as_str(), e.b.id.as_str()];
                        ends.contains(&sid) && ends.contains(&uid.as_str())
                    })
                };
                let sid = d.systems.keys().find(|s| !linked(s)).unwrap().clone();
                (uid, sid)
            })
        }
    }

    fn denied(out: &CallOutcome) -> String {
        let e = out.result.as_ref().expect_err("the call must be refused");
        assert_eq!(e.code, codes::PERMISSION_DENIED, "{}", e.message);
        assert_eq!(out.calls.len(), 1);
        assert_eq!(
            out.calls[0].error.as_deref(),
            Some(codes::PERMISSION_DENIED.as_str())
        );
        e.message.clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn users_scope_alone_cannot_give_a_user_sudo_on_a_device() {
        let rig = Rig::new().await;
        let (uid, sid) = rig.strangers();
        let before = rig.edges();
        let user_side = format!("/api/v2/users/{uid}/associations");
        let sudo = json!({
            "op": "add", "type": "system", "id": sid,
            "attributes": {"sudo": {"enabled": true, "withoutPassword": true}}
        });

        // Granted `jumpcloud:users` only (what a Help Desk plugin holds).
        let out = rig
            .post(&["jumpcloud:users"], None, &user_side, &sudo)
            .await;
        let message = denied(&out);
        assert!(message.contains("jumpcloud:systems"), "{message}");
        assert_eq!(rig.edges(), before, "the directory is unchanged");

        // Spelled as JumpCloud's decoder also reads it, or without sudo: still a device link.
        let spelled = json!({"op": "add", "Type": "system", "id": sid});
        denied(
            &rig.post(&["jumpcloud:users"], None, &user_side, &spelled)
                .await,
        );
        let plain = json!({"op": "add", "type": "system", "id": sid});
        denied(
            &rig.post(&["jumpcloud:users"], None, &user_side, &plain)
                .await,
        );
        // From the device side, `systems` alone does not reach the user either.
        let device_side = format!("/api/v2/systems/{sid}/associations");
        let to_user = json!({"op": "add", "type": "user", "id": uid,
            "attributes": {"sudo": {"enabled": true, "withoutPassword": true}}});
        let message = denied(
            &rig.post(&["jumpcloud:systems"], None, &device_side, &to_user)
                .await,
        );
        assert!(message.contains("jumpcloud:users"), "{message}");
        // Both scopes granted, but run as Help Desk: the role does not write devices.
        let both = ["jumpcloud:users", "jumpcloud:systems"];
        let message = denied(
            &rig.post(&both, Some(Role::HelpDesk), &user_side, &sudo)
                .await,
        );
        assert!(message.contains("Help Desk"), "{message}");
        assert_eq!(rig.edges(), before, "the directory is unchanged");

        // Both ends granted, as a role that manages devices: the binding is made.
        let out = rig
            .post(&both, Some(Role::Manager), &user_side, &sudo)
            .await;
        assert_eq!(out.result.expect("allowed")["status"], 204);
        let added: Vec<Edge> = rig
            .edges()
            .into_iter()
            .filter(|e| !before.contains(e))
            .collect();
        assert_eq!(added.len(), 1, "{added:?}");
        assert_eq!(added[0].attributes["sudo"]["withoutPassword"], true);
    }
}
