//! Installed and bundled plugins.
//!
//! Installed components are stored by sha256 in `<data-dir>/plugins/<digest>.wasm`; their
//! records (manifest summary, grants, limit overrides) in the store under `name@version`.
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
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::signing::Signer;
use super::{LimitOverrides, LoadedPlugin, PluginHost, PluginHostError, PluginKind, digest};
use crate::broker::permissions::Grants;
use crate::store::{PluginStore, StateQuota, StateScope, TrustStore};

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
    blobs: PathBuf,
    loaded: Mutex<HashMap<String, LoadedPlugin>>,
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
        f.debug_struct("Registry")
            .field("blobs", &self.blobs)
            .finish_non_exhaustive()
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
        Some(g) => Err(PluginHostError::GrantNotDeclared {
            plugin: id.to_owned(),
            grant: g.clone(),
            declared: if declared.is_empty() {
                "nothing".into()
            } else {
                declared.join(", ")
            },
        }),
    }
}

fn io(context: &str, path: &Path, e: std::io::Error) -> PluginHostError {
    PluginHostError::Io(format!("{context} {}: {e}", path.display()))
}

impl Registry {
    /// `blobs` is where installed components are kept (`<data-dir>/plugins`).
    pub fn new(host: Arc<PluginHost>, store: Arc<dyn PluginStore>, blobs: PathBuf) -> Self {
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

    /// Loads a component (memoized by digest).
    pub async fn load_bytes(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<LoadedPlugin, PluginHostError> {
        let d = digest(bytes);
        if let Some(p) = self.lock().get(&d) {
            return Ok(p.clone());
        }
        let plugin = self.host.load(label, bytes).await?;
        self.lock().insert(d, plugin.clone());
        Ok(plugin)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LoadedPlugin>> {
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
                    // Loaded for its manifest only and dropped: keeping all 50 compiled
                    // components resident cost ~150 MiB; the ones steps use are loaded
                    // (and kept) by `resolve`.
                    let p = self.host.load(file, bytes).await?;
                    let m = &p.manifest;
                    records.push(PluginRecord {
                        name: m.name.clone(),
                        version: m.version.clone(),
                        kind: m.kind,
                        description: m.description.clone(),
                        digest: p.digest.clone(),
                        permissions: m.permissions.clone(),
                        grants: m.permissions.clone(),
                        limits: LimitOverrides::default(),
                        bundled: true,
                        installed_at: String::new(),
                        state: StateSettings::default(),
                        signer: Signer::Bundled,
                    });
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
    ) -> Result<PluginRecord, PluginHostError> {
        self.install_with(label, bytes, grants, limits, replace, state, false)
            .await
    }

    /// [`Self::install`], first checking the component's signature: a signature that does
    /// not verify is refused; with `require_signature` (or the data dir's standing policy)
    /// so is a component not signed by a trusted key. Nothing is stored on a refusal.
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
    ) -> Result<PluginRecord, PluginHostError> {
        let signer = super::trust::admit(self.trust.as_deref(), label, bytes, require_signature)?;
        let plugin = self.load_bytes(label, bytes).await?;
        let m = &plugin.manifest;
        if self.bundled().await?.iter().any(|b| b.name == m.name) {
            return Err(PluginHostError::Bundled(m.name.clone()));
        }
        declared_only(&m.id(), &m.permissions, grants)?;
        let installed = self.installed()?;
        let previous = installed.iter().find(|r| r.id() == m.id()).cloned();
        if previous.is_some() && !replace {
            return Err(PluginHostError::AlreadyInstalled(m.id()));
        }
        let namespace = match &state.adopt {
            Some(spec) => {
                newest(&installed, spec)
                    .ok_or_else(|| PluginHostError::NotFound(spec.clone()))?
                    .state_scope()
                    .owner
            }
            None => match &previous {
                Some(p) if p.digest == plugin.digest => p.state_scope().owner,
                _ => format!("sha256:{}", plugin.digest),
            },
        };
        let quota = StateQuota {
            max_keys: state.max_keys.unwrap_or(StateQuota::DEFAULT.max_keys),
            max_bytes: state.max_bytes.unwrap_or(StateQuota::DEFAULT.max_bytes),
        };
        let mut granted = grants.to_vec();
        granted.sort();
        granted.dedup();
        let record = PluginRecord {
            name: m.name.clone(),
            version: m.version.clone(),
            kind: m.kind,
            description: m.description.clone(),
            digest: plugin.digest.clone(),
            permissions: m.permissions.clone(),
            grants: granted,
            limits,
            bundled: false,
            installed_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
            state: StateSettings { namespace, quota },
            signer,
        };
        let path = self.blobs.join(format!("{}.wasm", plugin.digest));
        // (Re)write the file unless it already holds exactly these bytes.
        let intact = std::fs::read(&path).is_ok_and(|on_disk| on_disk == bytes);
        if !intact {
            create_private_dir(&self.blobs).map_err(|e| io("cannot create", &self.blobs, e))?;
            let tmp = path.with_extension("tmp");
            write_private(&tmp, bytes).map_err(|e| io("cannot write", &tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io("cannot write", &path, e))?;
        }
        let json = serde_json::to_value(&record).map_err(|e| PluginHostError::Io(e.to_string()))?;
        self.store.plugin_put(&record.id(), &json)?;
        if let Some(old) = previous
            && old.digest != record.digest
        {
            self.remove_blob_if_unused(&old.digest)?;
        }
        Ok(record)
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
        if let Some(p) = self.lock().get(&record.digest).cloned() {
            return Ok(p);
        }
        let plugin = match Self::bundled_bytes(&record.digest) {
            Some(bytes) if record.bundled => self.load_bytes(&record.id(), bytes).await?,
            _ => {
                let path = self.blobs.join(format!("{}.wasm", record.digest));
                let bytes = std::fs::read(&path).map_err(|e| io("cannot read", &path, e))?;
                if digest(&bytes) != record.digest {
                    return Err(PluginHostError::Io(format!(
                        "{} does not match its recorded sha256 {}; reinstall the plugin",
                        path.display(),
                        record.digest
                    )));
                }
                self.load_bytes(&record.id(), &bytes).await?
            }
        };
        Ok(plugin)
    }

    /// Removes `name@version`; the component file goes when no record uses it and no saved
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
        if !force {
            self.check_unpinned(&record)?;
        }
        self.store.plugin_remove(id)?;
        self.remove_blob_if_unused(&record.digest)?;
        Ok(record)
    }

    fn remove_blob_if_unused(&self, digest: &str) -> Result<(), PluginHostError> {
        if self.installed()?.iter().any(|r| r.digest == digest) || self.is_pinned(digest)? {
            return Ok(());
        }
        let path = self.blobs.join(format!("{digest}.wasm"));
        std::fs::remove_file(&path).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(io("cannot remove", &path, e)),
        })
    }
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

/// Creates `dir` (and its parents) for the owner only: installed components are part of
/// the private data dir.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Writes a file readable and writable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    std::io::Write::write_all(&mut o.open(path)?, bytes)
}

fn version(v: &str) -> semver::Version {
    semver::Version::parse(v).unwrap_or_else(|_| semver::Version::new(0, 0, 0))
}
