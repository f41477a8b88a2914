//! Generated bindings for the `sluice:plugin` worlds. Only `bindgen!` lives here; the
//! generated types never leave `host/`.
//!
//! The current contract (`wit/plugin.wit`, 0.2.0) is generated at the top level; each older
//! release the host still links (`wit/<version>/plugin.wit`) in a module of its own
//! ([`v0_1`]). An older release's worlds share the current `types` (their records are the
//! same), so a call is made the same way whichever version a component was built against;
//! its imports are generated from its own file, linked under its own version's names.

#![allow(missing_docs, missing_debug_implementations, clippy::all)]

wasmtime::component::bindgen!({
    world: "platform",
    path: "../wit",
    imports: { default: async | trappable },
});

/// The bindings of one export world of the current contract, reusing the imports above.
macro_rules! export_world {
    ($module:ident, $world:literal) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                world: $world,
                path: "../wit",
                with: {
                    "sluice:plugin/types": super::sluice::plugin::types,
                    "sluice:plugin/log": super::sluice::plugin::log,
                    "sluice:plugin/jumpcloud": super::sluice::plugin::jumpcloud,
                    "sluice:plugin/http": super::sluice::plugin::http,
                    "sluice:plugin/state": super::sluice::plugin::state,
                },
                imports: { default: async | trappable },
                exports: { default: async },
            });
        }
    };
}

export_world!(action, "action-plugin");
export_world!(condition, "condition-plugin");
export_world!(connector, "connector-plugin");
export_world!(pack, "pack-plugin");

/// `sluice:plugin@0.1.0`, the first release: one plugin per component.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        world: "platform",
        path: "../wit/0.1.0",
        with: { "sluice:plugin/types": crate::host::bindings::sluice::plugin::types },
        imports: { default: async | trappable },
    });

    /// The bindings of one export world of 0.1.0, reusing its imports above.
    macro_rules! export_world {
        ($module:ident, $world:literal) => {
            pub mod $module {
                wasmtime::component::bindgen!({
                    world: $world,
                    path: "../wit/0.1.0",
                    with: {
                        "sluice:plugin/types": crate::host::bindings::sluice::plugin::types,
                        "sluice:plugin/log": super::sluice::plugin::log,
                        "sluice:plugin/jumpcloud": super::sluice::plugin::jumpcloud,
                        "sluice:plugin/http": super::sluice::plugin::http,
                        "sluice:plugin/state": super::sluice::plugin::state,
                    },
                    imports: { default: async | trappable },
                    exports: { default: async },
                });
            }
        };
    }

    export_world!(action, "action-plugin");
    export_world!(condition, "condition-plugin");
    export_world!(connector, "connector-plugin");
}
