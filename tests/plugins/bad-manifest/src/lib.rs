//! An action component whose `describe()` returns an invalid manifest (a bad name, a schema
//! that is not JSON, an unknown permission). The host must refuse to install it.
//!
//! # Layout
//! One file, written against the raw WIT bindings on purpose: the SDK cannot produce this.

// Only a wasm build is a component; natively the export names are not valid symbols.
#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({ world: "action-plugin", path: "../../../wit" });

    use exports::sluice::plugin::action::Guest;
    use sluice::plugin::types::{Manifest, PluginError, PluginKind, StepInfo};

    struct Bad;

    impl Guest for Bad {
        fn describe() -> Manifest {
            Manifest {
                name: "Bad Name!".into(),
                version: "not-semver".into(),
                kind: PluginKind::Condition,
                description: String::new(),
                input_schema: "{not json".into(),
                output_schema: r#"{"type": 12}"#.into(),
                permissions: vec!["root:everything".into()],
            }
        }

        fn run(_step: StepInfo, input: String) -> Result<String, PluginError> {
            Ok(input)
        }
    }

    export!(Bad);
}
