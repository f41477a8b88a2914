//! What the registry refuses at install (and that nothing is stored then), and what it keeps.

use std::sync::Arc;

use serde_json::{Value, json};
use sluice::host::registry::{BUNDLED, PluginRecord, Registry, StateOptions};
use sluice::host::{CallContext, LimitOverrides, Limits, PluginKind};
use sluice::store::{StateQuota, Store};
use sluice_tests::{TestHost, bad_manifest_wasm, hostile_wasm};

struct Fixture {
    registry: Registry,
    store: Arc<dyn Store>,
    host: Arc<sluice::host::PluginHost>,
}

fn fixture() -> Fixture {
    let t = TestHost::new(Limits::DEFAULT);
    let registry = Registry::new(t.host.clone(), t.store.clone(), t.store.clone());
    Fixture {
        registry,
        store: t.store,
        host: t.host,
    }
}

impl Fixture {
    async fn refuses(&self, bytes: &[u8], grants: &[&str]) -> (String, String) {
        let grants: Vec<String> = grants.iter().map(|g| (*g).to_owned()).collect();
        let err = self
            .registry
            .install(
                "candidate.wasm",
                bytes,
                &grants,
                LimitOverrides::default(),
                false,
                StateOptions::default(),
            )
            .await
            .expect_err("install must be refused");
        assert!(
            self.store.plugin_list().unwrap().is_empty(),
            "no record was stored"
        );
        assert_eq!(
            self.store.blob_list().unwrap(),
            Vec::<String>::new(),
            "no component was stored"
        );
        (err.code().to_string(), err.to_string())
    }
}

#[tokio::test]
async fn a_file_that_is_not_wasm_is_refused() {
    let f = fixture();
    let (code, message) = f.refuses(b"#!/bin/sh\necho hi\n", &[]).await;
    assert_eq!(code, "PLUGIN_NOT_WASM");
    assert!(message.contains("not a WebAssembly file"), "{message}");
}

#[tokio::test]
async fn a_core_module_is_refused_with_a_hint() {
    let f = fixture();
    let (code, message) = f.refuses(b"\0asm\x01\0\0\0", &[]).await;
    assert_eq!(code, "PLUGIN_NOT_COMPONENT");
    assert!(message.contains("wasm32-wasip2"), "{message}");
}

#[tokio::test]
async fn a_component_of_an_unknown_world_is_refused() {
    let f = fixture();
    let empty = wat::parse_str("(component)").unwrap();
    let (code, message) = f.refuses(&empty, &[]).await;
    assert_eq!(code, "PLUGIN_UNKNOWN_WORLD");
    assert!(
        message.contains("exports none of sluice:plugin/action"),
        "{message}"
    );

    let foreign = wat::parse_str(r#"(component (import "acme:evil/rootkit" (instance)))"#).unwrap();
    let (code, message) = f.refuses(&foreign, &[]).await;
    assert_eq!(code, "PLUGIN_UNKNOWN_WORLD", "{message}");
}

#[tokio::test]
async fn an_invalid_manifest_is_refused_listing_every_problem() {
    let f = fixture();
    let (code, message) = f.refuses(&bad_manifest_wasm(), &[]).await;
    assert_eq!(code, "PLUGIN_INVALID_MANIFEST");
    for problem in [
        "name `Bad Name!`",
        "version `not-semver`",
        "kind `condition` does not match the exported world `action`",
        "description is empty",
        "input-schema: not JSON",
        "output-schema: not a valid JSON Schema",
        "`root:everything`: not a permission",
    ] {
        assert!(
            message.contains(problem),
            "missing {problem:?} in:\n{message}"
        );
    }
}

#[tokio::test]
async fn a_grant_the_plugin_did_not_declare_is_refused() {
    let f = fixture();
    let (code, message) = f.refuses(&hostile_wasm(), &["jumpcloud:users"]).await;
    assert_eq!(code, "PLUGIN_GRANT_NOT_DECLARED");
    assert!(
        message.contains("declared: jumpcloud:users.readonly, http:allowed, state"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bundled_plugin_cannot_be_replaced() {
    let f = fixture();
    let (_, transform) = BUNDLED
        .iter()
        .find(|(n, _)| *n == "transform.wasm")
        .unwrap();
    let (code, _) = f.refuses(transform, &[]).await;
    assert_eq!(code, "PLUGIN_BUNDLED");
}

#[tokio::test]
async fn install_list_resolve_and_remove() {
    let f = fixture();
    let bytes = hostile_wasm();
    let record = f
        .registry
        .install(
            "hostile.wasm",
            &bytes,
            &["state".to_owned()],
            LimitOverrides {
                timeout_ms: Some(250),
                ..Default::default()
            },
            false,
            StateOptions::default(),
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (record.id().as_str(), record.kind),
        ("hostile@0.1.0", PluginKind::Action)
    );
    assert_eq!(record.grants, ["state"]);
    assert_eq!(record.digest, sluice::host::digest(&bytes));
    let blob = record.digest.as_str();
    assert_eq!(f.store.blob_get(blob).unwrap(), Some(bytes.clone()));

    let names: Vec<String> = f
        .registry
        .list()
        .await
        .unwrap()
        .iter()
        .map(|r| r.id())
        .collect();
    // The bundled plugins (the three generic ones, then the JumpCloud catalogue), then the
    // installed one.
    assert_eq!(
        names[..3],
        ["transform@0.1.0", "compare@0.1.0", "http-request@0.1.0"]
    );
    let bundled = f
        .registry
        .list()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.bundled)
        .count();
    assert_eq!(names.len(), bundled + 1);
    assert_eq!(names.last().map(String::as_str), Some("hostile@0.1.0"));
    let (found, loaded) = f.registry.resolve("hostile").await.unwrap();
    assert_eq!(found.limits.timeout_ms, Some(250));
    assert_eq!(
        loaded.manifest.permissions,
        ["jumpcloud:users.readonly", "http:allowed", "state"]
    );

    // A tampered component in the store is refused, not run.
    f.store.blob_put(blob, b"\0asm\x0d\0\x01\0").unwrap();
    let fresh = fixture_over(&f);
    let err = fresh.resolve("hostile@0.1.0").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("does not match its recorded sha256"),
        "{err}"
    );
    f.store.blob_put(blob, &bytes).unwrap();

    assert_eq!(
        f.registry
            .remove("transform@0.1.0", false)
            .await
            .unwrap_err()
            .code(),
        "PLUGIN_BUNDLED"
    );
    f.registry.remove("hostile@0.1.0", false).await.unwrap();
    assert!(
        !f.store.blob_exists(blob).unwrap(),
        "the component went with its last record"
    );
    assert_eq!(
        f.registry.find("hostile").await.unwrap_err().code(),
        "PLUGIN_NOT_FOUND"
    );
}

/// A second registry over the same store and blobs (a new process would build one).
fn fixture_over(f: &Fixture) -> Registry {
    let t = TestHost::new(Limits::DEFAULT);
    Registry::new(t.host.clone(), f.store.clone(), f.store.clone())
}

#[tokio::test]
async fn reinstalling_needs_replace_and_replacing_keeps_nothing_old() {
    let f = fixture();
    let bytes = hostile_wasm();
    let install = |grants: Vec<String>, replace: bool| {
        let (registry, bytes) = (&f.registry, &bytes);
        async move {
            registry
                .install(
                    "hostile.wasm",
                    bytes,
                    &grants,
                    LimitOverrides::default(),
                    replace,
                    StateOptions::default(),
                )
                .await
        }
    };
    install(vec!["state".into()], false).await.unwrap();
    let err = install(vec![], false).await.unwrap_err();
    assert_eq!(err.code(), "PLUGIN_ALREADY_INSTALLED");
    assert_eq!(
        f.registry.find("hostile").await.unwrap().grants,
        ["state"],
        "unchanged"
    );
    let replaced = install(vec![], true).await.unwrap().remove(0);
    assert!(replaced.grants.is_empty());
    assert_eq!(
        f.registry
            .remove("hostile", false)
            .await
            .unwrap_err()
            .code(),
        "PLUGIN_VERSION_REQUIRED"
    );
}

impl Fixture {
    async fn install(&self, bytes: &[u8], replace: bool, state: StateOptions) -> PluginRecord {
        self.registry
            .install(
                "hostile.wasm",
                bytes,
                &["state".to_owned()],
                LimitOverrides::default(),
                replace,
                state,
            )
            .await
            .unwrap()
            .remove(0)
    }

    /// One step of the installed `hostile` in workflow `wf`, as the engine makes it: with
    /// the record's grants (which bind its state namespace and quota).
    async fn step(&self, input: Value) -> Result<Value, (String, Value)> {
        let (record, plugin) = self.registry.resolve("hostile").await.unwrap();
        let ctx = CallContext {
            run_id: "run".into(),
            workflow: "wf".into(),
            step_id: "step".into(),
            attempt: 1,
            grants: Arc::new(record.grants()),
            role: None,
            limits: Limits::DEFAULT,
        };
        let out = self.host.call(&plugin, &ctx, &input.to_string()).await;
        out.result
            .map_err(|e| (e.code, e.details.unwrap_or(Value::Null)))
    }
}

/// The same plugin (name, version, manifest) as a different component: a custom section
/// appended changes its bytes and sha256, nothing else.
fn variant_of(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let payload: &[u8] = b"\x07variantanother build";
    out.push(0); // custom section
    out.push(payload.len() as u8);
    out.extend_from_slice(payload);
    out
}

#[tokio::test]
async fn state_fill_ends_with_state_quota_at_the_default_limits() {
    // Keys: 10,000 per plugin, across calls (one call may make at most 10,000 host calls).
    let f = fixture();
    let record = f
        .install(&hostile_wasm(), false, StateOptions::default())
        .await;
    assert_eq!(record.state.quota, StateQuota::DEFAULT);
    assert_eq!(
        (StateQuota::DEFAULT.max_keys, StateQuota::DEFAULT.max_bytes),
        (10_000, 16 << 20),
        "the documented defaults"
    );
    let fill = |prefix: &str, count: u64, size: u64| json!({"mode": "state-fill", "arg": {"prefix": prefix, "count": count, "size": size}});
    assert_eq!(
        f.step(fill("a", 6_000, 1)).await.unwrap(),
        json!({"written": 6_000})
    );
    let (code, details) = f.step(fill("b", 6_000, 1)).await.unwrap_err();
    assert_eq!(code, "STATE_QUOTA");
    assert_eq!(details["written"], 4_000, "{details}");
    // The refusal is the plugin's to handle: at the limit, its keys can still change.
    let replace = json!({"mode": "state", "arg": {"key": "a-0", "set": 1}});
    assert_eq!(
        f.step(replace).await.unwrap(),
        json!({"value": "1"}),
        "replacing is fine"
    );

    // Bytes: 16 MiB of keys and values per plugin.
    let f = fixture();
    f.install(&hostile_wasm(), false, StateOptions::default())
        .await;
    let size = 64 << 10;
    let (mut total, mut fits) = (0u64, 0u64);
    loop {
        let next = total + format!("fill-{fits}").len() as u64 + size;
        if next > 16 << 20 {
            break;
        }
        (total, fits) = (next, fits + 1);
    }
    let (code, details) = f.step(fill("fill", 1_000, size)).await.unwrap_err();
    assert_eq!(code, "STATE_QUOTA");
    assert_eq!(details["written"], fits, "{details}");
    assert_eq!(
        f.store
            .state_usage(&format!("sha256:{}", sluice::host::digest(&hostile_wasm())))
            .unwrap(),
        (fits, total)
    );
}

#[tokio::test]
async fn the_state_quota_is_set_at_install() {
    let f = fixture();
    let record = f
        .install(
            &hostile_wasm(),
            false,
            StateOptions {
                max_keys: Some(25),
                max_bytes: Some(1 << 20),
                adopt: None,
            },
        )
        .await;
    assert_eq!(
        record.state.quota,
        StateQuota {
            max_keys: 25,
            max_bytes: 1 << 20
        }
    );
    let fill = json!({"mode": "state-fill", "arg": {"count": 100, "size": 10}});
    let (code, details) = f.step(fill).await.unwrap_err();
    assert_eq!(
        (code.as_str(), &details["written"]),
        ("STATE_QUOTA", &json!(25))
    );
}

#[tokio::test]
async fn a_different_component_under_the_same_name_does_not_see_the_state() {
    let f = fixture();
    let original = hostile_wasm();
    let impostor = variant_of(&original);
    let set = json!({"mode": "state", "arg": {"key": "secret", "set": "kept"}});
    let get = json!({"mode": "state", "arg": {"key": "secret"}});
    let first = f.install(&original, false, StateOptions::default()).await;
    assert_eq!(
        first.state.namespace,
        format!("sha256:{}", sluice::host::digest(&original))
    );
    assert_eq!(f.step(set).await.unwrap(), json!({"value": "\"kept\""}));

    // Another component installed as hostile@0.1.0 starts empty...
    let second = f.install(&impostor, true, StateOptions::default()).await;
    assert_eq!(second.id(), first.id());
    assert_ne!(second.state.namespace, first.state.namespace);
    assert_eq!(f.step(get.clone()).await.unwrap(), json!({"value": null}));

    // ...the original, reinstalled, finds its state again...
    f.install(&original, true, StateOptions::default()).await;
    assert_eq!(
        f.step(get.clone()).await.unwrap(),
        json!({"value": "\"kept\""})
    );
    // ...and a successor sees it only when the administrator says so.
    let adopted = f
        .install(
            &impostor,
            true,
            StateOptions {
                adopt: Some("hostile@0.1.0".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(adopted.state.namespace, first.state.namespace);
    assert_eq!(f.step(get).await.unwrap(), json!({"value": "\"kept\""}));

    // Only an installed plugin's state can be adopted; a refusal stores nothing.
    let err = f
        .registry
        .install(
            "hostile.wasm",
            &original,
            &[],
            LimitOverrides::default(),
            true,
            StateOptions {
                adopt: Some("transform".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PLUGIN_NOT_FOUND", "{err}");
    assert_eq!(
        f.registry.find("hostile").await.unwrap().digest,
        adopted.digest
    );
}
