//! What `sluice serve`'s parts share: the HTTP API, the scheduler, the Directory Insights
//! poller and the webhook receiver all act on one [`Service`] (the crate's `server` module
//! builds and runs them; this module knows none of them).
//!
//! # Layout
//! - this file: [`Service`] (what every part shares), [`ServiceConfig`], resuming
//!   unfinished runs;
//! - `workflows.rs`: stored, versioned workflows, validated on every save;
//! - `executor.rs`: runs under the concurrency limits and the bounded queue; internal
//!   `run.succeeded` / `run.failed` events;
//! - `cluster.rs`: this node among nodes sharing a database (leases, take-over, the
//!   leader's role);
//! - `tokens.rs`: admin API tokens (stored hashed) and the audit log;
//! - `metrics.rs`: the counters and histograms behind `/metrics`.

mod cluster;
pub mod executor;
pub mod metrics;
pub mod tokens;
pub mod workflows;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::broker::JumpCloudBroker;
use crate::engine::Engine;
use crate::host::registry::Registry;
use crate::secrets::SecretKey;
use crate::store::{Cluster, NodeInfo, Store};

pub use executor::{Refused, Source};
pub use metrics::Metrics;

/// The service's limits and intervals. Every field has a default that suits one machine.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Runs executing at once, all workflows together.
    pub max_concurrent_runs: usize,
    /// Runs of one workflow executing at once.
    pub per_workflow_concurrency: usize,
    /// Runs accepted from the API and webhooks but not finished; beyond it they get 429.
    pub queue_capacity: usize,
    /// Event-triggered runs of one workflow executing at once (an event storm queues).
    pub event_runs_per_workflow: usize,
    /// How often the Directory Insights poller asks for new events.
    pub poll_interval: Duration,
    /// How far back the poller catches up after downtime.
    pub event_catchup: Duration,
    /// How long shutdown waits for executing runs before leaving them to resume.
    pub shutdown_grace: Duration,
    /// How long a webhook that answers with the run's output waits for it.
    pub webhook_wait: Duration,
    /// How far a webhook's `webhook-timestamp` may be from now; each message id is
    /// remembered (and accepted once) for that long past its timestamp.
    pub webhook_tolerance: Duration,
    /// How long a request's headers may take to arrive (from the accept for a connection's
    /// first request, from the first byte for later ones).
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive after its headers (then 408).
    pub body_read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// HTTP connections open at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Resume the runs left unfinished by the last process when the service starts; when
    /// off they are held until an administrator resumes (or cancels) each one.
    pub resume_at_start: bool,
    /// This node's id among the nodes sharing a database.
    pub node_id: String,
    /// How long a node's leases on its runs (and the leader's role) last unless renewed:
    /// how long a dead node's runs wait before another node takes them over. Renewed every
    /// third of it.
    pub lease: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            max_concurrent_runs: 64,
            per_workflow_concurrency: 16,
            queue_capacity: 10_000,
            event_runs_per_workflow: 4,
            poll_interval: Duration::from_secs(10),
            event_catchup: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(30),
            webhook_wait: Duration::from_secs(30),
            webhook_tolerance: Duration::from_secs(300),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            resume_at_start: true,
            node_id: crate::store::cluster::default_node_id(),
            lease: Duration::from_secs(10),
        }
    }
}

/// What the API, the triggers and the executor share.
pub struct Service {
    pub engine: Arc<Engine>,
    pub registry: Arc<Registry>,
    pub store: Arc<dyn Store>,
    /// The JumpCloud the poller reads Directory Insights from (the runtime's broker).
    pub jumpcloud: Arc<dyn JumpCloudBroker>,
    /// The administrator's key, for webhook signing secrets, connector credentials and
    /// secrets written through the API.
    pub secret_key: Option<SecretKey>,
    pub config: ServiceConfig,
    pub metrics: Arc<Metrics>,
    /// The nodes sharing the store (one, on sled).
    pub cluster: Arc<dyn Cluster>,
    /// This node, as the others see it (its URL is set when it listens).
    pub(crate) node: std::sync::Mutex<NodeInfo>,
    /// Whether this node holds the leader's role, and a wake-up when that changes.
    pub(crate) leading: std::sync::atomic::AtomicBool,
    pub(crate) lead_change: tokio::sync::Notify,
    pub(crate) exec: executor::ExecState,
    /// Woken when a workflow is saved, enabled, disabled or deleted (schedules reload).
    pub(crate) changed: tokio::sync::Notify,
    /// Bumped on every workflow change; the listener cache below is for one generation.
    pub(crate) generation: std::sync::atomic::AtomicU64,
    /// Event listeners by event type, as of `generation`.
    #[allow(clippy::type_complexity)]
    pub(crate) listeners: std::sync::Mutex<(
        u64,
        std::collections::HashMap<String, Arc<Vec<workflows::Listener>>>,
    )>,
    /// Workflows as runs start them (record, current version, sub-workflows), as of
    /// `generation`: a webhook or API start decodes nothing when nothing changed.
    pub(crate) startable: std::sync::Mutex<(
        u64,
        std::collections::HashMap<String, Arc<workflows::Startable>>,
    )>,
    pub(crate) started: Instant,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Service {
    pub fn new(
        registry: Arc<Registry>,
        store: Arc<dyn Store>,
        jumpcloud: Arc<dyn JumpCloudBroker>,
        secret_key: Option<SecretKey>,
        config: ServiceConfig,
    ) -> Arc<Service> {
        let engine = Arc::new(Engine::new(registry.clone(), store.clone()));
        let cluster = store.cluster(&config.node_id, config.lease);
        let node = NodeInfo {
            id: config.node_id.clone(),
            url: String::new(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        };
        Arc::new(Service {
            // A node alone leads from the start; on a shared database it waits to be elected.
            leading: std::sync::atomic::AtomicBool::new(!cluster.shared()),
            lead_change: tokio::sync::Notify::new(),
            cluster,
            node: std::sync::Mutex::new(node),
            exec: executor::ExecState::new(&config),
            engine,
            registry,
            store,
            jumpcloud,
            secret_key,
            config,
            metrics: Arc::new(Metrics::default()),
            changed: tokio::sync::Notify::new(),
            generation: Default::default(),
            listeners: Default::default(),
            startable: Default::default(),
            started: Instant::now(),
        })
    }

    /// Resumes every run left unfinished by a crash or a shutdown. Returns how many. On a
    /// shared database, a run another live node holds is its own (it is not resumed here),
    /// and a run nobody holds (one recorded by a command, or copied in) is claimed.
    pub fn resume_unfinished(self: &Arc<Self>) -> Result<usize, crate::engine::EngineError> {
        let runs = self.engine.unfinished()?;
        let mut resumed = 0;
        for r in &runs {
            let source = if r.trigger["type"] == "event" {
                Source::Event
            } else {
                Source::Trigger
            };
            if self.cluster.shared()
                && !matches!(
                    self.cluster.claim(&r.id, &r.workflow)?,
                    crate::store::cluster::Claim::Mine
                )
            {
                continue;
            }
            self.spawn_run(r.id.clone(), r.workflow.clone(), source);
            resumed += 1;
        }
        Ok(resumed)
    }

    /// This node as the others see it.
    pub fn node(&self) -> NodeInfo {
        self.node.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sets the URL this node's API answers at (once it listens).
    pub(crate) fn set_url(&self, url: &str) {
        self.node.lock().unwrap_or_else(|p| p.into_inner()).url = url.to_owned();
    }
}

#[cfg(test)]
impl Service {
    /// A service for tests: a temporary store, the bundled plugins, no JumpCloud and no
    /// connectors, the default limits.
    pub(crate) fn for_tests() -> Arc<Service> {
        let store = crate::store::temporary().expect("a temporary store");
        let services = crate::host::Services {
            jumpcloud: Arc::new(crate::broker::Unconfigured),
            http: Arc::new(crate::broker::Unconfigured),
            state: store.clone(),
        };
        let host = crate::host::PluginHost::new(crate::host::HostConfig::default(), services)
            .expect("a plugin host");
        let registry = Registry::new(Arc::new(host), store.clone(), store.clone())
            .with_pin_source(Arc::new(workflows::SavedWorkflowPins(store.clone())));
        Service::new(
            Arc::new(registry),
            store,
            Arc::new(crate::broker::Unconfigured),
            None,
            ServiceConfig::default(),
        )
    }
}
