//! Several `sluice serve` nodes on one PostgreSQL database, as an operator runs them (the
//! real binary, each node with its own data dir, all on one database and one standalone
//! `sluice sandbox`): 200 provisioning runs submitted round-robin through the nodes' APIs
//! while one node is killed (`kill -9`) finish, each creating its user exactly once; the
//! leader killed while a schedule fires every second loses and doubles no fire; PostgreSQL
//! stopped for 10 s and started again pauses runs, the API answers 503 meanwhile, and
//! nothing is lost.
//!
//! The database comes from `SLUICE_TEST_DATABASE_URL` (`scripts/postgres run`, which
//! `scripts/test` uses); each test works in a schema of its own.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Http, SandboxProcess, Sluice, eventually, example, stderr};
use serde_json::{Value, json};

/// The sandbox's API key (every node's JumpCloud key).
const KEY: &str = "sk-cluster-7c1e5d2a9b3f4e6a8d0c1b2e3f4a5b6c";
/// Seals the mail connector's credential; every node holds the same key.
const SECRET_KEY: &str = "5a1e5d7c9b2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f80912";

/// The test database's URL.
fn database() -> String {
    std::env::var("SLUICE_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "SLUICE_TEST_DATABASE_URL is not set: these tests need PostgreSQL. Run them \
             under a throwaway one: `scripts/postgres run cargo test --profile suite --locked \
             --workspace --test cluster` (scripts/test does this)"
        )
    })
}

/// `url` with its tables in a fresh schema (made by the first process).
fn in_fresh_schema(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}options=-csearch_path%3Dcluster_{:012x}",
        fastrand::u64(..1 << 48)
    )
}

/// What every process of a test shares: the database and the JumpCloud.
struct Cluster {
    db: String,
    sandbox: SandboxProcess,
    /// For commands run outside the nodes (tokens, connectors).
    admin: Sluice,
    token: String,
}

impl Cluster {
    fn new(faults: &str) -> Cluster {
        Cluster::on(&database(), faults)
    }

    /// On the database at `url` (a fresh schema of it).
    fn on(url: &str, faults: &str) -> Cluster {
        let db = in_fresh_schema(url);
        let sandbox = SandboxProcess::start(KEY, faults);
        let admin = Sluice::new();
        let mut c = Cluster {
            db,
            sandbox,
            admin,
            token: String::new(),
        };
        let out = c
            .cmd(&c.admin, &["token", "create", "--name", "admin", "--json"])
            .output();
        let out = out.unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        c.token = v["token"].as_str().unwrap().to_owned();
        // The provisioning workflow's notifications go to the sandbox's outbox.
        let out = c
            .cmd(
                &c.admin,
                &[
                    "connector",
                    "add",
                    "sandbox-mail",
                    "--base-url",
                    &format!("{}/sandbox/mail", c.sandbox.url),
                    "--auth-header",
                    "x-api-key",
                    "--secret-env",
                    "MAIL_KEY",
                ],
            )
            .env("MAIL_KEY", KEY)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        c
    }

    /// `sluice ARGS` on the shared database and JumpCloud, in `s`'s data dir.
    fn cmd(&self, s: &Sluice, args: &[&str]) -> std::process::Command {
        let mut c = s.cmd(args);
        c.env("SLUICE_DATABASE_URL", &self.db)
            .env("SLUICE_JUMPCLOUD_URL", &self.sandbox.url)
            .env("SLUICE_JUMPCLOUD_API_KEY", KEY)
            .env("SLUICE_JUMPCLOUD_RATE_LIMIT", "0")
            .env("SLUICE_SECRET_KEY", SECRET_KEY);
        c
    }

    /// Starts node `id` with leases of `lease`.
    fn node(&self, id: &str, lease: &str) -> Node {
        let data = Sluice::new();
        let log = std::fs::File::create(data.data.path().join("serve.log")).unwrap();
        let mut cmd = self.cmd(
            &data,
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--node-id",
                id,
                "--lease",
                lease,
                "--poll-interval",
                "1s",
            ],
        );
        let mut child = cmd
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("sluice serve starts");
        let url = common::serve_url(&mut child);
        Node {
            id: id.to_owned(),
            api: Http::new(&url, Some(&self.token)),
            child,
            data,
        }
    }
}

/// A running node; killed on drop.
struct Node {
    id: String,
    api: Http,
    child: Child,
    data: Sluice,
}

impl Node {
    /// `kill -9`.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.data.data.path().join("serve.log")).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sandbox's users, by username, as many times as each is listed.
fn users(sb: &SandboxProcess) -> BTreeMap<String, usize> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let mut out = BTreeMap::new();
    let mut skip = 0;
    loop {
        let page: Value = rt.block_on(async {
            let r = client
                .get(format!("{}/api/systemusers?limit=100&skip={skip}", sb.url))
                .header("x-api-key", KEY)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            serde_json::from_str(&r.text().await.unwrap()).unwrap()
        });
        let results = page["results"].as_array().unwrap();
        for u in results {
            *out.entry(u["username"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        if results.len() < 100 {
            return out;
        }
        skip += 100;
    }
}

fn new_hire(i: usize) -> Value {
    json!({"first_name": "Node", "last_name": format!("N{i}"),
           "email": format!("cluster.user{i}@company.com"), "username": format!("cluster.user{i}"),
           "department": "Engineering", "job_title": "Software Developer",
           "office_location": "Seattle", "manager_email": "jane.doe@acme.example",
           "attributes": {"costCenter": format!("ENG-{i}")}})
}

#[test]
fn three_nodes_finish_200_provisioning_runs_with_one_killed_midway() {
    // Every JumpCloud call takes 20 ms, so runs are in flight when the node dies.
    let c = Cluster::new("latency=20ms");
    let mut nodes: Vec<Node> = ["n1", "n2", "n3"]
        .iter()
        .map(|id| c.node(id, "3s"))
        .collect();
    let (status, v) = nodes[0].api.post(
        "/api/v1/workflows",
        &example("examples/provision-user.yaml"),
    );
    assert_eq!(status, 201, "{v}");
    // Every node sees the others.
    let (_, listed) = nodes[2].api.get("/api/v1/nodes");
    assert_eq!(listed["shared"], json!(true), "{listed}");
    eventually("three live nodes", 15, || {
        let (_, v) = nodes[1].api.get("/api/v1/nodes");
        v["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().filter(|n| n["alive"] == json!(true)).count() == 3)
    });
    const N: usize = 200;
    let mut runs = Vec::new();
    for i in 0..N {
        // Half-way through, node n2 dies with runs queued and executing.
        if i == 90 {
            nodes[1].kill();
        }
        let alive: Vec<&Node> = nodes
            .iter()
            .enumerate()
            .filter(|(k, _)| i < 90 || *k != 1)
            .map(|(_, n)| n)
            .collect();
        let node = alive[i % alive.len()];
        let (status, v) = node.api.post(
            "/api/v1/workflows/provision-user/runs",
            &new_hire(i).to_string(),
        );
        assert_eq!(status, 202, "{} refused run {i}: {v}", node.id);
        runs.push(v["run_id"].as_str().unwrap().to_owned());
    }
    // Every run finishes, read through a node that did not start most of them.
    let mut resumed = 0;
    for (i, id) in runs.iter().enumerate() {
        let run = nodes[2].api.finished_within(id, Duration::from_secs(180))["run"].clone();
        assert_eq!(
            run["status"],
            "succeeded",
            "run {i} ({id}) did not succeed: {run:#}\n--- n1 ---\n{}\n--- n3 ---\n{}",
            nodes[0].log(),
            nodes[2].log()
        );
        if run["executions"].as_u64().unwrap_or(0) > 1 {
            resumed += 1;
        }
    }
    // The killed node's unfinished runs were taken over and went on from their journals.
    let taken: f64 = [&nodes[0], &nodes[2]]
        .iter()
        .map(|n| n.api.metric("sluice_runs_taken_over_total"))
        .sum();
    assert!(
        taken >= 1.0 && resumed >= 1,
        "nothing was taken over ({taken}, {resumed})"
    );
    // Each user exists exactly once.
    let listed = users(&c.sandbox);
    for i in 0..N {
        let name = format!("cluster.user{i}");
        assert_eq!(listed.get(&name), Some(&1), "{name}");
    }
    // The dead node is listed as such; the live ones hold nothing.
    let (_, v) = nodes[0].api.get("/api/v1/nodes");
    let by_id: BTreeMap<&str, &Value> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    assert_eq!(by_id["n2"]["alive"], json!(false), "{v}");
    assert_eq!(by_id["n1"]["runs"], json!(0), "{v}");
    assert_eq!(
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["leader_of"] == json!(["leader"]))
            .count(),
        1,
        "one leader: {v}"
    );
}

/// The fire times of a workflow's runs, each with how many runs it had.
fn fires(api: &Http, workflow: &str) -> BTreeMap<String, usize> {
    let (status, v) = api.get(&format!("/api/v1/runs?workflow={workflow}&limit=1000"));
    assert_eq!(status, 200, "{v}");
    let mut out = BTreeMap::new();
    for row in v["runs"].as_array().unwrap() {
        let run = api.finished_within(row["id"].as_str().unwrap(), Duration::from_secs(60))["run"]
            .clone();
        assert_eq!(run["status"], "succeeded", "{run:#}");
        let at = run["trigger"]["fire_time"].as_str().unwrap().to_owned();
        *out.entry(at).or_default() += 1;
    }
    out
}

#[test]
fn the_leader_killed_while_a_schedule_fires_every_second_loses_and_doubles_no_fire() {
    let c = Cluster::new("latency=0ms");
    let mut nodes: Vec<Node> = ["s1", "s2", "s3"]
        .iter()
        .map(|id| c.node(id, "2s"))
        .collect();
    let workflow = "version: 1\nname: tick\ntrigger: { type: schedule, cron: \"* * * * * *\" }\n\
                    run_as: Read Only\nsteps:\n  - id: t\n    uses: transform\n    with: { at: \"${trigger.fire_time}\" }\n";
    let leader = |nodes: &[Node], skip: Option<usize>| -> Option<usize> {
        let asker = nodes.iter().enumerate().find(|(k, _)| Some(*k) != skip)?.1;
        let (_, v) = asker.api.get("/api/v1/nodes");
        let id = v["nodes"]
            .as_array()?
            .iter()
            .find(|n| n["alive"] == json!(true) && n["leader_of"] == json!(["leader"]))?["id"]
            .as_str()?
            .to_owned();
        nodes.iter().position(|n| n.id == id)
    };
    let mut first = None;
    eventually("a leader", 15, || {
        first = leader(&nodes, None);
        first.is_some()
    });
    let first = first.unwrap();
    // Saved through another node: the leader learns of it through the database.
    let other = (first + 1) % nodes.len();
    let (status, v) = nodes[other].api.post("/api/v1/workflows", workflow);
    assert_eq!(status, 201, "{v}");
    std::thread::sleep(Duration::from_secs(4));
    nodes[first].kill();
    let mut second = None;
    eventually("another leader", 30, || {
        second = leader(&nodes, Some(first)).filter(|l| *l != first);
        second.is_some()
    });
    std::thread::sleep(Duration::from_secs(4));
    let asker = &nodes[second.unwrap()].api;
    let (status, v) = asker.post("/api/v1/workflows/tick/disable", "");
    assert_eq!(status, 200, "{v}");
    // Fires already due when the workflow was disabled may still be recorded.
    std::thread::sleep(Duration::from_secs(2));
    let fired = fires(asker, "tick");
    let doubled: Vec<_> = fired.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "fires with two runs: {doubled:?}");
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        fired.keys().map(|t| t.parse().unwrap()).collect();
    assert!(times.len() >= 8, "too few fires: {fired:?}");
    for pair in times.windows(2) {
        assert_eq!(
            (pair[1] - pair[0]).num_seconds(),
            1,
            "a fire is missing between {} and {}: {fired:?}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn postgresql_stopped_for_10s_pauses_runs_answers_503_and_loses_nothing() {
    // A server of this test's own, which it stops and starts again.
    let server = OwnServer::start();
    let c = Cluster::on(&server.url(), "latency=50ms");
    let node = c.node("p1", "5s");
    let (status, v) = node.api.post(
        "/api/v1/workflows",
        &example("examples/provision-user.yaml"),
    );
    assert_eq!(status, 201, "{v}");
    let mut runs = Vec::new();
    for i in 0..20 {
        let (status, v) = node.api.post(
            "/api/v1/workflows/provision-user/runs",
            &new_hire(1000 + i).to_string(),
        );
        assert_eq!(status, 202, "{v}");
        runs.push(v["run_id"].as_str().unwrap().to_owned());
    }
    std::thread::sleep(Duration::from_millis(300));
    server.halt();
    let cut = Instant::now();
    // Meanwhile: health and the API say 503 with a clear error; nothing is accepted.
    eventually("health says the database is out of reach", 15, || {
        node.api.get("/healthz").0 == 503
    });
    let (status, v) = node.api.get("/healthz");
    assert_eq!(
        (status, v["status"].as_str()),
        (503, Some("database_unavailable")),
        "{v}"
    );
    let (status, v) = node.api.get(&format!("/api/v1/runs/{}", runs[0]));
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"]["code"], "STORE_UNAVAILABLE", "{v}");
    let (status, v) = node.api.post(
        "/api/v1/workflows/provision-user/runs",
        &new_hire(2000).to_string(),
    );
    assert_eq!(status, 503, "{v}");
    std::thread::sleep(Duration::from_secs(10).saturating_sub(cut.elapsed()));
    server.resume();
    // Every run finishes, once the database is back, and each user exists once.
    for id in &runs {
        let run = node.api.finished_within(id, Duration::from_secs(120))["run"].clone();
        assert_eq!(run["status"], "succeeded", "{run:#}\n{}", node.log());
    }
    let listed = users(&c.sandbox);
    for i in 0..20 {
        assert_eq!(listed.get(&format!("cluster.user{}", 1000 + i)), Some(&1));
    }
    assert!(
        !listed.contains_key("cluster.user2000"),
        "the refused run started nothing"
    );
    let (status, _) = node.api.get("/healthz");
    assert_eq!(status, 200);
}

/// A PostgreSQL server of a test's own (`scripts/postgres start`), which the test can stop
/// and start again; stopped and deleted at the end.
struct OwnServer {
    dir: String,
}

impl OwnServer {
    fn script(args: &[&str]) -> String {
        let out = std::process::Command::new("scripts/postgres")
            .args(args)
            .current_dir(common::workspace())
            .output()
            .expect("scripts/postgres runs");
        assert!(
            out.status.success(),
            "scripts/postgres {args:?}: {}",
            stderr(&out)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn start() -> OwnServer {
        OwnServer {
            dir: Self::script(&["start"]),
        }
    }

    fn url(&self) -> String {
        std::fs::read_to_string(format!("{}/url", self.dir))
            .unwrap()
            .trim()
            .to_owned()
    }

    fn halt(&self) {
        Self::script(&["halt", &self.dir]);
    }

    fn resume(&self) {
        Self::script(&["resume", &self.dir]);
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("scripts/postgres")
            .args(["stop", &self.dir])
            .current_dir(common::workspace())
            .output();
    }
}
