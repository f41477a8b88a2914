//! What the registry refuses at install (and that nothing is stored then), and what it keeps.

use std::sync::Arc;

use sluice::plugin::registry::{BUNDLED, Registry};
use sluice::plugin::{LimitOverrides, Limits, PluginKind};
use sluice::store::PluginStore;
use sluice_tests::{TestHost, bad_manifest_wasm, hostile_wasm};

struct Fixture {
    registry: Registry,
    store: Arc<sluice::store::SledStore>,
    blobs: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let t = TestHost::new(Limits::DEFAULT);
    let blobs = tempfile::tempdir().unwrap();
    let registry = Registry::new(
        t.host.clone(),
        t.store.clone(),
        blobs.path().join("plugins"),
    );
    Fixture {
        registry,
        store: t.store,
        blobs,
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
            )
            .await
            .expect_err("install must be refused");
        assert!(
            self.store.plugin_list().unwrap().is_empty(),
            "no record was stored"
        );
        let stored = std::fs::read_dir(self.blobs.path().join("plugins"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(stored, 0, "no component was stored");
        (err.code().to_owned(), err.to_string())
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
        )
        .await
        .unwrap();
    assert_eq!(
        (record.id().as_str(), record.kind),
        ("hostile@0.1.0", PluginKind::Action)
    );
    assert_eq!(record.grants, ["state"]);
    assert_eq!(record.digest, sluice::plugin::digest(&bytes));
    let blob = f
        .blobs
        .path()
        .join("plugins")
        .join(format!("{}.wasm", record.digest));
    assert!(blob.is_file());

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
    assert_eq!(names.len(), sluice::plugin::registry::BUNDLED.len() + 1);
    assert_eq!(names.last().map(String::as_str), Some("hostile@0.1.0"));
    let (found, loaded) = f.registry.resolve("hostile").await.unwrap();
    assert_eq!(found.limits.timeout_ms, Some(250));
    assert_eq!(
        loaded.manifest.permissions,
        ["jumpcloud:users.readonly", "http:allowed", "state"]
    );

    // A tampered component on disk is refused, not run.
    std::fs::write(&blob, b"\0asm\x0d\0\x01\0").unwrap();
    let fresh = fixture_over(&f);
    let err = fresh.resolve("hostile@0.1.0").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("does not match its recorded sha256"),
        "{err}"
    );
    std::fs::write(&blob, &bytes).unwrap();

    assert_eq!(
        f.registry
            .remove("transform@0.1.0")
            .await
            .unwrap_err()
            .code(),
        "PLUGIN_BUNDLED"
    );
    f.registry.remove("hostile@0.1.0").await.unwrap();
    assert!(
        !blob.exists(),
        "the component file went with its last record"
    );
    assert_eq!(
        f.registry.find("hostile").await.unwrap_err().code(),
        "PLUGIN_NOT_FOUND"
    );
}

/// A second registry over the same store and blobs (a new process would build one).
fn fixture_over(f: &Fixture) -> Registry {
    let t = TestHost::new(Limits::DEFAULT);
    Registry::new(
        t.host.clone(),
        f.store.clone(),
        f.blobs.path().join("plugins"),
    )
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
    let replaced = install(vec![], true).await.unwrap();
    assert!(replaced.grants.is_empty());
    assert_eq!(
        f.registry.remove("hostile").await.unwrap_err().code(),
        "PLUGIN_VERSION_REQUIRED"
    );
}
