//! `sluice-plugin`: write Sluice plugins in plain Rust.
//!
//! A plugin is a crate built with `cargo build --target wasm32-wasip2`. Its logic is an
//! ordinary function over serde types; this crate turns it into a WebAssembly component
//! that describes itself (name, version, kind, JSON Schemas, permissions) and talks to the
//! host through typed helpers. Plugin code never touches WIT types or hand-written schemas.
//!
//! ```ignore
//! use sluice_plugin::{Action, PluginError, Step};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! pub struct Input { name: String }
//! #[derive(serde::Serialize, schemars::JsonSchema)]
//! pub struct Output { greeting: String }
//!
//! pub struct Greet;
//! impl Action for Greet {
//!     type Input = Input;
//!     type Output = Output;
//!     const DESCRIPTION: &'static str = "Greets someone.";
//!     fn run(_step: &Step, input: Input) -> Result<Output, PluginError> {
//!         Ok(Output { greeting: format!("hello {}", input.name) })
//!     }
//! }
//! sluice_plugin::export_action!(Greet);
//! ```
//!
//! Enable the crate feature matching the plugin's kind (`action`, `condition` or
//! `connector`) so the component targets exactly that world — or `pack`, and
//! [`export_pack!`] exports several plugins of the crate as one component (a pack).
//!
//! # Layout
//! - this file: the plugin traits, [`Manifest`] derivation and the JSON glue
//!   ([`run_action`] and friends), all plain Rust and testable natively;
//! - [`log`], [`jumpcloud`], [`http`], [`state`]: typed helpers over the host imports;
//! - `bindings`: the `wit-bindgen` output, private to this crate, and the export macros.
//! - [`testing`] (feature `testing`, native builds): a host served in process, so a
//!   plugin's tests run its logic against the JumpCloud simulator, scripted connectors and
//!   in-memory state, with the host's permission checks.

extern crate self as sluice_plugin;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use schemars;
pub use serde;
pub use serde_json;

mod bindings;
pub mod http;
pub mod jumpcloud;
pub mod log;
pub mod state;
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
pub mod testing;

/// What the export macros need; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::*;
    pub use wit_bindgen;
}

/// The step a call belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Step {
    pub run_id: String,
    pub workflow: String,
    pub step_id: String,
    pub attempt: u32,
}

/// An error the workflow can handle: a stable upper-case code, a message for the
/// administrator, whether a retry may help, and optional structured details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginError {
    pub code: String,
    pub message: String,
    pub retryable: bool,
    pub details: Option<serde_json::Value>,
}

impl PluginError {
    /// A non-retryable error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            retryable: false,
            details: None,
        }
    }

    /// A retryable error (rate limits, outages).
    pub fn retryable(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            retryable: true,
            ..Self::new(code, message)
        }
    }

    /// Attaches structured details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The input did not match the plugin's input type.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("INVALID_INPUT", message)
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for PluginError {}

/// The three kinds of plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Action,
    Condition,
    Connector,
}

/// What a plugin says about itself; derived by the export macros, never written by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub description: String,
    pub input_schema: serde_json::Value,
    pub output_schema: serde_json::Value,
    pub permissions: Vec<String>,
}

/// An action: takes a JSON input, does something, returns a JSON output.
pub trait Action {
    type Input: DeserializeOwned + JsonSchema;
    type Output: Serialize + JsonSchema;
    /// One or two sentences for the plugin catalogue.
    const DESCRIPTION: &'static str;
    /// Permissions the plugin needs (`jumpcloud:users`, `http:jira`, `state`, ...).
    const PERMISSIONS: &'static [&'static str] = &[];
    fn run(step: &Step, input: Self::Input) -> Result<Self::Output, PluginError>;
}

/// A condition: answers yes or no for an `if` step.
pub trait Condition {
    type Input: DeserializeOwned + JsonSchema;
    const DESCRIPTION: &'static str;
    const PERMISSIONS: &'static [&'static str] = &[];
    fn evaluate(step: &Step, input: Self::Input) -> Result<bool, PluginError>;
}

/// A connector: calls an external application through a host connector.
pub trait Connector {
    type Input: DeserializeOwned + JsonSchema;
    type Output: Serialize + JsonSchema;
    const DESCRIPTION: &'static str;
    const PERMISSIONS: &'static [&'static str] = &[];
    fn invoke(step: &Step, input: Self::Input) -> Result<Self::Output, PluginError>;
}

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or(serde_json::Value::Bool(true))
}

fn manifest(
    name: &str,
    version: &str,
    kind: Kind,
    description: &str,
    input_schema: serde_json::Value,
    output_schema: serde_json::Value,
    permissions: &[&str],
) -> Manifest {
    Manifest {
        name: name.to_owned(),
        version: version.to_owned(),
        kind,
        description: description.to_owned(),
        input_schema,
        output_schema,
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// The manifest of an action plugin.
pub fn action_manifest<A: Action>(name: &str, version: &str) -> Manifest {
    let (input, output) = (schema_of::<A::Input>(), schema_of::<A::Output>());
    manifest(
        name,
        version,
        Kind::Action,
        A::DESCRIPTION,
        input,
        output,
        A::PERMISSIONS,
    )
}

/// The manifest of a condition plugin (its output is a boolean).
pub fn condition_manifest<C: Condition>(name: &str, version: &str) -> Manifest {
    let (input, output) = (schema_of::<C::Input>(), schema_of::<bool>());
    manifest(
        name,
        version,
        Kind::Condition,
        C::DESCRIPTION,
        input,
        output,
        C::PERMISSIONS,
    )
}

/// The manifest of a connector plugin.
pub fn connector_manifest<C: Connector>(name: &str, version: &str) -> Manifest {
    let (input, output) = (schema_of::<C::Input>(), schema_of::<C::Output>());
    manifest(
        name,
        version,
        Kind::Connector,
        C::DESCRIPTION,
        input,
        output,
        C::PERMISSIONS,
    )
}

fn parse_input<T: DeserializeOwned>(input: &str) -> Result<T, PluginError> {
    serde_json::from_str(input).map_err(|e| PluginError::invalid_input(format!("input: {e}")))
}

fn render_output<T: Serialize>(output: &T) -> Result<String, PluginError> {
    serde_json::to_string(output)
        .map_err(|e| PluginError::new("INVALID_OUTPUT", format!("output: {e}")))
}

/// JSON in, JSON out around [`Action::run`].
pub fn run_action<A: Action>(step: &Step, input: &str) -> Result<String, PluginError> {
    render_output(&A::run(step, parse_input(input)?)?)
}

/// JSON in around [`Condition::evaluate`].
pub fn run_condition<C: Condition>(step: &Step, input: &str) -> Result<bool, PluginError> {
    C::evaluate(step, parse_input(input)?)
}

/// JSON in, JSON out around [`Connector::invoke`].
pub fn run_connector<C: Connector>(step: &Step, input: &str) -> Result<String, PluginError> {
    render_output(&C::invoke(step, parse_input(input)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, JsonSchema)]
    struct In {
        n: i64,
    }
    #[derive(Serialize, JsonSchema)]
    struct Out {
        doubled: i64,
    }
    struct Double;
    impl Action for Double {
        type Input = In;
        type Output = Out;
        const DESCRIPTION: &'static str = "Doubles n.";
        const PERMISSIONS: &'static [&'static str] = &["state"];
        fn run(_: &Step, input: In) -> Result<Out, PluginError> {
            Ok(Out {
                doubled: input.n * 2,
            })
        }
    }

    #[test]
    fn manifest_is_derived_from_types() {
        let m = action_manifest::<Double>("double", "1.2.3");
        assert_eq!(m.kind, Kind::Action);
        assert_eq!(m.permissions, vec!["state".to_owned()]);
        assert_eq!(m.input_schema["properties"]["n"]["type"], "integer");
        assert_eq!(m.input_schema["required"][0], "n");
        assert_eq!(m.output_schema["properties"]["doubled"]["type"], "integer");
    }

    #[test]
    fn json_glue_round_trips_and_reports_bad_input() {
        let step = Step::default();
        assert_eq!(
            run_action::<Double>(&step, r#"{"n":21}"#).unwrap(),
            r#"{"doubled":42}"#
        );
        let err = run_action::<Double>(&step, r#"{"n":"x"}"#).unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT");
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }
}
