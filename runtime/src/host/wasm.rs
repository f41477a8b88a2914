//! The WebAssembly machine: the `wasmtime::Engine` configuration (component model, epoch
//! interruption, the pooling allocator sized from [`WasmSettings`], the fast memory path
//! when the kernel supports it) and the epoch ticker that drives deadlines.
//!
//! Named `wasm`, not `engine`: in Sluice "engine" is the run engine (`crate::engine`), which
//! walks workflows. This file only sets up the machine plugins execute on; compiling and
//! caching components is `cache.rs`, running a call is `call.rs`.
//!
//! The fast path keeps up to 2 MiB of each slot's linear memory and tables resident between
//! instances and asks the kernel which pages a guest dirtied (`PAGEMAP_SCAN`, Linux ≥ 6.7)
//! so only those are reset. Keeping memory resident without `PAGEMAP_SCAN` is slower than
//! the default (the whole kept region would be reset on every drop), so on older kernels
//! both are off. [`MemoryPath`] says which one is in use.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::error::PluginHostError;

/// How often the epoch advances; deadlines are rounded up to it.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Which memory-reset path the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemoryPath {
    /// Memory kept resident, dirty pages found with `PAGEMAP_SCAN` and reset.
    PagemapScan,
    /// wasmtime's default reset (madvise of the used region); chosen when the kernel lacks
    /// `PAGEMAP_SCAN` or when the fast path is turned off.
    Default,
}

impl std::fmt::Display for MemoryPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MemoryPath::PagemapScan => "pagemap-scan (memory kept resident, dirty pages reset)",
            MemoryPath::Default => "default (madvise reset; PAGEMAP_SCAN unavailable or disabled)",
        })
    }
}

/// Engine-wide settings, fixed when the host starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasmSettings {
    /// Plugin instances alive at once (the pool's slot count). Default 64.
    pub max_instances: u32,
    /// The largest linear memory any plugin may be allowed, bytes (the pool's slot size).
    /// Per-plugin caps above it are clamped. Default 256 MiB.
    pub max_memory_bytes: u64,
    /// Try the `PAGEMAP_SCAN` fast path. Default true.
    pub fast_path: bool,
}

impl Default for WasmSettings {
    fn default() -> Self {
        Self {
            max_instances: 64,
            max_memory_bytes: 256 << 20,
            fast_path: true,
        }
    }
}

const KEEP_RESIDENT: usize = 2 << 20;

fn config(settings: &WasmSettings, fast: bool) -> Config {
    let mut pool = PoolingAllocationConfig::new();
    let n = settings.max_instances.max(1);
    pool.total_component_instances(n)
        // A Rust component holds its main module plus a few small shim modules.
        .total_core_instances(n.saturating_mul(8))
        .total_memories(n)
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        // Per component: a Rust plugin has one memory and a handful of core instances;
        // these bounds stop one component from taking many pool slots at once.
        .max_memories_per_component(2)
        .max_core_instances_per_component(64)
        .max_tables_per_component(16)
        .max_memory_size(settings.max_memory_bytes as usize);
    if fast {
        pool.linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(Enabled::Yes);
    } else {
        pool.pagemap_scan(Enabled::No);
    }
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(512 << 10)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Builds the engine, falling back from the fast path when the kernel refuses it.
pub fn build_wasmtime(settings: &WasmSettings) -> Result<(Engine, MemoryPath), PluginHostError> {
    if settings.fast_path
        && let Ok(engine) = Engine::new(&config(settings, true))
    {
        return Ok((engine, MemoryPath::PagemapScan));
    }
    let engine = Engine::new(&config(settings, false))
        .map_err(|e| PluginHostError::Wasm(format!("{e:#}")))?;
    Ok((engine, MemoryPath::Default))
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
#[derive(Debug)]
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Starts the ticker thread; without it guest loops would never be interrupted.
    pub fn start(engine: &Engine) -> Result<Self, PluginHostError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("sluice-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| PluginHostError::Wasm(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Epoch ticks for a deadline (rounded up, at least one).
pub fn ticks(timeout: Duration) -> u64 {
    (timeout.as_nanos() / EPOCH_TICK.as_nanos()) as u64 + 1
}
