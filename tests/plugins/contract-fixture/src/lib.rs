//! `contract-fixture`: greets a name, logs one line through the host, and echoes the step's
//! attempt. Its component, built once for each released version of the `sluice:plugin`
//! contract, is kept as `wit/<version>/fixture.wasm` and installed and called by the tests
//! on every build, so a host that stops linking an old contract fails them (see
//! wit/README.md, which also has the command that rebuilds it).
//!
//! # Layout
//! One file: the [`Fixture`] action and its export.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sluice_plugin::{Action, PluginError, Step};

/// The action.
#[derive(Debug)]
pub struct Fixture;

/// Whom to greet.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Input {
    pub name: String,
}

/// The greeting and the attempt it was made on.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    pub greeting: String,
    pub attempt: u32,
}

impl Action for Fixture {
    type Input = Input;
    type Output = Output;
    const DESCRIPTION: &'static str =
        "Greets a name (a fixture of a released contract version, for the tests).";

    fn run(step: &Step, input: Input) -> Result<Output, PluginError> {
        if input.name.is_empty() {
            return Err(PluginError::new("EMPTY_NAME", "`name` is empty"));
        }
        // A host call (natively there is no host: the unit test below runs the logic alone).
        #[cfg(target_arch = "wasm32")]
        sluice_plugin::log::info(&format!("greeting {}", input.name));
        Ok(Output {
            greeting: format!("hello, {}", input.name),
            attempt: step.attempt,
        })
    }
}

sluice_plugin::export_action!(Fixture);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_and_refuses_an_empty_name() {
        let out =
            sluice_plugin::run_action::<Fixture>(&Step::default(), r#"{"name":"jane"}"#).unwrap();
        assert_eq!(out, r#"{"greeting":"hello, jane","attempt":0}"#);
        let err =
            sluice_plugin::run_action::<Fixture>(&Step::default(), r#"{"name":""}"#).unwrap_err();
        assert_eq!(err.code, "EMPTY_NAME");
    }
}
