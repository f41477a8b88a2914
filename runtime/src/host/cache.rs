//! Compiled components on disk. A compile takes 0.1–0.7 s; loading a cached artifact takes a
//! fraction of a millisecond. The key covers the component's sha256 and the engine's
//! compatibility hash (wasmtime version and every setting that changes generated code), so
//! a changed engine never loads a stale artifact.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::PluginHostError;

/// Where compiled artifacts live, if anywhere.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Compiled,
}

impl ComponentCache {
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        // FNV-1a over the engine's compatibility hash input: stable across builds of Sluice.
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        engine.precompile_compatibility_hash().hash(&mut h);
        Self {
            dir,
            engine_key: format!("{:016x}", h.0),
        }
    }

    fn path(&self, digest: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{digest}-{}.cwasm", self.engine_key)))
    }

    /// Whether a compiled artifact for `digest` is on disk.
    pub fn has(&self, digest: &str) -> bool {
        self.path(digest).is_some_and(|p| p.is_file())
    }

    /// The compiled component for `bytes` (whose sha256 is `digest`): from the cache when
    /// present and loadable, else compiled and stored.
    pub fn load(
        &self,
        engine: &Engine,
        digest: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), PluginHostError> {
        if let Some(path) = self.path(digest)
            && path.is_file()
        {
            // SAFETY: the file was written by `Component::serialize` of an engine with the
            // same compatibility hash, into a directory only Sluice writes to; wasmtime
            // also checks the header and refuses an incompatible artifact.
            if let Ok(c) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((c, CacheOutcome::Hit));
            }
        }
        let component = Component::new(engine, bytes)
            .map_err(|e| PluginHostError::Compile(format!("{e:#}")))?;
        if let Some(path) = self.path(digest)
            && let Ok(artifact) = component.serialize()
        {
            // A cache that cannot be written only costs speed; never fail the load for it.
            let _ = write_atomically(&path, &artifact);
        }
        Ok((component, CacheOutcome::Compiled))
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

struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
