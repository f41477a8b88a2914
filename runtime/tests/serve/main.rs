//! `sluice serve` as an admin runs it: the real binary on 127.0.0.1:0, driven over HTTP.
//! Every API endpoint, token checks, validation that saves nothing, signed webhooks,
//! Directory Insights events that fire once across restarts, the bounded queue, resumption
//! of a killed run (at start, or held and resumed through the API), and the CLI's message
//! while the service holds the data directory, and the require-signatures policy.
//! (Schedules firing every second across a restart are the scheduler's own test, on a
//! clock it moves: `trigger/schedule.rs`.)

#[path = "../common/mod.rs"]
mod common;

mod api;
mod connections;
mod pins;
mod runs;
mod trust;
mod webhooks;

use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Sluice, hostile_wasm, stderr};
use serde_json::{Value, json};

const KEY: &str = "9b1f0c3e5d7a2b4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809";

/// A running `sluice serve` over a [`Sluice`] data dir.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(s: &Sluice, extra: &[&str]) -> Server {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--poll-interval",
            "200ms",
        ];
        args.extend_from_slice(extra);
        let mut child = s
            .cmd(&args)
            .env("SLUICE_SECRET_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sluice serve starts");
        let url = common::serve_url(&mut child);
        Server { child, url }
    }

    /// SIGTERM, then wait for a graceful exit.
    fn stop(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(st.success(), "sluice serve exited with {st}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "sluice serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP client for the tests.
struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Http {
    fn new(base: &str, token: Option<&str>) -> Http {
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

    fn send(
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

    fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, &[])
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("POST", path, Some(body.as_bytes().to_vec()), &[])
    }

    fn put(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("PUT", path, Some(body.as_bytes().to_vec()), &[])
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None, &[])
    }

    /// Waits for a run to finish and returns `{run, steps}`.
    fn finished(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
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

    fn runs_of(&self, workflow: &str) -> Vec<Value> {
        let (status, v) = self.get(&format!("/api/v1/runs?workflow={workflow}&limit=1000"));
        assert_eq!(status, 200, "{v}");
        v["runs"].as_array().unwrap().clone()
    }
}

fn token(s: &Sluice, name: &str) -> String {
    let v = s.json(&["token", "create", "--name", name, "--json"]);
    v["token"].as_str().unwrap().to_owned()
}

fn example(path: &str) -> String {
    std::fs::read_to_string(common::workspace().join(path)).unwrap()
}

fn v_templates(api: &Http) -> Vec<String> {
    let (_, v) = api.get("/api/v1/templates");
    v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until `f` holds, or panics with `what`.
fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
