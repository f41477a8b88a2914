//! Workflows: the document model, its validation and templating.
//!
//! # Layout
//! - `template.rs`: rendering and checking of `{{ expr }}`, `${path}` and `{{ .path }}`.

pub mod template;
