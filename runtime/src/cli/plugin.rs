//! `sluice plugin install | list | inspect | call | remove`, `keygen | sign` (in
//! `trust.rs`) and `new` (in `scaffold/`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use serde_json::json;

use super::{App, Failure, LimitArgs, json_text, print_json, read_input, table, usage};
use crate::broker::permissions::Grants;
use crate::host::registry::{PluginRecord, StateOptions};
use crate::host::{CallContext, LoadedPlugin, PackInfo};

#[derive(Debug, Subcommand)]
pub(crate) enum PluginCommand {
    /// Start a plugin: write a ready crate (typed input and output, one host call, native
    /// tests on the SDK's test host, a README with the build, install and call commands),
    /// or with `--lang js` a JavaScript plugin built with `jco componentize`.
    New {
        /// The plugin's name: lower-case letters, digits and `-`, starting with a letter.
        name: String,
        /// What the plugin is.
        #[arg(long, default_value = "action", value_parser = ["action", "condition", "connector"])]
        kind: String,
        /// The language: `rust` (a crate on the `sluice-plugin` SDK) or `js` (JavaScript,
        /// built into a component with npm and `jco componentize`).
        #[arg(long, default_value = "rust", value_parser = ["rust", "js"])]
        lang: String,
        /// The directory to create (default: ./NAME); an existing one must be empty.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The `sluice-plugin` SDK to depend on (`plugins/sdk` of Sluice's source); default:
        /// the SDK of the source tree this binary was built from.
        #[arg(long, value_name = "PATH", env = "SLUICE_SDK_PATH")]
        sdk: Option<PathBuf>,
    },
    /// Install a plugin component, granting some of the permissions it declares.
    Install {
        /// The component (`.wasm`, built for wasm32-wasip2).
        file: PathBuf,
        /// A permission to grant (repeatable); must be one the plugin declares. For a
        /// pack: `PERM` goes to each of its plugins that declares it, `PLUGIN=PERM` to that
        /// plugin alone.
        #[arg(long = "grant", value_name = "PERM")]
        grants: Vec<String>,
        #[command(flatten)]
        limits: LimitArgs,
        /// Replace an installed plugin of the same name and version.
        #[arg(long)]
        replace: bool,
        /// Keys the plugin's state may hold, across workflows (default 10000).
        #[arg(long, value_name = "N")]
        state_max_keys: Option<u64>,
        /// Bytes of keys and values the plugin's state may hold (default 16777216, 16 MiB).
        #[arg(long, value_name = "BYTES")]
        state_max_bytes: Option<u64>,
        /// Take over the state of an installed plugin (NAME or NAME@VERSION), e.g. the
        /// version this one upgrades. Without it a different component starts with empty
        /// state, even under the same name.
        #[arg(long, value_name = "PLUGIN")]
        adopt_state: Option<String>,
        /// Refuse the component unless it is signed by a trusted key (`sluice trust list`);
        /// `sluice trust require-signatures on` makes this the rule for every install.
        #[arg(long)]
        require_signature: bool,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List bundled and installed plugins.
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show a plugin's manifest, digest, imports and grants.
    Inspect {
        /// A `.wasm` file, or NAME or NAME@VERSION of a bundled or installed plugin.
        plugin: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run one call of a plugin in the sandbox, as a workflow step would.
    Call {
        /// A `.wasm` file, or NAME or NAME@VERSION.
        plugin: String,
        /// The input as JSON text.
        #[arg(long, value_name = "JSON")]
        input_json: Option<String>,
        /// A file holding the input JSON, or `-` for standard input.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// For a `.wasm` file: a permission to grant for this call (repeatable).
        #[arg(long = "grant", value_name = "PERM")]
        grants: Vec<String>,
        /// For a `.wasm` file holding a pack: which of its plugins to call.
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
        #[command(flatten)]
        limits: LimitArgs,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make an Ed25519 signing key: write the secret key to a new file (owner-only) and
    /// print the public key, as `sluice trust add` takes it.
    Keygen {
        /// Where to write the secret key; an existing file is never overwritten.
        #[arg(long, value_name = "KEYFILE")]
        out: PathBuf,
    },
    /// Sign a component: embed a signature (wasmsign2's format) made with a secret key.
    Sign {
        /// The component (`.wasm`).
        file: PathBuf,
        /// The secret key file (`sluice plugin keygen --out`, or a PEM Ed25519 key).
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        /// Write the signed component here instead of replacing FILE.
        #[arg(long, value_name = "SIGNED.wasm")]
        out: Option<PathBuf>,
    },
    /// Remove an installed plugin.
    Remove {
        /// NAME@VERSION.
        id: String,
        /// Remove it even while enabled saved workflows pin it (their runs then fail).
        #[arg(long)]
        force: bool,
    },
}

pub(crate) async fn run(data_dir: Option<PathBuf>, cmd: PluginCommand) -> Result<(), Failure> {
    // Scaffolding, keys and signing need no data dir.
    let cmd = match cmd {
        PluginCommand::New {
            name,
            kind,
            lang,
            dir,
            sdk,
        } => {
            return super::scaffold::new(&name, &kind, &lang, dir.as_deref(), sdk.as_deref());
        }
        PluginCommand::Keygen { out } => return super::trust::keygen(&out),
        PluginCommand::Sign { file, key, out } => {
            return super::trust::sign(&file, &key, out.as_deref());
        }
        other => other,
    };
    let app = App::open(data_dir, super::global_limits()?)?;
    match cmd {
        PluginCommand::Install {
            file,
            grants,
            limits,
            replace,
            state_max_keys,
            state_max_bytes,
            adopt_state,
            require_signature,
            json,
        } => {
            let bytes = read_file(&file)?;
            let adopting = adopt_state.is_some();
            let before: Vec<PluginRecord> = app
                .registry
                .list()
                .await?
                .into_iter()
                .filter(|r| !r.bundled)
                .collect();
            let records = app
                .registry
                .install_with(
                    &file.display().to_string(),
                    &bytes,
                    &grants,
                    limits.overrides(),
                    replace,
                    StateOptions {
                        max_keys: state_max_keys,
                        max_bytes: state_max_bytes,
                        adopt: adopt_state,
                    },
                    require_signature,
                )
                .await?;
            if let Some(pack) = records.first().and_then(|r| r.pack.clone()) {
                return print_pack_installed(&pack, &records, json);
            }
            let Some(record) = records.into_iter().next() else {
                return Err(usage("the component holds no plugin"));
            };
            if json {
                return print_json(&record);
            }
            println!("Installed {} ({} plugin)", record.id(), record.kind);
            println!("sha256 {}", record.digest);
            println!("signer {}", safe(&record.signer.to_string()));
            print_permissions(&record);
            let q = record.state.quota;
            println!(
                "state: {} keys, {} bytes at most (namespace {})",
                q.max_keys,
                q.max_bytes,
                record.state_scope().owner
            );
            // State that stayed behind with another component of this name: say so, and how
            // to carry it over.
            let owner = record.state_scope().owner;
            let apart = |r: &&PluginRecord| r.name == record.name && r.state_scope().owner != owner;
            let replaced = before.iter().filter(apart).find(|r| r.id() == record.id());
            let other = before
                .iter()
                .filter(apart)
                .max_by_key(|r| semver::Version::parse(&r.version).ok());
            match (adopting, replaced, other) {
                (true, _, _) | (false, None, None) => {}
                (false, Some(old), _) => println!(
                    "note: the state of the {} this replaced (a different component) was not \
                     carried over; give --adopt-state {} when replacing to carry it over",
                    old.id(),
                    old.id()
                ),
                (false, None, Some(other)) => println!(
                    "note: {} keeps its own state; to carry it over, install with \
                     --replace --adopt-state {}",
                    other.id(),
                    other.id()
                ),
            }
            Ok(())
        }
        PluginCommand::List { json } => {
            let records = app.registry.list().await?;
            if json {
                return print_json(&records);
            }
            let mut t = table(["plugin", "kind", "source", "granted", "description"]);
            for r in &records {
                let source = if r.bundled { "bundled" } else { "installed" };
                t.add_row(vec![
                    r.id(),
                    r.kind.to_string(),
                    match &r.pack {
                        Some(p) => format!("{source}, pack {}", p.id()),
                        None => source.into(),
                    },
                    if r.grants.is_empty() {
                        "-".into()
                    } else {
                        r.grants.join(", ")
                    },
                    safe(&r.description),
                ]);
            }
            println!("{t}");
            Ok(())
        }
        PluginCommand::Inspect { plugin, json } => {
            if let Some(shown) = inspect_pack(&app, &plugin, json).await? {
                return shown;
            }
            let (record, loaded) = resolve(&app, &plugin, &[], None).await?;
            let m = &loaded.manifest;
            // An installed plugin's signer was checked at install; a file's is checked now.
            let signer = match &record {
                Some(r) => Ok(r.signer.clone()),
                None => app
                    .registry
                    .signer(&plugin, &read_file(Path::new(&plugin))?),
            };
            if json {
                return print_json(&json!({
                    "manifest": &**m,
                    "digest": loaded.digest,
                    "imports": &*loaded.imports,
                    "signer": match &signer {
                        Ok(s) => json!(s),
                        Err(e) => json!({"status": "invalid", "reason": e.to_string()}),
                    },
                    "installed": record,
                }));
            }
            println!("{} ({} plugin)", m.id(), m.kind);
            println!("{}", safe(&m.description));
            println!("sha256   {}", loaded.digest);
            match &signer {
                Ok(s) => println!("signer   {}", safe(&s.to_string())),
                Err(e) => println!("signer   INVALID: {}", safe(&e.to_string())),
            }
            println!("imports  {}", safe(&loaded.imports.join(", ")));
            if let Some(pack) = &loaded.pack {
                println!(
                    "pack     {} (installed and removed with it; `sluice plugin inspect {}`)",
                    pack.id(),
                    pack.name
                );
            }
            match &record {
                Some(r) => print_permissions(r),
                None => {
                    println!("declares {}", list_or_none(&m.permissions));
                    println!("(not installed: `sluice plugin install` grants permissions)");
                }
            }
            println!("input schema:\n{}", json_text(&m.input_schema)?);
            println!("output schema:\n{}", json_text(&m.output_schema)?);
            Ok(())
        }
        // Handled before the data dir is opened (above); the same here.
        PluginCommand::Keygen { out } => super::trust::keygen(&out),
        PluginCommand::Sign { file, key, out } => super::trust::sign(&file, &key, out.as_deref()),
        PluginCommand::Call {
            plugin,
            input_json,
            input,
            grants,
            member,
            limits,
            json,
        } => {
            let input = read_input(input_json.as_deref(), input.as_ref())?
                .ok_or_else(|| usage("give the input with --input-json JSON or --input FILE"))?;
            let (record, loaded) = resolve(&app, &plugin, &grants, member.as_deref()).await?;
            if let Some(notice) = app.jumpcloud.notice()
                && loaded
                    .manifest
                    .permissions
                    .iter()
                    .any(|p| p.starts_with("jumpcloud:"))
            {
                eprintln!("note: {notice}");
            }
            let base = app.registry.host().limits();
            let overrides = record
                .as_ref()
                .map(|r| r.limits.clone())
                .unwrap_or_default();
            let grants = match &record {
                Some(r) => r.grants(),
                None => Grants::new(grants),
            };
            let ctx = CallContext {
                run_id: "cli".into(),
                // State of a loose file is kept apart from any installed plugin's.
                workflow: match &record {
                    Some(_) => "cli".into(),
                    None => format!("cli:{}", loaded.digest),
                },
                step_id: "call".into(),
                attempt: 1,
                grants: Arc::new(grants),
                role: None,
                limits: base.with(&overrides).with(&limits.overrides()),
            };
            let outcome = app.registry.host().call(&loaded, &ctx, &input).await;
            if json {
                print_json(&outcome)?;
            } else {
                for line in &outcome.logs {
                    eprintln!(
                        "[{:?} {:?}] {}",
                        line.source,
                        line.level,
                        safe(&line.message)
                    );
                }
                for c in &outcome.calls {
                    eprintln!(
                        "[call] {:?} {} {} -> {}",
                        c.kind,
                        safe(&c.method),
                        safe(&c.target),
                        safe(
                            &c.status
                                .map(|s| s.to_string())
                                .or(c.error.clone())
                                .unwrap_or_default()
                        )
                    );
                }
                match &outcome.result {
                    Ok(v) => println!("{}", json_text(v)?),
                    Err(e) => eprintln!("step failed: {}", safe(&e.to_string())),
                }
                eprintln!("({} µs)", outcome.duration.as_micros());
            }
            if outcome.result.is_err() {
                return Err(Failure {
                    code: 1,
                    error: anyhow::anyhow!("the plugin call failed"),
                });
            }
            Ok(())
        }
        PluginCommand::Remove { id, force } => {
            let is_pack = app.registry.find_pack(&id).await?.is_some();
            if is_pack && !app.registry.list().await?.iter().any(|r| r.id() == id) {
                let (pack, members) = app.registry.remove_pack(&id, force).await?;
                let names: Vec<&str> = members.iter().map(|r| r.name.as_str()).collect();
                println!(
                    "Removed pack {} ({} plugins: {})",
                    pack.id(),
                    names.len(),
                    names.join(", ")
                );
                return Ok(());
            }
            let record = app.registry.remove(&id, force).await?;
            println!("Removed {}", record.id());
            Ok(())
        }
        PluginCommand::New {
            name,
            kind,
            lang,
            dir,
            sdk,
        } => super::scaffold::new(&name, &kind, &lang, dir.as_deref(), sdk.as_deref()),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))
}

/// Whether a plugin argument names a file (it ends in `.wasm` or contains a `/`) rather
/// than a bundled or installed plugin, so a stray file never shadows a plugin's name.
pub(crate) fn is_file_spec(spec: &str) -> bool {
    spec.ends_with(".wasm") || spec.contains('/')
}

/// Terminal-safe text: control characters (escape sequences) are shown escaped. Every
/// command prints plugin- or input-derived text through this (JSON through `json_text`).
pub(crate) fn safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A `.wasm` path is loaded directly (no record; `member` picks a pack's plugin); anything
/// else is looked up.
async fn resolve(
    app: &App,
    spec: &str,
    grants: &[String],
    member: Option<&str>,
) -> Result<(Option<PluginRecord>, LoadedPlugin), Failure> {
    let path = Path::new(spec);
    if is_file_spec(spec) {
        let bytes = read_file(path)?;
        let loaded = app.registry.load_bytes(spec, &bytes, member).await?;
        if let Some(g) = grants
            .iter()
            .find(|g| !loaded.manifest.permissions.contains(g))
        {
            return Err(usage(format!(
                "cannot grant `{g}`: {} declares {}",
                loaded.manifest.id(),
                list_or_none(&loaded.manifest.permissions)
            )));
        }
        return Ok((None, loaded));
    }
    if !grants.is_empty() {
        return Err(usage(
            "--grant applies to a .wasm file; installed plugins keep the grants given at install",
        ));
    }
    if member.is_some() {
        return Err(usage(
            "--member applies to a .wasm file holding a pack; name an installed pack's plugin \
             by its own name",
        ));
    }
    let (record, loaded) = app.registry.resolve(spec).await?;
    Ok((Some(record), loaded))
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "no permissions".into()
    } else {
        items.join(", ")
    }
}

fn print_permissions(r: &PluginRecord) {
    if r.permissions.is_empty() {
        println!("permissions: none declared");
        return;
    }
    let mut t = table(["declared permission", "granted"]);
    for p in &r.permissions {
        t.add_row(vec![
            p.clone(),
            if r.grants.contains(p) {
                "yes".into()
            } else {
                "no".into()
            },
        ]);
    }
    println!("{t}");
}

/// What `plugin install` says about a pack: its plugins, each with its own grants.
fn print_pack_installed(
    pack: &PackInfo,
    records: &[PluginRecord],
    json: bool,
) -> Result<(), Failure> {
    if json {
        return print_json(&json!({"pack": pack, "plugins": records}));
    }
    let Some(first) = records.first() else {
        return Err(usage("the pack holds no plugin"));
    };
    println!("Installed pack {} ({} plugins)", pack.id(), records.len());
    println!("sha256 {}", first.digest);
    println!("signer {}", safe(&first.signer.to_string()));
    print_pack_plugins(records);
    Ok(())
}

/// A pack's plugins: kind, and each one's declared and granted permissions (a pack's
/// plugins are granted one by one: `--grant PLUGIN=PERM`, or `--grant PERM` for every
/// plugin that declares it).
fn print_pack_plugins(records: &[PluginRecord]) {
    let mut t = table(["plugin", "kind", "declares", "granted"]);
    for r in records {
        t.add_row(vec![
            r.id(),
            r.kind.to_string(),
            list_or_none(&r.permissions),
            if r.bundled || !r.grants.is_empty() {
                list_or_none(&r.grants)
            } else {
                "-".into()
            },
        ]);
    }
    println!("{t}");
}

/// `plugin inspect` of a pack — an installed or bundled one by name, or a `.wasm` file
/// holding one: the pack and each of its plugins. `None` when `spec` is not a pack.
async fn inspect_pack(
    app: &App,
    spec: &str,
    json: bool,
) -> Result<Option<Result<(), Failure>>, Failure> {
    let (pack, records, manifests, digest, imports, signer) = if is_file_spec(spec) {
        let bytes = read_file(Path::new(spec))?;
        let c = app.registry.load_component(spec, &bytes).await?;
        let Some(pack) = c.pack.as_deref().cloned() else {
            return Ok(None);
        };
        let signer = app.registry.signer(spec, &bytes);
        let manifests: Vec<_> = c.plugins.iter().map(|p| (*p.manifest).clone()).collect();
        (
            pack,
            None,
            manifests,
            c.digest.clone(),
            c.imports.to_vec(),
            signer,
        )
    } else {
        let Some((pack, records)) = app.registry.find_pack(spec).await? else {
            return Ok(None);
        };
        if records.iter().any(|r| r.id() == spec) {
            return Ok(None);
        }
        let Some(first) = records.first() else {
            return Ok(None);
        };
        let (_, loaded) = app.registry.resolve(&first.id()).await?;
        let c = &loaded;
        let mut manifests = Vec::new();
        for r in &records {
            manifests.push((*app.registry.resolve(&r.id()).await?.1.manifest).clone());
        }
        let signer = Ok(first.signer.clone());
        let (digest, imports) = (c.digest.clone(), c.imports.to_vec());
        (pack, Some(records), manifests, digest, imports, signer)
    };
    if json {
        return Ok(Some(print_json(&json!({
            "pack": pack,
            "digest": digest,
            "imports": imports,
            "signer": match &signer {
                Ok(s) => json!(s),
                Err(e) => json!({"status": "invalid", "reason": e.to_string()}),
            },
            "plugins": manifests,
            "installed": records,
        }))));
    }
    println!("pack {} ({} plugins)", pack.id(), manifests.len());
    println!("{}", safe(&pack.description));
    println!("sha256   {digest}");
    match &signer {
        Ok(s) => println!("signer   {}", safe(&s.to_string())),
        Err(e) => println!("signer   INVALID: {}", safe(&e.to_string())),
    }
    println!("imports  {}", safe(&imports.join(", ")));
    match &records {
        Some(records) => print_pack_plugins(records),
        None => {
            let mut t = table(["plugin", "kind", "declares"]);
            for m in &manifests {
                t.add_row(vec![
                    m.id(),
                    m.kind.to_string(),
                    list_or_none(&m.permissions),
                ]);
            }
            println!("{t}");
            println!("(not installed: `sluice plugin install` grants permissions)");
        }
    }
    println!("(`sluice plugin inspect PLUGIN` shows one plugin's schemas)");
    Ok(Some(Ok(())))
}
