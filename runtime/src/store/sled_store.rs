//! The sled implementation of the store traits.

use std::path::Path;

use super::group_commit::{Flush, GroupCommit};
use super::{
    BlobStore, Commit, PluginStore, RunStore, ServiceStore, StateNamespace, StateQuota, StateStore,
    Store, StoreError, TrustStore,
};

/// The embedded store: one sled database in `<data-dir>/store`.
#[derive(Debug, Clone)]
pub struct SledStore {
    commits: std::sync::Arc<GroupCommit>,
    db: sled::Db,
    state: sled::Tree,
    /// Per state owner: its key count and bytes (two big-endian u64).
    state_usage: sled::Tree,
    plugins: sled::Tree,
    /// Installed plugins' components, by sha256 (hex).
    components: sled::Tree,
    runs: sled::Tree,
    journal: sled::Tree,
    /// Write-only run input (passwords, tokens) by run id, kept only while the run is
    /// unfinished; run records hold the redacted input.
    run_inputs: sled::Tree,
    /// The embedded JumpCloud simulator's directory (the tree keeps its first name).
    simulator: sled::Tree,
    secrets: sled::Tree,
    connectors: sled::Tree,
    roles: sled::Tree,
    workflows: sled::Tree,
    versions: sled::Tree,
    tokens: sled::Tree,
    audit: sled::Tree,
    triggers: sled::Tree,
    fires: sled::Tree,
    /// `at (8 bytes, big-endian) ++ fire key`: when fire keys are forgotten.
    fire_expiry: sled::Tree,
    /// Keys trusted to sign plugins, by name.
    trusted_keys: sled::Tree,
    /// Standing settings of the data dir (the install policy), by key.
    settings: sled::Tree,
}

/// sled's page cache size.
const CACHE_BYTES: u64 = 64 << 20;

fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. A directory held by another process gives
    /// [`StoreError::Locked`], not sled's raw error.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        // sled's page cache defaults to 1 GiB; the working set of runs and journals is far
        // smaller, and the service's memory is a figure admins watch.
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match &e {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("could not acquire lock") =>
                {
                    StoreError::Locked(dir.display().to_string())
                }
                _ => backend(e),
            })?;
        Self::from_db(db)
    }

    /// A throwaway in-memory store (tests, benchmarks).
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(
            sled::Config::new()
                .temporary(true)
                .open()
                .map_err(backend)?,
        )
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        Ok(Self {
            commits: Default::default(),
            state: db.open_tree("state").map_err(backend)?,
            state_usage: db.open_tree("state_usage").map_err(backend)?,
            plugins: db.open_tree("plugins").map_err(backend)?,
            components: db.open_tree("components").map_err(backend)?,
            runs: db.open_tree("runs").map_err(backend)?,
            journal: db.open_tree("journal").map_err(backend)?,
            run_inputs: db.open_tree("run_inputs").map_err(backend)?,
            // The tree keeps its first name, so data dirs made before the rename still open.
            simulator: db.open_tree("sandbox").map_err(backend)?,
            secrets: db.open_tree("secrets").map_err(backend)?,
            connectors: db.open_tree("connectors").map_err(backend)?,
            roles: db.open_tree("roles").map_err(backend)?,
            workflows: db.open_tree("workflows").map_err(backend)?,
            versions: db.open_tree("workflow_versions").map_err(backend)?,
            tokens: db.open_tree("tokens").map_err(backend)?,
            audit: db.open_tree("audit").map_err(backend)?,
            triggers: db.open_tree("triggers").map_err(backend)?,
            fires: db.open_tree("fires").map_err(backend)?,
            fire_expiry: db.open_tree("fire_expiry").map_err(backend)?,
            trusted_keys: db.open_tree("trusted_keys").map_err(backend)?,
            settings: db.open_tree("settings").map_err(backend)?,
            db,
        })
    }

    fn next_id(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(backend)
    }
}

/// Durability: a flush writes sled's log to disk; commits share flushes (group commit).
impl Store for SledStore {
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(backend)
    }

    fn commit(&self) -> Commit<'_> {
        Box::pin(self.commits.commit(&self.db))
    }

    fn commit_soon(&self) {
        self.commits.commit_soon(&self.db);
    }

    /// One process holds a sled store: a cluster of one.
    fn cluster(
        &self,
        node: &str,
        _lease: std::time::Duration,
    ) -> std::sync::Arc<dyn super::Cluster> {
        std::sync::Arc::new(super::cluster::SingleNode::new(node))
    }
}

impl Flush for sled::Db {
    fn flush_to_disk(&self) -> Result<(), StoreError> {
        sled::Tree::flush(self).map(|_| ()).map_err(backend)
    }
}

/// `workflow \0 owner \0 key`: the separator cannot occur in workflow names or owners, so
/// namespaces never overlap.
fn state_key(ns: &StateNamespace, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(ns.workflow.len() + ns.owner.len() + key.len() + 2);
    k.extend_from_slice(ns.workflow.as_bytes());
    k.push(0);
    k.extend_from_slice(ns.owner.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

/// An owner's key count and bytes (keys plus values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Usage {
    keys: u64,
    bytes: u64,
}

impl Usage {
    fn decode(v: Option<&[u8]>) -> Usage {
        match v {
            Some(b) if b.len() == 16 => Usage {
                keys: u64::from_be_bytes(b[..8].try_into().unwrap_or_default()),
                bytes: u64::from_be_bytes(b[8..].try_into().unwrap_or_default()),
            },
            _ => Usage::default(),
        }
    }

    fn encode(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&self.keys.to_be_bytes());
        b[8..].copy_from_slice(&self.bytes.to_be_bytes());
        b
    }
}

type Tx = sled::transaction::ConflictableTransactionError<StoreError>;

fn tx_error(e: sled::transaction::TransactionError<StoreError>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => backend(e),
    }
}

impl SledStore {
    /// Makes sure `owner` has a usage record. State written before usage was counted is
    /// counted once, by a scan; every later write keeps the record up to date itself.
    fn ensure_usage(&self, owner: &str) -> Result<(), StoreError> {
        if self.state_usage.contains_key(owner).map_err(backend)? {
            return Ok(());
        }
        let mut usage = Usage::default();
        for kv in self.state.iter() {
            let (k, v) = kv.map_err(backend)?;
            let mut parts = k.splitn(3, |b| *b == 0);
            let (_, o, key) = (parts.next(), parts.next(), parts.next());
            if let (Some(o), Some(key)) = (o, key)
                && o == owner.as_bytes()
            {
                usage.keys += 1;
                usage.bytes += (key.len() + v.len()) as u64;
            }
        }
        // Another writer may have created it meanwhile: then theirs stands (no write can
        // happen before a record exists, so both counted the same state).
        let _ = self
            .state_usage
            .compare_and_swap(owner, None as Option<&[u8]>, Some(&usage.encode()[..]))
            .map_err(backend)?;
        Ok(())
    }
}

impl StateStore for SledStore {
    fn state_get(&self, ns: &StateNamespace, key: &str) -> Result<Option<String>, StoreError> {
        let k = state_key(ns, key);
        match self.state.get(&k).map_err(backend)? {
            None => Ok(None),
            Some(v) => String::from_utf8(v.to_vec())
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    key: String::from_utf8_lossy(&k).into_owned(),
                    reason: e.to_string(),
                }),
        }
    }

    fn state_set(
        &self,
        ns: &StateNamespace,
        key: &str,
        value: &str,
        quota: StateQuota,
    ) -> Result<(), StoreError> {
        use sled::Transactional as _;
        self.ensure_usage(&ns.owner)?;
        let k = state_key(ns, key);
        let owner = ns.owner.as_bytes();
        let new_len = value.len() as u64;
        (&self.state, &self.state_usage)
            .transaction(|(state, usage)| {
                let before = Usage::decode(usage.get(owner)?.as_deref());
                let after = match state.get(&k)? {
                    Some(old) => Usage {
                        keys: before.keys,
                        bytes: (before.bytes + new_len).saturating_sub(old.len() as u64),
                    },
                    None => Usage {
                        keys: before.keys + 1,
                        bytes: before.bytes + key.len() as u64 + new_len,
                    },
                };
                let grows_keys = after.keys > before.keys && after.keys > quota.max_keys;
                let grows_bytes = after.bytes > before.bytes && after.bytes > quota.max_bytes;
                if grows_keys || grows_bytes {
                    return Err(Tx::Abort(StoreError::Quota {
                        keys: after.keys,
                        bytes: after.bytes,
                        max_keys: quota.max_keys,
                        max_bytes: quota.max_bytes,
                    }));
                }
                state.insert(k.as_slice(), value.as_bytes())?;
                usage.insert(owner, &after.encode()[..])?;
                Ok(())
            })
            .map_err(tx_error)
    }

    fn state_delete(&self, ns: &StateNamespace, key: &str) -> Result<(), StoreError> {
        use sled::Transactional as _;
        self.ensure_usage(&ns.owner)?;
        let k = state_key(ns, key);
        let owner = ns.owner.as_bytes();
        (&self.state, &self.state_usage)
            .transaction(|(state, usage)| {
                if let Some(old) = state.remove(k.as_slice())? {
                    let before = Usage::decode(usage.get(owner)?.as_deref());
                    let after = Usage {
                        keys: before.keys.saturating_sub(1),
                        bytes: before.bytes.saturating_sub((key.len() + old.len()) as u64),
                    };
                    usage.insert(owner, &after.encode()[..])?;
                }
                Ok::<_, Tx>(())
            })
            .map_err(tx_error)
    }

    fn state_usage(&self, owner: &str) -> Result<(u64, u64), StoreError> {
        self.ensure_usage(owner)?;
        let u = Usage::decode(self.state_usage.get(owner).map_err(backend)?.as_deref());
        Ok((u.keys, u.bytes))
    }
}

fn decode(key: &[u8], bytes: &[u8]) -> Result<serde_json::Value, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

fn encode(record: &serde_json::Value) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|e| StoreError::Backend(e.to_string()))
}

/// The JSON record under `key` in `tree`, if any.
fn get_json(tree: &sled::Tree, key: &[u8]) -> Result<Option<serde_json::Value>, StoreError> {
    tree.get(key)
        .map_err(backend)?
        .map(|v| decode(key, &v))
        .transpose()
}

/// Decodes every record of an iteration over a tree.
fn collect_json(
    iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
) -> Result<Vec<serde_json::Value>, StoreError> {
    iter.map(|kv| {
        let (k, v) = kv.map_err(backend)?;
        decode(&k, &v)
    })
    .collect()
}

impl PluginStore for SledStore {
    fn plugin_put(&self, id: &str, record: &serde_json::Value) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        self.plugins.insert(id.as_bytes(), bytes).map_err(backend)?;
        self.plugins.flush().map_err(backend)?;
        Ok(())
    }

    fn plugin_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.plugins, id.as_bytes())
    }

    fn plugin_list(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        collect_json(self.plugins.iter())
    }

    fn plugin_remove(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self
            .plugins
            .remove(id.as_bytes())
            .map_err(backend)?
            .is_some();
        self.plugins.flush().map_err(backend)?;
        Ok(removed)
    }
}

/// Components in the `components` tree, by digest; each write is flushed before it returns.
impl BlobStore for SledStore {
    fn blob_put(&self, digest: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.components
            .insert(digest.as_bytes(), bytes)
            .map_err(backend)?;
        self.components.flush().map_err(backend)?;
        Ok(())
    }

    fn blob_get(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .components
            .get(digest.as_bytes())
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    fn blob_exists(&self, digest: &str) -> Result<bool, StoreError> {
        self.components
            .contains_key(digest.as_bytes())
            .map_err(backend)
    }

    fn blob_remove(&self, digest: &str) -> Result<bool, StoreError> {
        let removed = self
            .components
            .remove(digest.as_bytes())
            .map_err(backend)?
            .is_some();
        self.components.flush().map_err(backend)?;
        Ok(removed)
    }

    fn blob_list(&self) -> Result<Vec<String>, StoreError> {
        self.components
            .iter()
            .keys()
            .map(|k| {
                let k = k.map_err(backend)?;
                String::from_utf8(k.to_vec()).map_err(|e| StoreError::Corrupt {
                    key: String::from_utf8_lossy(&k).into_owned(),
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}

impl TrustStore for SledStore {
    fn trusted_key_add(&self, name: &str, record: &serde_json::Value) -> Result<bool, StoreError> {
        let added = self
            .trusted_keys
            .compare_and_swap(
                name.as_bytes(),
                None as Option<&[u8]>,
                Some(encode(record)?),
            )
            .map_err(backend)?
            .is_ok();
        self.trusted_keys.flush().map_err(backend)?;
        Ok(added)
    }

    fn trusted_key_list(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        collect_json(self.trusted_keys.iter())
    }

    fn trusted_key_remove(&self, name: &str) -> Result<bool, StoreError> {
        let removed = self
            .trusted_keys
            .remove(name.as_bytes())
            .map_err(backend)?
            .is_some();
        self.trusted_keys.flush().map_err(backend)?;
        Ok(removed)
    }

    fn setting_get(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.settings, key.as_bytes())
    }

    fn setting_put(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.settings
            .insert(key.as_bytes(), encode(value)?)
            .map_err(backend)?;
        self.settings.flush().map_err(backend)?;
        Ok(())
    }
}

impl RunStore for SledStore {
    fn run_put(&self, id: &str, record: &[u8]) -> Result<(), StoreError> {
        self.runs.insert(id.as_bytes(), record).map_err(backend)?;
        Ok(())
    }

    fn run_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.runs, id.as_bytes())
    }

    fn run_scan(
        &self,
        after: Option<&str>,
        visit: &mut super::RunVisitor<'_>,
    ) -> Result<(), StoreError> {
        // Run ids start with a zero-padded timestamp, so reverse key order is newest first.
        let iter = match after {
            Some(a) => self.runs.range(..a.as_bytes()),
            None => self.runs.iter(),
        };
        for kv in iter.rev() {
            let (k, v) = kv.map_err(backend)?;
            let id = std::str::from_utf8(&k).map_err(|_| StoreError::Corrupt {
                key: String::from_utf8_lossy(&k).into_owned(),
                reason: "a run id that is not UTF-8".into(),
            })?;
            if !visit(id, &v)? {
                break;
            }
        }
        Ok(())
    }

    fn journal_put(&self, run: &str, record: &[u8]) -> Result<(), StoreError> {
        // Keyed by run and a process-wide increasing id: one insert per record, and a
        // prefix scan reads a run's journal in write order.
        let mut key = Vec::with_capacity(run.len() + 9);
        key.extend_from_slice(run.as_bytes());
        key.push(0);
        key.extend_from_slice(&self.next_id()?.to_be_bytes());
        self.journal.insert(key, record).map_err(backend)?;
        Ok(())
    }

    fn journal_list(&self, run: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        collect_json(self.journal.scan_prefix(run_prefix(run)))
    }

    fn sensitive_put(&self, run: &str, values: &serde_json::Value) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(values).map_err(|e| StoreError::Corrupt {
            key: run.to_owned(),
            reason: e.to_string(),
        })?;
        self.run_inputs
            .insert(run.as_bytes(), bytes)
            .map_err(backend)?;
        Ok(())
    }

    fn sensitive_get(&self, run: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.run_inputs, run.as_bytes())
    }

    fn sensitive_remove(&self, run: &str) -> Result<(), StoreError> {
        self.run_inputs.remove(run.as_bytes()).map_err(backend)?;
        Ok(())
    }
}

fn run_prefix(run: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(run.len() + 1);
    prefix.extend_from_slice(run.as_bytes());
    prefix.push(0);
    prefix
}

fn version_key(name: &str, version: u32) -> Vec<u8> {
    let mut k = name.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

impl ServiceStore for SledStore {
    fn workflow_put(&self, name: &str, record: &serde_json::Value) -> Result<(), StoreError> {
        self.workflows
            .insert(name.as_bytes(), encode(record)?)
            .map_err(backend)?;
        self.workflows.flush().map_err(backend)?;
        Ok(())
    }

    fn workflow_get(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.workflows, name.as_bytes())
    }

    fn workflow_list(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        collect_json(self.workflows.iter())
    }

    fn workflow_remove(&self, name: &str) -> Result<bool, StoreError> {
        let removed = self
            .workflows
            .remove(name.as_bytes())
            .map_err(backend)?
            .is_some();
        let mut prefix = name.as_bytes().to_vec();
        prefix.push(0);
        for k in self.versions.scan_prefix(&prefix).keys() {
            self.versions.remove(k.map_err(backend)?).map_err(backend)?;
        }
        self.db.flush().map_err(backend)?;
        Ok(removed)
    }

    fn version_put(
        &self,
        name: &str,
        version: u32,
        record: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.versions
            .insert(version_key(name, version), encode(record)?)
            .map_err(backend)?;
        Ok(())
    }

    fn version_get(
        &self,
        name: &str,
        version: u32,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.versions, &version_key(name, version))
    }

    fn version_list(&self, name: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        let mut prefix = name.as_bytes().to_vec();
        prefix.push(0);
        collect_json(self.versions.scan_prefix(&prefix))
    }

    fn token_put(&self, hash: &str, record: &serde_json::Value) -> Result<(), StoreError> {
        self.tokens
            .insert(hash.as_bytes(), encode(record)?)
            .map_err(backend)?;
        self.tokens.flush().map_err(backend)?;
        Ok(())
    }

    fn token_get(&self, hash: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.tokens, hash.as_bytes())
    }

    fn token_list(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        self.tokens
            .iter()
            .map(|kv| {
                let (k, v) = kv.map_err(backend)?;
                Ok((String::from_utf8_lossy(&k).into_owned(), decode(&k, &v)?))
            })
            .collect()
    }

    fn token_remove(&self, hash: &str) -> Result<bool, StoreError> {
        let removed = self
            .tokens
            .remove(hash.as_bytes())
            .map_err(backend)?
            .is_some();
        self.tokens.flush().map_err(backend)?;
        Ok(removed)
    }

    fn audit_append(&self, entry: &serde_json::Value) -> Result<(), StoreError> {
        let id = self.next_id()?;
        self.audit
            .insert(id.to_be_bytes(), encode(entry)?)
            .map_err(backend)?;
        self.audit.flush().map_err(backend)?;
        Ok(())
    }

    fn audit_list(&self, limit: usize) -> Result<Vec<serde_json::Value>, StoreError> {
        collect_json(self.audit.iter().rev().take(limit))
    }

    fn trigger_get(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get_json(&self.triggers, key.as_bytes())
    }

    fn trigger_put(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.triggers
            .insert(key.as_bytes(), encode(value)?)
            .map_err(backend)?;
        Ok(())
    }

    fn run_put_once(
        &self,
        fire: &str,
        id: &str,
        record: &serde_json::Value,
    ) -> Result<Option<String>, StoreError> {
        use sled::Transactional as _;
        let bytes = encode(record)?;
        (&self.fires, &self.runs)
            .transaction(|(fires, runs)| {
                if let Some(existing) = fires.get(fire.as_bytes())? {
                    return Ok(Some(String::from_utf8_lossy(&existing).into_owned()));
                }
                fires.insert(fire.as_bytes(), id.as_bytes())?;
                runs.insert(id.as_bytes(), bytes.as_slice())?;
                Ok(None)
            })
            .map_err(|e: sled::transaction::TransactionError<()>| {
                StoreError::Backend(format!("{e:?}"))
            })
    }

    fn fire_expires(&self, fire: &str, at: u64) -> Result<(), StoreError> {
        let mut key = at.to_be_bytes().to_vec();
        key.extend_from_slice(fire.as_bytes());
        self.fire_expiry.insert(key, Vec::new()).map_err(backend)?;
        Ok(())
    }

    fn fires_forget(&self, now: u64) -> Result<usize, StoreError> {
        let mut forgotten = 0;
        // Keys sort by time first: everything due is one range from the start.
        for entry in self
            .fire_expiry
            .range(..now.saturating_add(1).to_be_bytes())
        {
            let (key, _) = entry.map_err(backend)?;
            if let Some(fire) = key.get(8..) {
                self.fires.remove(fire).map_err(backend)?;
            }
            self.fire_expiry.remove(&key).map_err(backend)?;
            forgotten += 1;
        }
        Ok(forgotten)
    }
}

/// Sealed secrets (nonce + ciphertext, never clear text) in the `secrets` tree.
impl crate::secrets::SecretStore for SledStore {
    fn secret_put(&self, name: &str, sealed: &[u8]) -> Result<(), crate::secrets::SecretError> {
        self.secrets
            .insert(name, sealed)
            .and_then(|_| self.secrets.flush())
            .map(|_| ())
            .map_err(|e| crate::secrets::SecretError::Store(e.to_string()))
    }

    fn secret_get(&self, name: &str) -> Result<Option<Vec<u8>>, crate::secrets::SecretError> {
        self.secrets
            .get(name)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| crate::secrets::SecretError::Store(e.to_string()))
    }

    fn secret_names(&self) -> Result<Vec<String>, crate::secrets::SecretError> {
        self.secrets
            .iter()
            .keys()
            .map(|k| {
                k.map(|k| String::from_utf8_lossy(&k).into_owned())
                    .map_err(|e| crate::secrets::SecretError::Store(e.to_string()))
            })
            .collect()
    }

    fn secret_remove(&self, name: &str) -> Result<bool, crate::secrets::SecretError> {
        self.secrets
            .remove(name)
            .and_then(|old| self.secrets.flush().map(|_| old.is_some()))
            .map_err(|e| crate::secrets::SecretError::Store(e.to_string()))
    }
}

/// Connector definitions (no credentials: those are sealed secrets) in the `connectors` tree.
impl crate::connector::ConnectorStore for SledStore {
    fn connector_put(
        &self,
        def: &crate::connector::ConnectorDef,
    ) -> Result<(), crate::connector::ConnectorError> {
        let bytes = serde_json::to_vec(def)
            .map_err(|e| crate::connector::ConnectorError::Store(e.to_string()))?;
        self.connectors
            .insert(def.name.as_bytes(), bytes)
            .and_then(|_| self.connectors.flush())
            .map(|_| ())
            .map_err(|e| crate::connector::ConnectorError::Store(e.to_string()))
    }

    fn connector_get(
        &self,
        name: &str,
    ) -> Result<Option<crate::connector::ConnectorDef>, crate::connector::ConnectorError> {
        let Some(bytes) = self
            .connectors
            .get(name.as_bytes())
            .map_err(|e| crate::connector::ConnectorError::Store(e.to_string()))?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            crate::connector::ConnectorError::Store(format!("connector `{name}`: {e}"))
        })
    }

    fn connector_list(
        &self,
    ) -> Result<Vec<crate::connector::ConnectorDef>, crate::connector::ConnectorError> {
        let mut out = Vec::new();
        for item in self.connectors.iter() {
            let (_, bytes) =
                item.map_err(|e| crate::connector::ConnectorError::Store(e.to_string()))?;
            out.push(
                serde_json::from_slice(&bytes)
                    .map_err(|e| crate::connector::ConnectorError::Store(e.to_string()))?,
            );
        }
        Ok(out)
    }

    fn connector_remove(&self, name: &str) -> Result<bool, crate::connector::ConnectorError> {
        self.connectors
            .remove(name.as_bytes())
            .and_then(|old| self.connectors.flush().map(|_| old.is_some()))
            .map_err(|e| crate::connector::ConnectorError::Store(e.to_string()))
    }
}

/// Custom role definitions in the `roles` tree, by name.
impl super::RoleRecords for SledStore {
    fn role_record_put(&self, name: &str, record: &[u8]) -> Result<(), StoreError> {
        self.roles
            .insert(name.as_bytes(), record)
            .map_err(backend)?;
        self.roles.flush().map_err(backend)?;
        Ok(())
    }

    fn role_record_get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .roles
            .get(name.as_bytes())
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    fn role_record_list(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.roles
            .iter()
            .values()
            .map(|v| v.map(|v| v.to_vec()).map_err(backend))
            .collect()
    }

    fn role_record_remove(&self, name: &str) -> Result<bool, StoreError> {
        let old = self.roles.remove(name.as_bytes()).map_err(backend)?;
        self.roles.flush().map_err(backend)?;
        Ok(old.is_some())
    }
}

/// The snapshot lives under `directory`; logged changes under `log/` + an increasing id.
impl sluice_jcsim::SnapshotStore for SledStore {
    fn load(&self) -> Result<sluice_jcsim::Persistent, String> {
        let snapshot = self
            .simulator
            .get(SIMULATOR_SNAPSHOT)
            .map_err(|e| e.to_string())?
            .map(|v| v.to_vec());
        let changes = self
            .simulator
            .scan_prefix(SIMULATOR_LOG)
            .values()
            .map(|v| v.map(|v| v.to_vec()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok((snapshot, changes))
    }

    fn save(&self, snapshot: &[u8]) -> Result<(), String> {
        let mut batch = sled::Batch::default();
        for key in self.simulator.scan_prefix(SIMULATOR_LOG).keys() {
            batch.remove(key.map_err(|e| e.to_string())?);
        }
        batch.insert(SIMULATOR_SNAPSHOT, snapshot);
        self.simulator.apply_batch(batch).map_err(|e| e.to_string())
    }

    fn append(&self, change: &[u8]) -> Result<(), String> {
        let id = self.next_id().map_err(|e| e.to_string())?;
        let mut key = SIMULATOR_LOG.to_vec();
        key.extend_from_slice(&id.to_be_bytes());
        self.simulator
            .insert(key, change)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

const SIMULATOR_SNAPSHOT: &[u8] = b"directory";
const SIMULATOR_LOG: &[u8] = b"log/";

#[path = "sled_copy.rs"]
mod copy;

#[cfg(test)]
#[path = "sled_tests.rs"]
mod tests;
