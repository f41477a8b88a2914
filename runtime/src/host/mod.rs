//! The sandboxed component host: loads plugin components, reads their manifests, and runs
//! one call per fresh instance under limits and permission checks.
//!
//! A call is: a new `Store` (fresh WASI context with nothing in it, a memory limiter, an
//! epoch deadline) → instantiate from the plugin's `InstancePre` (pooling allocator, so
//! this is a slot reuse, not an mmap) → call the export → classify the result. Nothing a
//! guest does survives its call.
//!
//! Guest code runs only on the guest pool ([`pool`]): a runtime of its own, so a plugin
//! that spins can never hold the threads that serve the API, webhooks, the scheduler or the
//! poller. Within the pool a guest yields at every epoch tick, so looping plugins share it
//! and every deadline fires on time. Runs are spawned onto the pool whole; a call made from
//! any other thread is handed to it.
//!
//! # Layout
//! - `mod.rs`: [`PluginHost`]: loading a component (world, linking, manifest — a pack's
//!   with each of its plugins') and handing calls to the guest pool.
//! - `bindings.rs`: `bindgen!` only, for every contract version the host links (0.2.0 and
//!   0.1.0); its types stay inside this module.
//! - `world.rs`: which world a component targets (one plugin of a kind, or a pack; any
//!   supported version) and calling it the same way whatever it is.
//! - `wasm.rs`: the `wasmtime::Engine` configuration, pool sizing, the fast memory path,
//!   the epoch ticker ("engine" alone means the run engine, `crate::engine`).
//! - `cache.rs`: compiled components on disk.
//! - `call.rs`: one call: its store, deadline, instance and export call.
//! - `outcome.rs`: traps, timeouts, limits and plugin errors → the step's error or output.
//! - `step_state.rs`: the store data of a call (WASI context, limiter, log, call ledger).
//! - `imports/`: the host imports, one file per WIT interface (`log`, `jumpcloud`,
//!   `http`, `state`), each on a narrow view of the store data.
//! - `capture.rs`: the bounded step log (log import + stdout + stderr).
//! - `limits.rs`, `manifest.rs`, `error.rs`: limits, manifest validation, errors.
//! - `registry.rs`: installed and bundled plugins; `registry/pins.rs`: what saved workflows
//!   and runs pin (plugin, version, component digest), the components kept for them, and
//!   whether an update is available.
//! - `signing.rs`: component signatures (wasmsign2's embedded format): keys, signing, and
//!   checking who signed; `trust.rs`: the trusted keys and the install policy.
//! - `category.rs`: the category each plugin is listed under.
//! - `pool.rs`: the guest pool (the runtime guest code runs on).
//! - `bare.rs`: wasmtime alone (no Sluice state), for the step benchmark.

mod bare;
mod bindings;
pub mod cache;
mod call;
pub mod capture;
pub mod category;
pub mod error;
mod imports;
pub mod limits;
pub mod manifest;
mod outcome;
pub mod pool;
pub mod registry;
pub mod signing;
mod step_state;
pub mod trust;
pub mod wasm;
mod world;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Linker;

pub use self::bare::BareRunner;
pub use self::cache::CacheOutcome;
use self::cache::ComponentCache;
pub use self::call::ReusedInstance;
use self::call::Runner;
pub use self::capture::{LogLevel, LogLine, LogSource};
pub use self::error::{ErrorSource, PluginHostError, StepError, codes};
pub use self::limits::{LimitOverrides, Limits};
pub use self::manifest::{Manifest, PackInfo, PluginKind};
pub use self::outcome::valid_error_code;
use self::pool::GuestPool;
pub use self::step_state::Services;
use self::step_state::StepState;
use self::wasm::{EpochTicker, build_wasmtime};
pub use self::wasm::{MemoryPath, WasmSettings};
use self::world::{Described, Pre, World};
use crate::broker::HostCall;
use crate::broker::permissions::{Grants, RunRole};

/// How the host is set up.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub wasm: WasmSettings,
    /// Where compiled components are cached; `None` compiles in memory every time.
    pub cache_dir: Option<PathBuf>,
    /// Limits applied to every call unless a plugin overrides them.
    pub limits: Limits,
    /// The longest deadline any call may have, whatever a plugin's install or a step's
    /// `timeout:` asks for ([`limits::MAX_STEP_TIMEOUT_DEFAULT`] unless configured).
    pub timeout_ceiling: Duration,
    /// Worker threads of the guest pool; 0 means one per core.
    pub guest_threads: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            wasm: WasmSettings::default(),
            cache_dir: None,
            limits: Limits::DEFAULT,
            timeout_ceiling: limits::MAX_STEP_TIMEOUT_DEFAULT,
            guest_threads: 0,
        }
    }
}

/// A compiled, linked plugin ready to be instantiated; cheap to clone. A plugin of a pack
/// shares its pack's component (digest, imports, compiled code) with its siblings.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub manifest: Arc<Manifest>,
    /// sha256 of the component, hex.
    pub digest: String,
    /// The component's imports, for review (`sluice plugin inspect`).
    pub imports: Arc<Vec<String>>,
    /// Whether the compiled form came from the disk cache.
    pub cache: CacheOutcome,
    /// The pack the plugin belongs to; `None` for a component holding one plugin.
    pub pack: Option<Arc<PackInfo>>,
    name: Arc<str>,
    pre: Pre<StepState>,
}

/// A compiled, linked component: one plugin, or a pack's plugins in its order.
#[derive(Debug, Clone)]
pub struct LoadedComponent {
    /// sha256 of the component, hex.
    pub digest: String,
    pub imports: Arc<Vec<String>>,
    pub cache: CacheOutcome,
    /// What the pack says about itself; `None` for one plugin.
    pub pack: Option<Arc<PackInfo>>,
    /// Never empty.
    pub plugins: Vec<LoadedPlugin>,
}

impl LoadedComponent {
    /// The plugin named `name`.
    pub fn plugin(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|p| p.manifest.name == name)
    }

    /// What the component is, for messages: `plugin user-get@1.0.0` or
    /// `pack okta@2.0.0 (20 plugins)`.
    pub fn describe(&self) -> String {
        match (&self.pack, self.plugins.first()) {
            (Some(p), _) => format!("pack {} ({} plugins)", p.id(), self.plugins.len()),
            (None, Some(p)) => format!("plugin {}", p.manifest.id()),
            (None, None) => "an empty component".into(),
        }
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id())
            .field("digest", &self.digest)
            .finish()
    }
}

/// Who is calling and with what rights.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub run_id: String,
    pub workflow: String,
    pub step_id: String,
    pub attempt: u32,
    /// The permissions the administrator granted this plugin.
    pub grants: Arc<Grants>,
    /// The workflow's run-as role; `None` means no role restriction beyond the grants.
    pub role: Option<RunRole>,
    pub limits: Limits,
}

/// What a call produced: its result, and the record kept whatever the result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallOutcome {
    #[serde(with = "error::result_json")]
    pub result: Result<serde_json::Value, StepError>,
    pub logs: Vec<LogLine>,
    pub calls: Vec<HostCall>,
    #[serde(rename = "duration_us", with = "micros")]
    pub duration: Duration,
}

/// The plugin host; one per process.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<StepState>,
    cache: ComponentCache,
    memory_path: MemoryPath,
    config: HostConfig,
    runner: Runner,
    guests: GuestPool,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("memory_path", &self.memory_path)
            .finish_non_exhaustive()
    }
}

/// sha256 of a component, hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl PluginHost {
    pub fn new(config: HostConfig, services: Services) -> Result<Self, PluginHostError> {
        let (engine, memory_path) = build_wasmtime(&config.wasm)?;
        let mut linker = Linker::new(&engine);
        let link = |e: wasmtime::Error| PluginHostError::Wasm(format!("{e:#}"));
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link)?;
        imports::add_to_linker(&mut linker).map_err(link)?;
        let cache = ComponentCache::new(&engine, config.cache_dir.clone());
        let ticker = EpochTicker::start(&engine)?;
        let guests = GuestPool::new(config.guest_threads)
            .map_err(|e| PluginHostError::Wasm(format!("cannot start the guest pool: {e}")))?;
        let runner = Runner {
            engine: engine.clone(),
            services,
            max_memory_bytes: config.wasm.max_memory_bytes,
            timeout_ceiling: config.timeout_ceiling,
            slots: Arc::new(tokio::sync::Semaphore::new(
                config.wasm.max_instances.max(1) as usize,
            )),
        };
        Ok(Self {
            engine,
            linker,
            cache,
            memory_path,
            config,
            runner,
            guests,
            _ticker: ticker,
        })
    }

    /// The guest pool: runs that call plugins are spawned here so their calls need no
    /// hand-off (see [`pool`]).
    pub fn guests(&self) -> &GuestPool {
        &self.guests
    }

    /// The longest deadline a call may have.
    pub fn timeout_ceiling(&self) -> Duration {
        self.config.timeout_ceiling
    }

    /// Whether the compiled form of the component with sha256 `digest` is in the disk cache.
    pub fn is_cached(&self, digest: &str) -> bool {
        self.cache.has(digest)
    }

    /// Which memory path the engine uses.
    pub fn memory_path(&self) -> MemoryPath {
        self.memory_path
    }

    /// The global limits.
    pub fn limits(&self) -> Limits {
        self.config.limits
    }

    /// Compiles (or loads from cache), checks the world, links, and reads the manifest —
    /// a pack's, with each of its plugins'. `label` names the source in error messages.
    pub async fn load(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<LoadedComponent, PluginHostError> {
        check_header(label, bytes)?;
        let digest = digest(bytes);
        let (component, cache) = self.cache.load(&self.engine, &digest, bytes)?;
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let world = world::world_of(&exports).map_err(|reason| PluginHostError::UnknownWorld {
            name: label.to_owned(),
            reason,
        })?;
        let imports = Arc::new(
            ty.imports(&self.engine)
                .map(|(name, _)| name.to_owned())
                .collect::<Vec<_>>(),
        );
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|e| PluginHostError::UnknownWorld {
                    name: label.to_owned(),
                    reason: format!("it imports something Sluice does not provide: {e:#}"),
                })?;
        let pre = Pre::new(world, instance_pre).map_err(|e| PluginHostError::UnknownWorld {
            name: label.to_owned(),
            reason: format!("{e:#}"),
        })?;
        let described = {
            let (runner, limits, pre) = (self.runner.clone(), self.config.limits, pre.clone());
            self.guests
                .run(async move { runner.describe(&pre, limits).await })
                .await
                .map_err(|e| PluginHostError::Describe(e.to_string()))??
        };
        let (pack, manifests) = match (described, world) {
            (Described::One(raw), World::Single(kind, _)) => {
                let m = manifest::validate(raw, kind).map_err(PluginHostError::InvalidManifest)?;
                (None, vec![m])
            }
            (Described::Pack(raw), World::Pack) => {
                let (pack, plugins) =
                    manifest::validate_pack(raw).map_err(PluginHostError::InvalidManifest)?;
                (Some(Arc::new(pack)), plugins)
            }
            _ => {
                return Err(PluginHostError::Describe(
                    "describe() answered in another world's form".into(),
                ));
            }
        };
        let plugins = manifests
            .into_iter()
            .map(|m| LoadedPlugin {
                name: Arc::from(m.name.as_str()),
                manifest: Arc::new(m),
                digest: digest.clone(),
                imports: imports.clone(),
                cache,
                pack: pack.clone(),
                pre: pre.clone(),
            })
            .collect();
        Ok(LoadedComponent {
            digest,
            imports,
            cache,
            pack,
            plugins,
        })
    }

    /// Runs one call on a fresh instance, on the guest pool. Never panics and never fails
    /// the host: whatever the guest does becomes the outcome's result.
    pub async fn call(&self, plugin: &LoadedPlugin, ctx: &CallContext, input: &str) -> CallOutcome {
        if self.guests.is_current() {
            return self.runner.call(plugin, ctx, input).await;
        }
        let started = Instant::now();
        let (runner, p, c, i) = (
            self.runner.clone(),
            plugin.clone(),
            ctx.clone(),
            input.to_owned(),
        );
        match self
            .guests
            .run(async move { runner.call(&p, &c, &i).await })
            .await
        {
            Ok(outcome) => outcome,
            Err(e) => CallOutcome {
                result: Err(StepError::host(
                    codes::INTERNAL_ERROR,
                    format!("the call to plugin `{}` stopped: {e}", plugin.name),
                )),
                logs: Vec::new(),
                calls: Vec::new(),
                duration: started.elapsed(),
            },
        }
    }

    /// Times loading a compiled component from a disk cache in `dir`: the first load
    /// compiles and writes the cache, each of the next `n` reads it back.
    pub fn time_cache_loads(
        &self,
        bytes: &[u8],
        dir: PathBuf,
        n: usize,
    ) -> Result<(Duration, Vec<Duration>), PluginHostError> {
        let cache = ComponentCache::new(&self.engine, Some(dir));
        let d = digest(bytes);
        let started = Instant::now();
        cache.load(&self.engine, &d, bytes)?;
        let compile = started.elapsed();
        let mut loads = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            let (_, outcome) = cache.load(&self.engine, &d, bytes)?;
            loads.push(started.elapsed());
            if outcome != CacheOutcome::Hit {
                return Err(PluginHostError::Io(
                    "the component cache could not be read back".into(),
                ));
            }
        }
        Ok((compile, loads))
    }

    /// `plugin` linked for bare calls (`sluice bench step`): the engine's own cost of a
    /// fresh instance and call, without anything Sluice adds.
    pub fn bare_runner(&self, plugin: &LoadedPlugin) -> Result<BareRunner, PluginHostError> {
        BareRunner::new(&self.engine, plugin, self.config.limits)
            .map_err(|e| PluginHostError::Wasm(format!("{e:#}")))
    }
    /// A long-lived instance for measuring the per-call floor (`sluice bench step`): every
    /// call reuses the same instance, which real steps never do.
    pub async fn reused_instance(
        &self,
        plugin: &LoadedPlugin,
        ctx: &CallContext,
    ) -> Result<ReusedInstance, StepError> {
        ReusedInstance::new(&self.runner, plugin, ctx).await
    }
}

fn check_header(label: &str, bytes: &[u8]) -> Result<(), PluginHostError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(PluginHostError::NotWasm(label.to_owned()));
    }
    // Core modules carry version 1 and layer 0; components carry layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(PluginHostError::CoreModule(label.to_owned()));
    }
    Ok(())
}

mod micros {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_micros(u64::deserialize(d)?))
    }
}
