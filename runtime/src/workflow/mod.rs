//! Workflows: the document model, its validation and templating.
//!
//! # Layout
//! - `model.rs`: the document (YAML or JSON, strict) and its parser.
//! - `template.rs`: rendering and checking of `{{ expr }}`, `${path}` and `{{ .path }}`.

pub mod model;
pub mod template;
