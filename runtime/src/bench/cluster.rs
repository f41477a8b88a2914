//! `sluice bench cluster`: `sluice serve` nodes on one PostgreSQL database beside one node
//! on sled, measured side by side in one run, in alternating rounds (shared machines are
//! noisy; the ratios are the figures to read):
//! - a webhook-triggered 10-step workflow answering with its output, with the clients
//!   spread round-robin over 1, 2, 3… nodes on the database, and over one node on sled;
//! - the engine alone running the same workflow on each store (`sluice bench workflow`);
//! - claiming and releasing a run's lease, and taking over lapsed ones;
//! - how long after a node is killed (`kill -9`) another node takes its runs over.
//!
//! Every measurement on the database works in a schema of its own, dropped at the end.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Summary;
use super::serve::{Service, Throughput, webhook_across};

/// What to measure.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The database (schemas are made in it and dropped).
    pub database: String,
    /// Up to this many nodes on the database.
    pub nodes: usize,
    pub requests: usize,
    pub concurrency: usize,
    pub rounds: usize,
    /// Runs per engine-only measurement.
    pub workflow_runs: usize,
    /// The nodes' `--lease`, for the take-over figure.
    pub lease: Duration,
}

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterReport {
    pub rounds: usize,
    /// Per store and node count: medians over the rounds.
    pub webhook: Vec<WebhookFigure>,
    pub workflow: Vec<WorkflowFigure>,
    pub claim: Summary,
    pub release: Summary,
    /// Taking over 64 lapsed runs at once.
    pub take_over_64: Summary,
    pub lease_s: f64,
    /// Seconds from `kill -9` of a node to another node's first take-over, per round.
    pub takeover_s: Vec<f64>,
    /// Whether every run of the killed node finished on the other one, per round.
    pub takeover_all_finished: Vec<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebhookFigure {
    pub store: &'static str,
    pub nodes: usize,
    pub runs_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failed: usize,
    /// Against sled on one node, measured in the same rounds.
    pub ratio_to_sled: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowFigure {
    pub store: &'static str,
    pub runs_per_second: f64,
    pub p50_ms: f64,
    pub ratio_to_sled: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The JumpCloud the nodes are given: an in-process simulator (the workflows measured
/// make no JumpCloud call; a node on a database needs one configured to start).
struct Jumpcloud {
    _target: crate::jumpcloud::embedded::JumpCloudTarget,
    url: String,
    key: String,
}

fn jumpcloud() -> Result<Jumpcloud, String> {
    let target = crate::jumpcloud::embedded::simulator(None)?;
    let (url, key) = target
        .simulator_access()
        .ok_or("the simulator gave no address")?;
    Ok(Jumpcloud {
        _target: target,
        url,
        key,
    })
}

/// Starts `n` nodes `NAME-0`, `NAME-1`… (on `database`, else one on sled) with data dirs
/// under `root`.
async fn nodes(
    exe: &Path,
    root: &Path,
    name: &str,
    database: Option<&str>,
    n: usize,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Result<Vec<Service>, String> {
    let mut out = Vec::new();
    for k in 0..n {
        let dir = root.join(format!("node-{k}-{:08x}", fastrand::u32(..)));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let id = format!("{name}-{k}");
        let mut args = vec!["--node-id", id.as_str(), "--queue-capacity", "100000"];
        args.extend_from_slice(extra);
        out.push(Service::start_on(exe, &dir, database, &args, env).await?);
    }
    Ok(out)
}

/// One webhook measurement on `n` nodes: runs/s, p50 and p99 (ms), failures.
async fn webhook_round(
    exe: &Path,
    root: &Path,
    database: Option<&str>,
    n: usize,
    opts: &ClusterOptions,
    env: &[(&str, &str)],
) -> Result<Throughput, String> {
    let nodes = nodes(exe, root, "node", database, n, &[], env).await?;
    let doc = super::noop_workflow_text("hook-10", "{ type: webhook, respond_with_output: true }")
        + "output: { n: \"${steps.s9.output.n}\" }\n";
    let created = nodes[0].client.create(doc).await?;
    let secret = created["webhook_secret"]
        .as_str()
        .ok_or("no webhook secret")?
        .to_owned();
    let clients: Vec<_> = nodes.iter().map(|s| &s.client).collect();
    // Warm-up: every node loads the plugins and its caches.
    webhook_across(&clients, "hook-10", &secret, 20 * n, n).await?;
    let t = webhook_across(
        &clients,
        "hook-10",
        &secret,
        opts.requests,
        opts.concurrency,
    )
    .await?;
    for s in nodes {
        s.stop();
    }
    Ok(t)
}

/// Seconds from killing a node holding many runs to another node's first take-over, and
/// whether all of them then finished.
async fn takeover_round(
    exe: &Path,
    root: &Path,
    database: &str,
    opts: &ClusterOptions,
    env: &[(&str, &str)],
) -> Result<(f64, bool), String> {
    let lease = humantime::format_duration(opts.lease).to_string();
    let mut a = nodes(
        exe,
        root,
        "dies",
        Some(database),
        1,
        &["--lease", &lease, "--max-concurrent-runs", "1"],
        env,
    )
    .await?;
    let b = nodes(
        exe,
        root,
        "stays",
        Some(database),
        1,
        &["--lease", &lease],
        env,
    )
    .await?;
    let (a, b) = (a.remove(0), &b[0]);
    // Runs of 1,000 steps each, one at a time on the node that dies: it holds most of them
    // when it is killed (it needs several seconds for them all).
    a.client
        .create(
            "version: 1\nname: held\ntrigger: { type: manual }\nrun_as: Read Only\nsteps:\n\
             \x20 - id: each\n    for_each: \"${input.items}\"\n    item: it\n    concurrency: 1\n\
             \x20   do: [ { id: t, uses: transform, with: { n: \"${it}\" } } ]\n"
                .to_owned(),
        )
        .await?;
    let input = serde_json::json!({"items": (0..1000).collect::<Vec<u32>>()}).to_string();
    const RUNS: usize = 300;
    for _ in 0..RUNS {
        let (status, v) = a
            .client
            .post("/api/v1/workflows/held/runs", input.clone())
            .await?;
        if status != 202 {
            return Err(format!("starting a run answered {status}: {v}"));
        }
    }
    // Kill at a random point of the renewal period.
    tokio::time::sleep(opts.lease / 3 * fastrand::u32(0..100) / 100).await;
    let (_, nodes) = a.client.get("/api/v1/nodes").await?;
    let held = nodes["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["id"] == "dies-0"))
        .and_then(|n| n["runs"].as_u64())
        .unwrap_or(0);
    if held == 0 {
        return Err("the node to kill held no runs: nothing to take over".into());
    }
    a.stop();
    let killed = Instant::now();
    let taken = loop {
        let n = b
            .client
            .metrics()
            .await?
            .lines()
            .find_map(|l| l.strip_prefix("sluice_runs_taken_over_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if n > 0.0 {
            break killed.elapsed().as_secs_f64();
        }
        if killed.elapsed() > opts.lease * 4 + Duration::from_secs(10) {
            return Err("no node took the killed node's runs over".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let all = loop {
        let mut left = 0;
        for status in ["queued", "running"] {
            let path = format!("/api/v1/runs?workflow=held&status={status}&limit=1000");
            let (_, v) = b.client.get(&path).await?;
            left += v["runs"].as_array().map_or(1, Vec::len);
        }
        if left == 0 {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    Ok((taken, all))
}

/// Times claiming and releasing leases, and taking over lapsed ones, from this process.
fn leases(database: &str) -> Result<(Summary, Summary, Summary), String> {
    let scratch = crate::store::scratch_database(database).map_err(|e| e.to_string())?;
    let store = scratch.store();
    let node = store.cluster("bench", Duration::from_secs(10));
    let (mut claims, mut releases) = (Vec::new(), Vec::new());
    for i in 0..2000 {
        let run = format!("bench-{i:06}");
        let t = Instant::now();
        node.claim(&run, "wf").map_err(|e| e.to_string())?;
        claims.push(t.elapsed());
        let t = Instant::now();
        node.release(&run).map_err(|e| e.to_string())?;
        releases.push(t.elapsed());
    }
    // Leases that lapse at once, taken 64 at a time by another node.
    let dead = store.cluster("dead", Duration::from_millis(1));
    for i in 0..64 * 20 {
        dead.claim(&format!("lapsed-{i:06}"), "wf")
            .map_err(|e| e.to_string())?;
    }
    std::thread::sleep(Duration::from_millis(20));
    let mut takes = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let taken = node.take_over(64).map_err(|e| e.to_string())?;
        takes.push(t.elapsed());
        if taken.len() != 64 {
            return Err(format!("took over {} lapsed runs, not 64", taken.len()));
        }
    }
    Ok((
        Summary::of(claims),
        Summary::of(releases),
        Summary::of(takes),
    ))
}

/// Runs every measurement with the `sluice` binary at `exe`; `registry` runs the
/// engine-only figure.
pub async fn cluster(
    exe: &Path,
    registry: Arc<crate::host::registry::Registry>,
    opts: &ClusterOptions,
) -> Result<ClusterReport, String> {
    let root = tempfile::Builder::new()
        .prefix("sluice-bench-cluster-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    // One compiled-component cache for every node of the run: each compiles nothing twice.
    let cache = root.path().join("cache");
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    let jc = jumpcloud()?;
    let cache_s = cache.display().to_string();
    // Nodes sharing a database share the key that seals its secrets (webhook secrets too).
    let key = crate::secrets::SecretKey::generate_hex().map_err(|e| e.to_string())?;
    let env: [(&str, &str); 5] = [
        ("SLUICE_SECRET_KEY", key.as_str()),
        ("SLUICE_CACHE_DIR", cache_s.as_str()),
        ("SLUICE_JUMPCLOUD_URL", jc.url.as_str()),
        ("SLUICE_JUMPCLOUD_API_KEY", jc.key.as_str()),
        ("SLUICE_JUMPCLOUD_RATE_LIMIT", "0"),
    ];
    let configs: Vec<Option<usize>> = std::iter::once(None)
        .chain((1..=opts.nodes).map(Some))
        .collect();
    let mut webhook: Vec<Vec<Throughput>> = vec![Vec::new(); configs.len()];
    let mut workflow: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    let (mut takeover_s, mut all_finished) = (Vec::new(), Vec::new());
    for round in 0..opts.rounds {
        eprintln!("round {} of {}…", round + 1, opts.rounds);
        for (i, config) in configs.iter().enumerate() {
            let figure = match config {
                None => webhook_round(exe, root.path(), None, 1, opts, &env).await?,
                Some(n) => {
                    let scratch = crate::store::scratch_database(&opts.database)
                        .map_err(|e| e.to_string())?;
                    webhook_round(exe, root.path(), Some(&scratch.url), *n, opts, &env).await?
                }
            };
            webhook[i].push(figure);
        }
        for (k, store) in [0usize, 1].into_iter().zip(["sled", "postgres"]) {
            let dir = tempfile::Builder::new()
                .prefix("sluice-bench-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let scratch;
            let runs_store = if store == "sled" {
                crate::store::open(dir.path(), None).map_err(|e| e.to_string())?
            } else {
                scratch =
                    crate::store::scratch_database(&opts.database).map_err(|e| e.to_string())?;
                scratch.store()
            };
            let engine = Arc::new(crate::engine::Engine::new(registry.clone(), runs_store));
            let r = super::workflow(
                engine,
                super::noop_workflow(),
                serde_json::json!({"n": 0}),
                opts.workflow_runs,
                16,
            )
            .await
            .map_err(|e| e.to_string())?;
            workflow[k].push((r.runs_per_second, r.latency.median_us / 1000.0));
        }
        let scratch = crate::store::scratch_database(&opts.database).map_err(|e| e.to_string())?;
        let (t, all) = takeover_round(exe, root.path(), &scratch.url, opts, &env).await?;
        takeover_s.push(t);
        all_finished.push(all);
    }
    let (claim, release, take_over_64) = leases(&opts.database)?;
    let rate = |t: &[Throughput]| median(t.iter().map(|t| t.runs_per_second).collect());
    let sled = rate(&webhook[0]);
    let webhook = configs
        .iter()
        .zip(&webhook)
        .map(|(config, t)| WebhookFigure {
            store: if config.is_some() { "postgres" } else { "sled" },
            nodes: config.unwrap_or(1),
            runs_per_second: rate(t),
            p50_ms: median(t.iter().map(|t| t.latency.median_us / 1000.0).collect()),
            p99_ms: median(t.iter().map(|t| t.latency.p99_us / 1000.0).collect()),
            failed: t.iter().map(|t| t.failed).sum(),
            ratio_to_sled: rate(t) / sled.max(f64::MIN_POSITIVE),
        })
        .collect();
    let sled_engine = median(workflow[0].iter().map(|w| w.0).collect());
    let workflow = ["sled", "postgres"]
        .into_iter()
        .zip(&workflow)
        .map(|(store, w)| {
            let rps = median(w.iter().map(|w| w.0).collect());
            WorkflowFigure {
                store,
                runs_per_second: rps,
                p50_ms: median(w.iter().map(|w| w.1).collect()),
                ratio_to_sled: rps / sled_engine.max(f64::MIN_POSITIVE),
            }
        })
        .collect();
    Ok(ClusterReport {
        rounds: opts.rounds,
        webhook,
        workflow,
        claim,
        release,
        take_over_64,
        lease_s: opts.lease.as_secs_f64(),
        takeover_s,
        takeover_all_finished: all_finished,
    })
}
