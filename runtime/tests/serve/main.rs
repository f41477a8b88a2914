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

use common::{Http, Sluice, eventually, example, hostile_wasm, stderr};
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
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill(2) has no memory effects; `pid` is our child, not yet waited for,
        // so it cannot have been reused.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
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

fn token(s: &Sluice, name: &str) -> String {
    let v = s.json(&["token", "create", "--name", name, "--json"]);
    v["token"].as_str().unwrap().to_owned()
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
