//! Persistent state behind small traits, gathered in one object-safe [`Store`]: the
//! runtime holds an `Arc<dyn Store>` and never names a backend. [`SledStore`] (embedded,
//! the default) and [`PgStore`] (PostgreSQL, for several processes sharing one database)
//! implement it, and only they name their backends; [`open`] is where a backend is chosen.
//!
//! # Layout
//! - `mod.rs`: the traits, one per concern — [`RunStore`] (runs and their journal),
//!   [`ServiceStore`] (saved workflows, tokens, the audit log), [`PluginStore`] (installed
//!   plugins' records), [`BlobStore`] (installed plugins' component bytes, by sha256),
//!   [`StateStore`] (plugins' own state), [`RoleRecords`], [`TrustStore`] (keys trusted to
//!   sign plugins, and standing settings) — and [`StoreError`]. Connectors,
//!   secrets and the JumpCloud simulator's snapshot declare their store traits beside their
//!   own types. [`Store`] is all of them plus durability (`flush`, group `commit`,
//!   `commit_soon`); every backend implements it. [`open`] and [`temporary`] make one.
//! - `open.rs`: [`open`] (the data dir's store; the one place a backend is chosen) and
//!   the one-time move of components kept as files by older versions
//!   (`<data-dir>/plugins/<digest>.wasm`) into the store.
//! - `sled_store.rs`: [`SledStore`], every trait on one sled database (tests in
//!   `sled_tests.rs`).
//! - `postgres/`: [`PgStore`], every trait on PostgreSQL tables: versioned migrations
//!   embedded in the binary, applied at open.
//! - `conformance.rs` (tests): every trait's contract, run against both backends.
//! - `cluster.rs`: [`Cluster`], what nodes sharing a store agree on (live nodes, run
//!   leases, the leader, limits across nodes), and [`cluster::SingleNode`] for a store one
//!   process holds.
//! - `group_commit.rs`: batching journal writes into one flush for many waiting runs.
//! - `copy.rs`: [`copy::copy`], every record of one store into another (`sluice store
//!   copy`), through [`copy::Export`] (`sled_copy.rs`, `postgres/copy.rs`) and
//!   [`copy::Import`] (`postgres/copy.rs`).

pub mod cluster;
#[cfg(test)]
mod conformance;
pub mod copy;
mod group_commit;
mod open;
mod postgres;
mod sled_store;

pub use cluster::{Cluster, NodeInfo, NodeStatus};
pub use open::{Scratch, open, open_database, scratch_database, temporary};
pub use postgres::PgStore;
pub use sled_store::SledStore;

/// A commit in progress: resolves once every write made before it was asked for is
/// durable.
pub type Commit<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// Everything the runtime keeps, as one object: each table's trait, and durability. The
/// runtime holds an `Arc<dyn Store>`, so a backend is chosen once, at [`open`]; an
/// `Arc<dyn Store>` coerces to any one of its traits for code that needs only that.
pub trait Store:
    RunStore
    + ServiceStore
    + PluginStore
    + BlobStore
    + StateStore
    + TrustStore
    + RoleRecords
    + crate::connector::ConnectorStore
    + crate::secrets::SecretStore
    + sluice_jcsim::SnapshotStore
    + Send
    + Sync
{
    /// Makes every write so far durable, now, on this thread.
    fn flush(&self) -> Result<(), StoreError>;
    /// Makes every write made so far durable. Concurrent callers share flushes (group
    /// commit), so many runs waiting at once cost about one flush.
    fn commit(&self) -> Commit<'_>;
    /// [`Self::commit`] for a run: it also fails when one of the run's own writes was
    /// lost earlier (a backend that writes behind, as PostgreSQL's does, learns of a lost
    /// write after the call that made it returned).
    fn commit_run<'a>(&'a self, run: &'a str) -> Commit<'a> {
        let _ = run;
        self.commit()
    }
    /// Asks for every write made so far to be made durable, without waiting for it.
    fn commit_soon(&self);
    /// This process as node `node` of the processes sharing the store, with leases of
    /// `lease` ([`Cluster`]; a store one process holds is a cluster of one).
    fn cluster(&self, node: &str, lease: std::time::Duration) -> std::sync::Arc<dyn Cluster>;
    /// Whether a call waits on a database server's round trip rather than only on this
    /// machine: runs then get more threads than there are cores, so the cores keep
    /// working while calls wait.
    fn remote(&self) -> bool {
        false
    }
}

/// Installed plugins' components (WebAssembly bytes), by their sha256 in hex: kept in the
/// store, not beside it, so every process sharing a store can run what one installed.
/// Writes are durable when they return.
pub trait BlobStore: Send + Sync {
    /// Keeps `bytes` under `digest` (replacing what was there).
    fn blob_put(&self, digest: &str, bytes: &[u8]) -> Result<(), StoreError>;
    fn blob_get(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn blob_exists(&self, digest: &str) -> Result<bool, StoreError>;
    /// Removes the component; returns whether there was one.
    fn blob_remove(&self, digest: &str) -> Result<bool, StoreError>;
    /// The digests of every kept component.
    fn blob_list(&self) -> Result<Vec<String>, StoreError>;
}

/// The custom roles table (the `roles` tree), by name: each record is the role module's
/// definition as JSON bytes (the role module reads and writes them typed, through
/// `role::RoleStore`).
pub trait RoleRecords: Send + Sync {
    fn role_record_put(&self, name: &str, record: &[u8]) -> Result<(), StoreError>;
    fn role_record_get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn role_record_list(&self) -> Result<Vec<Vec<u8>>, StoreError>;
    fn role_record_remove(&self, name: &str) -> Result<bool, StoreError>;
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data directory {0} is in use by another Sluice process (a running command \
         or service); wait for it, stop it, or pass a different --data-dir"
    )]
    Locked(String),
    #[error("store error: {0}")]
    Backend(String),
    /// The database cannot be reached; nothing was done (retry once it is back).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt record under {key}: {reason}")]
    Corrupt { key: String, reason: String },
    /// A state write that would take its namespace past its quota; nothing was written.
    #[error(
        "the plugin's state would hold {keys} keys and {bytes} bytes; its quota is \
         {max_keys} keys and {max_bytes} bytes (delete keys, or reinstall the plugin with \
         a larger --state-max-keys / --state-max-bytes)"
    )]
    Quota {
        keys: u64,
        bytes: u64,
        max_keys: u64,
        max_bytes: u64,
    },
}

impl StoreError {
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            StoreError::Locked(_) => Code::StoreLocked,
            StoreError::Backend(_) => Code::StoreError,
            StoreError::Unavailable(_) => Code::StoreUnavailable,
            StoreError::Corrupt { .. } => Code::StoreCorrupt,
            StoreError::Quota { .. } => Code::StateQuota,
        }
    }
}

/// Whose state a key belongs to: plugins never see each other's keys, nor another
/// workflow's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateNamespace {
    pub workflow: String,
    /// The plugin's state identity ([`StateScope::owner`]); the quota counts all of its
    /// workflows together.
    pub owner: String,
}

/// How much state one owner may hold: keys, and key plus value bytes, across workflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateQuota {
    pub max_keys: u64,
    pub max_bytes: u64,
}

impl StateQuota {
    /// 10,000 keys and 16 MiB per plugin unless set at install.
    pub const DEFAULT: StateQuota = StateQuota {
        max_keys: 10_000,
        max_bytes: 16 << 20,
    };
}

impl Default for StateQuota {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where a plugin's `state` calls go and how much they may keep: granted with `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateScope {
    /// The state identity: `sha256:<digest>` of the component that first held the state,
    /// or a plugin name (bundled plugins, and plugins installed before identities).
    pub owner: String,
    pub quota: StateQuota,
}

/// The per-workflow, per-plugin key/value state behind the `state` import.
///
/// Each owner has a running count of its keys and bytes, kept with every write, so the
/// quota check costs one read rather than a scan.
pub trait StateStore: Send + Sync {
    fn state_get(&self, ns: &StateNamespace, key: &str) -> Result<Option<String>, StoreError>;
    /// Writes unless the owner would exceed `quota` ([`StoreError::Quota`]): a new key
    /// counts one key and its key and value bytes, a replaced value the difference in
    /// bytes. A write that adds neither keys nor bytes is always accepted, so a plugin
    /// over a quota lowered at reinstall can still shrink its values.
    fn state_set(
        &self,
        ns: &StateNamespace,
        key: &str,
        value: &str,
        quota: StateQuota,
    ) -> Result<(), StoreError>;
    fn state_delete(&self, ns: &StateNamespace, key: &str) -> Result<(), StoreError>;
    /// The owner's keys and bytes.
    fn state_usage(&self, owner: &str) -> Result<(u64, u64), StoreError>;
}

/// Installed plugin records, keyed by `name@version`, as JSON documents.
pub trait PluginStore: Send + Sync {
    fn plugin_put(&self, id: &str, record: &serde_json::Value) -> Result<(), StoreError>;
    fn plugin_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    fn plugin_list(&self) -> Result<Vec<serde_json::Value>, StoreError>;
    fn plugin_remove(&self, id: &str) -> Result<bool, StoreError>;
}

/// The keys trusted to sign plugins (the `trusted_keys` tree, by name) and the data dir's
/// standing settings (the `settings` tree, by key), as JSON documents.
pub trait TrustStore: Send + Sync {
    /// Adds `record` under `name` unless the name is taken; returns whether it was added.
    fn trusted_key_add(&self, name: &str, record: &serde_json::Value) -> Result<bool, StoreError>;
    /// Every trusted key's record, by name.
    fn trusted_key_list(&self) -> Result<Vec<serde_json::Value>, StoreError>;
    fn trusted_key_remove(&self, name: &str) -> Result<bool, StoreError>;
    fn setting_get(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError>;
    fn setting_put(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError>;
}

/// Called with each run's id and stored JSON; returns whether to go on.
pub type RunVisitor<'a> = dyn FnMut(&str, &[u8]) -> Result<bool, StoreError> + 'a;

/// Runs and their step journal, as JSON documents.
///
/// A run's record lives under its id; each finished step's record under `(run, path)`,
/// where the path names the step's place in the run (`create_user`,
/// `add_groups[2].add`). The journal is what makes a run resumable after a crash.
pub trait RunStore: Send + Sync {
    /// Writes a run record, given as its JSON text (callers serialise their own types
    /// straight to bytes, without building a `Value` first).
    fn run_put(&self, id: &str, record: &[u8]) -> Result<(), StoreError>;
    /// Writes a new run's first record: as [`Self::run_put`], but readable by every process
    /// sharing the store when it returns (a run accepted through one node is read through
    /// another at once).
    fn run_create(&self, id: &str, record: &[u8]) -> Result<(), StoreError> {
        self.run_put(id, record)
    }
    fn run_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// Visits runs newest first, beginning after the run `after` (exclusive), until `visit`
    /// returns `false`. Records come as their stored JSON bytes and are read one at a time,
    /// so a caller decodes only the fields it needs and never holds every run at once.
    fn run_scan(&self, after: Option<&str>, visit: &mut RunVisitor<'_>) -> Result<(), StoreError>;
    /// Appends a step record (a run's journal holds each step path once).
    fn journal_put(&self, run: &str, record: &[u8]) -> Result<(), StoreError>;
    /// The run's journal in write order.
    fn journal_list(&self, run: &str) -> Result<Vec<serde_json::Value>, StoreError>;
    /// Keeps a run's write-only input values (JSON pointer → value) while it is unfinished.
    fn sensitive_put(&self, run: &str, values: &serde_json::Value) -> Result<(), StoreError>;
    fn sensitive_get(&self, run: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// Forgets them (the run finished: nothing needs them any more).
    fn sensitive_remove(&self, run: &str) -> Result<(), StoreError>;
    /// What a run's execution starts from: its record, kept input and journal, read
    /// together (one round trip on a remote store instead of three).
    fn run_open(&self, id: &str) -> Result<OpenedRun, StoreError> {
        Ok(OpenedRun {
            record: self.run_get(id)?,
            input: self.sensitive_get(id)?,
            journal: self.journal_list(id)?,
        })
    }
}

/// A run as [`RunStore::run_open`] reads it.
#[derive(Debug, Default)]
pub struct OpenedRun {
    pub record: Option<serde_json::Value>,
    /// Its kept write-only input values ([`RunStore::sensitive_get`]).
    pub input: Option<serde_json::Value>,
    pub journal: Vec<serde_json::Value>,
}

/// What `sluice serve` keeps beside runs: workflows and their versions, API tokens (hashed),
/// the audit log, trigger state (schedule progress, event cursors), and fire keys — one per
/// schedule fire or event delivery — which make a trigger start at most one run per fire,
/// across restarts.
pub trait ServiceStore: Send + Sync {
    fn workflow_put(&self, name: &str, record: &serde_json::Value) -> Result<(), StoreError>;
    fn workflow_get(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError>;
    fn workflow_list(&self) -> Result<Vec<serde_json::Value>, StoreError>;
    /// Removes the workflow and its versions (its runs stay).
    fn workflow_remove(&self, name: &str) -> Result<bool, StoreError>;
    fn version_put(
        &self,
        name: &str,
        version: u32,
        record: &serde_json::Value,
    ) -> Result<(), StoreError>;
    fn version_get(
        &self,
        name: &str,
        version: u32,
    ) -> Result<Option<serde_json::Value>, StoreError>;
    /// A workflow's versions, oldest first.
    fn version_list(&self, name: &str) -> Result<Vec<serde_json::Value>, StoreError>;
    fn token_put(&self, hash: &str, record: &serde_json::Value) -> Result<(), StoreError>;
    fn token_get(&self, hash: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// Every token record with its hash.
    fn token_list(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError>;
    fn token_remove(&self, hash: &str) -> Result<bool, StoreError>;
    fn audit_append(&self, entry: &serde_json::Value) -> Result<(), StoreError>;
    /// The latest `limit` audit entries, newest first.
    fn audit_list(&self, limit: usize) -> Result<Vec<serde_json::Value>, StoreError>;
    fn trigger_get(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError>;
    fn trigger_put(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError>;
    /// Records run `id` for trigger fire `fire` in one transaction, unless the fire already
    /// has a run: then nothing is written and that run's id is returned.
    fn run_put_once(
        &self,
        fire: &str,
        id: &str,
        record: &serde_json::Value,
    ) -> Result<Option<String>, StoreError>;
    /// Marks fire key `fire` to be forgotten at `at` (Unix seconds) by
    /// [`Self::fires_forget`]: a webhook message id matters only while its timestamp is
    /// within the tolerance.
    fn fire_expires(&self, fire: &str, at: u64) -> Result<(), StoreError>;
    /// Forgets the fire keys marked to be forgotten at or before `now`; returns how many.
    fn fires_forget(&self, now: u64) -> Result<usize, StoreError>;
}
