//! What `sluice serve` processes sharing one store agree on: which nodes are alive, which
//! node holds each unfinished run (a lease it renews), which node leads (runs the scheduler
//! and the Directory Insights poller), and the limits that hold across nodes.
//!
//! A store that one process holds (sled) has one node: [`SingleNode`] answers at once and
//! touches nothing. A shared database implements [`Cluster`] on its own tables
//! (`postgres/cluster.rs`). Times are the database's, so nodes' clocks need not agree.

use std::time::Duration;

use super::StoreError;

/// The one role elected across a cluster: its holder runs the scheduler, the Directory
/// Insights poller and the forgetting of expired webhook message ids.
pub const LEADER: &str = "leader";

/// The change counter of saved workflows ([`Cluster::generation`]).
pub const WORKFLOWS: &str = "workflows";

/// Who this node is, as other nodes see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeInfo {
    pub id: String,
    /// Where its API answers (as it was bound; behind a load balancer, its own address).
    pub url: String,
    pub version: String,
    pub started_at: String,
}

/// A node as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeStatus {
    #[serde(flatten)]
    pub info: NodeInfo,
    /// When it last renewed its leases (RFC 3339).
    pub seen_at: String,
    /// When its leases lapse unless renewed.
    pub expires_at: String,
    /// Whether it renewed in time (a node that stopped renewing is listed until it is an
    /// hour past its expiry).
    pub alive: bool,
    /// The roles it holds ([`LEADER`]).
    pub leader_of: Vec<String>,
    /// Unfinished runs it holds leases on.
    pub runs: u64,
}

/// What a renewal found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Renewal {
    /// Runs this node thought it held whose lease another node has taken (this node was
    /// cut off longer than the lease): stop executing them.
    pub lost: Vec<String>,
    /// Runs held here that an administrator cancelled through another node.
    pub cancel: Vec<String>,
}

/// Whether a run could be claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This node holds it now.
    Mine,
    /// Another live node holds it.
    Held(String),
}

/// What asking for an execution slot gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The run has one of its workflow's slots: it may execute.
    Taken,
    /// All are taken across the cluster: try again later.
    Full,
    /// This node no longer holds the run (another took it over): do not execute it.
    NotHeld,
}

/// A run whose holder stopped renewing, now held by this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenOver {
    pub run: String,
    pub workflow: String,
    /// It was cancelled through the API while its holder was gone.
    pub cancel: bool,
}

/// Coordination between the nodes sharing a store. Calls are synchronous, as the store's
/// are.
pub trait Cluster: Send + Sync {
    /// This node's id.
    fn node(&self) -> &str;
    /// Whether other processes may share the store (then leases and elections matter).
    fn shared(&self) -> bool;
    /// How long a lease lasts unless renewed: how long a dead node's runs wait.
    fn lease(&self) -> Duration;
    /// Says this node is alive and renews its leases on `held` (the runs it is queueing or
    /// executing).
    fn heartbeat(&self, info: &NodeInfo, held: &[String]) -> Result<Renewal, StoreError>;
    /// Every node seen in the last hour, live ones first.
    fn nodes(&self) -> Result<Vec<NodeStatus>, StoreError>;
    /// Takes the lease on a run this node is about to execute: a new run, or one whose
    /// holder stopped renewing.
    fn claim(&self, run: &str, workflow: &str) -> Result<Claim, StoreError>;
    /// Takes up to `limit` runs whose holders stopped renewing (`FOR UPDATE SKIP LOCKED`:
    /// nodes doing this at once take different runs).
    fn take_over(&self, limit: usize) -> Result<Vec<TakenOver>, StoreError>;
    /// Gives up the lease on a run that finished.
    fn release(&self, run: &str) -> Result<(), StoreError>;
    /// Asks the live node holding `run` to cancel it; returns that node, or `None` when no
    /// other live node holds it (the caller cancels it itself).
    fn request_cancel(&self, run: &str) -> Result<Option<String>, StoreError>;
    /// The live node other than this one holding `run`, if any (it is queued or executing
    /// there, so it cannot be resumed here).
    fn held_elsewhere(&self, run: &str) -> Result<Option<String>, StoreError>;
    /// Takes or renews `role` for this node; returns whether this node holds it.
    fn lead(&self, role: &str) -> Result<bool, StoreError>;
    /// Leaves: gives up its roles, and the leases of the runs it still holds, so other
    /// nodes take them at once (a graceful shutdown).
    fn leave(&self) -> Result<(), StoreError>;
    /// Tells every node that what `name` counts has changed (`workflows`).
    fn bump(&self, name: &str) -> Result<(), StoreError>;
    /// How many changes `name` has seen: a node that sees it move drops what it cached.
    fn generation(&self, name: &str) -> Result<u64, StoreError>;
    /// Whether the store answers (a shared database may not).
    fn ping(&self) -> Result<(), StoreError>;
    /// Unfinished runs across the cluster (the queue's fill).
    fn unfinished(&self) -> Result<u64, StoreError>;
    /// Takes one of `limit` execution slots of `workflow` across the cluster for `run`,
    /// which this node holds. A slot is freed when its run is released or its lease lapses.
    fn slot(&self, run: &str, workflow: &str, limit: usize) -> Result<Slot, StoreError>;
}

/// The cluster of a store one process holds: this node, leading, holding every run.
#[derive(Debug)]
pub struct SingleNode {
    id: String,
    info: std::sync::Mutex<Option<(NodeInfo, String)>>,
}

impl SingleNode {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            info: Default::default(),
        }
    }
}

impl Cluster for SingleNode {
    fn node(&self) -> &str {
        &self.id
    }

    fn shared(&self) -> bool {
        false
    }

    fn lease(&self) -> Duration {
        Duration::MAX
    }

    fn heartbeat(&self, info: &NodeInfo, _held: &[String]) -> Result<Renewal, StoreError> {
        let seen = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        *self.info.lock().unwrap_or_else(|p| p.into_inner()) = Some((info.clone(), seen));
        Ok(Renewal::default())
    }

    fn nodes(&self) -> Result<Vec<NodeStatus>, StoreError> {
        let info = self.info.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(info
            .map(|(info, seen)| NodeStatus {
                info,
                expires_at: seen.clone(),
                seen_at: seen,
                alive: true,
                leader_of: vec![LEADER.to_owned()],
                runs: 0,
            })
            .into_iter()
            .collect())
    }

    fn claim(&self, _run: &str, _workflow: &str) -> Result<Claim, StoreError> {
        Ok(Claim::Mine)
    }

    fn take_over(&self, _limit: usize) -> Result<Vec<TakenOver>, StoreError> {
        Ok(Vec::new())
    }

    fn release(&self, _run: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn request_cancel(&self, _run: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    fn held_elsewhere(&self, _run: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    fn lead(&self, _role: &str) -> Result<bool, StoreError> {
        Ok(true)
    }

    fn leave(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn bump(&self, _name: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn generation(&self, _name: &str) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn unfinished(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn slot(&self, _run: &str, _workflow: &str, _limit: usize) -> Result<Slot, StoreError> {
        Ok(Slot::Taken)
    }
}

/// A node id for this process when none is given: the host's name and the process id.
pub fn default_node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{}", std::process::id())
}
