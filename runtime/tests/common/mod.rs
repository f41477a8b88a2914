//! Helpers shared by the binary-level tests: the `sluice` binary over a throwaway data
//! directory, and the plugin components written for the tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_plugin_build::{PluginCrate, build_plugins};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The hostile test plugin, built (or found up to date) by the same helper the build uses.
pub fn hostile_wasm() -> PathBuf {
    let crates = [PluginCrate::single("hostile", "tests/plugins/hostile")];
    build_plugins(&workspace(), &crates)
        .expect("hostile plugin builds")
        .remove(0)
}

/// Installs the hostile test plugin with one grant, asserting it installed.
pub fn install_hostile(s: &Sluice, grant: &str) {
    let wasm = hostile_wasm();
    let out = s.run(&[
        "plugin",
        "install",
        wasm.to_str().unwrap(),
        "--grant",
        grant,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The compiled-component cache the tests' `sluice` processes share (`SLUICE_CACHE_DIR`):
/// without it, every test's fresh data dir would compile the 50 bundled plugins again.
pub fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// The `sluice` binary with its own data directory, run from the workspace root.
pub struct Sluice {
    pub data: tempfile::TempDir,
    /// Whether compiled components go to the shared cache (else the data dir's own).
    shared_cache: bool,
}

impl Sluice {
    pub fn new() -> Self {
        Sluice {
            data: tempfile::tempdir().unwrap(),
            shared_cache: true,
        }
    }

    /// A data dir whose compiled-component cache is its own and starts empty, for the
    /// tests that watch the cache.
    pub fn cold() -> Self {
        Sluice {
            shared_cache: false,
            ..Sluice::new()
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sluice"));
        c.args(args)
            .current_dir(workspace())
            .env("SLUICE_DATA_DIR", self.data.path());
        if self.shared_cache {
            c.env("SLUICE_CACHE_DIR", shared_cache());
        } else {
            c.env_remove("SLUICE_CACHE_DIR");
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("sluice runs")
    }

    /// Runs a command that must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }
}

/// The files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

/// Installs the hostile plugin (granted `state`), starts `sluice run tests/fixtures/crash.yaml`
/// and kills it (SIGKILL) in the middle of its slow step, after two counted side effects.
/// Returns the interrupted run's id.
pub fn kill_crash_run_midway(s: &Sluice) -> String {
    use std::time::{Duration, Instant};

    install_hostile(s, "state");
    let mut child = s
        .cmd(&["run", "tests/fixtures/crash.yaml"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut run_id = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("run ") {
            run_id = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.trim() == "bump2 ok" {
            break;
        }
        assert!(Instant::now() < deadline, "the run never reached bump2");
    }
    // The slow step spins for 3 s: kill the process in the middle of it.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    run_id.expect("the run printed its id")
}

/// The URL a started `sluice serve` (stdout piped) announces on its first line.
pub fn serve_url(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("sluice serve listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned()
}

/// A `sluice sandbox` child process; killed on drop.
pub struct SandboxProcess {
    child: Child,
    pub url: String,
    key: String,
    /// Kept open: the sandbox prints more and must not meet a closed pipe.
    _banner: BufReader<std::process::ChildStdout>,
}

impl SandboxProcess {
    /// Serves a sandbox on a free port with API key `key` and the faults `faults`.
    pub fn start(key: &str, faults: &str) -> SandboxProcess {
        Self::start_with(key, &["--faults", faults])
    }

    /// Serves a sandbox on a free port with API key `key` and `args` for `sluice sandbox`.
    pub fn start_with(key: &str, args: &[&str]) -> SandboxProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["sandbox", "--listen", "127.0.0.1:0", "--api-key", key])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sandbox starts");
        let mut first = String::new();
        let mut banner = BufReader::new(child.stdout.take().unwrap());
        banner.read_line(&mut first).unwrap();
        let url = first
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| panic!("unexpected sandbox banner: {first}"))
            .to_owned();
        SandboxProcess {
            child,
            url,
            key: key.to_owned(),
            _banner: banner,
        }
    }

    /// The sandbox's mail outbox.
    pub fn mail(&self) -> Vec<Value> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let r = reqwest::Client::new()
                .get(format!("{}/sandbox/mail", self.url))
                .header("x-api-key", &self.key)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            serde_json::from_str(&r.text().await.unwrap()).unwrap()
        })
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP client for the tests.
pub struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
    pub token: Option<String>,
}

impl Http {
    pub fn new(base: &str, token: Option<&str>) -> Http {
        Http {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            // Idle connections are dropped well before the service's idle timeout (60 s),
            // so a request never goes out on a connection the service is closing.
            client: reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
            base: base.to_owned(),
            token: token.map(str::to_owned),
        }
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.base),
        );
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        self.rt.block_on(async {
            let resp = req.send().await.expect("request sent");
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (status, v)
        })
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, &[])
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("POST", path, Some(body.as_bytes().to_vec()), &[])
    }

    pub fn put(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("PUT", path, Some(body.as_bytes().to_vec()), &[])
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None, &[])
    }

    /// Waits (up to a minute) for a run to finish and returns `{run, steps}`.
    pub fn finished(&self, id: &str) -> Value {
        self.finished_within(id, Duration::from_secs(60))
    }

    /// Waits up to `within` for a run to finish and returns `{run, steps}`.
    pub fn finished_within(&self, id: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let (status, v) = self.get(&format!("/api/v1/runs/{id}"));
            assert_eq!(status, 200, "{v}");
            let st = v["run"]["status"].as_str().unwrap_or_default().to_owned();
            if !["queued", "running"].contains(&st.as_str()) {
                return v;
            }
            assert!(Instant::now() < deadline, "run {id} did not finish: {v}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// A counter or gauge of `/metrics` (0 when absent).
    pub fn metric(&self, name: &str) -> f64 {
        let (_, v) = self.get("/metrics");
        let text = v.as_str().unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().parse().ok()))
            .unwrap_or(0.0)
    }

    pub fn runs_of(&self, workflow: &str) -> Vec<Value> {
        let (status, v) = self.get(&format!("/api/v1/runs?workflow={workflow}&limit=1000"));
        assert_eq!(status, 200, "{v}");
        v["runs"].as_array().unwrap().clone()
    }
}

/// An example file of the repository, by its path from the workspace root.
pub fn example(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap()
}

/// Waits until `f` holds, or panics with `what`.
pub fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
