//! Persistent state behind small traits. [`SledStore`] (embedded, the default) is the only
//! implementation and the only code that names sled.

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

/// Runs and their step journal, as JSON documents.
///
/// A run's record lives under its id; each finished step's record under `(run, path)`,
/// where the path names the step's place in the run (`create_user`,
/// `add_groups[2].add`). The journal is what makes a run resumable after a crash.
pub trait RunStore: Send + Sync {
    fn run_put(&self, id: &str, record: &serde_json::Value) -> Result<(), StoreError>;
    fn run_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// All runs, newest first.
    fn run_list(&self) -> Result<Vec<serde_json::Value>, StoreError>;
    fn journal_put(
        &self,
        run: &str,
        path: &str,
        record: &serde_json::Value,
    ) -> Result<(), StoreError>;
    fn journal_get(&self, run: &str, path: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// The run's journal in write order.
    fn journal_list(&self, run: &str) -> Result<Vec<serde_json::Value>, StoreError>;
}
