//! Persistent state behind small traits. [`SledStore`] (embedded, the default) is the only
//! implementation and the only code that names sled.

mod group_commit;
mod sled_store;

pub use sled_store::SledStore;

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
    #[error("corrupt record under {key}: {reason}")]
    Corrupt { key: String, reason: String },
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Locked(_) => "STORE_LOCKED",
            StoreError::Backend(_) => "STORE_ERROR",
            StoreError::Corrupt { .. } => "STORE_CORRUPT",
        }
    }
}

/// Whose state a key belongs to: plugins never see each other's keys, nor another
/// workflow's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateNamespace {
    pub workflow: String,
    pub plugin: String,
}

/// The per-workflow, per-plugin key/value state behind the `state` import.
pub trait StateStore: Send + Sync {
    fn state_get(&self, ns: &StateNamespace, key: &str) -> Result<Option<String>, StoreError>;
    fn state_set(&self, ns: &StateNamespace, key: &str, value: &str) -> Result<(), StoreError>;
    fn state_delete(&self, ns: &StateNamespace, key: &str) -> Result<(), StoreError>;
}

/// Installed plugin records, keyed by `name@version`, as JSON documents.
pub trait PluginStore: Send + Sync {
    fn plugin_put(&self, id: &str, record: &serde_json::Value) -> Result<(), StoreError>;
    fn plugin_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    fn plugin_list(&self) -> Result<Vec<serde_json::Value>, StoreError>;
    fn plugin_remove(&self, id: &str) -> Result<bool, StoreError>;
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
    fn run_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// Visits runs newest first, beginning after the run `after` (exclusive), until `visit`
    /// returns `false`. Records come as their stored JSON bytes and are read one at a time,
    /// so a caller decodes only the fields it needs and never holds every run at once.
    fn run_scan(&self, after: Option<&str>, visit: &mut RunVisitor<'_>) -> Result<(), StoreError>;
    /// Appends a step record (a run's journal holds each step path once).
    fn journal_put(&self, run: &str, record: &[u8]) -> Result<(), StoreError>;
    /// The run's journal in write order.
    fn journal_list(&self, run: &str) -> Result<Vec<serde_json::Value>, StoreError>;
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
}
