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
//! - `bindings.rs`: `bindgen!` only; its types stay inside this module.
//! - `engine.rs`: engine configuration, pool sizing, the fast memory path, the epoch ticker.
//! - `cache.rs`: compiled components on disk.
//! - `host.rs`: the store data and the host imports (`log`, `jumpcloud`, `http`, `state`).
//! - `capture.rs`: the bounded step log (log import + stdout + stderr).
//! - `limits.rs`, `manifest.rs`, `error.rs`: limits, manifest validation, errors.
//! - `registry.rs`: installed and bundled plugins.
//! - `category.rs`: the category each plugin is listed under.
//! - `pool.rs`: the guest pool (the runtime guest code runs on).
//! - `bare.rs`: the engine alone (no Sluice state), for the step benchmark.

mod bare;
mod bindings;
pub mod cache;
pub mod capture;
pub mod category;
pub mod engine;
pub mod error;
mod host;
pub mod limits;
pub mod manifest;
pub mod pool;
pub mod registry;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

pub use self::bare::BareEngine;
use self::bindings::action::ActionPluginPre;
use self::bindings::condition::ConditionPluginPre;
use self::bindings::connector::ConnectorPluginPre;
use self::bindings::sluice::plugin::types as wit;
pub use self::cache::CacheOutcome;
use self::cache::ComponentCache;
pub use self::capture::{LogLevel, LogLine, LogSource};
pub use self::engine::{EngineSettings, MemoryPath};
use self::engine::{EpochTicker, build_engine, ticks};
pub use self::error::{ErrorSource, PluginHostError, StepError, codes};
pub use self::host::Services;
use self::host::StepState;
pub use self::limits::{LimitOverrides, Limits};
pub use self::manifest::{Manifest, PluginKind};
use self::pool::GuestPool;
use crate::broker::HostCall;
use crate::broker::permissions::{Grants, RunRole};

/// How the host is set up.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub engine: EngineSettings,
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
            engine: EngineSettings::default(),
            cache_dir: None,
            limits: Limits::DEFAULT,
            timeout_ceiling: limits::MAX_STEP_TIMEOUT_DEFAULT,
            guest_threads: 0,
        }
    }
}

/// The world-specific pre-instantiated form of a plugin.
#[derive(Clone)]
enum KindPre {
    Action(ActionPluginPre<StepState>),
    Condition(ConditionPluginPre<StepState>),
    Connector(ConnectorPluginPre<StepState>),
}

/// A compiled, linked plugin ready to be instantiated; cheap to clone.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub manifest: Arc<Manifest>,
    /// sha256 of the component, hex.
    pub digest: String,
    /// The component's imports, for review (`sluice plugin inspect`).
    pub imports: Arc<Vec<String>>,
    /// Whether the compiled form came from the disk cache.
    pub cache: CacheOutcome,
    name: Arc<str>,
    pre: KindPre,
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

/// What a call needs, owned, so a call can move to the guest pool.
#[derive(Clone)]
struct Runner {
    engine: Engine,
    services: Services,
    max_memory_bytes: u64,
    timeout_ceiling: Duration,
    /// One permit per pool slot: calls beyond the pool wait instead of failing.
    slots: Arc<tokio::sync::Semaphore>,
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
        let (engine, memory_path) = build_engine(&config.engine)?;
        let mut linker = Linker::new(&engine);
        let link = |e: wasmtime::Error| PluginHostError::Engine(format!("{e:#}"));
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link)?;
        bindings::Platform::add_to_linker::<StepState, HasSelf<StepState>>(&mut linker, |s| s)
            .map_err(link)?;
        let cache = ComponentCache::new(&engine, config.cache_dir.clone());
        let ticker = EpochTicker::start(&engine)?;
        let guests = GuestPool::new(config.guest_threads)
            .map_err(|e| PluginHostError::Engine(format!("cannot start the guest pool: {e}")))?;
        let runner = Runner {
            engine: engine.clone(),
            services,
            max_memory_bytes: config.engine.max_memory_bytes,
            timeout_ceiling: config.timeout_ceiling,
            slots: Arc::new(tokio::sync::Semaphore::new(
                config.engine.max_instances.max(1) as usize,
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

    /// Compiles (or loads from cache), checks the world, links, and reads the manifest.
    /// `label` names the source in error messages.
    pub async fn load(&self, label: &str, bytes: &[u8]) -> Result<LoadedPlugin, PluginHostError> {
        check_header(label, bytes)?;
        let digest = digest(bytes);
        let (component, cache) = self.cache.load(&self.engine, &digest, bytes)?;
        let kind = self.world_of(label, &component)?;
        let imports = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect::<Vec<_>>();
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|e| PluginHostError::UnknownWorld {
                    name: label.to_owned(),
                    reason: format!("it imports something Sluice does not provide: {e:#}"),
                })?;
        let bad = |e: wasmtime::Error| PluginHostError::UnknownWorld {
            name: label.to_owned(),
            reason: format!("{e:#}"),
        };
        let pre = match kind {
            PluginKind::Action => KindPre::Action(ActionPluginPre::new(instance_pre).map_err(bad)?),
            PluginKind::Condition => {
                KindPre::Condition(ConditionPluginPre::new(instance_pre).map_err(bad)?)
            }
            PluginKind::Connector => {
                KindPre::Connector(ConnectorPluginPre::new(instance_pre).map_err(bad)?)
            }
        };
        let raw = {
            let (runner, limits, pre) = (self.runner.clone(), self.config.limits, pre.clone());
            self.guests
                .run(async move { runner.describe(&pre, limits).await })
                .await
                .map_err(|e| PluginHostError::Describe(e.to_string()))??
        };
        let manifest = manifest::validate(raw, kind).map_err(PluginHostError::InvalidManifest)?;
        Ok(LoadedPlugin {
            name: Arc::from(manifest.name.as_str()),
            manifest: Arc::new(manifest),
            digest,
            imports: Arc::new(imports),
            cache,
            pre,
        })
    }

    fn world_of(&self, label: &str, component: &Component) -> Result<PluginKind, PluginHostError> {
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let kinds: Vec<PluginKind> = [
            PluginKind::Action,
            PluginKind::Condition,
            PluginKind::Connector,
        ]
        .into_iter()
        .filter(|k| exports.iter().any(|e| e == k.export_name()))
        .collect();
        match kinds.as_slice() {
            [one] => Ok(*one),
            [] => Err(PluginHostError::UnknownWorld {
                name: label.to_owned(),
                reason: format!(
                    "it exports none of sluice:plugin/action, condition or connector @0.1.0 \
                     (its exports: {})",
                    if exports.is_empty() {
                        "none".to_owned()
                    } else {
                        exports.join(", ")
                    }
                ),
            }),
            _ => Err(PluginHostError::UnknownWorld {
                name: label.to_owned(),
                reason: "it exports more than one plugin interface; a plugin has one kind".into(),
            }),
        }
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
    pub fn bare_engine(&self, plugin: &LoadedPlugin) -> Result<BareEngine, PluginHostError> {
        BareEngine::new(&self.engine, &plugin.pre, self.config.limits)
            .map_err(|e| PluginHostError::Engine(format!("{e:#}")))
    }

    /// A long-lived instance for measuring the per-call floor (`sluice bench step`): every
    /// call reuses the same instance, which real steps never do.
    pub async fn reused_instance(
        &self,
        plugin: &LoadedPlugin,
        ctx: &CallContext,
    ) -> Result<ReusedInstance, StepError> {
        let mut store = self.runner.new_store(plugin.name.clone(), ctx);
        let instance = match &plugin.pre {
            KindPre::Action(p) => p.instantiate_async(&mut store).await.map(Instance::Action),
            KindPre::Condition(p) => p
                .instantiate_async(&mut store)
                .await
                .map(Instance::Condition),
            KindPre::Connector(p) => p
                .instantiate_async(&mut store)
                .await
                .map(Instance::Connector),
        }
        .map_err(|e| classify(e, &mut store))?;
        Ok(ReusedInstance {
            store,
            instance,
            ticks: ticks(ctx.limits.timeout),
        })
    }
}

impl Runner {
    /// A fresh store for one call. Its deadline is wall time from now, capped by the
    /// ceiling: the guest yields to the pool at every epoch tick and is interrupted at the
    /// first tick past the deadline.
    fn new_store(&self, plugin: Arc<str>, ctx: &CallContext) -> Store<StepState> {
        let limits = ctx.limits;
        let state = StepState::new(
            plugin,
            &ctx.workflow,
            ctx.grants.clone(),
            ctx.role.clone(),
            // A cap above the pool's slot size could never be reached: the slot would
            // refuse first and the failure would look like a guest bug.
            usize::try_from(limits.memory_bytes.min(self.max_memory_bytes)).unwrap_or(usize::MAX),
            limits.max_log_bytes,
            self.services.clone(),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let timeout = limits.timeout.min(self.timeout_ceiling);
        // The ceiling is at most a day, so this cannot overflow; were it to, the call gets
        // no time rather than unbounded time.
        let deadline = Instant::now().checked_add(timeout);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(match deadline {
                // tokio's own yield puts the task at the back of the queue, so spinning
                // guests take turns with everything else on the pool.
                Some(d) if Instant::now() < d => {
                    UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
                }
                _ => UpdateDeadline::Interrupt,
            })
        });
        store
    }

    async fn describe(
        &self,
        pre: &KindPre,
        limits: Limits,
    ) -> Result<wit::Manifest, PluginHostError> {
        let ctx = CallContext {
            run_id: String::new(),
            workflow: String::new(),
            step_id: "describe".into(),
            attempt: 1,
            grants: Arc::new(Grants::default()),
            role: None,
            limits,
        };
        let mut store = self.new_store(Arc::from("describe"), &ctx);
        let fut = async {
            match pre {
                KindPre::Action(p) => {
                    p.instantiate_async(&mut store)
                        .await?
                        .sluice_plugin_action()
                        .call_describe(&mut store)
                        .await
                }
                KindPre::Condition(p) => {
                    p.instantiate_async(&mut store)
                        .await?
                        .sluice_plugin_condition()
                        .call_describe(&mut store)
                        .await
                }
                KindPre::Connector(p) => {
                    p.instantiate_async(&mut store)
                        .await?
                        .sluice_plugin_connector()
                        .call_describe(&mut store)
                        .await
                }
            }
        };
        let timeout = limits.timeout.min(self.timeout_ceiling);
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(m)) => Ok(m),
            Ok(Err(e)) => Err(PluginHostError::Describe(
                classify(e, &mut store).to_string(),
            )),
            Err(_) => Err(PluginHostError::Describe(format!(
                "{}: describe() did not return within {timeout:?}",
                codes::PLUGIN_TIMEOUT,
            ))),
        }
    }

    /// Runs one call on a fresh instance on the current thread (see [`PluginHost::call`]).
    pub async fn call(&self, plugin: &LoadedPlugin, ctx: &CallContext, input: &str) -> CallOutcome {
        let started = Instant::now();
        let mut limits = ctx.limits;
        limits.timeout = limits.timeout.min(self.timeout_ceiling);
        if input.len() > limits.max_input_bytes {
            return CallOutcome {
                result: Err(StepError::host(
                    codes::PLUGIN_INPUT_TOO_LARGE,
                    format!(
                        "the input is {} bytes; plugin `{}` accepts at most {}",
                        input.len(),
                        plugin.name,
                        limits.max_input_bytes
                    ),
                )),
                logs: Vec::new(),
                calls: Vec::new(),
                duration: started.elapsed(),
            };
        }
        let _slot = self.slots.acquire().await;
        let mut store = self.new_store(plugin.name.clone(), ctx);
        let step = wit::StepInfo {
            run_id: ctx.run_id.clone(),
            workflow: ctx.workflow.clone(),
            step_id: ctx.step_id.clone(),
            attempt: ctx.attempt,
        };
        let input = input.to_owned();
        let fut = invoke(&plugin.pre, &mut store, &step, &input);
        let raw = tokio::time::timeout(limits.timeout, fut).await;
        let result = match raw {
            Err(_) => Err(timeout_error(&plugin.name, limits.timeout)),
            Ok(Err(e)) => Err(classify(e, &mut store)),
            Ok(Ok(Err(plugin_err))) => Err(from_plugin_error(&plugin.name, plugin_err, limits)),
            Ok(Ok(Ok(Output::Bool(b)))) => Ok(serde_json::Value::Bool(b)),
            Ok(Ok(Ok(Output::Json(text)))) => parse_output(&plugin.name, &text, limits),
        };
        let state = store.data_mut();
        let logs = state.log.lock().unwrap_or_else(|p| p.into_inner()).finish();
        let calls = std::mem::take(&mut state.calls);
        CallOutcome {
            result,
            logs,
            calls,
            duration: started.elapsed(),
        }
    }
}

enum Output {
    Json(String),
    Bool(bool),
}

async fn invoke(
    pre: &KindPre,
    store: &mut Store<StepState>,
    step: &wit::StepInfo,
    input: &String,
) -> wasmtime::Result<Result<Output, wit::PluginError>> {
    Ok(match pre {
        KindPre::Action(p) => {
            let i = p.instantiate_async(&mut *store).await?;
            i.sluice_plugin_action()
                .call_run(&mut *store, step, input)
                .await?
                .map(Output::Json)
        }
        KindPre::Condition(p) => {
            let i = p.instantiate_async(&mut *store).await?;
            i.sluice_plugin_condition()
                .call_evaluate(&mut *store, step, input)
                .await?
                .map(Output::Bool)
        }
        KindPre::Connector(p) => {
            let i = p.instantiate_async(&mut *store).await?;
            i.sluice_plugin_connector()
                .call_invoke(&mut *store, step, input)
                .await?
                .map(Output::Json)
        }
    })
}

enum Instance {
    Action(bindings::action::ActionPlugin),
    Condition(bindings::condition::ConditionPlugin),
    Connector(bindings::connector::ConnectorPlugin),
}

/// See [`PluginHost::reused_instance`].
pub struct ReusedInstance {
    store: Store<StepState>,
    instance: Instance,
    ticks: u64,
}

impl std::fmt::Debug for ReusedInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReusedInstance").finish_non_exhaustive()
    }
}

impl ReusedInstance {
    /// One call on the reused instance, with the same deadline check as a real step.
    pub async fn call(&mut self, input: &String) -> Result<serde_json::Value, StepError> {
        self.store.set_epoch_deadline(self.ticks);
        let step = wit::StepInfo {
            run_id: String::new(),
            workflow: String::new(),
            step_id: "bench".into(),
            attempt: 1,
        };
        let store = &mut self.store;
        let r = match &self.instance {
            Instance::Action(i) => i
                .sluice_plugin_action()
                .call_run(&mut *store, &step, input)
                .await
                .map(|r| r.map(Output::Json)),
            Instance::Condition(i) => i
                .sluice_plugin_condition()
                .call_evaluate(&mut *store, &step, input)
                .await
                .map(|r| r.map(Output::Bool)),
            Instance::Connector(i) => i
                .sluice_plugin_connector()
                .call_invoke(&mut *store, &step, input)
                .await
                .map(|r| r.map(Output::Json)),
        };
        match r {
            Err(e) => Err(classify(e, store)),
            Ok(Err(e)) => Err(from_plugin_error("bench", e, Limits::DEFAULT)),
            Ok(Ok(Output::Bool(b))) => Ok(serde_json::Value::Bool(b)),
            Ok(Ok(Output::Json(t))) => parse_output("bench", &t, Limits::DEFAULT),
        }
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

fn timeout_error(plugin: &str, timeout: Duration) -> StepError {
    StepError::host(
        codes::PLUGIN_TIMEOUT,
        format!(
            "plugin `{plugin}` did not finish within {timeout:?} (guest code and host calls included)"
        ),
    )
}

/// A plugin's own error, bounded: its code must have the documented form, its message
/// and details are cut to their caps, and the whole error counts against the output
/// limit. An error that breaks these rules becomes a host error naming the plugin, with
/// what it sent shown cut short.
fn from_plugin_error(plugin: &str, e: wit::PluginError, limits: Limits) -> StepError {
    let size = e.code.len() + e.message.len() + e.details.as_ref().map_or(0, String::len);
    let shown = |text: &str, max: usize| {
        let cut = truncate(text, max);
        let cut = cut.escape_debug().to_string();
        if cut.len() < text.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    if size > limits.max_output_bytes {
        return StepError::host(
            codes::PLUGIN_INVALID_ERROR,
            format!(
                "plugin `{plugin}` returned an error of {size} bytes; the output limit is {} \
                 bytes (code `{}`, message \"{}\")",
                limits.max_output_bytes,
                shown(&e.code, 64),
                shown(&e.message, 256)
            ),
        );
    }
    if !valid_error_code(&e.code) {
        return StepError::host(
            codes::PLUGIN_INVALID_ERROR,
            format!(
                "plugin `{plugin}` returned an error whose code `{}` is not of the form \
                 A-Z, 0-9 and `_`, starting with a letter, at most 64 characters (message \
                 \"{}\")",
                shown(&e.code, 64),
                shown(&e.message, 256)
            ),
        );
    }
    let message = if e.message.len() > limits::MAX_ERROR_MESSAGE_BYTES {
        format!(
            "{}… ({} bytes; cut to {})",
            truncate(&e.message, limits::MAX_ERROR_MESSAGE_BYTES),
            e.message.len(),
            limits::MAX_ERROR_MESSAGE_BYTES
        )
    } else {
        e.message
    };
    let details = e.details.map(|d| {
        if d.len() > limits::MAX_ERROR_DETAILS_BYTES {
            serde_json::json!({
                "truncated": true,
                "bytes": d.len(),
                "limit": limits::MAX_ERROR_DETAILS_BYTES,
            })
        } else {
            serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))
        }
    });
    StepError {
        code: e.code,
        message,
        retryable: e.retryable,
        details,
        origin: ErrorSource::Plugin,
    }
}

/// Whether `code` has the form of a plugin error code: `^[A-Z][A-Z0-9_]{0,63}$`.
pub fn valid_error_code(code: &str) -> bool {
    let b = code.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn parse_output(plugin: &str, text: &str, limits: Limits) -> Result<serde_json::Value, StepError> {
    if text.len() > limits.max_output_bytes {
        return Err(StepError::host(
            codes::PLUGIN_OUTPUT_TOO_LARGE,
            format!(
                "plugin `{plugin}` returned {} bytes; the output limit is {} bytes",
                text.len(),
                limits.max_output_bytes
            ),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        StepError::host(
            codes::PLUGIN_INVALID_OUTPUT,
            format!("plugin `{plugin}` returned invalid JSON: {e}"),
        )
    })
}

/// Turns a trap or host error into the step error a plugin author can act on.
fn classify(e: wasmtime::Error, store: &mut Store<StepState>) -> StepError {
    let state = store.data_mut();
    if let Some(v) = state.violation.take() {
        return v;
    }
    let (log_exceeded, stderr) = {
        let log = state.log.lock().unwrap_or_else(|p| p.into_inner());
        (log.exceeded(), log.stderr_text())
    };
    if log_exceeded {
        return StepError::host(
            codes::PLUGIN_LOG_LIMIT,
            format!(
                "plugin `{}` wrote more log than allowed (log lines, stdout and stderr together)",
                state.plugin_name()
            ),
        );
    }
    if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return StepError::host(
            codes::PLUGIN_TIMEOUT,
            format!(
                "plugin `{}` ran past its deadline and was interrupted",
                state.plugin_name()
            ),
        );
    }
    let mib = |b: usize| b as f64 / (1u64 << 20) as f64;
    match state.limiter.hit {
        Some(host::LimitHit::Memory(total)) => {
            return StepError::host(
                codes::PLUGIN_MEMORY_LIMIT,
                format!(
                    "plugin `{}` asked for {:.1} MiB of memory in all; its limit is {:.1} MiB",
                    state.plugin_name(),
                    mib(total),
                    mib(state.limiter.memory_cap)
                ),
            );
        }
        Some(host::LimitHit::Table(elements)) => {
            return StepError::host(
                codes::PLUGIN_MEMORY_LIMIT,
                format!(
                    "plugin `{}` tried to grow a table to {elements} elements; the limit is 100000",
                    state.plugin_name()
                ),
            );
        }
        None => {}
    }
    let panic = stderr.trim();
    let with_stderr = |m: String| {
        if panic.is_empty() {
            m
        } else {
            format!("{m}; plugin stderr: {panic}")
        }
    };
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => StepError::host(
            codes::PLUGIN_TIMEOUT,
            format!(
                "plugin `{}` ran past its deadline and was interrupted",
                state.plugin_name()
            ),
        ),
        Some(Trap::StackOverflow) => StepError::host(
            codes::PLUGIN_TRAP,
            format!(
                "plugin `{}` overflowed its stack (recursion too deep)",
                state.plugin_name()
            ),
        ),
        Some(Trap::MemoryOutOfBounds) => StepError::host(
            codes::PLUGIN_TRAP,
            with_stderr(format!(
                "plugin `{}` accessed memory out of bounds (in a Rust plugin this usually means \
                 its stack overflowed: recursion too deep or a huge local)",
                state.plugin_name()
            )),
        ),
        Some(trap) => StepError::host(
            codes::PLUGIN_TRAP,
            with_stderr(format!("plugin `{}` trapped: {trap}", state.plugin_name())),
        ),
        None => StepError::host(
            codes::PLUGIN_TRAP,
            with_stderr(format!("plugin `{}` failed: {e:#}", state.plugin_name())),
        ),
    }
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
