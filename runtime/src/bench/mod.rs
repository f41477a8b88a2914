//! Measurements behind `sluice bench`: what a sandboxed step costs.
//!
//! `step` times, for one plugin and one input: a fresh instance + call (what every real
//! step pays), the same call on a reused instance (the floor), and loading the compiled
//! component from the disk cache. Reported as medians and p99 over many iterations, since
//! shared machines are noisy. `serve` measures the service over HTTP, `cluster` nodes on
//! PostgreSQL beside one on sled, `isolation` the service while plugins spin, `jumpcloud`
//! the broker.

pub mod cluster;
pub mod isolation;
pub mod jumpcloud;
pub mod serve;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::broker::permissions::Grants;
use crate::host::{CallContext, LoadedPlugin, MemoryPath, PluginHost, StepError};

/// Median, p99 and mean of a set of timings, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub iterations: usize,
    pub median_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
}

impl Summary {
    pub fn of(mut samples: Vec<Duration>) -> Summary {
        samples.sort_unstable();
        let n = samples.len().max(1);
        let us = |d: Duration| d.as_nanos() as f64 / 1000.0;
        let at = |q: f64| {
            samples
                .get(((n as f64 - 1.0) * q).round() as usize)
                .copied()
                .map(us)
                .unwrap_or(0.0)
        };
        Summary {
            iterations: samples.len(),
            median_us: at(0.5),
            p99_us: at(0.99),
            mean_us: samples.iter().copied().map(us).sum::<f64>() / n as f64,
        }
    }
}

/// The result of `sluice bench step`.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub plugin: String,
    pub input_bytes: usize,
    pub memory_path: MemoryPath,
    pub deadline_check: &'static str,
    /// Fresh store + instance + call + JSON in and out: the cost of a real step.
    pub fresh_instance: Summary,
    /// The same call on one reused instance: the floor.
    pub reused_instance: Summary,
    /// Fresh store + instance + call with nothing of Sluice's around it (empty WASI
    /// context, Sluice imports as traps, output not parsed): the engine's own cost on this
    /// machine. `None` when the plugin calls a Sluice import, which traps there.
    pub engine_alone: Option<Summary>,
    /// Compiling the component once (ms).
    pub compile_ms: f64,
    /// Loading the compiled component from the disk cache.
    pub cache_load: Summary,
}

/// Rounds the measurements alternate in.
const ROUNDS: usize = 10;

/// Runs the step benchmark on the guest pool, where a run's steps are called from.
pub async fn step(
    host: Arc<PluginHost>,
    plugin: LoadedPlugin,
    bytes: Vec<u8>,
    grants: Grants,
    input: String,
    iterations: usize,
) -> Result<StepReport, StepError> {
    let pool = host.clone();
    pool.guests()
        .run(async move { step_here(&host, &plugin, &bytes, grants, &input, iterations).await })
        .await
        .map_err(|e| StepError::host(crate::host::codes::INTERNAL_ERROR, e.to_string()))?
}

async fn step_here(
    host: &PluginHost,
    plugin: &LoadedPlugin,
    bytes: &[u8],
    grants: Grants,
    input: &str,
    iterations: usize,
) -> Result<StepReport, StepError> {
    let ctx = bench_context(host, grants);
    let owned = input.to_owned();
    let mut instance = host.reused_instance(plugin, &ctx).await?;
    // A plugin whose call needs a Sluice import cannot be measured bare; nor one the bare
    // linker cannot link. Either way the row is left out, the rest is measured.
    let mut bare = match host.bare_runner(plugin) {
        Ok(b) if b.call(&owned).await.is_ok() => Some(b),
        _ => None,
    };
    for _ in 0..(iterations / 10).clamp(10, 1000) {
        host.call(plugin, &ctx, input).await.result?;
        instance.call(&owned).await?;
        if let Some(b) = &bare
            && b.call(&owned).await.is_err()
        {
            bare = None;
        }
    }
    // Alternate rounds of both measurements so a noisy neighbour slows both alike.
    let rounds = ROUNDS.min(iterations);
    let mut fresh = Vec::with_capacity(iterations);
    let mut reused = Vec::with_capacity(iterations);
    let mut alone = Vec::with_capacity(if bare.is_some() { iterations } else { 0 });
    for round in 0..rounds {
        let n = iterations / rounds + usize::from(round < iterations % rounds);
        for _ in 0..n {
            let started = Instant::now();
            let outcome = host.call(plugin, &ctx, input).await;
            fresh.push(started.elapsed());
            outcome.result?;
        }
        for _ in 0..n {
            let started = Instant::now();
            let r = instance.call(&owned).await;
            reused.push(started.elapsed());
            r?;
        }
        for _ in 0..n {
            let Some(b) = &bare else {
                break;
            };
            let started = Instant::now();
            let ok = b.call(&owned).await.is_ok();
            alone.push(started.elapsed());
            if !ok {
                bare = None;
            }
        }
    }
    // A private, fresh directory: nobody else can plant an artifact there.
    let dir = tempfile::Builder::new()
        .prefix("sluice-bench-cache-")
        .tempdir()
        .map_err(|e| {
            StepError::host(
                crate::code::Code::IoError,
                format!("cannot create a temporary directory: {e}"),
            )
        })?;
    let cache = host.time_cache_loads(bytes, dir.path().to_path_buf(), iterations.clamp(10, 200));
    let (compile, loads) = cache.map_err(|e| StepError::host(e.code(), e.to_string()))?;
    Ok(StepReport {
        plugin: plugin.manifest.id(),
        input_bytes: input.len(),
        memory_path: host.memory_path(),
        deadline_check: "epoch",
        fresh_instance: Summary::of(fresh),
        reused_instance: Summary::of(reused),
        engine_alone: bare.is_some().then(|| Summary::of(alone)),
        compile_ms: compile.as_secs_f64() * 1000.0,
        cache_load: Summary::of(loads),
    })
}

/// The context of a benchmarked call: the host's limits, no run-as role.
fn bench_context(host: &PluginHost, grants: Grants) -> CallContext {
    CallContext {
        run_id: "bench".into(),
        workflow: "bench".into(),
        step_id: "step".into(),
        attempt: 1,
        grants: Arc::new(grants),
        role: None,
        limits: host.limits(),
    }
}

/// Fresh steps of two plugins on one input, side by side: warmed alike, then timed in
/// alternating rounds so a noisy neighbour slows both alike (`sluice bench step --against`).
pub async fn fresh_side_by_side(
    host: Arc<PluginHost>,
    plugins: [(LoadedPlugin, Grants); 2],
    input: String,
    iterations: usize,
) -> Result<[Summary; 2], StepError> {
    let pool = host.clone();
    pool.guests()
        .run(async move {
            let [(a, ga), (b, gb)] = plugins;
            let both = [(a, bench_context(&host, ga)), (b, bench_context(&host, gb))];
            for (p, c) in &both {
                for _ in 0..(iterations / 10).clamp(10, 1000) {
                    host.call(p, c, &input).await.result?;
                }
            }
            let rounds = ROUNDS.min(iterations);
            let mut times = [
                Vec::with_capacity(iterations),
                Vec::with_capacity(iterations),
            ];
            for round in 0..rounds {
                let n = iterations / rounds + usize::from(round < iterations % rounds);
                for ((p, c), t) in both.iter().zip(times.iter_mut()) {
                    for _ in 0..n {
                        let started = Instant::now();
                        let outcome = host.call(p, c, &input).await;
                        t.push(started.elapsed());
                        outcome.result?;
                    }
                }
            }
            let [ta, tb] = times;
            Ok([Summary::of(ta), Summary::of(tb)])
        })
        .await
        .map_err(|e| StepError::host(crate::host::codes::INTERNAL_ERROR, e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_picks_median_and_p99() {
        let s = Summary::of((1..=100).map(Duration::from_micros).collect());
        assert_eq!((s.median_us, s.p99_us, s.iterations), (51.0, 99.0, 100));
        assert_eq!(s.mean_us, 50.5);
    }
}

/// The result of `sluice bench workflow`.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowReport {
    pub workflow: String,
    pub steps: usize,
    pub runs: usize,
    pub concurrency: usize,
    pub failed_runs: usize,
    pub runs_per_second: f64,
    /// Latency of one run, from creation to its final record, in microseconds.
    pub latency: Summary,
    pub journal: &'static str,
}

/// The built-in workflow's text: ten no-op (`transform`) steps, each templated from the
/// previous, under `name` and `trigger` (YAML flow syntax).
pub fn noop_workflow_text(name: &str, trigger: &str) -> String {
    let mut steps = String::new();
    for i in 0..10 {
        let prev = if i == 0 {
            "input.n".to_owned()
        } else {
            format!("steps.s{}.output.n", i - 1)
        };
        steps.push_str(&format!(
            "  - id: s{i}\n    uses: transform\n    with: {{ n: \"{{{{ {prev} + 1 }}}}\" }}\n"
        ));
    }
    format!("version: 1\nname: {name}\ntrigger: {trigger}\nrun_as: Read Only\nsteps:\n{steps}")
}

/// The built-in workflow: ten no-op (`transform`) steps, each templated from the previous.
pub fn noop_workflow() -> crate::workflow::model::WorkflowDoc {
    let text = noop_workflow_text("noop-10", "{ type: manual }");
    crate::workflow::model::parse("noop-10.yaml", &text).expect("the built-in workflow parses")
}

/// Runs `runs` runs of `doc` with `concurrency` in flight and measures them.
pub async fn workflow(
    engine: std::sync::Arc<crate::engine::Engine>,
    doc: crate::workflow::model::WorkflowDoc,
    input: serde_json::Value,
    runs: usize,
    concurrency: usize,
) -> Result<WorkflowReport, crate::engine::EngineError> {
    use futures::StreamExt;

    let steps = {
        let mut n = 0;
        crate::workflow::validate::visit(&doc.steps, &mut |_| n += 1);
        n
    };
    // Warm-up: load the plugins, fill the caches.
    for _ in 0..concurrency.clamp(1, 20) {
        let run = engine.create_run(
            doc.clone(),
            Default::default(),
            Default::default(),
            input.clone(),
            serde_json::Value::Null,
        )?;
        engine.execute(&run.id, &crate::engine::Quiet).await?;
    }
    let started = Instant::now();
    let results: Vec<Result<(Duration, bool), crate::engine::EngineError>> =
        futures::stream::iter(0..runs)
            .map(|_| {
                let (run_engine, doc, input) = (engine.clone(), doc.clone(), input.clone());
                // Each run is its own task on the guest pool, as the service runs them.
                let task = engine.host().guests().spawn(async move {
                    let engine = run_engine;
                    let t = Instant::now();
                    let run = engine.create_run(
                        doc,
                        Default::default(),
                        Default::default(),
                        input,
                        serde_json::Value::Null,
                    )?;
                    let done = engine.execute(&run.id, &crate::engine::Quiet).await?;
                    Ok((
                        t.elapsed(),
                        done.status == crate::engine::RunStatus::Succeeded,
                    ))
                });
                async move {
                    task.await.unwrap_or_else(|e| {
                        Err(crate::engine::EngineError::Corrupt(format!(
                            "benchmark task failed: {e}"
                        )))
                    })
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    let elapsed = started.elapsed();
    let mut latencies = Vec::with_capacity(runs);
    let mut failed = 0;
    for r in results {
        let (d, ok) = r?;
        latencies.push(d);
        failed += usize::from(!ok);
    }
    Ok(WorkflowReport {
        workflow: doc.name.clone(),
        steps,
        runs,
        concurrency,
        failed_runs: failed,
        runs_per_second: runs as f64 / elapsed.as_secs_f64(),
        latency: Summary::of(latencies),
        journal: "sled; every step record is flushed (group commit), steps with effects and the run's end wait for it",
    })
}
