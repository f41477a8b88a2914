//! An action that answers its own version and build mark, for the plugin pinning tests.
//! The tests install copies of this component whose version ([`VERSION`]) and mark
//! ([`MARK`]) were rewritten in its bytes (same length, in its data), so two installed
//! components differ in their manifest's version, their digest and what they answer.
//!
//! # Layout
//! One file: the [`Versioned`] action.

use serde_json::{Value, json};
use sluice_plugin::{Action, PluginError, Step};

/// The version in the manifest and the answer; rewritten by the tests.
pub const VERSION: &str = "7.7.1";
/// A mark in the answer only; rewritten by the tests for a different component of the
/// same version.
pub const MARK: &str = "mark-aaaa";

/// The action.
#[derive(Debug)]
pub struct Versioned;

impl Action for Versioned {
    type Input = Value;
    type Output = Value;
    const DESCRIPTION: &'static str = "Answers its version and build mark; for tests only.";
    const PERMISSIONS: &'static [&'static str] = &[];

    fn run(_step: &Step, _input: Value) -> Result<Value, PluginError> {
        // Read through `black_box`, so the texts stay bytes in the data (not folded into
        // code) where the tests can rewrite them.
        Ok(json!({
            "version": std::hint::black_box(VERSION),
            "mark": std::hint::black_box(MARK),
        }))
    }
}

sluice_plugin::export_action!(
    Versioned,
    name = "versioned",
    version = std::hint::black_box(VERSION)
);
