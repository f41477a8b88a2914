//! The engine alone, for `sluice bench step`: a fresh store, instance and call of a plugin
//! with nothing of Sluice's around it, so the benchmark can tell the engine's own cost on
//! this machine from what the host adds (limits, log capture, permission state, parsing
//! the output).
//!
//! The store holds an empty WASI context and the same epoch deadline as a real step; the
//! Sluice imports (`log`, `jumpcloud`, `http`, `state`) are linked as traps, so a plugin
//! that calls one cannot be measured this way and the benchmark says so.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::sluice::plugin::types as wit;
use super::manifest::PluginKind;
use super::wasm::ticks;
use super::world::Pre;
use super::{Limits, LoadedPlugin};

/// The whole store data of a bare call.
struct Bare {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// A plugin linked for bare calls.
pub struct BareRunner {
    engine: Engine,
    pre: Pre<Bare>,
    /// The plugin's kind and name (a pack's call names the plugin).
    kind: PluginKind,
    name: String,
    ticks: u64,
    timeout: std::time::Duration,
}

impl std::fmt::Debug for BareRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BareRunner").finish_non_exhaustive()
    }
}

impl BareRunner {
    pub(super) fn new(
        engine: &Engine,
        plugin: &LoadedPlugin,
        limits: Limits,
    ) -> Result<Self, wasmtime::Error> {
        let component: &Component = plugin.pre.component();
        let mut linker = Linker::<Bare>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // Only the Sluice interfaces become traps; WASI imports of any 0.2.x version resolve
        // to wasmtime-wasi's definitions as they do for real steps.
        for (name, item) in component.component_type().imports(engine) {
            let ComponentItem::ComponentInstance(instance) = item.ty else {
                continue;
            };
            if !name.starts_with("sluice:plugin/") {
                continue;
            }
            let mut defined = linker.instance(name)?;
            for (func, item) in instance.exports(engine) {
                if let ComponentItem::ComponentFunc(_) = item.ty {
                    let what = format!("{name}#{func}");
                    defined.func_new(func, move |_, _, _, _| {
                        Err(wasmtime::format_err!(
                            "{what} is not available to the engine alone"
                        ))
                    })?;
                }
            }
        }
        let instance_pre = linker.instantiate_pre(component)?;
        let pre = Pre::new(plugin.pre.world(), instance_pre)?;
        Ok(Self {
            engine: engine.clone(),
            pre,
            kind: plugin.manifest.kind,
            name: plugin.manifest.name.clone(),
            ticks: ticks(limits.timeout),
            timeout: limits.timeout,
        })
    }

    /// One fresh store + instance + call; the output is returned unparsed. An error means
    /// the plugin trapped or failed, e.g. because it called a Sluice import.
    pub async fn call(&self, input: &String) -> Result<(), String> {
        let mut store = Store::new(
            &self.engine,
            Bare {
                ctx: WasiCtx::builder().build(),
                table: ResourceTable::new(),
            },
        );
        store.set_epoch_deadline(self.ticks);
        store.epoch_deadline_trap();
        // The epoch stops guest code; a guest blocked in a WASI call is stopped here.
        tokio::time::timeout(self.timeout, self.run(store, input))
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }

    async fn run(&self, mut store: Store<Bare>, input: &String) -> Result<(), String> {
        let step = wit::StepInfo {
            run_id: String::new(),
            workflow: String::new(),
            step_id: "bench".into(),
            attempt: 1,
        };
        let failed = |e: wasmtime::Error| format!("{e:#}");
        let refused = |e: wit::PluginError| format!("{}: {}", e.code, e.message);
        let i = self.pre.instantiate(&mut store).await.map_err(failed)?;
        let out = i.call(&mut store, self.kind, &self.name, &step, input);
        out.await.map_err(failed)?.map_err(refused)?;
        Ok(())
    }
}
