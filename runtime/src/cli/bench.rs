//! `sluice bench step`.

use std::path::PathBuf;

use clap::Subcommand;

use super::{App, Failure, print_json, read_input, table, usage};
use crate::bench::{self, Summary};
use crate::broker::permissions::Grants;
use crate::host::registry::BUNDLED;
use crate::host::{LoadedPlugin, WasmSettings};

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Bulk new-user provisioning: N generated users through examples/provision-user.yaml
    /// into a throwaway in-memory sandbox organisation, as `sluice run --input users.csv`
    /// would run them; users/s and JumpCloud API calls/s.
    Provision {
        /// Users to provision (1 to 100,000).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        users: u64,
        /// Runs in flight at once (1 to 256).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
        concurrency: u64,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// A brokered JumpCloud call: raw sandbox GETs, the same GET through the broker, and a
    /// plugin step making it (all over loopback to an in-process sandbox).
    Jumpcloud {
        /// Calls per measurement (1 to 1,000,000).
        #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        iterations: u64,
        /// Clients in flight for the throughput figures (1 to 256).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
        concurrency: u64,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// End-to-end runs per second and latency percentiles with the durable journal on.
    Workflow {
        /// A workflow file; default: a built-in workflow of 10 no-op steps.
        file: Option<PathBuf>,
        /// Timed runs (1 to 1,000,000).
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        runs: u64,
        /// Runs in flight at once (1 to 1024).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
        concurrency: u64,
        /// The input as JSON text (default `{"n": 0}`).
        #[arg(long, value_name = "JSON")]
        input_json: Option<String>,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The service over loopback HTTP (a `sluice serve` process on a throwaway data dir):
    /// start-to-first-answer and idle memory, a webhook-triggered 10-step workflow
    /// answering with its output (one at a time, then concurrent), concurrent manual runs
    /// through the API, and the fire lateness of many schedules.
    Serve {
        /// Webhook requests per measurement.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        requests: u64,
        /// Concurrent clients for the concurrent webhook figure.
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
        concurrency: u64,
        /// Manual runs started at once through the API.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        manual_runs: u64,
        /// Enabled schedules (fires spread over each minute).
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(0..=100_000))]
        schedules: u64,
        /// How long to watch the schedules fire.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        window: std::time::Duration,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Nodes on the PostgreSQL database given with `--database` beside one node on sled,
    /// side by side in alternating rounds: a webhook-triggered 10-step workflow with the
    /// clients spread over 1 to `--nodes` nodes, the engine alone on each store, claiming
    /// and taking over run leases, and how soon a killed node's runs are taken over. Every
    /// measurement on the database uses a schema of its own, dropped after.
    Cluster {
        /// Up to this many nodes on the database (1 to 8).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=8))]
        nodes: u64,
        /// Webhook requests per measurement.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        requests: u64,
        /// Concurrent webhook clients, spread over the nodes.
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
        concurrency: u64,
        /// Rounds of every measurement (the figures are medians over them).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
        rounds: u64,
        /// Runs per engine-only measurement.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        workflow_runs: u64,
        /// The nodes' `--lease` for the take-over figure.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        lease: std::time::Duration,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// How the service answers while plugins spin: `/healthz`, `GET /api/v1/workflows`
    /// and a signed webhook, idle and with many CPU-bound plugin steps running at once
    /// (a `sluice serve` process on a throwaway data dir), and how late each spinning step
    /// ended after its deadline.
    Isolation {
        /// A component that spins on `--input-json`, e.g. the test suite's hostile plugin
        /// (`target/plugins/wasm32-wasip2/plugin-dev/hostile.wasm`, built by the tests) with `{"mode":"loop"}`.
        #[arg(long, value_name = "FILE.wasm")]
        plugin: PathBuf,
        /// The spinning step's input as JSON text.
        #[arg(long, value_name = "JSON", default_value = r#"{"mode":"loop"}"#)]
        input_json: String,
        /// Spinning steps at once (default: 4 per core).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
        loops: Option<u64>,
        /// Each spinning step's deadline (its `timeout:`).
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Per-call cost of a sandboxed step: fresh instance + call + JSON in and out, beside
    /// the same call on a reused instance (the floor) and the compiled-component cache load.
    Step {
        /// A bundled or installed plugin (NAME[@VERSION]) or a `.wasm` file. Default: transform.
        #[arg(long, default_value = "transform")]
        plugin: String,
        /// Timed calls per measurement (1 to 10,000,000).
        #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        iterations: u64,
        /// The input as JSON text (default: a small user record, or a comparison for `compare`).
        #[arg(long, value_name = "JSON")]
        input_json: Option<String>,
        /// Measure wasmtime's default memory reset instead of the PAGEMAP_SCAN fast path.
        #[arg(long)]
        no_fast_path: bool,
        /// Another plugin (NAME[@VERSION] or a `.wasm` file; a pack's plugin: the same
        /// name) whose fresh step is measured side by side with `--plugin`'s, in
        /// alternating rounds on the same input: e.g. a plugin of a pack against the same
        /// plugin built alone.
        #[arg(long, value_name = "PLUGIN")]
        against: Option<String>,
        /// For a `.wasm` file: a permission to grant its calls (repeatable; it must declare
        /// it). Bundled and installed plugins have their own grants.
        #[arg(long = "grant", value_name = "PERM")]
        grants: Vec<String>,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
}

const SAMPLE_USER: &str = r#"{"user":{"username":"jsmith","email":"john.smith@example.com","department":"Engineering","groups":["all-staff","engineering"]}}"#;
const SAMPLE_COMPARE: &str = r#"{"field":"Engineering","operator":"eq","value":"Engineering"}"#;

pub(crate) async fn run(data_dir: Option<PathBuf>, cmd: BenchCommand) -> Result<(), Failure> {
    if let BenchCommand::Provision {
        users,
        concurrency,
        json,
    } = cmd
    {
        return provision(users as usize, concurrency as usize, json).await;
    }
    if let BenchCommand::Serve {
        requests,
        concurrency,
        manual_runs,
        schedules,
        window,
        json,
    } = cmd
    {
        let opts = crate::bench::serve::ServeOptions {
            webhook_requests: requests as usize,
            webhook_concurrency: concurrency as usize,
            manual_runs: manual_runs as usize,
            schedules: schedules as usize,
            schedule_window: window,
        };
        return serve(&opts, json).await;
    }
    if let BenchCommand::Cluster {
        nodes,
        requests,
        concurrency,
        rounds,
        workflow_runs,
        lease,
        json,
    } = cmd
    {
        let Some(database) = super::database() else {
            return Err(usage(
                "bench cluster needs a PostgreSQL database: --database URL (or \
                 SLUICE_DATABASE_URL); it makes schemas of its own there and drops them",
            ));
        };
        if lease < std::time::Duration::from_secs(1) || lease > std::time::Duration::from_secs(600)
        {
            return Err(usage("--lease must be between 1s and 10m"));
        }
        let opts = crate::bench::cluster::ClusterOptions {
            database: database.to_owned(),
            nodes: nodes as usize,
            requests: requests as usize,
            concurrency: concurrency as usize,
            rounds: rounds as usize,
            workflow_runs: workflow_runs as usize,
            lease,
        };
        return cluster(data_dir, &opts, json).await;
    }
    if let BenchCommand::Isolation {
        plugin,
        input_json,
        loops,
        timeout,
        json,
    } = cmd
    {
        let input = serde_json::from_str(&input_json)
            .map_err(|e| usage(format!("--input-json is not valid JSON: {e}")))?;
        if timeout < std::time::Duration::from_secs(1)
            || timeout > std::time::Duration::from_secs(600)
        {
            return Err(usage("--timeout must be between 1s and 10m"));
        }
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let opts = crate::bench::isolation::IsolationOptions {
            plugin,
            input,
            loops: loops.map_or(4 * cores, |n| n as usize),
            timeout,
        };
        let exe = std::env::current_exe()?;
        eprintln!("measuring `sluice serve` with spinning plugins (about twice the deadline)…");
        let r = crate::bench::isolation::isolation(&exe, &opts)
            .await
            .map_err(|e| anyhow::anyhow!("bench isolation: {e}"))?;
        if json {
            return print_json(&r);
        }
        print_isolation(&r);
        return Ok(());
    }
    if let BenchCommand::Jumpcloud {
        iterations,
        concurrency,
        json,
    } = cmd
    {
        return jumpcloud(data_dir, iterations as usize, concurrency as usize, json).await;
    }
    if let BenchCommand::Workflow {
        file,
        runs,
        concurrency,
        input_json,
        json,
    } = cmd
    {
        return workflow(
            data_dir,
            file,
            runs as usize,
            concurrency as usize,
            input_json,
            json,
        )
        .await;
    }
    let BenchCommand::Step {
        plugin,
        iterations,
        input_json,
        no_fast_path,
        against,
        grants: file_grants,
        json,
    } = cmd
    else {
        unreachable!("handled above")
    };
    let iterations = iterations as usize;
    let engine = WasmSettings {
        fast_path: !no_fast_path,
        ..WasmSettings::default()
    };
    let app = App::open_with(data_dir, super::global_limits()?, engine)?;
    let (bytes, grants, loaded) = target(&app, &plugin, &file_grants).await?;
    let default_input = if loaded.manifest.name == "compare" {
        SAMPLE_COMPARE
    } else {
        SAMPLE_USER
    };
    let input =
        read_input(input_json.as_deref(), None)?.unwrap_or_else(|| default_input.to_owned());
    if let Some(other) = against {
        let (other_bytes, other_grants, other) = target(&app, &other, &file_grants).await?;
        let host = app.registry.host().clone();
        let pair = [
            (loaded, grants, bytes.len()),
            (other, other_grants, other_bytes.len()),
        ];
        return side_by_side(host, pair, input, iterations, json).await;
    }
    let report = bench::step(
        app.registry.host().clone(),
        loaded,
        bytes,
        grants,
        input,
        iterations,
    )
    .await
    .map_err(|e| Failure {
        code: 1,
        error: anyhow::anyhow!("the benchmarked call failed: {e}"),
    })?;
    print_step(&report, json)
}

/// The component `spec` names (a file, or a bundled or installed plugin), with the grants
/// its calls get (a file: those of `file_grants` it declares) and the plugin loaded from it.
async fn target(
    app: &App,
    spec: &str,
    file_grants: &[String],
) -> Result<(Vec<u8>, Grants, LoadedPlugin), Failure> {
    let plugin = spec;
    let (bytes, grants, member) = if super::plugin::is_file_spec(plugin) {
        let bytes =
            std::fs::read(plugin).map_err(|e| usage(format!("cannot read {plugin}: {e}")))?;
        let loaded = app.registry.load_bytes(plugin, &bytes, None).await?;
        let declared = &loaded.manifest.permissions;
        let grants = file_grants.iter().filter(|g| declared.contains(g)).cloned();
        return Ok((bytes, Grants::new(grants), loaded));
    } else {
        let record = app.registry.find(plugin).await?;
        let bytes = if record.bundled {
            BUNDLED
                .iter()
                .map(|(_, b)| b.to_vec())
                .find(|b| crate::host::digest(b) == record.digest)
                .ok_or_else(|| {
                    usage(format!(
                        "bundled plugin {plugin} is missing from this build"
                    ))
                })?
        } else {
            app.store.blob_get(&record.digest)?.ok_or_else(|| {
                usage(format!(
                    "the component of {} is missing from the store; reinstall the plugin",
                    record.id()
                ))
            })?
        };
        let member = record.pack.as_ref().map(|_| record.name.clone());
        (bytes, record.grants(), member)
    };
    let loaded = app
        .registry
        .load_bytes(plugin, &bytes, member.as_deref())
        .await?;
    Ok((bytes, grants, loaded))
}

/// `bench step --against`: both plugins' fresh steps, side by side.
async fn side_by_side(
    host: std::sync::Arc<crate::host::PluginHost>,
    pair: [(LoadedPlugin, Grants, usize); 2],
    input: String,
    iterations: usize,
    json: bool,
) -> Result<(), Failure> {
    let [(a, ga, a_bytes), (b, gb, b_bytes)] = pair;
    let what = |p: &LoadedPlugin, bytes: usize| {
        let component = match &p.pack {
            Some(pack) => format!("pack {}", pack.id()),
            None => "one plugin".to_owned(),
        };
        (p.manifest.id(), component, bytes)
    };
    let rows = [what(&a, a_bytes), what(&b, b_bytes)];
    let [sa, sb] = bench::fresh_side_by_side(host, [(a, ga), (b, gb)], input, iterations)
        .await
        .map_err(|e| Failure {
            code: 1,
            error: anyhow::anyhow!("the benchmarked call failed: {e}"),
        })?;
    if json {
        let row = |(id, component, bytes): &(String, String, usize), s: &Summary| serde_json::json!({"plugin": id, "component": component, "bytes": bytes, "fresh": s});
        return print_json(&serde_json::json!({
            "rows": [row(&rows[0], &sa), row(&rows[1], &sb)],
            "ratio": sb.median_us / sa.median_us.max(0.001),
        }));
    }
    println!("sandboxed step (fresh instance + call), the two in alternating rounds");
    let mut t = table(["plugin", "component", "size", "median", "p99", "ratio"]);
    for ((id, component, bytes), s) in rows.iter().zip([&sa, &sb]) {
        t.add_row(vec![
            id.clone(),
            component.clone(),
            format!("{:.1} KiB", *bytes as f64 / 1024.0),
            format!("{:.1} µs", s.median_us),
            format!("{:.1} µs", s.p99_us),
            format!("{:.2}", s.median_us / sa.median_us.max(0.001)),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn print_step(report: &bench::StepReport, json: bool) -> Result<(), Failure> {
    if json {
        return print_json(report);
    }
    println!(
        "plugin        {} ({} bytes of input)",
        report.plugin, report.input_bytes
    );
    println!("memory path   {}", report.memory_path);
    println!(
        "deadline      {} (checked on every call)",
        report.deadline_check
    );
    let mut t = table(["measurement", "iterations", "median", "p99", "mean"]);
    let row = |name: &str, s: &Summary| {
        vec![
            name.to_owned(),
            s.iterations.to_string(),
            format!("{:.1} µs", s.median_us),
            format!("{:.1} µs", s.p99_us),
            format!("{:.1} µs", s.mean_us),
        ]
    };
    t.add_row(row(
        "sandboxed step (fresh instance + call)",
        &report.fresh_instance,
    ));
    t.add_row(row("reused instance call (floor)", &report.reused_instance));
    if let Some(alone) = &report.engine_alone {
        t.add_row(row("engine alone (fresh instance + call)", alone));
    }
    t.add_row(row(
        "compiled component load from cache",
        &report.cache_load,
    ));
    println!("{t}");
    println!(
        "compile once: {:.1} ms; fresh/floor ratio {:.1}x",
        report.compile_ms,
        report.fresh_instance.median_us / report.reused_instance.median_us.max(0.001)
    );
    match &report.engine_alone {
        Some(alone) => println!(
            "engine alone: wasmtime's own fresh instance + call with an empty WASI context; \
             the host adds {:.1} µs (limits, log capture, permission state, output parsing)",
            report.fresh_instance.median_us - alone.median_us
        ),
        None => println!(
            "engine alone: not measured; the plugin does not run without the host (it calls \
             a Sluice import, or fails bare)"
        ),
    }
    Ok(())
}

async fn workflow(
    data_dir: Option<PathBuf>,
    file: Option<PathBuf>,
    runs: usize,
    concurrency: usize,
    input_json: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    if runs == 0 || concurrency == 0 {
        return Err(usage("--runs and --concurrency must be at least 1"));
    }
    let app = App::open(data_dir, super::global_limits()?)?;
    let doc = match &file {
        None => bench::noop_workflow(),
        Some(f) => {
            let label = f.display().to_string();
            let text = std::fs::read_to_string(f)
                .map_err(|e| usage(format!("cannot read {label}: {e}")))?;
            crate::workflow::model::parse(&label, &text).map_err(|e| usage(e.to_string()))?
        }
    };
    let input: serde_json::Value = match read_input(input_json.as_deref(), None)? {
        Some(text) => serde_json::from_str(&text)?,
        None => serde_json::json!({"n": 0}),
    };
    // Runs go to a throwaway store (on disk, or in a schema of their own in the database
    // given), so the benchmark leaves no history behind.
    let scratch = tempfile::Builder::new().prefix("sluice-bench-").tempdir()?;
    let database = match super::database() {
        Some(url) => Some(crate::store::scratch_database(url)?),
        None => None,
    };
    let store = match &database {
        Some(db) => db.store(),
        None => crate::store::open(scratch.path(), None)?,
    };
    let engine = std::sync::Arc::new(crate::engine::Engine::new(app.registry.clone(), store));
    let mut report = bench::workflow(engine, doc, input, runs, concurrency).await?;
    if database.is_some() {
        report.journal = "PostgreSQL; step records are written behind, many runs' at a time in \
                          one statement; steps with effects and the run's end wait for them";
    }
    if json {
        return print_json(&report);
    }
    println!(
        "workflow      {} ({} steps), {} runs, {} in flight",
        report.workflow, report.steps, report.runs, report.concurrency
    );
    println!("journal       {}", report.journal);
    let mut t = table(["runs/s", "p50", "p99", "mean", "failed runs"]);
    t.add_row(vec![
        format!("{:.0}", report.runs_per_second),
        format!("{:.2} ms", report.latency.median_us / 1000.0),
        format!("{:.2} ms", report.latency.p99_us / 1000.0),
        format!("{:.2} ms", report.latency.mean_us / 1000.0),
        report.failed_runs.to_string(),
    ]);
    println!("{t}");
    Ok(())
}

async fn jumpcloud(
    data_dir: Option<PathBuf>,
    iterations: usize,
    concurrency: usize,
    json: bool,
) -> Result<(), Failure> {
    let (dir, _store) = App::open_store(data_dir)?;
    let r = bench::jumpcloud::run(iterations, concurrency, Some(dir.join("cache")))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    if json {
        return print_json(&r);
    }
    let mut t = table(["measurement", "iterations", "median", "p99", "per second"]);
    let us = |v: f64| format!("{v:.1} µs");
    for (name, s, per) in [
        (
            "sandbox GET (raw HTTP)",
            &r.http_get,
            r.sandbox_gets_per_second,
        ),
        (
            "broker call (GET), API key",
            &r.broker_call,
            1e6 / r.broker_call.median_us,
        ),
        (
            "broker call (GET), service account",
            &r.broker_call_service_account,
            1e6 / r.broker_call_service_account.median_us,
        ),
        (
            "plugin step user-get",
            &r.plugin_step,
            r.plugin_steps_per_second,
        ),
    ] {
        t.add_row([
            name.to_owned(),
            s.iterations.to_string(),
            us(s.median_us),
            us(s.p99_us),
            format!("{per:.0}"),
        ]);
    }
    println!("{t}");
    println!(
        "per second: raw GETs and plugin steps with {} in flight; the broker rows are 1/median",
        r.concurrency
    );
    println!(
        "service account (cached token) ÷ API key, broker call medians, interleaved: {:.2}",
        r.broker_call_service_account.median_us / r.broker_call.median_us.max(0.001)
    );
    println!(
        "brokered-call overhead (plugin step − broker call, medians): {:.1} µs; step/raw GET ratio {:.2}",
        r.plugin_step.median_us - r.broker_call.median_us,
        r.plugin_step.median_us / r.http_get.median_us.max(0.001)
    );
    Ok(())
}

/// `sluice bench provision`: everything in a temporary data dir (its runs do not join the
/// admin's), one warm-up user first so component compilation is not timed.
async fn provision(users: usize, concurrency: usize, json_out: bool) -> Result<(), Failure> {
    use serde_json::{Value, json};
    let dir = tempfile::tempdir()?;
    let wf = dir.path().join("provision-user.yaml");
    std::fs::write(&wf, super::demo::WORKFLOW)?;
    let app =
        App::open_throwaway_simulator(Some(dir.path().join("data")), super::global_limits()?)?;
    let loaded = super::workflow::load(&app, &wf).await?;
    let engine = std::sync::Arc::new(super::workflow::engine(&app));
    let row = |i: usize, prefix: &str| -> Value {
        let (dept, title, office) = [
            ("Engineering", "Software Developer", "Seattle"),
            ("Sales", "Account Manager", "Austin"),
            ("Marketing", "Designer", "Seattle"),
            ("Finance", "Analyst", "Austin"),
        ][i % 4];
        json!({"first_name": "Bench", "last_name": format!("User{i}"),
               "email": format!("{prefix}{i}@bench.example"), "username": format!("{prefix}{i}"),
               "department": dept, "job_title": title, "office_location": office,
               "additional_groups": ["UG-Project-Phoenix"],
               "attributes": {"costCenter": format!("CC-{i}")}})
    };
    let doc = &loaded.doc;
    let check = |v: Value| crate::workflow::check_input(doc, v);
    let warm = vec![(1, Ok(row(0, "warmup")))];
    super::bulk::execute_rows(&engine, doc, &loaded.subs, warm, 1, check).await;
    let rows = (0..users).map(|i| (i + 1, Ok(row(i, "bench")))).collect();
    let (outcomes, seconds) =
        super::bulk::execute_rows(&engine, doc, &loaded.subs, rows, concurrency, check).await;
    let created = outcomes.iter().filter(|o| o.result == "created").count();
    let mut calls = 0usize;
    for o in &outcomes {
        for rec in app
            .store
            .journal_list(o.run_id.as_deref().unwrap_or_default())
            .map_err(anyhow::Error::from)?
        {
            for a in rec["attempts"].as_array().into_iter().flatten() {
                calls += a["calls"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["kind"] == "jumpcloud")
                    .count();
            }
        }
    }
    let report = json!({
        "users": users,
        "concurrency": concurrency,
        "created": created,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "users_per_second": (users as f64 / seconds * 10.0).round() / 10.0,
        "jumpcloud_calls": calls,
        "calls_per_second": (calls as f64 / seconds).round(),
    });
    if json_out {
        return print_json(&report);
    }
    let mut t = table([
        "users",
        "concurrency",
        "created",
        "seconds",
        "users/s",
        "API calls",
        "calls/s",
    ]);
    t.add_row([
        users.to_string(),
        concurrency.to_string(),
        created.to_string(),
        format!("{seconds:.2}"),
        format!("{:.1}", users as f64 / seconds),
        calls.to_string(),
        format!("{:.0}", calls as f64 / seconds),
    ]);
    println!("{t}");
    if created != users {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!("only {created} of {users} users were provisioned"),
        });
    }
    Ok(())
}

async fn cluster(
    data_dir: Option<PathBuf>,
    opts: &crate::bench::cluster::ClusterOptions,
    json: bool,
) -> Result<(), Failure> {
    // The engine-only figure runs the bundled plugins of this data dir's registry; its
    // runs go to scratch stores.
    let app = App::open_with_store(data_dir, None, super::global_limits()?)?;
    let exe = std::env::current_exe()?;
    eprintln!(
        "measuring nodes on PostgreSQL beside sled ({} rounds; a few minutes)…",
        opts.rounds
    );
    let r = crate::bench::cluster::cluster(&exe, app.registry.clone(), opts)
        .await
        .map_err(|e| anyhow::anyhow!("bench cluster: {e}"))?;
    if json {
        return print_json(&r);
    }
    println!(
        "webhook-triggered 10-step workflow, {} requests from {} clients spread over the \
         nodes; medians of {} rounds",
        opts.requests, opts.concurrency, r.rounds
    );
    let mut t = table([
        "store", "nodes", "runs/s", "p50", "p99", "failed", "vs sled",
    ]);
    for w in &r.webhook {
        t.add_row(vec![
            w.store.to_owned(),
            w.nodes.to_string(),
            format!("{:.0}", w.runs_per_second),
            format!("{:.2} ms", w.p50_ms),
            format!("{:.2} ms", w.p99_ms),
            w.failed.to_string(),
            format!("{:.2}", w.ratio_to_sled),
        ]);
    }
    println!("{t}");
    println!(
        "the engine alone, {} runs, 16 in flight",
        opts.workflow_runs
    );
    let mut t = table(["store", "runs/s", "p50", "vs sled"]);
    for w in &r.workflow {
        t.add_row(vec![
            w.store.to_owned(),
            format!("{:.0}", w.runs_per_second),
            format!("{:.2} ms", w.p50_ms),
            format!("{:.2}", w.ratio_to_sled),
        ]);
    }
    println!("{t}");
    let ms = |us: f64| format!("{:.2} ms", us / 1000.0);
    let mut t = table(["run lease", "p50", "p99"]);
    for (label, s) in [
        ("claim", &r.claim),
        ("release", &r.release),
        ("take over 64 lapsed", &r.take_over_64),
    ] {
        t.add_row(vec![label.to_owned(), ms(s.median_us), ms(s.p99_us)]);
    }
    println!("{t}");
    let shown: Vec<String> = r.takeover_s.iter().map(|s| format!("{s:.1} s")).collect();
    println!(
        "take-over after kill -9 (lease {:.0} s): {}; every run finished: {}",
        r.lease_s,
        shown.join(", "),
        r.takeover_all_finished.iter().all(|a| *a)
    );
    Ok(())
}

async fn serve(opts: &crate::bench::serve::ServeOptions, json: bool) -> Result<(), Failure> {
    let exe = std::env::current_exe()?;
    eprintln!("measuring `sluice serve` over loopback HTTP (this takes a minute or two)…");
    let r = crate::bench::serve::serve(&exe, opts)
        .await
        .map_err(|e| anyhow::anyhow!("bench serve: {e}"))?;
    if json {
        return print_json(&r);
    }
    let mib = |m: Option<f64>| {
        m.map(|m| format!("{m:.0} MiB"))
            .unwrap_or_else(|| "n/a".into())
    };
    let ms = |us: f64| format!("{:.2} ms", us / 1000.0);
    let mut t = table(["measurement", "figure"]);
    t.add_row(vec![
        "start to first answer".to_owned(),
        format!("{:.0} ms", r.start_to_first_answer_ms),
    ]);
    t.add_row(vec!["idle RSS".to_owned(), mib(r.idle_rss_mib)]);
    for (label, w) in [
        ("webhook, 1 at a time", &r.webhook_sequential),
        ("webhook, concurrent", &r.webhook_concurrent),
        (
            "webhook, durability: run, 1 at a time",
            &r.webhook_sequential_run_durability,
        ),
        (
            "webhook, durability: run, concurrent",
            &r.webhook_concurrent_run_durability,
        ),
    ] {
        t.add_row(vec![
            format!(
                "{label} ({} clients, {} requests)",
                w.concurrency, w.requests
            ),
            format!(
                "{:.0} runs/s, p50 {}, p99 {}{}",
                w.runs_per_second,
                ms(w.latency.median_us),
                ms(w.latency.p99_us),
                if w.failed > 0 {
                    format!(", {} FAILED", w.failed)
                } else {
                    String::new()
                }
            ),
        ]);
    }
    let m = &r.manual;
    t.add_row(vec![
        format!("{} manual runs at once through the API", m.runs),
        format!(
            "API p50 {}, p99 {}; all finished in {:.1} s ({} succeeded); peak RSS {}",
            ms(m.api_latency.median_us),
            ms(m.api_latency.p99_us),
            m.all_finished_s,
            m.succeeded,
            mib(m.peak_rss_mib)
        ),
    ]);
    let s = &r.schedules;
    let lateness = if s.fires == 0 {
        // Schedule i fires at second i % 60: few schedules and a short window may see none.
        "no fires in the window (more --schedules or a longer --window)".to_owned()
    } else {
        format!(
            "{} fires; lateness p50 ≤ {:.1} ms, p99 ≤ {:.1} ms",
            s.fires, s.lateness_p50_ms_at_most, s.lateness_p99_ms_at_most
        )
    };
    t.add_row(vec![
        format!("{} schedules ({:.0} s window)", s.schedules, s.window_s),
        format!(
            "{lateness}; created in {:.1} s; RSS {}",
            s.create_s,
            mib(s.rss_mib)
        ),
    ]);
    println!("{t}");
    Ok(())
}

/// `sluice bench isolation`'s report as the command prints it.
fn print_isolation(report: &bench::isolation::IsolationReport) {
    println!(
        "{} spinning plugin steps on {} cores, each with a {} ms deadline",
        report.loops, report.cores, report.timeout_ms
    );
    let mut t = table([
        "request",
        "idle p50",
        "idle p99",
        "spinning p50",
        "spinning p99",
        "n",
    ]);
    let ms = |d: f64| format!("{:.2} ms", d / 1000.0);
    for p in &report.probes {
        t.add_row(vec![
            p.name.to_owned(),
            ms(p.idle.median_us),
            ms(p.idle.p99_us),
            ms(p.loaded.median_us),
            ms(p.loaded.p99_us),
            p.loaded.iterations.to_string(),
        ]);
    }
    println!("{t}");
    let mut over = report.overrun_ms.clone();
    over.sort_by(f64::total_cmp);
    let median = over.get(over.len() / 2).copied().unwrap_or(f64::NAN);
    let worst = over.last().copied().unwrap_or(f64::NAN);
    println!(
        "spinning steps: {} ended with PLUGIN_TIMEOUT; after their deadline by {median:.1} ms \
         (median), {worst:.1} ms (worst)",
        if report.all_timed_out {
            "all"
        } else {
            "NOT all"
        }
    );
}
