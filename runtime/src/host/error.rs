//! Errors of the plugin host: [`StepError`] ends a step (stable codes a workflow can match),
//! [`PluginHostError`] refuses an install or a load.

use serde::{Deserialize, Serialize};

use crate::code::Code;

/// The codes of step failures caused by the sandbox or by policy, by their names (each is
/// a [`Code`] of the table in [`crate::code`]).
pub mod codes {
    use crate::code::Code;

    /// The call ran past its wall-clock deadline (guest code and host calls included).
    pub const PLUGIN_TIMEOUT: Code = Code::PluginTimeout;
    /// The guest tried to grow its memory (or tables) past its cap.
    pub const PLUGIN_MEMORY_LIMIT: Code = Code::PluginMemoryLimit;
    /// The guest trapped: a panic, an abort, a stack overflow, an invalid operation.
    pub const PLUGIN_TRAP: Code = Code::PluginTrap;
    /// The guest returned more bytes than the output cap.
    pub const PLUGIN_OUTPUT_TOO_LARGE: Code = Code::PluginOutputTooLarge;
    /// The step's input is larger than the input cap; the plugin was not called.
    pub const PLUGIN_INPUT_TOO_LARGE: Code = Code::PluginInputTooLarge;
    /// The guest wrote more log (log lines, stdout, stderr) than the log cap.
    pub const PLUGIN_LOG_LIMIT: Code = Code::PluginLogLimit;
    /// The guest returned text that is not JSON.
    pub const PLUGIN_INVALID_OUTPUT: Code = Code::PluginInvalidOutput;
    /// The guest made more host calls in one step than allowed.
    pub const PLUGIN_CALL_LIMIT: Code = Code::PluginCallLimit;
    /// The guest made a host call it was not granted; the call never left the host.
    pub const PERMISSION_DENIED: Code = Code::PermissionDenied;
    /// The component could not be instantiated (e.g. the instance pool is exhausted).
    pub const PLUGIN_INSTANTIATION_FAILED: Code = Code::PluginInstantiationFailed;
    /// The plugin returned an error the host cannot pass on: a code not of the form
    /// `^[A-Z][A-Z0-9_]{0,63}$`, or an error larger than the output limit.
    pub const PLUGIN_INVALID_ERROR: Code = Code::PluginInvalidError;
    /// A fault inside the host (a bug, not the plugin's or the workflow's doing) stopped
    /// the step or the run; the process and other runs go on.
    pub const INTERNAL_ERROR: Code = Code::InternalError;
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
    /// A host-side failure with a code of the table, not retryable.
    pub fn host(code: Code, message: impl Into<String>) -> Self {
        Self {
            code: code.as_str().to_owned(),
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
    /// A removal refused while enabled saved workflows pin the plugin.
    #[error(
        "{plugin} is pinned by the enabled workflow{}: {}; save {} again after installing \
         the version {} should use, disable {}, or remove with --force (runs of {} then \
         fail: the plugin is missing)",
        if workflows.len() == 1 { "" } else { "s" },
        workflows.join(", "),
        if workflows.len() == 1 { "it" } else { "them" },
        if workflows.len() == 1 { "it" } else { "they" },
        if workflows.len() == 1 { "it" } else { "them" },
        if workflows.len() == 1 { "it" } else { "them" }
    )]
    Pinned {
        plugin: String,
        workflows: Vec<String>,
    },
    /// What a workflow version pinned cannot be used any more.
    #[error(
        "plugin {plugin} (sha256:{digest}), pinned when the workflow was saved, cannot be \
         used: {why}; install it again, or save the workflow again to pin what is installed"
    )]
    PinUnavailable {
        plugin: String,
        digest: String,
        why: String,
    },
    /// A file holding a pack where one plugin is needed.
    #[error(
        "{component} is a pack; name one of its plugins ({}) with --member, or install it \
         and use the plugins by name",
        plugins.join(", ")
    )]
    IsPack {
        component: String,
        plugins: Vec<String>,
    },
    #[error("{component} holds no plugin `{plugin}` (its plugins: {})", plugins.join(", "))]
    NotInPack {
        component: String,
        plugin: String,
        plugins: Vec<String>,
    },
    /// A pack's plugin given alone where the pack is a unit (removal).
    #[error(
        "plugin {plugin} is part of pack {pack}, which is installed and removed as a unit; \
         remove the pack (`sluice plugin remove {pack}`), or install a version of it without \
         the plugin"
    )]
    InPack { plugin: String, pack: String },
    /// Plugins and packs share one set of names.
    #[error(
        "the name `{name}` is taken by {by}: plugins and packs share names, so rename one \
         of them"
    )]
    NameTaken { name: String, by: String },
    /// The component's signature is refused (see `signing.rs`).
    #[error(transparent)]
    Signature(#[from] super::signing::SignatureError),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("invalid wasmtime configuration: {0}")]
    Wasm(String),
}

impl PluginHostError {
    /// A stable code for scripts and the API.
    pub fn code(&self) -> Code {
        match self {
            Self::NotWasm(_) => Code::PluginNotWasm,
            Self::CoreModule(_) => Code::PluginNotComponent,
            Self::UnknownWorld { .. } => Code::PluginUnknownWorld,
            Self::InvalidManifest(_) => Code::PluginInvalidManifest,
            Self::Compile(_) => Code::PluginCompileFailed,
            Self::Instantiate(_) => Code::PluginInstantiationFailed,
            Self::Describe(_) => Code::PluginDescribeFailed,
            Self::GrantNotDeclared { .. } => Code::PluginGrantNotDeclared,
            Self::NotFound(_) | Self::PinUnavailable { .. } | Self::NotInPack { .. } => {
                Code::PluginNotFound
            }
            Self::IsPack { .. } => Code::PluginIsPack,
            Self::InPack { .. } => Code::PluginInPack,
            Self::NameTaken { .. } => Code::PluginNameTaken,
            Self::Pinned { .. } => Code::PluginPinned,
            Self::Bundled(_) | Self::BundledGrants(_) => Code::PluginBundled,
            Self::Changed { .. } => Code::PluginChanged,
            Self::AlreadyInstalled(_) => Code::PluginAlreadyInstalled,
            Self::NeedsVersion(_) => Code::PluginVersionRequired,
            Self::Signature(e) => e.code(),
            Self::Io(_) => Code::IoError,
            Self::Store(e) => e.code(),
            Self::Wasm(_) => Code::WasmConfig,
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
