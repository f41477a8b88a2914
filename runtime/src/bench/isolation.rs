//! `sluice bench isolation`: how the service answers while plugins spin.
//!
//! A real `sluice serve` over a throwaway data dir runs `loops` steps of a CPU-bound plugin
//! at once (4× the cores by default) while the benchmark probes `/healthz`,
//! `GET /api/v1/workflows` and a signed webhook, one request at a time over keep-alive
//! connections. The same probes run first with nothing else going on, so the two columns
//! are measured side by side in one run. Then each spinning step's end is compared with its
//! deadline.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::Summary;
use super::serve::{Service, Wire};

/// What to measure.
#[derive(Debug, Clone)]
pub struct IsolationOptions {
    /// A component that spins when given `input` (the hostile test plugin's `loop` mode).
    pub plugin: PathBuf,
    pub input: Value,
    /// Spinning steps at once.
    pub loops: usize,
    /// Each spinning step's `timeout:`.
    pub timeout: Duration,
}

/// The probes' latency, idle and under load, and how the spinning steps ended.
#[derive(Debug, Clone, Serialize)]
pub struct IsolationReport {
    pub cores: usize,
    pub loops: usize,
    pub timeout_ms: u64,
    pub probes: Vec<Probe>,
    /// How long after its deadline each spinning step ended (ms; negative: before).
    pub overrun_ms: Vec<f64>,
    /// Whether every spinning step ended with `PLUGIN_TIMEOUT`.
    pub all_timed_out: bool,
}

/// One kind of request, idle and while the plugins spin.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub name: &'static str,
    pub idle: Summary,
    pub loaded: Summary,
}

const PROBES: [&str; 3] = [
    "GET /healthz",
    "GET /api/v1/workflows",
    "POST /hooks (signed)",
];

/// Runs the benchmark against the binary `exe`.
pub async fn isolation(exe: &Path, opts: &IsolationOptions) -> Result<IsolationReport, String> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let dir = tempfile::Builder::new()
        .prefix("sluice-bench-isolation-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let installed = std::process::Command::new(exe)
        .args(["plugin", "install"])
        .arg(&opts.plugin)
        .arg("--json")
        .env("SLUICE_DATA_DIR", dir.path())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !installed.status.success() {
        return Err(format!(
            "installing {} failed: {}",
            opts.plugin.display(),
            String::from_utf8_lossy(&installed.stderr).trim()
        ));
    }
    let record: Value = serde_json::from_slice(&installed.stdout).map_err(|e| e.to_string())?;
    let name = record["name"]
        .as_str()
        .ok_or("the install did not name the plugin")?
        .to_owned();
    let service = Service::start(exe, dir.path(), &[]).await?;
    let client = &service.client;

    let timeout = humantime::format_duration(opts.timeout).to_string();
    let spin = format!(
        "version: 1\nname: spin\ntrigger: {{ type: manual }}\nrun_as: Read Only\nsteps:\n  \
         - id: spin\n    uses: {name}\n    timeout: {timeout}\n    with: {}\n",
        opts.input
    );
    client.create(spin).await?;
    let hook = super::noop_workflow_text("hook", "{ type: webhook }");
    let created = client.create(hook).await?;
    let secret = created["webhook_secret"]
        .as_str()
        .ok_or("no webhook secret")?
        .to_owned();

    let addr = client
        .base
        .strip_prefix("http://")
        .ok_or("the service's address is not http://")?
        .to_owned();
    let requests = Requests::new(&addr, &client.token, &secret);
    // Idle first, the same probes for about as long as they will run under load.
    let window = opts.timeout.mul_f64(0.6).max(Duration::from_secs(1));
    let idle = probe(&addr, &requests, window, Duration::from_millis(200)).await?;

    let mut runs = Vec::with_capacity(opts.loops);
    for _ in 0..opts.loops {
        let (status, v) = client
            .post("/api/v1/workflows/spin/runs", "{}".into())
            .await?;
        if status != 202 {
            return Err(format!("starting a spinning run answered {status}: {v}"));
        }
        runs.push(v["run_id"].as_str().ok_or("no run id")?.to_owned());
    }
    // Give the loops a moment to take the guest pool, then probe while they spin.
    tokio::time::sleep(opts.timeout.mul_f64(0.1).min(Duration::from_millis(500))).await;
    let loaded = probe(&addr, &requests, window, Duration::ZERO).await?;

    let mut overrun_ms = Vec::with_capacity(runs.len());
    let mut all_timed_out = true;
    let deadline = Instant::now() + opts.timeout * 3 + Duration::from_secs(30);
    for id in &runs {
        let v = loop {
            let (status, v) = client.get(&format!("/api/v1/runs/{id}")).await?;
            if status == 200
                && !["queued", "running"].contains(&v["run"]["status"].as_str().unwrap_or(""))
            {
                break v;
            }
            if Instant::now() > deadline {
                return Err(format!("run {id} did not end"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let attempt = &v["steps"][0]["attempts"][0];
        all_timed_out &=
            attempt["result"]["error"]["code"] == crate::code::Code::PluginTimeout.as_str();
        let took = attempt["duration_us"].as_f64().unwrap_or(f64::NAN) / 1000.0;
        overrun_ms.push(took - opts.timeout.as_secs_f64() * 1000.0);
    }
    service.stop();
    let probes = PROBES
        .iter()
        .zip(idle.into_iter().zip(loaded))
        .map(|(name, (idle, loaded))| Probe {
            name,
            idle: Summary::of(idle),
            loaded: Summary::of(loaded),
        })
        .collect();
    Ok(IsolationReport {
        cores,
        loops: opts.loops,
        timeout_ms: opts.timeout.as_millis() as u64,
        probes,
        overrun_ms,
        all_timed_out,
    })
}

/// The three probe requests, prepared; the webhook is signed afresh for each message.
struct Requests {
    health: Vec<u8>,
    workflows: Vec<u8>,
    hook_head: String,
    secret: String,
}

const HOOK_BODY: &[u8] = br#"{"n": 0}"#;

impl Requests {
    fn new(addr: &str, token: &str, secret: &str) -> Requests {
        Requests {
            health: format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n").into_bytes(),
            workflows: format!(
                "GET /api/v1/workflows HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\r\n"
            )
            .into_bytes(),
            hook_head: format!(
                "POST /hooks/hook HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\n",
                HOOK_BODY.len()
            ),
            secret: secret.to_owned(),
        }
    }

    fn hook(&self, id: &str) -> Result<Vec<u8>, String> {
        let mut r = self.hook_head.clone().into_bytes();
        for (k, v) in crate::trigger::webhook::headers(&self.secret, id, HOOK_BODY)
            .ok_or("the webhook secret is not in the whsec_ form")?
        {
            r.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        r.extend_from_slice(b"\r\n");
        r.extend_from_slice(HOOK_BODY);
        Ok(r)
    }
}

/// Probes each kind in turn, one request at a time, for `window`, pausing `pause` between
/// rounds: the latencies of each kind.
async fn probe(
    addr: &str,
    requests: &Requests,
    window: Duration,
    pause: Duration,
) -> Result<[Vec<Duration>; 3], String> {
    let addr = addr.to_owned();
    let (health, workflows) = (requests.health.clone(), requests.workflows.clone());
    let hooks: Vec<Vec<u8>> = (0..4096)
        .map(|i| requests.hook(&format!("isolation-{:016x}-{i}", fastrand::u64(..))))
        .collect::<Result<_, _>>()?;
    tokio::task::spawn_blocking(move || {
        let mut wires = [
            Wire::connect(&addr).map_err(|e| e.to_string())?,
            Wire::connect(&addr).map_err(|e| e.to_string())?,
            Wire::connect(&addr).map_err(|e| e.to_string())?,
        ];
        let mut out: [Vec<Duration>; 3] = Default::default();
        let started = Instant::now();
        let mut round = 0;
        while started.elapsed() < window && round < hooks.len() {
            for (k, wire) in wires.iter_mut().enumerate() {
                let request = match k {
                    0 => &health,
                    1 => &workflows,
                    _ => &hooks[round],
                };
                let t = Instant::now();
                let (status, body) = wire.exchange(request).map_err(|e| e.to_string())?;
                out[k].push(t.elapsed());
                if !(200..300).contains(&status) {
                    return Err(format!(
                        "{} answered {status}: {}",
                        PROBES[k],
                        String::from_utf8_lossy(&body)
                    ));
                }
            }
            round += 1;
            std::thread::sleep(pause.max(Duration::from_millis(5)));
        }
        Ok(out)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_probes_are_signed_each_with_its_own_id() {
        let r = Requests::new("127.0.0.1:1", "tok", "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=");
        let a = String::from_utf8(r.hook("a").unwrap()).unwrap();
        let b = String::from_utf8(r.hook("b").unwrap()).unwrap();
        assert!(
            a.contains("webhook-id: a\r\n") && b.contains("webhook-id: b\r\n"),
            "{a}"
        );
        assert!(a.ends_with("\r\n\r\n{\"n\": 0}"), "{a}");
    }
}
