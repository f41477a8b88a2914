//! Which JumpCloud a runtime talks to: the organisation configured with an API key
//! (`SLUICE_JUMPCLOUD_API_KEY`) or a service account (`SLUICE_JUMPCLOUD_CLIENT_ID` and
//! `SLUICE_JUMPCLOUD_CLIENT_SECRET`), or, when none is, a simulator started inside the runtime, with
//! its directory kept in the data dir so consecutive runs see each other's changes. Either
//! way plugins reach it through the same broker (keys, permissions, retries); the broker
//! hands the embedded simulator its requests in process, while the simulator also serves on a
//! loopback port for its mail outbox connector and for people to look at.

use std::sync::Arc;

use crate::broker::JumpCloudBroker;
use crate::broker::jumpcloud::{ApiKey, JumpCloudClient, JumpCloudConfig};

use sluice_jcsim::{Faults, RunningSimulator, Simulator, SnapshotStore, seed};

/// The name of the built-in connector to the embedded simulator's mail outbox.
pub const SIMULATOR_MAIL: &str = "sandbox-mail";

/// The JumpCloud a runtime is wired to.
pub struct JumpCloudTarget {
    pub broker: Arc<dyn JumpCloudBroker>,
    /// Set when the target is the embedded simulator (kept alive for the runtime's lifetime).
    pub simulator: Option<RunningSimulator>,
    /// Where calls go, for people: a URL, or the embedded simulator.
    pub description: String,
    /// The embedded simulator's API key (its mail outbox takes the same key).
    simulator_key: Option<ApiKey>,
    /// Whether the simulator's directory is kept in the data dir.
    persistent: bool,
    /// Why no JumpCloud may be used (set instead of starting the embedded simulator).
    pub refusal: Option<&'static str>,
}

impl std::fmt::Debug for JumpCloudTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JumpCloudTarget")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl JumpCloudTarget {
    /// Whether calls go to the embedded simulator.
    pub fn is_simulator(&self) -> bool {
        self.simulator.is_some()
    }

    /// The built-in `sandbox-mail` connector: the embedded simulator's mail outbox, so email
    /// steps work with no account and no mail service, and land where they can be read
    /// (`GET /sandbox/mail`). None when a real organisation is configured.
    pub fn mail_connector(&self) -> Option<(crate::connector::ConnectorDef, String)> {
        let (running, key) = (self.simulator.as_ref()?, self.simulator_key.as_ref()?);
        let def = crate::connector::ConnectorDef {
            version: crate::connector::VERSION,
            name: SIMULATOR_MAIL.into(),
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

    /// The embedded simulator's URL and API key, for people to reach it while it serves
    /// (its mail outbox, `POST /sandbox/users/{id}/lockout`). The key is made per process
    /// and opens only this loopback simulator.
    pub fn simulator_access(&self) -> Option<(String, String)> {
        let (running, key) = (self.simulator.as_ref()?, self.simulator_key.as_ref()?);
        Some((running.url(), key.expose().to_owned()))
    }

    /// What every run prints: for an organisation, which identity calls are made as (never
    /// the secret); for the simulator, so nobody mistakes it for their organisation.
    pub fn notice(&self) -> Option<String> {
        if self.simulator.is_none() {
            return Some(format!("JumpCloud: {}", self.description));
        }
        self.simulator.as_ref().map(|_| {
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

/// Connects to the configured JumpCloud, or starts the embedded simulator over `snapshots`.
/// Must be called inside a tokio runtime (the simulator serves from a task).
///
/// With `shared` (the store is a database several processes share) the embedded simulator
/// is not started: each process would have a directory of its own. The target then
/// refuses every call, and says why ([`JumpCloudTarget::refusal`]).
pub fn connect(
    env: impl Fn(&str) -> Option<String>,
    snapshots: Arc<dyn SnapshotStore>,
    shared: bool,
) -> Result<JumpCloudTarget, String> {
    if let Some(cfg) = JumpCloudConfig::from_env(&env)? {
        let description = format!("{}, as {}", cfg.base_url, cfg.credentials.identity());
        return Ok(JumpCloudTarget {
            broker: Arc::new(JumpCloudClient::new(cfg)?),
            simulator: None,
            description,
            simulator_key: None,
            persistent: false,
            refusal: None,
        });
    }
    if shared {
        return Ok(JumpCloudTarget {
            broker: Arc::new(Refusing(SHARED_STORE_NO_JUMPCLOUD)),
            simulator: None,
            description: "none configured".into(),
            simulator_key: None,
            persistent: false,
            refusal: Some(SHARED_STORE_NO_JUMPCLOUD),
        });
    }
    simulator(Some(snapshots))
}

/// Why a runtime on a shared database has no JumpCloud when none is configured.
const SHARED_STORE_NO_JUMPCLOUD: &str = "no JumpCloud is configured, and with a database     (--database / SLUICE_DATABASE_URL) the embedded sandbox is not used: every process would     have a directory of its own. Configure a real organisation (SLUICE_JUMPCLOUD_API_KEY, or     a service account), or point every node at one standalone sandbox: run `sluice sandbox`     and set SLUICE_JUMPCLOUD_URL to its URL and SLUICE_JUMPCLOUD_API_KEY to its key";

/// The broker of a runtime with no JumpCloud it may use: every call fails with `why`.
#[derive(Debug)]
struct Refusing(&'static str);

#[async_trait::async_trait]
impl JumpCloudBroker for Refusing {
    async fn call(
        &self,
        _req: crate::broker::JumpCloudRequest,
    ) -> Result<crate::broker::BrokerResponse, crate::broker::BrokerError> {
        Err(crate::broker::BrokerError {
            code: crate::code::Code::JumpcloudNotConfigured.into(),
            message: self.0.to_owned(),
            retryable: false,
        })
    }
}

/// Starts a simulator organisation (the default seed) on a loopback port: kept in
/// `snapshots` when given, else in memory only (`sluice demo`).
pub fn simulator(snapshots: Option<Arc<dyn SnapshotStore>>) -> Result<JumpCloudTarget, String> {
    let key = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let persistent = snapshots.is_some();
    let simulator = Arc::new(Simulator::new(
        seed::default_directory(),
        key.clone(),
        Faults::default(),
        snapshots,
    )?);
    let running = simulator
        .spawn(([127, 0, 0, 1], 0).into())
        .map_err(|e| format!("cannot start the embedded JumpCloud sandbox: {e}"))?;
    let mut cfg = JumpCloudConfig::new(ApiKey::new(key.clone()), &running.url());
    // A simulator in this process needs no pacing.
    cfg.rate_per_second = 0.0;
    Ok(JumpCloudTarget {
        broker: Arc::new(JumpCloudClient::in_process(cfg, running.simulator.clone())),
        description: format!("embedded sandbox ({})", running.url()),
        simulator: Some(running),
        simulator_key: Some(ApiKey::new(key)),
        persistent,
        refusal: None,
    })
}
