//! Generated bindings (private) and the export macros plugin crates invoke.
//!
//! The import world `platform` is generated once; each export world reuses its types through
//! `with`, behind the crate feature of its kind, so a plugin's component targets one world.

#![allow(missing_docs, missing_debug_implementations, clippy::all)]

pub mod platform {
    wit_bindgen::generate!({
        world: "platform",
        path: "wit",
        runtime_path: "::sluice_plugin::__private::wit_bindgen::rt",
    });
}

pub use platform::sluice::plugin::types;

#[cfg(feature = "action")]
pub mod action {
    wit_bindgen::generate!({
        world: "action-plugin",
        path: "wit",
        with: {
            "sluice:plugin/types@0.2.0": crate::bindings::platform::sluice::plugin::types,
            "sluice:plugin/log@0.2.0": crate::bindings::platform::sluice::plugin::log,
            "sluice:plugin/jumpcloud@0.2.0": crate::bindings::platform::sluice::plugin::jumpcloud,
            "sluice:plugin/http@0.2.0": crate::bindings::platform::sluice::plugin::http,
            "sluice:plugin/state@0.2.0": crate::bindings::platform::sluice::plugin::state,
        },
        pub_export_macro: true,
        export_macro_name: "export_action_world",
        default_bindings_module: "::sluice_plugin::__private::action",
        runtime_path: "::sluice_plugin::__private::wit_bindgen::rt",
    });
}

#[cfg(feature = "condition")]
pub mod condition {
    wit_bindgen::generate!({
        world: "condition-plugin",
        path: "wit",
        with: {
            "sluice:plugin/types@0.2.0": crate::bindings::platform::sluice::plugin::types,
            "sluice:plugin/log@0.2.0": crate::bindings::platform::sluice::plugin::log,
            "sluice:plugin/jumpcloud@0.2.0": crate::bindings::platform::sluice::plugin::jumpcloud,
            "sluice:plugin/http@0.2.0": crate::bindings::platform::sluice::plugin::http,
            "sluice:plugin/state@0.2.0": crate::bindings::platform::sluice::plugin::state,
        },
        pub_export_macro: true,
        export_macro_name: "export_condition_world",
        default_bindings_module: "::sluice_plugin::__private::condition",
        runtime_path: "::sluice_plugin::__private::wit_bindgen::rt",
    });
}

#[cfg(feature = "connector")]
pub mod connector {
    wit_bindgen::generate!({
        world: "connector-plugin",
        path: "wit",
        with: {
            "sluice:plugin/types@0.2.0": crate::bindings::platform::sluice::plugin::types,
            "sluice:plugin/log@0.2.0": crate::bindings::platform::sluice::plugin::log,
            "sluice:plugin/jumpcloud@0.2.0": crate::bindings::platform::sluice::plugin::jumpcloud,
            "sluice:plugin/http@0.2.0": crate::bindings::platform::sluice::plugin::http,
            "sluice:plugin/state@0.2.0": crate::bindings::platform::sluice::plugin::state,
        },
        pub_export_macro: true,
        export_macro_name: "export_connector_world",
        default_bindings_module: "::sluice_plugin::__private::connector",
        runtime_path: "::sluice_plugin::__private::wit_bindgen::rt",
    });
}

#[cfg(feature = "pack")]
pub mod pack {
    wit_bindgen::generate!({
        world: "pack-plugin",
        path: "wit",
        with: {
            "sluice:plugin/types@0.2.0": crate::bindings::platform::sluice::plugin::types,
            "sluice:plugin/log@0.2.0": crate::bindings::platform::sluice::plugin::log,
            "sluice:plugin/jumpcloud@0.2.0": crate::bindings::platform::sluice::plugin::jumpcloud,
            "sluice:plugin/http@0.2.0": crate::bindings::platform::sluice::plugin::http,
            "sluice:plugin/state@0.2.0": crate::bindings::platform::sluice::plugin::state,
        },
        pub_export_macro: true,
        export_macro_name: "export_pack_world",
        default_bindings_module: "::sluice_plugin::__private::pack",
        runtime_path: "::sluice_plugin::__private::wit_bindgen::rt",
    });
}

/// What a pack answers for a plugin it does not hold (the host never asks: it calls only
/// the plugins the pack described, each by its kind).
pub fn not_in_pack(kind: &str, plugin: &str) -> types::PluginError {
    to_wit_error(crate::PluginError::new(
        "PLUGIN_NOT_IN_PACK",
        format!("this pack has no {kind} plugin `{plugin}`"),
    ))
}

/// Plain-Rust manifest to its WIT form (schemas as JSON text).
pub fn to_wit_manifest(m: crate::Manifest) -> types::Manifest {
    types::Manifest {
        name: m.name,
        version: m.version,
        kind: match m.kind {
            crate::Kind::Action => types::PluginKind::Action,
            crate::Kind::Condition => types::PluginKind::Condition,
            crate::Kind::Connector => types::PluginKind::Connector,
        },
        description: m.description,
        input_schema: m.input_schema.to_string(),
        output_schema: m.output_schema.to_string(),
        permissions: m.permissions,
    }
}

pub fn from_wit_step(s: types::StepInfo) -> crate::Step {
    crate::Step {
        run_id: s.run_id,
        workflow: s.workflow,
        step_id: s.step_id,
        attempt: s.attempt,
    }
}

pub fn to_wit_error(e: crate::PluginError) -> types::PluginError {
    types::PluginError {
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        details: e.details.map(|d| d.to_string()),
    }
}

pub fn from_wit_error(e: types::PluginError) -> crate::PluginError {
    crate::PluginError {
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        details: e.details.and_then(|d| serde_json::from_str(&d).ok()),
    }
}

/// Exports an [`Action`](crate::Action) implementation as the plugin's component.
#[cfg(feature = "action")]
#[macro_export]
macro_rules! export_action {
    ($plugin:ty) => {
        $crate::export_action!($plugin, name = env!("CARGO_PKG_NAME"));
    };
    // A crate that builds several components (one per cargo feature) names each one.
    ($plugin:ty, name = $name:expr) => {
        $crate::export_action!($plugin, name = $name, version = env!("CARGO_PKG_VERSION"));
    };
    // [`components!`](crate::components): the version of the crate that declares the plugin.
    ($plugin:ty, name = $name:expr, version = $version:expr) => {
        // Only a wasm build exports the world: the export names are not valid native
        // symbol names, and native builds exist for unit tests of the plugin's logic.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct SluiceActionExport;
            impl $crate::__private::action::exports::sluice::plugin::action::Guest
                for SluiceActionExport
            {
                fn describe() -> $crate::__private::types::Manifest {
                    $crate::__private::to_wit_manifest($crate::action_manifest::<$plugin>(
                        $name, $version,
                    ))
                }
                fn run(
                    step: $crate::__private::types::StepInfo,
                    input: ::std::string::String,
                ) -> ::std::result::Result<
                    ::std::string::String,
                    $crate::__private::types::PluginError,
                > {
                    $crate::run_action::<$plugin>(&$crate::__private::from_wit_step(step), &input)
                        .map_err($crate::__private::to_wit_error)
                }
            }
            $crate::__private::action::export_action_world!(
                SluiceActionExport with_types_in $crate::__private::action
            );
        };
    };
}

/// Exports a [`Condition`](crate::Condition) implementation as the plugin's component.
#[cfg(feature = "condition")]
#[macro_export]
macro_rules! export_condition {
    ($plugin:ty) => {
        $crate::export_condition!($plugin, name = env!("CARGO_PKG_NAME"));
    };
    // A crate that builds several components (one per cargo feature) names each one.
    ($plugin:ty, name = $name:expr) => {
        $crate::export_condition!($plugin, name = $name, version = env!("CARGO_PKG_VERSION"));
    };
    // [`components!`](crate::components): the version of the crate that declares the plugin.
    ($plugin:ty, name = $name:expr, version = $version:expr) => {
        // Only a wasm build exports the world: the export names are not valid native
        // symbol names, and native builds exist for unit tests of the plugin's logic.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct SluiceConditionExport;
            impl $crate::__private::condition::exports::sluice::plugin::condition::Guest
                for SluiceConditionExport
            {
                fn describe() -> $crate::__private::types::Manifest {
                    $crate::__private::to_wit_manifest($crate::condition_manifest::<$plugin>(
                        $name, $version,
                    ))
                }
                fn evaluate(
                    step: $crate::__private::types::StepInfo,
                    input: ::std::string::String,
                ) -> ::std::result::Result<bool, $crate::__private::types::PluginError> {
                    $crate::run_condition::<$plugin>(
                        &$crate::__private::from_wit_step(step),
                        &input,
                    )
                    .map_err($crate::__private::to_wit_error)
                }
            }
            $crate::__private::condition::export_condition_world!(
                SluiceConditionExport with_types_in $crate::__private::condition
            );
        };
    };
}

/// Exports a [`Connector`](crate::Connector) implementation as the plugin's component.
#[cfg(feature = "connector")]
#[macro_export]
macro_rules! export_connector {
    ($plugin:ty) => {
        $crate::export_connector!($plugin, name = env!("CARGO_PKG_NAME"));
    };
    // A crate that builds several components (one per cargo feature) names each one.
    ($plugin:ty, name = $name:expr) => {
        $crate::export_connector!($plugin, name = $name, version = env!("CARGO_PKG_VERSION"));
    };
    // [`components!`](crate::components): the version of the crate that declares the plugin.
    ($plugin:ty, name = $name:expr, version = $version:expr) => {
        // Only a wasm build exports the world: the export names are not valid native
        // symbol names, and native builds exist for unit tests of the plugin's logic.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct SluiceConnectorExport;
            impl $crate::__private::connector::exports::sluice::plugin::connector::Guest
                for SluiceConnectorExport
            {
                fn describe() -> $crate::__private::types::Manifest {
                    $crate::__private::to_wit_manifest($crate::connector_manifest::<$plugin>(
                        $name, $version,
                    ))
                }
                fn invoke(
                    step: $crate::__private::types::StepInfo,
                    input: ::std::string::String,
                ) -> ::std::result::Result<
                    ::std::string::String,
                    $crate::__private::types::PluginError,
                > {
                    $crate::run_connector::<$plugin>(
                        &$crate::__private::from_wit_step(step),
                        &input,
                    )
                    .map_err($crate::__private::to_wit_error)
                }
            }
            $crate::__private::connector::export_connector_world!(
                SluiceConnectorExport with_types_in $crate::__private::connector
            );
        };
    };
}

/// Declares, once, the plugins of a crate that builds one component per plugin (a
/// catalogue): `PLUGINS` (their names, in order), one export per cargo feature named like
/// the plugin (`cargo build --target wasm32-wasip2 --features user-get` builds that one
/// component), and an `export_plugin!("name")` macro with which a crate of its own makes any
/// one of them a component. The latter is how `sluice-plugin-build` builds a whole catalogue
/// in one cargo invocation that compiles the catalogue once.
///
/// ```ignore
/// sluice_plugin::components! {
///     crate = my_catalogue;
///     action UserGet = "user-get",
///     condition UserExists = "user-exists",
/// }
/// ```
#[macro_export]
macro_rules! components {
    // With a pack: the crate's cargo feature `pack` (enabling `sluice-plugin/pack`) builds
    // all its plugins as one component, the pack `$pack` (see [`export_pack!`]).
    (
        crate = $krate:ident;
        pack = $pack:tt, $description:tt;
        $($kind:ident $plugin:ident = $name:tt),* $(,)?
    ) => {
        $crate::components!(crate = $krate; $($kind $plugin = $name),*);
        #[cfg(feature = "pack")]
        $crate::export_pack! {
            name = $pack,
            description = $description,
            version = env!("CARGO_PKG_VERSION");
            $($kind $plugin = $name),*
        }
    };
    // `$name:tt`, not `literal`: a captured literal could not be matched again by the
    // generated `export_plugin!`.
    (crate = $krate:ident; $($kind:ident $plugin:ident = $name:tt),* $(,)?) => {
        /// Every plugin of this crate, by name (the cargo feature that builds it alone).
        pub const PLUGINS: &[&str] = &[$($name),*];
        #[doc(hidden)]
        pub const __COMPONENTS_VERSION: &str = env!("CARGO_PKG_VERSION");
        $(
            #[cfg(feature = $name)]
            $crate::__export_kind!($kind, $plugin, $name, env!("CARGO_PKG_VERSION"));
        )*
        /// Exports the named plugin of this crate as the component of the crate invoking it.
        #[macro_export]
        macro_rules! export_plugin {
            $(
                ($name) => {
                    $crate::__export_kind!(
                        $kind, ::$krate::$plugin, $name, ::$krate::__COMPONENTS_VERSION
                    );
                };
            )*
        }
    };
}

/// The export macro of a plugin kind, by the kind's name; for [`components!`](crate::components).
#[doc(hidden)]
#[macro_export]
macro_rules! __export_kind {
    (action, $plugin:ty, $name:expr, $version:expr) => {
        $crate::export_action!($plugin, name = $name, version = $version);
    };
    (condition, $plugin:ty, $name:expr, $version:expr) => {
        $crate::export_condition!($plugin, name = $name, version = $version);
    };
    (connector, $plugin:ty, $name:expr, $version:expr) => {
        $crate::export_connector!($plugin, name = $name, version = $version);
    };
}

/// Exports several plugins of this crate as one component, a pack: installed, signed,
/// pinned and removed as a unit, while each plugin keeps its own name, kind, schemas and
/// declared permissions (the host grants and checks them per plugin, per call). Workflows
/// use the plugins by their own names.
///
/// ```ignore
/// sluice_plugin::export_pack! {
///     name = "okta",
///     description = "Okta user lifecycle: suspend, unsuspend, and whether a user is active.",
///     version = env!("CARGO_PKG_VERSION");
///     action UserSuspend = "okta-user-suspend",
///     action UserUnsuspend = "okta-user-unsuspend",
///     condition UserActive = "okta-user-active",
/// }
/// ```
///
/// Enable the SDK's `pack` feature (not a kind feature). Each plugin's version is the
/// pack's.
#[cfg(feature = "pack")]
#[macro_export]
macro_rules! export_pack {
    (
        name = $pack:expr,
        description = $description:expr,
        version = $version:expr;
        $($kind:ident $plugin:ty = $name:expr),+ $(,)?
    ) => {
        // Only a wasm build exports the world, as for one plugin.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__private::pack::exports::sluice::plugin::pack as wit_pack;
            use $crate::__private::types::{PluginError as WitError, StepInfo};
            struct SluicePackExport;
            impl wit_pack::Guest for SluicePackExport {
                fn describe() -> wit_pack::PackManifest {
                    wit_pack::PackManifest {
                        name: ::std::string::String::from($pack),
                        version: ::std::string::String::from($version),
                        description: ::std::string::String::from($description),
                        plugins: ::std::vec![$(
                            $crate::__private::to_wit_manifest(
                                $crate::__pack_manifest!($kind, $plugin, $name, $version)
                            )
                        ),+],
                    }
                }
                fn run(
                    plugin: ::std::string::String,
                    step: StepInfo,
                    input: ::std::string::String,
                ) -> ::std::result::Result<::std::string::String, WitError> {
                    let step = $crate::__private::from_wit_step(step);
                    $($crate::__pack_arm!(run, $kind, $plugin, $name, plugin, step, input);)+
                    Err($crate::__private::not_in_pack("action", &plugin))
                }
                fn evaluate(
                    plugin: ::std::string::String,
                    step: StepInfo,
                    input: ::std::string::String,
                ) -> ::std::result::Result<bool, WitError> {
                    let step = $crate::__private::from_wit_step(step);
                    $($crate::__pack_arm!(evaluate, $kind, $plugin, $name, plugin, step, input);)+
                    Err($crate::__private::not_in_pack("condition", &plugin))
                }
                fn invoke(
                    plugin: ::std::string::String,
                    step: StepInfo,
                    input: ::std::string::String,
                ) -> ::std::result::Result<::std::string::String, WitError> {
                    let step = $crate::__private::from_wit_step(step);
                    $($crate::__pack_arm!(invoke, $kind, $plugin, $name, plugin, step, input);)+
                    Err($crate::__private::not_in_pack("connector", &plugin))
                }
            }
            $crate::__private::pack::export_pack_world!(
                SluicePackExport with_types_in $crate::__private::pack
            );
        };
    };
}

/// The manifest of a pack's plugin, by its kind's name; for [`export_pack!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __pack_manifest {
    (action, $plugin:ty, $name:expr, $version:expr) => {
        $crate::action_manifest::<$plugin>($name, $version)
    };
    (condition, $plugin:ty, $name:expr, $version:expr) => {
        $crate::condition_manifest::<$plugin>($name, $version)
    };
    (connector, $plugin:ty, $name:expr, $version:expr) => {
        $crate::connector_manifest::<$plugin>($name, $version)
    };
}

/// One plugin's arm of a pack's `run`, `evaluate` or `invoke`: answers when the call names
/// it and the function is its kind's; for [`export_pack!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __pack_arm {
    (run, action, $plugin:ty, $name:expr, $called:ident, $step:ident, $input:ident) => {
        if $called == $name {
            return $crate::run_action::<$plugin>(&$step, &$input)
                .map_err($crate::__private::to_wit_error);
        }
    };
    (evaluate, condition, $plugin:ty, $name:expr, $called:ident, $step:ident, $input:ident) => {
        if $called == $name {
            return $crate::run_condition::<$plugin>(&$step, &$input)
                .map_err($crate::__private::to_wit_error);
        }
    };
    (invoke, connector, $plugin:ty, $name:expr, $called:ident, $step:ident, $input:ident) => {
        if $called == $name {
            return $crate::run_connector::<$plugin>(&$step, &$input)
                .map_err($crate::__private::to_wit_error);
        }
    };
    ($function:ident, $kind:ident, $($rest:tt)*) => {};
}
