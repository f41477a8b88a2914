//! The `sluice` command line. Output is for people by default (tables) and for scripts with
//! `--json`. Exit codes: 0 success, 1 the step or command failed, 2 invalid input or usage.
//!
//! # Layout
//! - this file: arguments, the data directory, dispatch and exit codes;
//! - `plugin.rs`: `sluice plugin …`;
//! - `bench.rs`: `sluice bench …`;
//! - `bulk.rs`: `sluice run … --input rows.csv` (one run per row, with a summary);
//! - `demo.rs`: `sluice demo` (new-user provisioning of John Smith, in a throwaway sandbox);
//! - `connector.rs`: `sluice connector …` (External App Connectors);
//! - `role.rs`: `sluice role …` (custom roles a workflow can run as);
//! - `template.rs`: `sluice template …` (the template catalogue);
//! - `serve.rs`: `sluice serve` (the service) and the note it leaves in the data dir;
//! - `token.rs`: `sluice token …` (admin API tokens);
//! - `trust.rs`: `sluice trust …` (keys trusted to sign plugins, the install policy) and
//!   `sluice plugin keygen` / `sign`;
//! - `secret.rs`: `sluice secret …` (secrets sealed under `SLUICE_SECRET_KEY`);
//! - `store.rs`: `sluice store copy` (the data dir's store into PostgreSQL);
//! - `sandbox.rs`: `sluice sandbox` (the JumpCloud simulator, standalone) and its reset;
//! - `scaffold/`: `sluice plugin new` (a ready plugin crate, from embedded templates);
//! - `workflow.rs`: `sluice validate`, `run` and `runs …`;
//! - `reference.rs`: `docs/cli.md`, generated from these definitions (tests only).

mod bench;
mod bulk;
mod connector;
mod demo;
mod plugin;
#[cfg(test)]
mod reference;
mod role;
mod sandbox;
mod scaffold;
mod secret;
mod serve;
mod store;
mod template;
mod token;
mod trust;
mod workflow;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::broker::connector::ConnectorBroker;
use crate::code::Code;
use crate::host::registry::Registry;
use crate::host::{
    HostConfig, LimitOverrides, Limits, PluginHost, PluginHostError, Services, WasmSettings,
};
use crate::jumpcloud::embedded::JumpCloudTarget;
use crate::store::Store;

/// Sluice: JumpCloud automation with sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
pub struct Cli {
    /// Where Sluice keeps its store, installed plugins and compiled-component cache.
    /// Default: $XDG_DATA_HOME/sluice (usually ~/.local/share/sluice). SLUICE_CACHE_DIR
    /// moves the compiled-component cache elsewhere (it may be shared by several data dirs).
    #[arg(long, global = true, env = "SLUICE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Keep the store in this PostgreSQL database (`postgres://user:password@host/db`)
    /// instead of the data dir, so several `sluice serve` nodes share it (docs/cluster.md).
    /// The data dir still holds the compiled-component cache.
    #[arg(
        long,
        global = true,
        env = "SLUICE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,

    #[command(subcommand)]
    command: Command,
}

/// The `--database` of this invocation, set once at start (every command opens its store
/// through [`App::open_store`], which reads it).
static DATABASE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Guest threads per core on a store behind a network round trip (PostgreSQL): its
/// calls block their thread meanwhile. Measured with `sluice --database URL bench
/// workflow`: one thread per core kept the two cores of a small machine a third idle.
const REMOTE_STORE_THREADS_PER_CORE: usize = 4;

fn remote_store_threads() -> usize {
    REMOTE_STORE_THREADS_PER_CORE * std::thread::available_parallelism().map_or(2, usize::from)
}

/// The PostgreSQL database this invocation keeps its store in, if any.
pub(crate) fn database() -> Option<&'static str> {
    DATABASE
        .get()
        .and_then(|d| d.as_deref())
        .filter(|d| !d.trim().is_empty())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Install, list, inspect, call and remove plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Measure the runtime.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Check a workflow file; print every problem, or the narrowest role that covers it.
    Validate {
        file: PathBuf,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run a workflow file with input JSON and print its output (or its failure report).
    Run {
        file: PathBuf,
        /// A file holding the input JSON, or `-` for standard input.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// The input as JSON text.
        #[arg(long, value_name = "JSON")]
        input_json: Option<String>,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
        /// With a CSV file or JSON array as input: rows run at once (default 8).
        #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
    },
    /// Inspect and resume runs.
    #[command(subcommand)]
    Runs(workflow::RunsCommand),
    /// Serve a local JumpCloud sandbox (or reset the embedded one).
    Sandbox(sandbox::SandboxArgs),
    /// Store secrets (the JumpCloud API key) encrypted under a key you hold.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Provision an example new hire (John Smith) with the new-user provisioning workflow in
    /// a throwaway sandbox organisation and print the result: no account, no setup, nothing
    /// outside the sandbox changed.
    Demo {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ready-made workflows by category: list, show, and write one out to edit.
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Define the external applications workflows call (External App Connectors).
    #[command(subcommand)]
    Connector(connector::ConnectorCommand),
    /// Custom roles: named sets of JumpCloud scopes a workflow can run as.
    #[command(subcommand)]
    Role(role::RoleCommand),
    /// Run the service: HTTP API, schedules, Directory Insights events, webhooks, metrics.
    Serve(serve::ServeArgs),
    /// Admin API tokens for `sluice serve`.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Keys trusted to sign plugins, and whether installs require such a signature.
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// The store itself: copy the data dir's into PostgreSQL.
    #[command(subcommand)]
    Store(store::StoreCommand),
}

/// Limits given on the command line (`--timeout-ms`, `--memory-mb`, ...).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct LimitArgs {
    /// Deadline of one call in milliseconds (default 30000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    timeout_ms: Option<u64>,
    /// Memory cap in MiB (default 64).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=4096))]
    memory_mb: Option<u64>,
    /// Largest accepted input in bytes (default 1 MiB).
    #[arg(long, value_name = "BYTES")]
    max_input_bytes: Option<usize>,
    /// Largest accepted output in bytes (default 1 MiB).
    #[arg(long, value_name = "BYTES")]
    max_output_bytes: Option<usize>,
    /// Log captured per call in bytes (default 64 KiB).
    #[arg(long, value_name = "BYTES")]
    max_log_bytes: Option<usize>,
}

impl LimitArgs {
    pub(crate) fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            timeout_ms: self.timeout_ms,
            memory_bytes: self.memory_mb.map(|m| m << 20),
            max_input_bytes: self.max_input_bytes,
            max_output_bytes: self.max_output_bytes,
            max_log_bytes: self.max_log_bytes,
        }
    }
}

/// The global limits: the defaults, changed by `SLUICE_LIMIT_*` environment variables.
pub(crate) fn global_limits() -> Result<Limits, Failure> {
    fn var<T: std::str::FromStr>(name: &str) -> Result<Option<T>, Failure> {
        match std::env::var(name) {
            Err(_) => Ok(None),
            Ok(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| usage(format!("{name}={v:?} is not a valid number"))),
        }
    }
    let overrides = LimitOverrides {
        timeout_ms: var::<u64>("SLUICE_LIMIT_TIMEOUT_MS")?
            .map(|ms| {
                if (1..=86_400_000).contains(&ms) {
                    Ok(ms)
                } else {
                    Err(usage(
                        "SLUICE_LIMIT_TIMEOUT_MS must be between 1 and 86400000",
                    ))
                }
            })
            .transpose()?,
        memory_bytes: var::<u64>("SLUICE_LIMIT_MEMORY_MB")?
            .map(|mb| {
                if (1..=4096).contains(&mb) {
                    Ok(mb << 20)
                } else {
                    Err(usage("SLUICE_LIMIT_MEMORY_MB must be between 1 and 4096"))
                }
            })
            .transpose()?,
        max_input_bytes: var("SLUICE_LIMIT_MAX_INPUT_BYTES")?,
        max_output_bytes: var("SLUICE_LIMIT_MAX_OUTPUT_BYTES")?,
        max_log_bytes: var("SLUICE_LIMIT_MAX_LOG_BYTES")?,
    };
    Ok(Limits::DEFAULT.with(&overrides))
}

/// The ceiling on every call's deadline: `SLUICE_MAX_STEP_TIMEOUT` (a duration such as
/// `30m`), 15 minutes by default, at most a day.
pub(crate) fn timeout_ceiling() -> Result<std::time::Duration, Failure> {
    use crate::host::limits::{MAX_STEP_TIMEOUT_DEFAULT, MAX_STEP_TIMEOUT_LIMIT};
    match std::env::var("SLUICE_MAX_STEP_TIMEOUT") {
        Err(_) => Ok(MAX_STEP_TIMEOUT_DEFAULT),
        Ok(v) => match humantime::parse_duration(v.trim()) {
            Ok(d) if !d.is_zero() && d <= MAX_STEP_TIMEOUT_LIMIT => Ok(d),
            _ => Err(usage(format!(
                "SLUICE_MAX_STEP_TIMEOUT={v:?} must be a duration such as `30m`, more than zero \
                 and at most 24h"
            ))),
        },
    }
}

/// A failure with its exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    /// The exit code the table gives the error's code; 1 for an error without one.
    fn from(e: E) -> Self {
        let error = e.into();
        let code = error_code(&error).map_or(1, Code::exit);
        Failure { code, error }
    }
}

impl Failure {
    /// A failure with `code`'s exit code.
    pub(crate) fn coded(code: Code, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: code.exit(),
            error: error.into(),
        }
    }
}

/// The code of an error of the host's, if it is one.
fn error_code(error: &anyhow::Error) -> Option<Code> {
    macro_rules! first_of {
        ($($t:ty),*) => {
            None$(.or_else(|| error.downcast_ref::<$t>().map(|e| e.code())))*
        };
    }
    first_of!(
        crate::engine::EngineError,
        PluginHostError,
        crate::store::StoreError,
        crate::secrets::SecretError,
        crate::role::RoleError,
        crate::connector::ConnectorError,
        crate::service::tokens::TokenError,
        crate::host::trust::TrustError,
        crate::host::signing::KeyError
    )
}

pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        error: anyhow::anyhow!(message.into()),
    }
}

/// What every command needs: the store, the plugin host and the registry.
pub(crate) struct App {
    pub(crate) registry: Arc<Registry>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) jumpcloud: JumpCloudTarget,
    pub(crate) data_dir: PathBuf,
}

impl App {
    fn open(data_dir: Option<PathBuf>, limits: Limits) -> Result<App, Failure> {
        Self::open_with(data_dir, limits, WasmSettings::default())
    }

    fn open_with(
        data_dir: Option<PathBuf>,
        limits: Limits,
        wasm: WasmSettings,
    ) -> Result<App, Failure> {
        let (data_dir, store) = Self::open_store(data_dir)?;
        let jumpcloud = secret::jumpcloud_target(&store)?;
        Self::assemble(data_dir, store, jumpcloud, limits, wasm)
    }

    /// An app on the store `database` names (the data dir's when `None`), whatever
    /// `--database` says: `bench cluster` runs the registry of the data dir while it
    /// measures the database.
    pub(crate) fn open_with_store(
        data_dir: Option<PathBuf>,
        database: Option<&str>,
        limits: Limits,
    ) -> Result<App, Failure> {
        let (data_dir, store) = Self::open_store_on(data_dir, database)?;
        let jumpcloud = secret::jumpcloud_target(&store)?;
        Self::assemble(data_dir, store, jumpcloud, limits, WasmSettings::default())
    }

    /// An app whose JumpCloud is a fresh in-memory JumpCloud simulator, whatever is configured.
    pub(crate) fn open_throwaway_simulator(
        data_dir: Option<PathBuf>,
        limits: Limits,
    ) -> Result<App, Failure> {
        let (data_dir, store) = Self::open_store(data_dir)?;
        let jumpcloud = crate::jumpcloud::embedded::simulator(None).map_err(usage)?;
        Self::assemble(data_dir, store, jumpcloud, limits, WasmSettings::default())
    }

    fn assemble(
        data_dir: PathBuf,
        store: Arc<dyn Store>,
        jumpcloud: JumpCloudTarget,
        limits: Limits,
        wasm: WasmSettings,
    ) -> Result<App, Failure> {
        let key = crate::secrets::SecretKey::from_env(|k| std::env::var(k).ok())
            .map_err(|e| usage(e.to_string()))?;
        let mut connectors = ConnectorBroker::new(store.clone(), store.clone(), key)
            .map_err(|e| anyhow::anyhow!(e))?;
        if let Some((def, secret)) = jumpcloud.mail_connector() {
            connectors = connectors.with_builtin(def, secret);
        }
        let services = Services {
            jumpcloud: jumpcloud.broker.clone(),
            http: Arc::new(connectors),
            state: store.clone(),
        };
        let config = HostConfig {
            cache_dir: Some(compile_cache_dir(&data_dir)?),
            limits,
            wasm,
            timeout_ceiling: timeout_ceiling()?,
            guest_threads: if store.remote() {
                remote_store_threads()
            } else {
                0
            },
        };
        let host = Arc::new(PluginHost::new(config, services)?);
        Ok(App {
            registry: Arc::new(
                Registry::new(host, store.clone(), store.clone())
                    .with_trust(store.clone())
                    .on_first_use(|n| {
                        eprintln!(
                            "compiling {n} bundled plugin{} for first use (once per data dir \
                             and Sluice version; this takes a few seconds)…",
                            if n == 1 { "" } else { "s" }
                        )
                    })
                    .with_pin_source(Arc::new(crate::service::workflows::SavedWorkflowPins(
                        store.clone(),
                    ))),
            ),
            store,
            jumpcloud,
            data_dir,
        })
    }

    /// Resolves the data directory and opens its store (the `--database` one when given).
    pub(crate) fn open_store(
        data_dir: Option<PathBuf>,
    ) -> anyhow::Result<(PathBuf, Arc<dyn Store>)> {
        Self::open_store_on(data_dir, database())
    }

    fn open_store_on(
        data_dir: Option<PathBuf>,
        database: Option<&str>,
    ) -> anyhow::Result<(PathBuf, Arc<dyn Store>)> {
        let data_dir = data_dir_path(data_dir)?;
        private_data_dir(&data_dir)?;
        // The one place the store is chosen (`store::open`).
        let store = match crate::store::open(&data_dir, database) {
            Ok(s) => s,
            Err(crate::store::StoreError::Locked(_))
                if serve::running_service(&data_dir).is_some() =>
            {
                anyhow::bail!("{}", serve::running_service(&data_dir).unwrap_or_default());
            }
            Err(e) => return Err(e.into()),
        };
        Ok((data_dir, store))
    }
}

/// The data directory: `--data-dir` (or `SLUICE_DATA_DIR`), else the default.
pub(crate) fn data_dir_path(data_dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match data_dir {
        Some(d) => Ok(d),
        None => directories::ProjectDirs::from("", "", "sluice")
            .map(|p| p.data_dir().to_path_buf())
            .context("cannot find a home directory; pass --data-dir or set SLUICE_DATA_DIR"),
    }
}

/// Where compiled components are cached: `SLUICE_CACHE_DIR` when set, else `<data dir>/cache`.
/// Several data dirs may share one cache (an artifact is keyed by the component's digest
/// and the engine's settings), which spares each new data dir compiling the bundled plugins
/// again. Its files are loaded as native code, so a cache that others can write is refused.
fn compile_cache_dir(data_dir: &std::path::Path) -> Result<PathBuf, Failure> {
    let Some(dir) = std::env::var_os("SLUICE_CACHE_DIR").filter(|d| !d.is_empty()) else {
        return Ok(data_dir.join("cache"));
    };
    let dir = PathBuf::from(dir);
    let fail = |e: std::io::Error| {
        usage(format!(
            "SLUICE_CACHE_DIR={}: cannot create it: {e}",
            dir.display()
        ))
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(fail)?;
        let mode = std::fs::metadata(&dir).map_err(fail)?.permissions().mode();
        if mode & 0o022 != 0 {
            return Err(usage(format!(
                "SLUICE_CACHE_DIR={} can be written by other users, and compiled plugins are \
                 loaded from it as native code; make it private (chmod 700) or unset it",
                dir.display()
            )));
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(&dir).map_err(fail)?;
    Ok(dir)
}

/// Creates the data directory for its owner alone (0700), tightens one that others can
/// reach (and, once, everything in it), and makes whatever this process creates from now
/// on owner-only (umask 077), so sled's files, installed components, the compile cache and
/// the service note are private without each writer having to remember it. The store
/// holds sealed secrets, token hashes, run records with their inputs and the embedded
/// JumpCloud simulator's directory.
fn private_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let create = || format!("cannot create the data directory {}", dir.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        // SAFETY: umask only swaps the process's file creation mask; it cannot fail.
        unsafe { libc::umask(0o077) };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(create)?;
        let tighten = |p: &std::path::Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m & 0o700))
                .with_context(|| format!("cannot make {} private", p.display()))
        };
        let mode = std::fs::metadata(dir)
            .with_context(create)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            // Made by an older Sluice or by hand: what Sluice keeps in it was made under
            // the user's umask. Only Sluice's own entries are walked, never anything else
            // that lives there.
            tighten(dir, 0o700)?;
            let mut stack: Vec<PathBuf> = ["store", "plugins", "cache", serve::SERVICE_FILE]
                .iter()
                .map(|n| dir.join(n))
                .collect();
            while let Some(p) = stack.pop() {
                let Ok(meta) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                if meta.is_dir() {
                    tighten(&p, 0o700)?;
                    for entry in std::fs::read_dir(&p).with_context(create)? {
                        stack.push(entry.with_context(create)?.path());
                    }
                } else if meta.is_file() {
                    tighten(&p, meta.permissions().mode())?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).with_context(create)?;
    Ok(())
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = DATABASE.set(cli.database.clone());
    // Output piped into `head` and the like should end the command quietly when the reader
    // goes away, as with other Unix tools, not with a panic from `println!`. SIGPIPE stays
    // ignored (a connection reset by a peer must stay an error, not kill a run); a failed
    // print to a closed pipe exits with the status a SIGPIPE death would give (141).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if cli.database.is_some() {
        // The API's handlers call the store too.
        builder.worker_threads(remote_store_threads());
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            // Errors quote plugins and input (validation problems, step messages).
            eprintln!("error: {}", plugin::safe(&format!("{:#}", f.error)));
            ExitCode::from(f.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Plugin(cmd) => plugin::run(cli.data_dir, cmd).await,
        Command::Bench(cmd) => bench::run(cli.data_dir, cmd).await,
        Command::Validate { file, json } => {
            let app = App::open(cli.data_dir, global_limits()?)?;
            workflow::validate_cmd(&app, &file, json).await
        }
        Command::Run {
            file,
            input,
            input_json,
            json,
            concurrency,
        } => {
            let app = App::open(cli.data_dir, global_limits()?)?;
            workflow::run_cmd(
                &app,
                &file,
                input.as_ref(),
                input_json.as_deref(),
                json,
                usize::from(concurrency),
            )
            .await
        }
        Command::Runs(cmd) => {
            let app = App::open(cli.data_dir, global_limits()?)?;
            workflow::runs_cmd(&app, cmd).await
        }
        Command::Sandbox(args) => sandbox::run(cli.data_dir, args).await,
        Command::Secret(cmd) => secret::run(cli.data_dir, cmd),
        Command::Connector(cmd) => connector::run(cli.data_dir, cmd),
        Command::Role(cmd) => role::run(cli.data_dir, cmd),
        Command::Demo { json } => demo::run(cli.data_dir, json).await,
        Command::Template(cmd) => template::run(cmd),
        Command::Serve(args) => serve::run(cli.data_dir, args).await,
        Command::Token(cmd) => token::run(cli.data_dir, cmd),
        Command::Trust(cmd) => trust::run(cli.data_dir, cmd),
        Command::Store(cmd) => store::run(cli.data_dir, cmd),
    }
}

/// Prints a value as pretty JSON ([`json_text`]).
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    println!("{}", json_text(value)?);
    Ok(())
}

/// Pretty JSON that is safe on a terminal. serde_json escapes the C0 controls (ESC, BEL,
/// CR…) in strings but leaves DEL and the C1 controls raw, as JSON allows, and some
/// terminals take `\u{9b}` for an escape sequence; those are escaped too (`\u009b`: the
/// same JSON value). Outside strings pretty JSON has no control character but `\n`.
pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string_pretty(value)?;
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// A table with the house style.
pub(crate) fn table<const N: usize>(header: [&str; N]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(header);
    t
}

/// Reads a JSON input from `--input-json` or `--input FILE|-`.
pub(crate) fn read_input(
    json: Option<&str>,
    file: Option<&PathBuf>,
) -> Result<Option<String>, Failure> {
    let text = match (json, file) {
        (Some(_), Some(_)) => return Err(usage("give either --input or --input-json, not both")),
        (Some(j), None) => j.to_owned(),
        (None, Some(p)) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            s
        }
        (None, Some(p)) => std::fs::read_to_string(p)
            .map_err(|e| usage(format!("cannot read input file {}: {e}", p.display())))?,
        (None, None) => return Ok(None),
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| usage(format!("the input is not valid JSON: {e}")))?;
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_escapes_every_control_character_and_stays_the_same_json() {
        let v = serde_json::json!({"a": "\u{1b}]52;c;x\u{7}\r\u{7f}\u{9b}2J", "b": ["é\n"]});
        let text = json_text(&v).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(
            text.contains(r"\u001b") && text.contains(r"\u009b"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
    }
}
