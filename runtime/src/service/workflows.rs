//! Workflows the service keeps: every save is validated in full first (nothing is stored
//! when any problem is found), each save is a new version, and a run pins the version it
//! started with.
//!
//! A saved version also pins its plugins: what each `uses:` (its own and its sub-workflows')
//! resolved to when it was saved — name, version and component digest. Its runs use those
//! components until the workflow is saved again, and the registry keeps them (it reads
//! the pins through [`SavedWorkflowPins`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Service;
use crate::host::PluginHostError;
pub use crate::host::registry::Pins;
use crate::host::registry::{PinSource, SavedPin};
use crate::store::{ServiceStore, StoreError};
use crate::workflow::model::{Trigger, WorkflowDoc, parse};
use crate::workflow::validate::{
    Problem, WorkflowSource, plugin_specs, plugin_table, subworkflow_names, validate,
};

/// A workflow an event starts: its document, its sub-workflows and its version's pins.
pub type Listener = (WorkflowDoc, BTreeMap<String, WorkflowDoc>, Pins);

/// What starting a run of a workflow needs: its record, its current version and the
/// current versions of the sub-workflows it calls.
#[derive(Debug)]
pub struct Startable {
    pub record: WorkflowRecord,
    pub version: VersionRecord,
    pub subs: BTreeMap<String, WorkflowDoc>,
}

/// A stored workflow: which version is current and whether its triggers fire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkflowRecord {
    pub name: String,
    pub version: u32,
    pub enabled: bool,
    pub trigger: String,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// One saved version of a workflow, with the text it was saved from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRecord {
    pub name: String,
    pub version: u32,
    pub doc: WorkflowDoc,
    pub source: String,
    pub created_at: String,
    pub created_by: String,
    /// What each `uses:` of the workflow and its sub-workflows resolved to when saved.
    #[serde(default)]
    pub pins: Pins,
}

/// Why a workflow could not be saved or found.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("{0}")]
    Parse(String),
    #[error("the workflow is invalid ({} problems)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("workflow `{0}` already exists; update it instead")]
    Exists(String),
    #[error("workflow `{0}` does not exist")]
    NotFound(String),
    #[error("workflow `{0}` has no version {1}")]
    NoVersion(String, u32),
    #[error("the document is named `{found}`, not `{expected}`")]
    NameMismatch { expected: String, found: String },
    #[error("workflow `{0}` is disabled; enable it first")]
    Disabled(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("corrupt workflow record: {0}")]
    Corrupt(String),
}

impl WorkflowError {
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            WorkflowError::Parse(_) => Code::WorkflowParseError,
            WorkflowError::Invalid(_) => Code::WorkflowInvalid,
            WorkflowError::Exists(_) => Code::WorkflowExists,
            WorkflowError::NotFound(_) => Code::WorkflowNotFound,
            WorkflowError::NoVersion(..) => Code::WorkflowVersionNotFound,
            WorkflowError::NameMismatch { .. } => Code::WorkflowNameMismatch,
            WorkflowError::Disabled(_) => Code::WorkflowDisabled,
            WorkflowError::Store(e) => e.code(),
            WorkflowError::Corrupt(_) => Code::StoreCorrupt,
        }
    }
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

fn from_json<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, WorkflowError> {
    serde_json::from_value(v).map_err(|e| WorkflowError::Corrupt(e.to_string()))
}

fn to_json<T: Serialize>(v: &T) -> Result<Value, WorkflowError> {
    serde_json::to_value(v).map_err(|e| WorkflowError::Corrupt(e.to_string()))
}

/// Sub-workflows come from the stored workflows (their current versions).
struct Stored<'a>(&'a Service);

impl WorkflowSource for Stored<'_> {
    fn load(&self, name: &str) -> Result<(String, WorkflowDoc), String> {
        match self.0.current(name) {
            Ok((_, v)) => Ok((format!("workflow {name} v{}", v.version), v.doc)),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl Service {
    /// Parses and validates a workflow document (sub-workflows from the stored ones).
    pub async fn check_workflow(&self, text: &str) -> Result<WorkflowDoc, WorkflowError> {
        let doc = parse("workflow", text).map_err(|e| WorkflowError::Parse(e.to_string()))?;
        let label = format!("workflow {}", doc.name);
        let subs = self.subworkflows_of(&doc)?;
        let mut all: Vec<&WorkflowDoc> = vec![&doc];
        all.extend(subs.values());
        let plugins = plugin_table(&self.registry, &all).await;
        let ceiling = self.registry.host().timeout_ceiling();
        let roles = crate::role::RoleBook::load(&*self.store)
            .map_err(|e| WorkflowError::Store(StoreError::Backend(e.to_string())))?;
        let report = validate(&label, &doc, &plugins, &roles, Some(&Stored(self)), ceiling);
        if report.problems.is_empty() {
            Ok(doc)
        } else {
            Err(WorkflowError::Invalid(report.problems))
        }
    }

    /// Saves `doc` — parsed from `text` and validated by [`Service::check_workflow`] — as a
    /// new workflow (`expected` None) or a new version of `expected`, pinning what each
    /// `uses:` resolves to now.
    pub async fn save_checked(
        &self,
        doc: WorkflowDoc,
        text: &str,
        expected: Option<&str>,
        who: &str,
    ) -> Result<(WorkflowRecord, VersionRecord), WorkflowError> {
        let existing = self.record(&doc.name)?;
        match (expected, &existing) {
            (None, Some(_)) => return Err(WorkflowError::Exists(doc.name)),
            (Some(name), _) if name != doc.name => {
                return Err(WorkflowError::NameMismatch {
                    expected: name.to_owned(),
                    found: doc.name,
                });
            }
            (Some(name), None) => return Err(WorkflowError::NotFound(name.to_owned())),
            _ => {}
        }
        let pins = self.pin_plugins(&doc).await?;
        let previous = match &existing {
            Some(r) => self.version(&r.name, r.version).ok(),
            None => None,
        };
        let at = now();
        let version = existing.as_ref().map(|r| r.version + 1).unwrap_or(1);
        let v = VersionRecord {
            name: doc.name.clone(),
            version,
            doc: doc.clone(),
            source: text.to_owned(),
            created_at: at.clone(),
            created_by: who.to_owned(),
            pins,
        };
        let record = WorkflowRecord {
            name: doc.name.clone(),
            version,
            // A new workflow starts as its document says; a new version keeps the toggle.
            enabled: existing.as_ref().map(|r| r.enabled).unwrap_or(doc.enabled),
            trigger: crate::workflow::trigger_label(&doc),
            created_at: existing
                .as_ref()
                .map(|r| r.created_at.clone())
                .unwrap_or_else(|| at.clone()),
            updated_at: at,
            updated_by: who.to_owned(),
        };
        self.store.version_put(&doc.name, version, &to_json(&v)?)?;
        self.store.workflow_put(&doc.name, &to_json(&record)?)?;
        self.workflows_changed();
        if let Some(old) = previous {
            self.release_pins(&old.pins);
        }
        Ok((record, v))
    }

    /// What every `uses:` of `doc` and of the sub-workflows it calls resolves to now.
    async fn pin_plugins(&self, doc: &WorkflowDoc) -> Result<Pins, WorkflowError> {
        let mut specs = plugin_specs(doc);
        for sub in self.subworkflows_of(doc)?.values() {
            specs.extend(plugin_specs(sub));
        }
        let mut pins = Pins::new();
        for spec in specs {
            match self.registry.pin(&spec).await {
                Ok(pin) => {
                    pins.insert(spec, pin);
                }
                Err(e) => {
                    return Err(WorkflowError::Invalid(vec![Problem {
                        file: format!("workflow {}", doc.name),
                        location: "steps".into(),
                        message: format!("plugin `{spec}`: {e}"),
                    }]));
                }
            }
        }
        Ok(pins)
    }

    /// Lets the registry drop the components of `pins` that nothing pins or uses any more
    /// (the workflow was saved again or deleted). A failure only leaves a file behind.
    fn release_pins(&self, pins: &Pins) {
        for pin in pins.values().filter(|p| !p.bundled) {
            if let Err(e) = self.registry.release(&pin.digest) {
                tracing::warn!("cannot remove the unused component {}: {e}", pin.digest);
            }
        }
    }
    pub fn record(&self, name: &str) -> Result<Option<WorkflowRecord>, WorkflowError> {
        self.store.workflow_get(name)?.map(from_json).transpose()
    }

    pub fn workflows(&self) -> Result<Vec<WorkflowRecord>, WorkflowError> {
        self.store
            .workflow_list()?
            .into_iter()
            .map(from_json)
            .collect()
    }

    /// A workflow's record and its current version.
    pub fn current(&self, name: &str) -> Result<(WorkflowRecord, VersionRecord), WorkflowError> {
        let record = self
            .record(name)?
            .ok_or_else(|| WorkflowError::NotFound(name.to_owned()))?;
        let v = self.version(name, record.version)?;
        Ok((record, v))
    }

    pub fn version(&self, name: &str, version: u32) -> Result<VersionRecord, WorkflowError> {
        self.store
            .version_get(name, version)?
            .map(from_json)
            .transpose()?
            .ok_or(WorkflowError::NoVersion(name.to_owned(), version))
    }

    pub fn versions(&self, name: &str) -> Result<Vec<VersionRecord>, WorkflowError> {
        if self.record(name)?.is_none() {
            return Err(WorkflowError::NotFound(name.to_owned()));
        }
        self.store
            .version_list(name)?
            .into_iter()
            .map(from_json)
            .collect()
    }

    pub fn set_enabled(
        &self,
        name: &str,
        enabled: bool,
        who: &str,
    ) -> Result<WorkflowRecord, WorkflowError> {
        let mut record = self
            .record(name)?
            .ok_or_else(|| WorkflowError::NotFound(name.to_owned()))?;
        record.enabled = enabled;
        record.updated_at = now();
        record.updated_by = who.to_owned();
        self.store.workflow_put(name, &to_json(&record)?)?;
        self.workflows_changed();
        Ok(record)
    }

    /// Deletes a workflow and its versions; its runs stay readable.
    pub fn delete_workflow(&self, name: &str) -> Result<(), WorkflowError> {
        let pins = self.current(name).map(|(_, v)| v.pins).unwrap_or_default();
        if !self.store.workflow_remove(name)? {
            return Err(WorkflowError::NotFound(name.to_owned()));
        }
        self.workflows_changed();
        self.release_pins(&pins);
        Ok(())
    }

    /// The current versions of the sub-workflows `doc` calls, transitively. Missing ones
    /// are left out (validation reports them).
    pub fn subworkflows_of(
        &self,
        doc: &WorkflowDoc,
    ) -> Result<BTreeMap<String, WorkflowDoc>, WorkflowError> {
        let mut subs = BTreeMap::new();
        let mut pending = subworkflow_names(doc);
        while let Some(name) = pending.pop() {
            if subs.contains_key(&name) || name == doc.name {
                continue;
            }
            match self.current(&name) {
                Ok((_, v)) => {
                    pending.extend(subworkflow_names(&v.doc));
                    subs.insert(name, v.doc);
                }
                Err(WorkflowError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(subs)
    }

    /// Tells the scheduler to reload and drops the cached event listeners, here and (on a
    /// shared database) on every other node, within a second.
    fn workflows_changed(&self) {
        self.local_workflows_changed();
        if let Err(e) = self.cluster.bump(crate::store::cluster::WORKFLOWS) {
            tracing::warn!("cannot tell the other nodes that workflows changed: {e}");
        }
    }

    /// [`Self::workflows_changed`] in this process only.
    pub(crate) fn local_workflows_changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// [`Service::current`] with the sub-workflows, cached until the next workflow change
    /// (a webhook or API start would otherwise decode the workflow and its sub-workflows
    /// from the store on every request).
    pub fn startable(&self, name: &str) -> Result<std::sync::Arc<Startable>, WorkflowError> {
        // Read before the store: a change while reading makes the entry stale at once.
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        {
            let cache = self.startable.lock().unwrap_or_else(|p| p.into_inner());
            if cache.0 == generation
                && let Some(s) = cache.1.get(name)
            {
                return Ok(s.clone());
            }
        }
        let (record, version) = self.current(name)?;
        let subs = self.subworkflows_of(&version.doc)?;
        let s = std::sync::Arc::new(Startable {
            record,
            version,
            subs,
        });
        let mut cache = self.startable.lock().unwrap_or_else(|p| p.into_inner());
        // A caller that read an older generation does not push a newer cache back.
        if cache.0 < generation {
            *cache = (generation, Default::default());
        }
        if cache.0 == generation {
            cache.1.insert(name.to_owned(), s.clone());
        }
        Ok(s)
    }

    /// Enabled workflows triggered by `event_type`, with their sub-workflows. Cached until
    /// the next workflow change: every finished run asks (internal events), so the stored
    /// workflows are not read per run.
    pub fn event_listeners(
        &self,
        event_type: &str,
    ) -> Result<std::sync::Arc<Vec<Listener>>, WorkflowError> {
        let mut cache = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        // Read before the store: a change while reading makes the entry stale at once.
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        if cache.0 != generation {
            *cache = (generation, Default::default());
        }
        if let Some(l) = cache.1.get(event_type) {
            return Ok(l.clone());
        }
        let mut out = Vec::new();
        for r in self.workflows()? {
            if !r.enabled || !r.trigger.starts_with("event ") {
                continue;
            }
            let v = self.version(&r.name, r.version)?;
            if matches!(&v.doc.trigger, Trigger::Event { event_type: t, .. } if t == event_type) {
                let subs = self.subworkflows_of(&v.doc)?;
                out.push((v.doc, subs, v.pins));
            }
        }
        let out = std::sync::Arc::new(out);
        cache.1.insert(event_type.to_owned(), out.clone());
        Ok(out)
    }
}

/// The pins of every saved workflow's current version, read from the store: what the
/// registry keeps, and what it refuses to remove while the workflow is enabled.
pub struct SavedWorkflowPins(pub std::sync::Arc<dyn ServiceStore>);

impl std::fmt::Debug for SavedWorkflowPins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedWorkflowPins").finish_non_exhaustive()
    }
}

impl PinSource for SavedWorkflowPins {
    fn saved_pins(&self) -> Result<Vec<SavedPin>, PluginHostError> {
        /// The part of a version record read here.
        #[derive(Deserialize)]
        struct PinsOf {
            #[serde(default)]
            pins: Pins,
        }
        let corrupt = |key: &str, e: serde_json::Error| {
            PluginHostError::Store(StoreError::Corrupt {
                key: key.to_owned(),
                reason: e.to_string(),
            })
        };
        let mut out = Vec::new();
        for w in self.0.workflow_list()? {
            let w: WorkflowRecord =
                serde_json::from_value(w).map_err(|e| corrupt("workflow", e))?;
            let Some(v) = self.0.version_get(&w.name, w.version)? else {
                continue;
            };
            let v: PinsOf = serde_json::from_value(v).map_err(|e| corrupt(&w.name, e))?;
            out.extend(v.pins.into_values().map(|pin| SavedPin {
                workflow: w.name.clone(),
                enabled: w.enabled,
                pin,
            }));
        }
        Ok(out)
    }
}
