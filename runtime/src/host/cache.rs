//! Compiled components on disk. A compile takes 0.1–0.7 s; loading a cached artifact about a
//! millisecond (`transform`'s 0.6 MB: 1.1–1.4 ms on 2 busy cores, half of it the sha256
//! check below, most of the rest reading and copying the bytes instead of mapping the file),
//! once per component per process.
//!
//! An artifact is native code that wasmtime runs without checking it (loading one is
//! `unsafe` for that reason), so a cache file is never trusted by its name alone. Each file
//! is `<component sha256>-<engine key>.cwasm` and holds a header followed by the artifact
//! that `Component::serialize` wrote:
//!
//! | bytes | what |
//! |---|---|
//! | 8 | `SLUICEC1`: the format |
//! | 32 | sha256 of the component the artifact was compiled from |
//! | 32 | the engine hash: sha256 over wasmtime's compatibility hash input — target, code generator flags, tunables, wasm features and wasmtime's own package version |
//! | 32 | sha256 of the artifact bytes, taken when it was compiled |
//! | 8 | the artifact's length, little-endian |
//!
//! A load reads the whole file into memory, checks all four against the component it was
//! asked for, this engine and the bytes just read, and only then hands those same bytes to
//! wasmtime: nothing on disk can change between the check and the load. A file that fails
//! any check (damaged, truncated, another component's, another engine's, an older format)
//! is never loaded: the component is compiled again and the file rewritten.
//!
//! What this guards against is damage and mix-ups, not a hostile writer, who could write a
//! consistent header: the cache directory is private to its owner, and the CLI refuses one
//! that others can write.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::PluginHostError;

const MAGIC: &[u8; 8] = b"SLUICEC1";
const HEADER_LEN: usize = 8 + 32 + 32 + 32 + 8;

/// Where compiled artifacts live, if anywhere.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_hash: [u8; 32],
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a cache file that passed every check.
    Hit,
    /// Compiled: nothing was cached (or there is no cache).
    Compiled,
    /// Compiled because the cache file failed a check; the file was rewritten.
    Replaced,
}

impl ComponentCache {
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        Self {
            dir,
            engine_hash: h.0.finalize().into(),
        }
    }

    fn path(&self, digest: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let key = hex::encode(&self.engine_hash[..8]);
        Some(dir.join(format!("{digest}-{key}.cwasm")))
    }

    /// Whether a compiled artifact for `digest` is on disk (it is checked when loaded).
    pub fn has(&self, digest: &str) -> bool {
        self.path(digest).is_some_and(|p| p.is_file())
    }

    /// The compiled component for `bytes` (whose sha256 is `digest`): from the cache when
    /// present and verified, else compiled and stored.
    pub fn load(
        &self,
        engine: &Engine,
        digest: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), PluginHostError> {
        let mut outcome = CacheOutcome::Compiled;
        if let Some(path) = self.path(digest)
            && let Ok(file) = std::fs::read(&path)
        {
            if let Some(artifact) = self.verified(&file, digest) {
                // SAFETY: `artifact` is the very memory just checked: it is what an engine
                // with this engine hash serialized for the component with this sha256, its
                // sha256 is the one recorded when it was compiled, and wasmtime checks its
                // header again. Nothing else can change it before wasmtime copies it.
                if let Ok(c) = unsafe { Component::deserialize(engine, artifact) } {
                    return Ok((c, CacheOutcome::Hit));
                }
            }
            outcome = CacheOutcome::Replaced;
        }
        let component = Component::new(engine, bytes)
            .map_err(|e| PluginHostError::Compile(format!("{e:#}")))?;
        if let Some(path) = self.path(digest)
            && let Ok(artifact) = component.serialize()
        {
            let file = self.framed(digest, &artifact);
            // A cache that cannot be written only costs speed; never fail the load for it.
            let _ = write_atomically(&path, &file);
        }
        Ok((component, outcome))
    }

    /// The artifact inside `file` if its header matches the component `digest`, this
    /// engine, and the artifact's own length and sha256.
    fn verified<'a>(&self, file: &'a [u8], digest: &str) -> Option<&'a [u8]> {
        let (header, artifact) = file.split_at_checked(HEADER_LEN)?;
        let (magic, rest) = header.split_at(8);
        let (component, rest) = rest.split_at(32);
        let (engine, rest) = rest.split_at(32);
        let (sha, len) = rest.split_at(32);
        let len = u64::from_le_bytes(len.try_into().ok()?);
        let ok = magic == MAGIC
            && hex::decode(digest).is_ok_and(|d| d == component)
            && engine == self.engine_hash
            && u64::try_from(artifact.len()).is_ok_and(|n| n == len)
            && Sha256::digest(artifact).as_slice() == sha;
        ok.then_some(artifact)
    }

    /// `artifact` with its header, as written to disk.
    fn framed(&self, digest: &str, artifact: &[u8]) -> Vec<u8> {
        let mut file = Vec::with_capacity(HEADER_LEN + artifact.len());
        file.extend_from_slice(MAGIC);
        let mut component = hex::decode(digest).unwrap_or_default();
        component.resize(32, 0);
        file.extend_from_slice(&component);
        file.extend_from_slice(&self.engine_hash);
        file.extend_from_slice(&Sha256::digest(artifact));
        file.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
        file.extend_from_slice(artifact);
        file
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Unique per writer: several processes (and threads) may share one cache directory.
    let tmp = path.with_extension(format!(
        "tmp{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Feeds a `Hash` into sha256 (wasmtime exposes its compatibility key only as a `Hash`).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        let d = self.0.clone().finalize();
        u64::from_le_bytes(d[..8].try_into().unwrap_or_default())
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
