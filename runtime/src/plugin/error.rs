//! Errors of the plugin host: [`StepError`] ends a step (stable codes a workflow can match),
//! [`PluginHostError`] refuses an install or a load.

use serde::{Deserialize, Serialize};

/// Stable codes of step failures caused by the sandbox or by policy.
pub mod codes {
    /// The call ran past its wall-clock deadline (guest code and host calls included).
    pub const PLUGIN_TIMEOUT: &str = "PLUGIN_TIMEOUT";
    /// The guest tried to grow its memory (or tables) past its cap.
    pub const PLUGIN_MEMORY_LIMIT: &str = "PLUGIN_MEMORY_LIMIT";
    /// The guest trapped: a panic, an abort, a stack overflow, an invalid operation.
    pub const PLUGIN_TRAP: &str = "PLUGIN_TRAP";
    /// The guest returned more bytes than the output cap.
    pub const PLUGIN_OUTPUT_TOO_LARGE: &str = "PLUGIN_OUTPUT_TOO_LARGE";
    /// The step's input is larger than the input cap; the plugin was not called.
    pub const PLUGIN_INPUT_TOO_LARGE: &str = "PLUGIN_INPUT_TOO_LARGE";
    /// The guest wrote more log (log lines, stdout, stderr) than the log cap.
    pub const PLUGIN_LOG_LIMIT: &str = "PLUGIN_LOG_LIMIT";
    /// The guest returned text that is not JSON.
    pub const PLUGIN_INVALID_OUTPUT: &str = "PLUGIN_INVALID_OUTPUT";
    /// The guest made more host calls in one step than allowed.
    pub const PLUGIN_CALL_LIMIT: &str = "PLUGIN_CALL_LIMIT";
    /// The guest made a host call it was not granted; the call never left the host.
    pub const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
    /// The component could not be instantiated (e.g. the instance pool is exhausted).
    pub const PLUGIN_INSTANTIATION_FAILED: &str = "PLUGIN_INSTANTIATION_FAILED";
    /// The plugin returned an error the host cannot pass on: a code not of the form
    /// `^[A-Z][A-Z0-9_]{0,63}$`, or an error larger than the output limit.
    pub const PLUGIN_INVALID_ERROR: &str = "PLUGIN_INVALID_ERROR";
    /// A fault inside the host (a bug, not the plugin's or the workflow's doing) stopped
    /// the step or the run; the process and other runs go on.
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
}

/// Where a step error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorSource {
    /// The plugin returned a `plugin-error` it chose.
    Plugin,
    /// The host ended the step (limit, trap, policy).
    Host,
}

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StepError {
    pub code: String,
    pub message: String,
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    pub origin: ErrorSource,
}

impl StepError {
    /// A host-side failure with a stable code.
    pub fn host(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            retryable: false,
            details: None,
            origin: ErrorSource::Host,
        }
    }
}

/// Why a plugin cannot be installed, loaded or found.
#[derive(Debug, thiserror::Error)]
pub enum PluginHostError {
    #[error("{0} is not a WebAssembly file (no `\\0asm` header)")]
    NotWasm(String),
    #[error(
        "{0} is a core WebAssembly module, not a component; build the plugin for the \
         wasm32-wasip2 target (cargo build --target wasm32-wasip2)"
    )]
    CoreModule(String),
    #[error("{name} does not target a Sluice world: {reason}")]
    UnknownWorld { name: String, reason: String },
    #[error("the plugin's manifest is invalid:\n  - {}", .0.join("\n  - "))]
    InvalidManifest(Vec<String>),
    #[error("could not compile the component: {0}")]
    Compile(String),
    #[error("could not instantiate the component: {0}")]
    Instantiate(String),
    #[error("describe() failed: {0}")]
    Describe(String),
    #[error("cannot grant `{grant}`: {plugin} does not declare it (declared: {declared})")]
    GrantNotDeclared {
        plugin: String,
        grant: String,
        declared: String,
    },
    #[error("plugin {0} is not installed (see `sluice plugin list`)")]
    NotFound(String),
    #[error("{0} is already installed; remove it first or install with --replace")]
    AlreadyInstalled(String),
    #[error("give the plugin as NAME@VERSION, e.g. `{0}` (see `sluice plugin list`)")]
    NeedsVersion(String),
    #[error("plugin {0} is bundled with Sluice and cannot be removed or replaced")]
    Bundled(String),
    #[error(
        "plugin {0} is bundled with Sluice: it is granted what it declares, and that cannot \
         be changed"
    )]
    BundledGrants(String),
    /// A grant change for a component other than the one reviewed (replaced meanwhile).
    #[error(
        "{plugin} is now the component sha256:{found}, not sha256:{expected} whose \
         permissions were reviewed; review the installed one again"
    )]
    Changed {
        plugin: String,
        expected: String,
        found: String,
    },
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("invalid engine configuration: {0}")]
    Engine(String),
}

impl PluginHostError {
    /// A stable code for scripts and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotWasm(_) => "PLUGIN_NOT_WASM",
            Self::CoreModule(_) => "PLUGIN_NOT_COMPONENT",
            Self::UnknownWorld { .. } => "PLUGIN_UNKNOWN_WORLD",
            Self::InvalidManifest(_) => "PLUGIN_INVALID_MANIFEST",
            Self::Compile(_) => "PLUGIN_COMPILE_FAILED",
            Self::Instantiate(_) => codes::PLUGIN_INSTANTIATION_FAILED,
            Self::Describe(_) => "PLUGIN_DESCRIBE_FAILED",
            Self::GrantNotDeclared { .. } => "PLUGIN_GRANT_NOT_DECLARED",
            Self::NotFound(_) => "PLUGIN_NOT_FOUND",
            Self::Bundled(_) | Self::BundledGrants(_) => "PLUGIN_BUNDLED",
            Self::Changed { .. } => "PLUGIN_CHANGED",
            Self::AlreadyInstalled(_) => "PLUGIN_ALREADY_INSTALLED",
            Self::NeedsVersion(_) => "PLUGIN_VERSION_REQUIRED",
            Self::Io(_) => "IO_ERROR",
            Self::Store(e) => e.code(),
            Self::Engine(_) => "ENGINE_CONFIG",
        }
    }
}

/// Serializes a step result as `{"output": …}` or `{"error": {…}}`: the shape the CLI's
/// `--json`, the journal and the API show, rather than serde's `{"Ok": …}`.
pub mod result_json {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::StepError;

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Shape<T> {
        Output(T),
        Error(StepError),
    }

    pub fn serialize<S: Serializer>(
        r: &Result<serde_json::Value, StepError>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match r {
            Ok(v) => Shape::Output(v),
            Err(e) => Shape::Error(e.clone()),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Result<serde_json::Value, StepError>, D::Error> {
        Ok(match Shape::deserialize(d)? {
            Shape::Output(v) => Ok(v),
            Shape::Error(e) => Err(e),
        })
    }
}
