//! `sluice bench serve`: the service as a client sees it. Starts the real `sluice serve`
//! process over a throwaway data directory and measures, over loopback HTTP:
//! - start: time from spawning the process to its first answer, and its idle RSS;
//! - a webhook-triggered 10-step workflow answering with its output, one request at a time
//!   and with concurrent clients (runs/s, latency percentiles);
//! - many concurrent manual runs through the API (API latency, time until all finished,
//!   peak RSS);
//! - many enabled schedules (fire lateness percentiles from the service's histogram).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::Summary;

/// What to measure.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub webhook_requests: usize,
    pub webhook_concurrency: usize,
    pub manual_runs: usize,
    pub schedules: usize,
    pub schedule_window: Duration,
}

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct ServeReport {
    pub start_to_first_answer_ms: f64,
    pub idle_rss_mib: Option<f64>,
    pub webhook_sequential: Throughput,
    pub webhook_concurrent: Throughput,
    /// The same workflow with `durability: run` (one flush per run instead of per step).
    pub webhook_sequential_run_durability: Throughput,
    pub webhook_concurrent_run_durability: Throughput,
    pub manual: ManualReport,
    pub schedules: ScheduleReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub requests: usize,
    pub concurrency: usize,
    pub runs_per_second: f64,
    pub latency: Summary,
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManualReport {
    pub runs: usize,
    /// Latency of `POST /api/v1/workflows/{name}/runs` (accepted, 202).
    pub api_latency: Summary,
    pub all_finished_s: f64,
    pub succeeded: usize,
    pub peak_rss_mib: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduleReport {
    pub schedules: usize,
    pub create_s: f64,
    pub window_s: f64,
    pub fires: u64,
    /// Upper bounds from the lateness histogram's buckets, in milliseconds.
    pub lateness_p50_ms_at_most: f64,
    pub lateness_p99_ms_at_most: f64,
    pub rss_mib: Option<f64>,
}

/// The resident set size of a process, in MiB (Linux).
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The built-in 10-step no-op workflow with the given trigger, answering with its result.
fn ten_steps(name: &str, trigger: &str, per_run: bool) -> String {
    let mut text =
        super::noop_workflow_text(name, trigger) + "output: { n: \"${steps.s9.output.n}\" }\n";
    if per_run {
        text.push_str("durability: run\n");
    }
    text
}

pub(super) struct Client {
    http: reqwest::Client,
    pub(super) base: String,
    pub(super) token: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, Value), String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    pub(super) async fn post(&self, path: &str, body: String) -> Result<(u16, Value), String> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub(super) async fn get(&self, path: &str) -> Result<(u16, Value), String> {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub(super) async fn metrics(&self) -> Result<String, String> {
        let (_, v) = self.get("/metrics").await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    pub(super) async fn create(&self, doc: String) -> Result<Value, String> {
        let (status, v) = self.post("/api/v1/workflows", doc).await?;
        if status != 201 {
            return Err(format!("creating a workflow answered {status}: {v}"));
        }
        Ok(v)
    }
}

/// Kills the service however the benchmark ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `sluice serve` process on a data dir, answering, with a client holding an admin token.
pub(super) struct Service {
    child: Child,
    pub(super) client: Client,
}

impl Service {
    /// Creates a token in `data_dir`, starts `exe serve` on a free loopback port with
    /// `extra` arguments, and waits for its first answer.
    pub(super) async fn start(
        exe: &Path,
        data_dir: &Path,
        extra: &[&str],
    ) -> Result<Service, String> {
        Self::start_on(exe, data_dir, None, extra, &[]).await
    }

    /// [`Self::start`] on the PostgreSQL database `database` when given (its own token, as
    /// several nodes may share it), with `env` set for the process (over the defaults: a
    /// `SLUICE_SECRET_KEY` given there is the one used).
    pub(super) async fn start_on(
        exe: &Path,
        data_dir: &Path,
        database: Option<&str>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Service, String> {
        let token = {
            let store = crate::store::open(data_dir, database).map_err(|e| e.to_string())?;
            let name = format!("bench-{:08x}", fastrand::u32(..));
            let (token, _) =
                crate::service::tokens::create(&*store, &name).map_err(|e| e.to_string())?;
            store.flush().map_err(|e| e.to_string())?;
            token
        };
        let key = crate::secrets::SecretKey::generate_hex().map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut command = std::process::Command::new(exe);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("SLUICE_DATA_DIR", data_dir)
            .env("SLUICE_SECRET_KEY", &key)
            .env_remove("SLUICE_DATABASE_URL")
            .env_remove("SLUICE_JUMPCLOUD_API_KEY");
        if let Some(db) = database {
            command.env("SLUICE_DATABASE_URL", db);
        }
        let mut child = command
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let child = Child(child);
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                .map(|_| line)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let base = line
            .trim()
            .strip_prefix("sluice serve listening on ")
            .ok_or_else(|| format!("sluice serve did not start: {line:?}"))?
            .to_owned();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| e.to_string())?;
        loop {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("sluice serve did not answer within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(Service {
            child,
            client: Client { http, base, token },
        })
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// Kills the process (the data dir is the caller's to remove).
    pub(super) fn stop(self) {
        drop(self.child);
    }
}

/// A keep-alive HTTP/1.1 connection that sends one prepared request at a time and reads
/// the answer: the load generator's side, as lean as `wrk`'s, because it shares the
/// machine's cores with the service and a heavier client's CPU and thread wake-ups would
/// show up in the service's figures.
pub(super) struct Wire {
    stream: std::net::TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    pub(super) fn connect(addr: &str) -> std::io::Result<Wire> {
        let stream = std::net::TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        // A stalled service fails the request instead of hanging the benchmark.
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        Ok(Wire {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `request` and reads one answer: its status and body.
    pub(super) fn exchange(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        use std::io::{Error, ErrorKind, Read, Write};
        self.stream.write_all(request)?;
        self.buf.clear();
        let mut chunk = [0u8; 8192];
        let (status, head, len) = loop {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(head)) => {
                    let len = resp
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| {
                            std::str::from_utf8(h.value)
                                .ok()?
                                .trim()
                                .parse::<usize>()
                                .ok()
                        })
                        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "no content-length"))?;
                    break (resp.code.unwrap_or_default(), head, len);
                }
                Ok(httparse::Status::Partial) => continue,
                Err(e) => return Err(Error::new(ErrorKind::InvalidData, e)),
            }
        };
        let end = head + len;
        while self.buf.len() < end {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok((status, self.buf[head..end].to_vec()))
    }
}

/// `requests` signed webhook calls over `concurrency` keep-alive connections, each on a
/// thread of its own sending the next request when the last one is answered. Each request
/// is a new message (its own `webhook-id`, signed when sent), as the service accepts a
/// message once.
async fn webhook(
    client: &Client,
    name: &str,
    secret: &str,
    requests: usize,
    concurrency: usize,
) -> Result<Throughput, String> {
    webhook_across(&[client], name, secret, requests, concurrency).await
}

/// [`webhook`] with the connections spread round-robin over several services (nodes).
pub(super) async fn webhook_across(
    clients: &[&Client],
    name: &str,
    secret: &str,
    requests: usize,
    concurrency: usize,
) -> Result<Throughput, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BODY: &[u8] = br#"{"n": 0}"#;
    let mut heads = Vec::new();
    for client in clients {
        let addr = client
            .base
            .strip_prefix("http://")
            .ok_or("the service's address is not http://")?
            .to_owned();
        // What every request shares; the message headers follow, then the body.
        let head = format!(
            "POST /hooks/{name} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n",
            BODY.len()
        );
        heads.push((addr, Arc::new(head)));
    }
    if heads.is_empty() {
        return Err("no service to send webhooks to".into());
    }
    let (secret, round) = (Arc::new(secret.to_owned()), fastrand::u64(..));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for k in 0..concurrency.max(1) {
        let (addr, head) = heads[k % heads.len()].clone();
        let (secret, next) = (secret.clone(), next.clone());
        workers.push(tokio::task::spawn_blocking(move || {
            let mut results: Vec<(Duration, bool)> = Vec::new();
            let mut wire = Wire::connect(&addr).map_err(|e| format!("cannot connect: {e}"))?;
            let mut request = Vec::with_capacity(512);
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= requests {
                    break;
                }
                request.clear();
                request.extend_from_slice(head.as_bytes());
                let id = format!("bench-{round:016x}-{n}");
                for (k, v) in crate::trigger::webhook::headers(&secret, &id, BODY)
                    .ok_or("the webhook secret is not in the whsec_ form")?
                {
                    request.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
                }
                request.extend_from_slice(b"\r\n");
                request.extend_from_slice(BODY);
                let t = Instant::now();
                let ok = match wire.exchange(&request) {
                    Ok((status, body)) => {
                        status == 200 && String::from_utf8_lossy(&body).contains("10")
                    }
                    Err(_) => {
                        // A broken connection: count the failure and start a new one.
                        wire = Wire::connect(&addr).map_err(|e| format!("cannot connect: {e}"))?;
                        false
                    }
                };
                results.push((t.elapsed(), ok));
            }
            Ok::<_, String>(results)
        }));
    }
    let mut results = Vec::with_capacity(requests);
    for w in workers {
        results.extend(w.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed();
    let failed = results.iter().filter(|(_, ok)| !ok).count();
    Ok(Throughput {
        requests,
        concurrency,
        runs_per_second: requests as f64 / elapsed.as_secs_f64(),
        latency: Summary::of(results.into_iter().map(|(d, _)| d).collect()),
        failed,
    })
}

/// The `count` and cumulative buckets of a histogram in a metrics text.
fn histogram(metrics: &str, name: &str) -> Vec<(f64, u64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (le, n) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, n.trim().parse().ok()?))
        })
        .collect()
}

/// The smallest bucket bound under which `q` of the observations between two snapshots fall.
fn quantile_bound(before: &[(f64, u64)], after: &[(f64, u64)], q: f64) -> f64 {
    let total = after.last().map(|b| b.1).unwrap_or(0) - before.last().map(|b| b.1).unwrap_or(0);
    for (i, (le, n)) in after.iter().enumerate() {
        let base = before.get(i).map(|b| b.1).unwrap_or(0);
        if total > 0 && (n - base) as f64 >= q * total as f64 {
            return *le;
        }
    }
    f64::INFINITY
}

/// Runs the whole measurement with the `sluice` binary at `exe`.
pub async fn serve(exe: &Path, opts: &ServeOptions) -> Result<ServeReport, String> {
    let dir = tempfile::Builder::new()
        .prefix("sluice-bench-serve-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let started = Instant::now();
    // The manual-run figure opens up to --manual-runs connections at once; the connection
    // limit is not what it measures.
    let service = Service::start(
        exe,
        dir.path(),
        &["--queue-capacity", "100000", "--max-connections", "100000"],
    )
    .await?;
    let start_ms = started.elapsed().as_secs_f64() * 1000.0;
    let pid = service.pid();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = rss_mib(pid);
    let client = &service.client;

    // Webhooks answering with the output, with each durability.
    let mut figures = Vec::new();
    for (name, per_run) in [("hook-10", false), ("hook-10-run", true)] {
        let trigger = "{ type: webhook, respond_with_output: true }";
        let created = client.create(ten_steps(name, trigger, per_run)).await?;
        let secret = created["webhook_secret"]
            .as_str()
            .ok_or("no webhook secret")?
            .to_owned();
        webhook(client, name, &secret, 50, 1).await?;
        figures.push(webhook(client, name, &secret, opts.webhook_requests, 1).await?);
        let c = opts.webhook_concurrency;
        figures.push(webhook(client, name, &secret, opts.webhook_requests, c).await?);
    }
    let mut figures = figures.into_iter();
    let mut next = || figures.next().ok_or("missing webhook figure");
    let (sequential, concurrent, sequential_run, concurrent_run) =
        (next()?, next()?, next()?, next()?);

    // Concurrent manual runs through the API.
    client
        .create(ten_steps("manual-10", "{ type: manual }", false))
        .await?;
    let peak = std::sync::Arc::new(std::sync::Mutex::new(0f64));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(r) = rss_mib(pid) {
                    let mut p = peak.lock().unwrap_or_else(|e| e.into_inner());
                    *p = p.max(r);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let t = Instant::now();
    let posts = (0..opts.manual_runs).map(|_| async {
        let t = Instant::now();
        let r = client
            .post("/api/v1/workflows/manual-10/runs", r#"{"n": 0}"#.into())
            .await;
        (t.elapsed(), r.map(|(s, _)| s == 202).unwrap_or(false))
    });
    let answers = futures::future::join_all(posts).await;
    let accepted = answers.iter().filter(|(_, ok)| *ok).count();
    loop {
        let (_, h) = client.get("/healthz").await?;
        if h["queued"] == 0 && h["running"] == 0 {
            break;
        }
        if t.elapsed() > Duration::from_secs(600) {
            return Err("the manual runs did not finish within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_finished_s = t.elapsed().as_secs_f64();
    let (_, v) = client
        .get("/api/v1/runs?workflow=manual-10&status=succeeded&limit=1000")
        .await?;
    let succeeded = v["runs"].as_array().map(Vec::len).unwrap_or(0);
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.await;
    let manual = ManualReport {
        runs: accepted,
        api_latency: Summary::of(answers.into_iter().map(|(d, _)| d).collect()),
        all_finished_s,
        succeeded,
        peak_rss_mib: rss_mib(pid).map(|_| *peak.lock().unwrap_or_else(|e| e.into_inner())),
    };

    // Many schedules, fires spread over the minute.
    let t = Instant::now();
    for i in 0..opts.schedules {
        let doc = format!(
            "version: 1\nname: sched-{i}\ntrigger: {{ type: schedule, cron: \"{} * * * * *\" }}\nrun_as: Read Only\nsteps:\n  - id: s\n    uses: transform\n    with: {{ i: {i} }}\n",
            i % 60
        );
        client.create(doc).await?;
    }
    let create_s = t.elapsed().as_secs_f64();
    // Let the scheduler take the last saves in, then measure a window.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = client.metrics().await?;
    tokio::time::sleep(opts.schedule_window).await;
    let after = client.metrics().await?;
    let (hb, ha) = (
        histogram(&before, "sluice_schedule_lateness_seconds"),
        histogram(&after, "sluice_schedule_lateness_seconds"),
    );
    let fires = ha.last().map(|b| b.1).unwrap_or(0) - hb.last().map(|b| b.1).unwrap_or(0);
    let schedules = ScheduleReport {
        schedules: opts.schedules,
        create_s,
        window_s: opts.schedule_window.as_secs_f64(),
        fires,
        lateness_p50_ms_at_most: quantile_bound(&hb, &ha, 0.5) * 1000.0,
        lateness_p99_ms_at_most: quantile_bound(&hb, &ha, 0.99) * 1000.0,
        rss_mib: rss_mib(pid),
    };
    service.stop();
    Ok(ServeReport {
        start_to_first_answer_ms: start_ms,
        idle_rss_mib: idle_rss,
        webhook_sequential: sequential,
        webhook_concurrent: concurrent,
        webhook_sequential_run_durability: sequential_run,
        webhook_concurrent_run_durability: concurrent_run,
        manual,
        schedules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_bounds_come_from_bucket_differences() {
        let before = vec![(0.001, 10), (0.01, 10), (0.1, 10), (f64::INFINITY, 10)];
        let after = vec![(0.001, 10), (0.01, 108), (0.1, 109), (f64::INFINITY, 110)];
        assert_eq!(quantile_bound(&before, &after, 0.5), 0.01);
        assert_eq!(quantile_bound(&before, &after, 0.99), 0.1);
        let text = "x_bucket{le=\"0.5\"} 3\nx_bucket{le=\"+Inf\"} 4\nx_count 4\n";
        assert_eq!(histogram(text, "x"), vec![(0.5, 3), (f64::INFINITY, 4)]);
    }
}
