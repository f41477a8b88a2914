//! Shared helpers of the integration tests: the plugins written for them, a plugin host
//! wired to counting test doubles, and a temporary store.
//!
//! # Layout
//! - this file: helpers;
//! - `tests/sandbox.rs`: the hostile-plugin suite (every limit and permission check);
//! - `tests/install.rs`: what the registry refuses and what it keeps;
//! - `tests/hardening.rs`: looping plugins, panicking runs and oversized plugin errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use sluice::broker::permissions::{Grants, Role};
use sluice::broker::{
    BrokerError, BrokerResponse, ConnectorRequest, HttpBroker, JumpCloudBroker, JumpCloudRequest,
};
use sluice::host::{CallContext, HostConfig, Limits, LoadedPlugin, PluginHost, Services};
use sluice::store::Store;

/// The hostile test plugin's component.
pub fn hostile_wasm() -> Vec<u8> {
    std::fs::read(env!("SLUICE_TEST_HOSTILE_WASM")).expect("hostile.wasm was built")
}

/// A component whose `describe()` returns an invalid manifest.
pub fn bad_manifest_wasm() -> Vec<u8> {
    std::fs::read(env!("SLUICE_TEST_BAD_MANIFEST_WASM")).expect("bad_manifest.wasm was built")
}

/// Counts the calls that reached it and answers 200 with a fixed body.
#[derive(Debug, Default)]
pub struct CountingBroker {
    pub jumpcloud_calls: AtomicUsize,
    pub http_calls: AtomicUsize,
}

#[async_trait]
impl JumpCloudBroker for CountingBroker {
    async fn call(&self, req: JumpCloudRequest) -> Result<BrokerResponse, BrokerError> {
        self.jumpcloud_calls.fetch_add(1, Ordering::SeqCst);
        Ok(BrokerResponse {
            status: 200,
            headers: vec![],
            body: format!("{{\"path\":{:?}}}", req.path),
            attempts: 1,
        })
    }
}

#[async_trait]
impl HttpBroker for CountingBroker {
    async fn send(&self, _req: ConnectorRequest) -> Result<BrokerResponse, BrokerError> {
        self.http_calls.fetch_add(1, Ordering::SeqCst);
        Ok(BrokerResponse {
            status: 204,
            headers: vec![],
            body: String::new(),
            attempts: 1,
        })
    }
}

/// A host over a temporary store and a counting broker.
#[allow(missing_debug_implementations)]
pub struct TestHost {
    pub host: Arc<PluginHost>,
    pub broker: Arc<CountingBroker>,
    pub store: Arc<dyn Store>,
}

impl TestHost {
    pub fn new(limits: Limits) -> TestHost {
        let broker = Arc::new(CountingBroker::default());
        let store = sluice::store::temporary().expect("temporary store");
        let services = Services {
            jumpcloud: broker.clone(),
            http: broker.clone(),
            state: store.clone(),
        };
        let config = HostConfig {
            limits,
            cache_dir: Some(shared_cache()),
            ..HostConfig::default()
        };
        let host = Arc::new(PluginHost::new(config, services).expect("plugin host"));
        TestHost {
            host,
            broker,
            store,
        }
    }

    pub async fn load(&self, bytes: &[u8]) -> LoadedPlugin {
        self.host
            .load("test.wasm", bytes)
            .await
            .expect("plugin loads")
            .plugins
            .remove(0)
    }
}

/// A call context with these grants and limits.
pub fn ctx(grants: &[&str], role: Option<Role>, limits: Limits) -> CallContext {
    CallContext {
        run_id: "run-1".into(),
        workflow: "wf".into(),
        step_id: "step".into(),
        attempt: 1,
        grants: Arc::new(Grants::new(grants.iter().copied())),
        role: role.map(Into::into),
        limits,
    }
}

/// The compiled-component cache the tests share (the runtime's binary-level tests use the
/// same one): each test's host would otherwise compile the same components again.
pub fn shared_cache() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tmp/component-cache")
}

/// A host configuration with the shared compiled-component cache.
pub fn cached_config() -> HostConfig {
    HostConfig {
        cache_dir: Some(shared_cache()),
        ..HostConfig::default()
    }
}
