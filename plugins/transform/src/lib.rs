//! `transform`: the data-shaping action. The workflow engine renders the step's `with:`
//! templates; this plugin returns that rendered input unchanged as the step's output, so
//! later steps can refer to a reshaped value as `steps.<id>.output`.
//!
//! # Layout
//! One file: the [`Transform`] action and its export.

use serde_json::value::RawValue;
use sluice_plugin::{Action, PluginError, Step};

/// Returns its input as its output. The input is checked to be JSON but not parsed into a
/// tree: the identity needs no tree, and `transform` is the most frequent step there is.
#[derive(Debug)]
pub struct Transform;

impl Action for Transform {
    type Input = Box<RawValue>;
    type Output = Box<RawValue>;
    const DESCRIPTION: &'static str =
        "Returns its (templated) input as its output: reshape data for later steps.";

    fn run(_step: &Step, input: Box<RawValue>) -> Result<Box<RawValue>, PluginError> {
        Ok(input)
    }
}

sluice_plugin::export_action!(Transform);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_the_input() {
        let input = serde_json::json!({"user": {"email": "a@b.c", "groups": [1, 2]}});
        let out = sluice_plugin::run_action::<Transform>(&Step::default(), &input.to_string());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&out.unwrap()).unwrap(),
            input
        );
    }

    #[test]
    fn accepts_any_json_and_rejects_non_json() {
        let out = sluice_plugin::run_action::<Transform>(&Step::default(), "42").unwrap();
        assert_eq!(out, "42");
        let err = sluice_plugin::run_action::<Transform>(&Step::default(), "{").unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT");
    }
}
