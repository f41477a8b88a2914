//! Installed and bundled plugins.
//!
//! Installed components are kept in the store by sha256 (`BlobStore`), so every process
//! sharing a store can run them; their records (manifest summary, grants, limit overrides)
//! in the store under `name@version`.
//! Bundled plugins are compiled into the `sluice` binary and always available, granted
//! exactly what they declare. Loaded plugins are kept in memory by digest, so a plugin is
//! compiled (or read from the disk cache) once per process.
//!
//! # State identity
//!
//! A signature names a key, not a plugin, so Sluice cannot tell a new version by the same
//! publisher from a different component reusing a name. A plugin's `state` therefore
//! belongs to the component, not the name: an install starts a namespace named after its
//! sha256, and only the administrator carries state over (`adopt_state`,
//! `--adopt-state NAME@VERSION`).
//! Reinstalling the very same component (same sha256) keeps its namespace. Bundled plugins,
//! which cannot be replaced, and records from before namespaces were tied to components
//! keep their state under the plugin's name.

mod pins;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::signing::Signer;
use super::{
    LimitOverrides, LoadedComponent, LoadedPlugin, PackInfo, PluginHost, PluginHostError,
    PluginKind, digest,
};
use crate::broker::permissions::Grants;
use crate::store::{BlobStore, PluginStore, StateQuota, StateScope, TrustStore};

pub use pins::{Latest, Pin, PinSource, PinState, Pins, SavedPin, Wanted, parse_spec};

/// The bundled components, embedded by the build script: (file name, bytes).
pub static BUNDLED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// What the registry keeps about a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginRecord {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub digest: String,
    /// What the plugin declared it needs.
    pub permissions: Vec<String>,
    /// What the administrator granted (a subset of `permissions`).
    pub grants: Vec<String>,
    #[serde(default)]
    pub limits: LimitOverrides,
    pub bundled: bool,
    /// RFC 3339, UTC; empty for bundled plugins.
    #[serde(default)]
    pub installed_at: String,
    /// Where the plugin's `state` lives and how much it may hold.
    #[serde(default)]
    pub state: StateSettings,
    /// Who signed the component, as checked at install (see `host::signing`).
    #[serde(default)]
    pub signer: Signer,
    /// The pack the plugin came in, which is installed, signed and removed as a unit;
    /// `None` for a component holding one plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInfo>,
}

/// A plugin's state namespace and quota, fixed at install.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSettings {
    /// `sha256:<digest>` of the component whose state this is; empty for bundled plugins
    /// and older records, whose state is kept under the plugin's name.
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub quota: StateQuota,
}

/// What an install does about the plugin's state.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// Quota overrides; unset fields keep [`StateQuota::DEFAULT`].
    pub max_keys: Option<u64>,
    pub max_bytes: Option<u64>,
    /// `NAME` or `NAME@VERSION` of an installed plugin whose state namespace the new one
    /// takes over (both then share it); by default a different component starts empty.
    pub adopt: Option<String>,
}

impl PluginRecord {
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The granted permissions, with `state` bound to this plugin's namespace and quota.
    pub fn grants(&self) -> Grants {
        Grants::new(self.grants.iter().cloned()).with_state_scope(self.state_scope())
    }

    pub fn state_scope(&self) -> StateScope {
        StateScope {
            owner: if self.state.namespace.is_empty() {
                self.name.clone()
            } else {
                self.state.namespace.clone()
            },
            quota: self.state.quota,
        }
    }
}

/// The registry of one data directory.
pub struct Registry {
    host: Arc<PluginHost>,
    store: Arc<dyn PluginStore>,
    blobs: Arc<dyn BlobStore>,
    loaded: Mutex<HashMap<String, LoadedComponent>>,
    bundled: OnceCell<Vec<PluginRecord>>,
    /// The trusted keys and install policy (none: no key is trusted, no policy).
    trust: Option<Arc<dyn TrustStore>>,
    /// Told once when the bundled plugins must be compiled (first use of a data dir or a
    /// new Sluice version): that takes seconds, and a silent pause looks like a hang.
    first_use: Option<Box<dyn Fn(usize) + Send + Sync>>,
    /// Saved workflows' pins (see `pins.rs`); none in a registry without workflows.
    pins: Option<Arc<dyn PinSource>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// Each bundled component with its sha256, hashed once per process.
fn bundled_digests() -> &'static [(String, &'static [u8])] {
    static DIGESTS: std::sync::OnceLock<Vec<(String, &'static [u8])>> = std::sync::OnceLock::new();
    DIGESTS.get_or_init(|| {
        BUNDLED
            .iter()
            .map(|(_, b)| (super::digest(b), *b))
            .collect()
    })
}

/// Refuses a grant the plugin `id` does not declare: nothing is granted beyond what the
/// administrator reviewed.
fn declared_only(id: &str, declared: &[String], grants: &[String]) -> Result<(), PluginHostError> {
    match grants.iter().find(|g| !declared.contains(g)) {
        None => Ok(()),
        Some(g) => Err(not_declared(id.to_owned(), g, declared)),
    }
}

impl Registry {
    /// `store` keeps installed plugins' records, `blobs` their components (usually both
    /// are the one store of a data dir).
    pub fn new(
        host: Arc<PluginHost>,
        store: Arc<dyn PluginStore>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        Self {
            host,
            store,
            blobs,
            loaded: Mutex::new(HashMap::new()),
            bundled: OnceCell::new(),
            trust: None,
            first_use: None,
            pins: None,
        }
    }

    /// Checks signatures at install against the trusted keys of `trust`, under its policy.
    pub fn with_trust(mut self, trust: Arc<dyn TrustStore>) -> Self {
        self.trust = Some(trust);
        self
    }

    /// Who signed `bytes` under this registry's trusted keys (see `host::trust::admit`).
    pub fn signer(&self, label: &str, bytes: &[u8]) -> Result<Signer, PluginHostError> {
        super::trust::admit(self.trust.as_deref(), label, bytes, false)
    }

    /// Calls `notice` with the number of bundled plugins about to be compiled, when any
    /// are not in the compile cache yet.
    pub fn on_first_use(mut self, notice: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.first_use = Some(Box::new(notice));
        self
    }

    pub fn host(&self) -> &Arc<PluginHost> {
        &self.host
    }

    /// Loads a component: one plugin or a pack (memoized by digest).
    pub async fn load_component(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<LoadedComponent, PluginHostError> {
        let d = digest(bytes);
        if let Some(c) = self.lock().get(&d) {
            return Ok(c.clone());
        }
        let component = self.host.load(label, bytes).await?;
        self.lock().insert(d, component.clone());
        Ok(component)
    }

    /// Loads a component holding one plugin, or the plugin `member` of a pack: a file
    /// names one plugin only when it holds one, so a pack without `member` is refused with
    /// the names of its plugins.
    pub async fn load_bytes(
        &self,
        label: &str,
        bytes: &[u8],
        member: Option<&str>,
    ) -> Result<LoadedPlugin, PluginHostError> {
        let c = self.load_component(label, bytes).await?;
        match (member, c.plugins.as_slice()) {
            (None, [one]) if c.pack.is_none() => Ok(one.clone()),
            (Some(name), _) => c
                .plugin(name)
                .cloned()
                .ok_or_else(|| PluginHostError::NotInPack {
                    component: format!("{label} ({})", c.describe()),
                    plugin: name.to_owned(),
                    plugins: names(&c),
                }),
            (None, _) => Err(PluginHostError::IsPack {
                component: format!("{label} ({})", c.describe()),
                plugins: names(&c),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LoadedComponent>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn bundled(&self) -> Result<&Vec<PluginRecord>, PluginHostError> {
        self.bundled
            .get_or_try_init(|| async {
                if let Some(notice) = &self.first_use {
                    let uncached = bundled_digests()
                        .iter()
                        .filter(|(d, _)| !self.host.is_cached(d))
                        .count();
                    if uncached > 0 {
                        notice(uncached);
                    }
                }
                let mut records = Vec::new();
                for (file, bytes) in BUNDLED {
                    // Loaded for the manifests only and dropped: the ones steps use are
                    // loaded (and kept) by `resolve`.
                    let c = self.host.load(file, bytes).await?;
                    for p in &c.plugins {
                        let m = &p.manifest;
                        records.push(PluginRecord {
                            name: m.name.clone(),
                            version: m.version.clone(),
                            kind: m.kind,
                            description: m.description.clone(),
                            digest: c.digest.clone(),
                            permissions: m.permissions.clone(),
                            grants: m.permissions.clone(),
                            limits: LimitOverrides::default(),
                            bundled: true,
                            installed_at: String::new(),
                            state: StateSettings::default(),
                            signer: Signer::Bundled,
                            pack: c.pack.as_deref().cloned(),
                        });
                    }
                }
                Ok(records)
            })
            .await
    }

    fn bundled_bytes(digest: &str) -> Option<&'static [u8]> {
        bundled_digests()
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, b)| *b)
    }

    /// Installs a component with the given grants. Refuses a grant the plugin did not
    /// declare, a name that a bundled plugin uses, and anything that does not load; in each
    /// case nothing is stored.
    ///
    /// Installing a `name@version` that is already installed is refused unless `replace`
    /// is set; replacing keeps nothing of the old record (grants and limits are the new
    /// ones) but its state, when the component is the same one (see the module's notes).
    pub async fn install(
        &self,
        label: &str,
        bytes: &[u8],
        grants: &[String],
        limits: LimitOverrides,
        replace: bool,
        state: StateOptions,
    ) -> Result<Vec<PluginRecord>, PluginHostError> {
        self.install_with(label, bytes, grants, limits, replace, state, false)
            .await
    }

    /// [`Self::install`], first checking the component's signature: a signature that does
    /// not verify is refused; with `require_signature` (or the data dir's standing policy)
    /// so is a component not signed by a trusted key. Nothing is stored on a refusal.
    ///
    /// A pack is installed as a unit: one record per plugin (returned in the pack's order),
    /// each granted what `grants` gives it (see [`grants_per_plugin`]). Replacing a pack
    /// version also removes the plugins the new component no longer holds.
    #[allow(clippy::too_many_arguments)]
    pub async fn install_with(
        &self,
        label: &str,
        bytes: &[u8],
        grants: &[String],
        limits: LimitOverrides,
        replace: bool,
        state: StateOptions,
        require_signature: bool,
    ) -> Result<Vec<PluginRecord>, PluginHostError> {
        let signer = super::trust::admit(self.trust.as_deref(), label, bytes, require_signature)?;
        let component = self.load_component(label, bytes).await?;
        let bundled = self.bundled().await?;
        let installed = self.installed()?;
        let pack_id = component.pack.as_ref().map(|p| p.id());
        for p in &component.plugins {
            if bundled.iter().any(|b| b.name == p.manifest.name) {
                return Err(PluginHostError::Bundled(p.manifest.name.clone()));
            }
        }
        check_names(&component, bundled.iter().chain(&installed))?;
        let granted = grants_per_plugin(&component, grants)?;
        // What this install replaces: the same ids, and a pack's plugins it no longer holds.
        let replaced: Vec<&PluginRecord> = installed
            .iter()
            .filter(|r| {
                component
                    .plugin(&r.name)
                    .is_some_and(|p| p.manifest.version == r.version)
                    || (pack_id.is_some() && r.pack.as_ref().map(PackInfo::id) == pack_id)
            })
            .collect();
        if !replace && let Some(r) = replaced.first() {
            return Err(PluginHostError::AlreadyInstalled(match &r.pack {
                Some(p) if component.pack.is_some() => p.id(),
                _ => r.id(),
            }));
        }
        let dropped: Vec<&PluginRecord> = replaced
            .iter()
            .copied()
            .filter(|r| {
                component
                    .plugin(&r.name)
                    .is_none_or(|p| p.manifest.version != r.version)
            })
            .collect();
        for r in &dropped {
            self.check_unpinned(r)?;
        }
        let adopted = self.adopted(&component, &installed, state.adopt.as_deref())?;
        let quota = StateQuota {
            max_keys: state.max_keys.unwrap_or(StateQuota::DEFAULT.max_keys),
            max_bytes: state.max_bytes.unwrap_or(StateQuota::DEFAULT.max_bytes),
        };
        let installed_at =
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let records: Vec<PluginRecord> = component
            .plugins
            .iter()
            .zip(granted)
            .zip(adopted)
            .map(|((p, grants), adopted)| {
                let m = &p.manifest;
                let previous = replaced.iter().find(|r| r.id() == m.id());
                let namespace = match (adopted, previous) {
                    (Some(owner), _) => owner,
                    (None, Some(r)) if r.digest == component.digest => r.state_scope().owner,
                    (None, _) if component.pack.is_some() => {
                        format!("sha256:{}/{}", component.digest, m.name)
                    }
                    (None, _) => format!("sha256:{}", component.digest),
                };
                PluginRecord {
                    name: m.name.clone(),
                    version: m.version.clone(),
                    kind: m.kind,
                    description: m.description.clone(),
                    digest: component.digest.clone(),
                    permissions: m.permissions.clone(),
                    grants,
                    limits: limits.clone(),
                    bundled: false,
                    installed_at: installed_at.clone(),
                    state: StateSettings { namespace, quota },
                    signer: signer.clone(),
                    pack: component.pack.as_deref().cloned(),
                }
            })
            .collect();
        // The component first (a record never names a missing one); (re)written unless
        // the store already holds exactly these bytes.
        if self.blobs.blob_get(&component.digest)?.as_deref() != Some(bytes) {
            self.blobs.blob_put(&component.digest, bytes)?;
        }
        self.put_all(&records)?;
        for r in &dropped {
            self.store.plugin_remove(&r.id())?;
        }
        let mut old: Vec<&str> = replaced.iter().map(|r| r.digest.as_str()).collect();
        old.sort();
        old.dedup();
        for d in old.into_iter().filter(|d| *d != component.digest) {
            self.remove_blob_if_unused(d)?;
        }
        Ok(records)
    }

    /// Writes every record of one install, or none: on a failure the ones written are
    /// taken back, so a pack is never installed in part.
    fn put_all(&self, records: &[PluginRecord]) -> Result<(), PluginHostError> {
        let mut written: Vec<String> = Vec::new();
        for r in records {
            let json = serde_json::to_value(r).map_err(|e| PluginHostError::Io(e.to_string()));
            let put = json.and_then(|j| Ok(self.store.plugin_put(&r.id(), &j)?));
            if let Err(e) = put {
                for id in &written {
                    let _ = self.store.plugin_remove(id);
                }
                return Err(e);
            }
            written.push(r.id());
        }
        Ok(())
    }

    /// The state namespace each plugin of `component` takes over, if any: `adopt` names
    /// an installed plugin (`NAME` or `NAME@VERSION`) for one plugin, an installed pack for
    /// a pack — each of its plugins then takes over its namesake's, and a plugin the old
    /// pack did not have starts empty.
    fn adopted(
        &self,
        component: &LoadedComponent,
        installed: &[PluginRecord],
        adopt: Option<&str>,
    ) -> Result<Vec<Option<String>>, PluginHostError> {
        let Some(spec) = adopt else {
            return Ok(vec![None; component.plugins.len()]);
        };
        if component.pack.is_none() {
            let owner = newest(installed, spec)
                .ok_or_else(|| PluginHostError::NotFound(spec.to_owned()))?
                .state_scope()
                .owner;
            return Ok(vec![Some(owner)]);
        }
        let pack = newest_pack(installed, spec)
            .ok_or_else(|| PluginHostError::NotFound(format!("pack {spec}")))?;
        Ok(component
            .plugins
            .iter()
            .map(|p| {
                installed
                    .iter()
                    .find(|r| r.pack.as_ref() == Some(&pack) && r.name == p.manifest.name)
                    .map(|r| r.state_scope().owner)
            })
            .collect())
    }

    /// Changes what the installed plugin `id` (`name@version`) is granted, without its
    /// component (so a permission review needs one upload: install with nothing granted,
    /// review what it declares, then grant). Each grant must be one it declares, as at
    /// install; with `digest`, the installed component must still be that one, so grants
    /// never reach a component other than the one reviewed. Nothing changes on a refusal.
    pub async fn set_grants(
        &self,
        id: &str,
        grants: &[String],
        digest: Option<&str>,
    ) -> Result<PluginRecord, PluginHostError> {
        let Some((name, _)) = id.split_once('@') else {
            let example = match self.find(id).await {
                Ok(r) if !r.bundled => r.id(),
                _ => format!("{id}@1.0.0"),
            };
            return Err(PluginHostError::NeedsVersion(example));
        };
        if self.bundled().await?.iter().any(|b| b.name == name) {
            return Err(PluginHostError::BundledGrants(id.to_owned()));
        }
        let mut record = self
            .installed()?
            .into_iter()
            .find(|r| r.id() == id)
            .ok_or_else(|| PluginHostError::NotFound(id.to_owned()))?;
        if let Some(expected) = digest
            && expected != record.digest
        {
            return Err(PluginHostError::Changed {
                plugin: id.to_owned(),
                expected: expected.to_owned(),
                found: record.digest.clone(),
            });
        }
        declared_only(id, &record.permissions, grants)?;
        let mut granted = grants.to_vec();
        granted.sort();
        granted.dedup();
        record.grants = granted;
        let json = serde_json::to_value(&record).map_err(|e| PluginHostError::Io(e.to_string()))?;
        self.store.plugin_put(id, &json)?;
        Ok(record)
    }

    /// Bundled plugins first, then installed ones, each sorted by name and version.
    pub async fn list(&self) -> Result<Vec<PluginRecord>, PluginHostError> {
        let mut out = self.bundled().await?.clone();
        let mut installed = self.installed()?;
        installed
            .sort_by(|a, b| (&a.name, version(&a.version)).cmp(&(&b.name, version(&b.version))));
        out.extend(installed);
        Ok(out)
    }

    fn installed(&self) -> Result<Vec<PluginRecord>, PluginHostError> {
        self.store
            .plugin_list()?
            .into_iter()
            .map(|v| {
                serde_json::from_value::<PluginRecord>(v)
                    .map_err(|e| PluginHostError::Io(format!("unreadable plugin record: {e}")))
            })
            .collect()
    }

    /// The record for `name` (highest version) or `name@version`.
    pub async fn find(&self, spec: &str) -> Result<PluginRecord, PluginHostError> {
        let (name, wanted) = match spec.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (spec, None),
        };
        let wanted =
            |r: &PluginRecord| r.name == name && wanted.is_none_or(|v| pins::matches(r, v));
        // Bundled records by reference (cloning all of them was a tenth of a short run's
        // CPU); an installed plugin wins a tie, as in `list`'s order.
        let bundled = self.bundled().await?.iter().filter(|r| wanted(r));
        let bundled = bundled.max_by_key(|r| version(&r.version)).cloned();
        let installed = self.installed()?.into_iter().filter(|r| wanted(r));
        let installed = installed.max_by_key(|r| version(&r.version));
        match (bundled, installed) {
            (Some(b), Some(i)) if version(&b.version) > version(&i.version) => Ok(b),
            (_, Some(i)) => Ok(i),
            (Some(b), None) => Ok(b),
            (None, None) => Err(PluginHostError::NotFound(spec.to_owned())),
        }
    }

    /// The record and the loaded plugin for a spec.
    pub async fn resolve(
        &self,
        spec: &str,
    ) -> Result<(PluginRecord, LoadedPlugin), PluginHostError> {
        let record = self.find(spec).await?;
        let plugin = self.load_record(&record).await?;
        Ok((record, plugin))
    }

    /// The loaded plugin of a record (its component is the record's digest).
    async fn load_record(&self, record: &PluginRecord) -> Result<LoadedPlugin, PluginHostError> {
        // Loaded once per process, keyed by the digest checked when it was loaded: resolving
        // again hashes nothing (hashing every bundled component per step was most of a
        // provisioning run's CPU).
        let cached = self.lock().get(&record.digest).cloned();
        let component = match cached {
            Some(c) => c,
            None => self.load_record_component(record).await?,
        };
        component.plugin(&record.name).cloned().ok_or_else(|| {
            PluginHostError::Io(format!(
                "the component sha256:{} holds no plugin `{}` ({}); reinstall it",
                record.digest,
                record.name,
                component.describe()
            ))
        })
    }

    async fn load_record_component(
        &self,
        record: &PluginRecord,
    ) -> Result<LoadedComponent, PluginHostError> {
        let plugin = match Self::bundled_bytes(&record.digest) {
            Some(bytes) if record.bundled => self.load_component(&record.id(), bytes).await?,
            _ => {
                let bytes = self.blobs.blob_get(&record.digest)?.ok_or_else(|| {
                    PluginHostError::Io(format!(
                        "the component of {} (sha256 {}) is missing from the store; \
                         reinstall the plugin",
                        record.id(),
                        record.digest
                    ))
                })?;
                if digest(&bytes) != record.digest {
                    return Err(PluginHostError::Io(format!(
                        "the stored component of {} does not match its recorded sha256 {}; \
                         reinstall the plugin",
                        record.id(),
                        record.digest
                    )));
                }
                self.load_component(&record.id(), &bytes).await?
            }
        };
        Ok(plugin)
    }

    /// Removes `name@version`; the component goes when no record uses it and no saved
    /// workflow pins it. Refused while an enabled saved workflow pins it, unless `force`.
    pub async fn remove(&self, id: &str, force: bool) -> Result<PluginRecord, PluginHostError> {
        let Some((name, _)) = id.split_once('@') else {
            // Suggest the version that is installed, when there is one.
            let example = match self.find(id).await {
                Ok(r) if !r.bundled => r.id(),
                _ => format!("{id}@1.0.0"),
            };
            return Err(PluginHostError::NeedsVersion(example));
        };
        if self.bundled().await?.iter().any(|b| b.name == name) {
            return Err(PluginHostError::Bundled(id.to_owned()));
        }
        let record = self
            .installed()?
            .into_iter()
            .find(|r| r.id() == id)
            .ok_or_else(|| PluginHostError::NotFound(id.to_owned()))?;
        if let Some(pack) = &record.pack {
            return Err(PluginHostError::InPack {
                plugin: id.to_owned(),
                pack: pack.id(),
            });
        }
        if !force {
            self.check_unpinned(&record)?;
        }
        self.store.plugin_remove(id)?;
        self.remove_blob_if_unused(&record.digest)?;
        Ok(record)
    }

    /// The pack `spec` names (`NAME`, its newest version, or `NAME@VERSION`) with its
    /// plugins' records, installed or bundled; `None` when no pack has that name.
    pub async fn find_pack(
        &self,
        spec: &str,
    ) -> Result<Option<(PackInfo, Vec<PluginRecord>)>, PluginHostError> {
        let mut all = self.bundled().await?.clone();
        all.extend(self.installed()?);
        let Some(pack) = newest_pack(&all, spec) else {
            return Ok(None);
        };
        let members = all
            .into_iter()
            .filter(|r| r.pack.as_ref() == Some(&pack))
            .collect();
        Ok(Some((pack, members)))
    }

    /// Removes the installed pack `id` (`name@version`) as a unit: every plugin of it, then
    /// its component unless something else uses it. Refused while an enabled saved workflow
    /// pins one of its plugins, unless `force`; nothing is removed on a refusal.
    pub async fn remove_pack(
        &self,
        id: &str,
        force: bool,
    ) -> Result<(PackInfo, Vec<PluginRecord>), PluginHostError> {
        if !id.contains('@') {
            let example = match self.find_pack(id).await? {
                Some((p, m)) if !m.iter().any(|r| r.bundled) => p.id(),
                _ => format!("{id}@1.0.0"),
            };
            return Err(PluginHostError::NeedsVersion(example));
        }
        let Some((pack, members)) = self.find_pack(id).await? else {
            return Err(PluginHostError::NotFound(id.to_owned()));
        };
        if pack.id() != id {
            return Err(PluginHostError::NotFound(id.to_owned()));
        }
        if members.iter().any(|r| r.bundled) {
            return Err(PluginHostError::Bundled(id.to_owned()));
        }
        if !force {
            for r in &members {
                self.check_unpinned(r)?;
            }
        }
        for r in &members {
            self.store.plugin_remove(&r.id())?;
        }
        let mut digests: Vec<&str> = members.iter().map(|r| r.digest.as_str()).collect();
        digests.dedup();
        for d in digests {
            self.remove_blob_if_unused(d)?;
        }
        Ok((pack, members))
    }

    fn remove_blob_if_unused(&self, digest: &str) -> Result<(), PluginHostError> {
        if self.installed()?.iter().any(|r| r.digest == digest) || self.is_pinned(digest)? {
            return Ok(());
        }
        self.blobs.blob_remove(digest)?;
        Ok(())
    }
}

/// The names of a component's plugins, for messages.
fn names(c: &LoadedComponent) -> Vec<String> {
    c.plugins.iter().map(|p| p.manifest.name.clone()).collect()
}

/// Names are shared by plugins and packs (`plugin inspect NAME`, `plugin remove
/// NAME@VERSION` take either): refuses a pack named like a plugin, or a plugin named like
/// a pack, among `others` and the component itself.
fn check_names<'a>(
    c: &LoadedComponent,
    others: impl Iterator<Item = &'a PluginRecord> + Clone,
) -> Result<(), PluginHostError> {
    if let Some(pack) = &c.pack
        && let Some(r) = others.clone().find(|r| r.name == pack.name)
    {
        return Err(PluginHostError::NameTaken {
            name: pack.name.clone(),
            by: format!("plugin {}", r.id()),
        });
    }
    for p in &c.plugins {
        let pack = others
            .clone()
            .filter_map(|r| r.pack.as_ref())
            .find(|pack| pack.name == p.manifest.name);
        if let Some(pack) = pack {
            return Err(PluginHostError::NameTaken {
                name: p.manifest.name.clone(),
                by: format!("pack {}", pack.id()),
            });
        }
    }
    Ok(())
}

/// Each plugin's grants, in the component's order, from an install's: `PERM` is granted to
/// every plugin of the component that declares it, `PLUGIN=PERM` to that plugin alone. A
/// grant no plugin it goes to declares is refused: nothing is granted beyond what was
/// reviewed, and a pack's plugins never get each other's permissions.
pub fn grants_per_plugin(
    c: &LoadedComponent,
    grants: &[String],
) -> Result<Vec<Vec<String>>, PluginHostError> {
    let mut out = vec![Vec::new(); c.plugins.len()];
    for g in grants {
        let (only, perm) = match g.split_once('=') {
            Some((plugin, perm)) => (Some(plugin), perm),
            None => (None, g.as_str()),
        };
        let mut given = false;
        for (p, granted) in c.plugins.iter().zip(out.iter_mut()) {
            let m = &p.manifest;
            if only.is_some_and(|o| o != m.name) || !m.permissions.iter().any(|d| d == perm) {
                continue;
            }
            granted.push(perm.to_owned());
            given = true;
        }
        if given {
            continue;
        }
        let err = match (only, c.plugins.as_slice()) {
            (Some(name), _) if c.plugin(name).is_none() => PluginHostError::NotInPack {
                component: c.describe(),
                plugin: name.to_owned(),
                plugins: names(c),
            },
            (Some(name), _) => {
                let m = &c.plugin(name).map(|p| p.manifest.clone());
                let declared = m
                    .as_ref()
                    .map(|m| m.permissions.clone())
                    .unwrap_or_default();
                not_declared(m.as_ref().map_or(name.to_owned(), |m| m.id()), g, &declared)
            }
            (None, [one]) if c.pack.is_none() => {
                not_declared(one.manifest.id(), g, &one.manifest.permissions)
            }
            (None, _) => {
                let mut declared: Vec<String> = c
                    .plugins
                    .iter()
                    .flat_map(|p| p.manifest.permissions.iter().cloned())
                    .collect();
                declared.sort();
                declared.dedup();
                not_declared(c.describe(), g, &declared)
            }
        };
        return Err(err);
    }
    for granted in &mut out {
        granted.sort();
        granted.dedup();
    }
    Ok(out)
}

fn not_declared(plugin: String, grant: &str, declared: &[String]) -> PluginHostError {
    PluginHostError::GrantNotDeclared {
        plugin,
        grant: grant.to_owned(),
        declared: if declared.is_empty() {
            "nothing".into()
        } else {
            declared.join(", ")
        },
    }
}

/// The pack `spec` names among `records`: `name@version`, or the highest version of `name`.
fn newest_pack(records: &[PluginRecord], spec: &str) -> Option<PackInfo> {
    let (name, wanted) = match spec.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    };
    records
        .iter()
        .filter_map(|r| r.pack.as_ref())
        .filter(|p| p.name == name && wanted.is_none_or(|v| p.version == v))
        .max_by_key(|p| version(&p.version))
        .cloned()
}

/// The installed record `spec` names: `name@version`, or the highest version of `name`.
fn newest<'a>(installed: &'a [PluginRecord], spec: &str) -> Option<&'a PluginRecord> {
    let (name, wanted) = match spec.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    };
    installed
        .iter()
        .filter(|r| r.name == name && wanted.is_none_or(|v| r.version == v))
        .max_by_key(|r| version(&r.version))
}

fn version(v: &str) -> semver::Version {
    semver::Version::parse(v).unwrap_or_else(|_| semver::Version::new(0, 0, 0))
}
