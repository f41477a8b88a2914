//! Which JumpCloud a runtime talks to: the organisation configured with an API key
//! (`SLUICE_JUMPCLOUD_API_KEY`) or a service account (`SLUICE_JUMPCLOUD_CLIENT_ID` and
//! `SLUICE_JUMPCLOUD_CLIENT_SECRET`), or, when none is, a sandbox started inside the runtime, with
//! its directory kept in the data dir so consecutive runs see each other's changes. Either
//! way plugins reach it through the same broker (keys, permissions, retries); the broker
//! hands the embedded sandbox its requests in process, while the sandbox also serves on a
//! loopback port for its mail outbox connector and for people to look at.

use std::sync::Arc;

use crate::broker::JumpCloudBroker;
use crate::broker::jumpcloud::{ApiKey, JumpCloudClient, JumpCloudConfig};

use super::sandbox::{Faults, RunningSandbox, Sandbox, SnapshotStore, seed};

/// The name of the built-in connector to the embedded sandbox's mail outbox.
pub const SANDBOX_MAIL: &str = "sandbox-mail";

/// The JumpCloud a runtime is wired to.
pub struct JumpCloudTarget {
    pub broker: Arc<dyn JumpCloudBroker>,
    /// Set when the target is the embedded sandbox (kept alive for the runtime's lifetime).
    pub sandbox: Option<RunningSandbox>,
    /// Where calls go, for people: a URL, or the embedded sandbox.
    pub description: String,
    /// The embedded sandbox's API key (its mail outbox takes the same key).
    sandbox_key: Option<ApiKey>,
    /// Whether the sandbox's directory is kept in the data dir.
    persistent: bool,
}

impl std::fmt::Debug for JumpCloudTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JumpCloudTarget")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl JumpCloudTarget {
    /// Whether calls go to the embedded sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The built-in `sandbox-mail` connector: the embedded sandbox's mail outbox, so email
    /// steps work with no account and no mail service, and land where they can be read
    /// (`GET /sandbox/mail`). None when a real organisation is configured.
    pub fn mail_connector(&self) -> Option<(crate::connector::ConnectorDef, String)> {
        let (running, key) = (self.sandbox.as_ref()?, self.sandbox_key.as_ref()?);
        let def = crate::connector::ConnectorDef {
            version: crate::connector::VERSION,
            name: SANDBOX_MAIL.into(),
            base_url: format!("{}/sandbox/mail", running.url()),
            auth: crate::connector::Auth::Header {
                header: "x-api-key".into(),
            },
            headers: Default::default(),
            allow_hosts: vec![],
            allow_http: false,
            timeout_ms: crate::connector::DEFAULT_TIMEOUT_MS,
            max_response_bytes: crate::connector::DEFAULT_MAX_RESPONSE_BYTES,
            created_at: String::new(),
        };
        Some((def, key.expose().to_owned()))
    }

    /// The embedded sandbox's URL and API key, for people to reach it while it serves
    /// (its mail outbox, `POST /sandbox/users/{id}/lockout`). The key is made per process
    /// and opens only this loopback sandbox.
    pub fn sandbox_access(&self) -> Option<(String, String)> {
        let (running, key) = (self.sandbox.as_ref()?, self.sandbox_key.as_ref()?);
        Some((running.url(), key.expose().to_owned()))
    }

    /// What every run prints: for an organisation, which identity calls are made as (never
    /// the secret); for the sandbox, so nobody mistakes it for their organisation.
    pub fn notice(&self) -> Option<String> {
        if self.sandbox.is_none() {
            return Some(format!("JumpCloud: {}", self.description));
        }
        self.sandbox.as_ref().map(|_| {
            if self.persistent {
                "JumpCloud: no credentials configured (an API key or a service account), so this run uses \
                 the embedded sandbox organisation kept in the data dir; no real directory is \
                 changed"
            } else {
                "JumpCloud: a throwaway sandbox organisation in memory; no real directory is \
                 changed"
            }
            .to_owned()
        })
    }
}

/// Connects to the configured JumpCloud, or starts the embedded sandbox over `snapshots`.
/// Must be called inside a tokio runtime (the sandbox serves from a task).
pub fn connect(
    env: impl Fn(&str) -> Option<String>,
    snapshots: Arc<dyn SnapshotStore>,
) -> Result<JumpCloudTarget, String> {
    if let Some(cfg) = JumpCloudConfig::from_env(&env)? {
        let description = format!("{}, as {}", cfg.base_url, cfg.credentials.identity());
        return Ok(JumpCloudTarget {
            broker: Arc::new(JumpCloudClient::new(cfg)?),
            sandbox: None,
            description,
            sandbox_key: None,
            persistent: false,
        });
    }
    sandbox(Some(snapshots))
}

/// Starts a sandbox organisation (the default seed) on a loopback port: kept in
/// `snapshots` when given, else in memory only (`sluice demo`).
pub fn sandbox(snapshots: Option<Arc<dyn SnapshotStore>>) -> Result<JumpCloudTarget, String> {
    let key = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let persistent = snapshots.is_some();
    let sandbox = Arc::new(Sandbox::new(
        seed::default_directory(),
        key.clone(),
        Faults::default(),
        snapshots,
    )?);
    let running = sandbox
        .spawn(([127, 0, 0, 1], 0).into())
        .map_err(|e| format!("cannot start the embedded JumpCloud sandbox: {e}"))?;
    let mut cfg = JumpCloudConfig::new(ApiKey::new(key.clone()), &running.url());
    // A sandbox in this process needs no pacing.
    cfg.rate_per_second = 0.0;
    Ok(JumpCloudTarget {
        broker: Arc::new(JumpCloudClient::in_process(cfg, running.sandbox.clone())),
        description: format!("embedded sandbox ({})", running.url()),
        sandbox: Some(running),
        sandbox_key: Some(ApiKey::new(key)),
        persistent,
    })
}
