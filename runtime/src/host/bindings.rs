//! Generated bindings for the `sluice:plugin` worlds. Only `bindgen!` lives here; the
//! generated types never leave `plugin/`.

#![allow(missing_docs, missing_debug_implementations, clippy::all)]

wasmtime::component::bindgen!({
    world: "platform",
    path: "../wit",
    imports: { default: async | trappable },
});

pub mod action {
    wasmtime::component::bindgen!({
        world: "action-plugin",
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

pub mod condition {
    wasmtime::component::bindgen!({
        world: "condition-plugin",
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

pub mod connector {
    wasmtime::component::bindgen!({
        world: "connector-plugin",
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
