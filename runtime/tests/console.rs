//! What the web console relies on, over HTTP against the real `sluice serve`: the console
//! (or the page saying how to build it) at `/` and at any client-side path with its
//! Content-Security-Policy, the API's 404 kept for unknown API paths, and the builder's
//! `POST /api/v1/validate` (every problem with its step, line and column; nothing saved)
//! and `POST /api/v1/graph`.

mod common;

use std::process::{Child, Stdio};

use common::Sluice;
use serde_json::Value;

/// `sluice serve` on a free loopback port; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(s: &Sluice) -> Server {
        let mut child = s
            .cmd(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sluice serve starts");
        let url = common::serve_url(&mut child);
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

fn send(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Answer {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.body(b.to_owned());
        }
        let resp = req.send().await.expect("request sent");
        Answer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    })
}

fn token(s: &Sluice) -> String {
    let v = s.json(&["token", "create", "--name", "admin", "--json"]);
    v["token"].as_str().unwrap().to_owned()
}

#[test]
fn the_console_is_served_at_every_client_path_with_a_content_security_policy() {
    let s = Sluice::new();
    let server = Server::start(&s);
    let index = send("GET", &format!("{}/", server.url), None, None);
    assert_eq!(index.status, 200);
    assert_eq!(index.header("content-type"), "text/html; charset=utf-8");
    let csp = index.header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self';"),
        "no inline scripts: {csp}"
    );
    let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src"));
    assert_eq!(scripts.map(str::trim), Some("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(index.header("x-content-type-options"), "nosniff");
    // A client-side path loads the same page (a reload of /workflows/x works).
    let deep = send(
        "GET",
        &format!("{}/workflows/offboarding", server.url),
        None,
        None,
    );
    assert_eq!(deep.status, 200);
    assert_eq!(deep.text, index.text);
    assert!(!deep.header("content-security-policy").is_empty());
    // The API keeps its JSON 404, and only GET/HEAD reach the console.
    let api = send("GET", &format!("{}/api/v1/nope", server.url), None, None);
    assert_eq!(api.status, 404);
    assert_eq!(api.json()["error"]["code"], "NOT_FOUND");
    assert_eq!(
        send(
            "POST",
            &format!("{}/workflows", server.url),
            None,
            Some("x")
        )
        .status,
        404
    );
    if index.text.contains("not in this binary") {
        // Built without `console/dist`: the page says how to build the console.
        assert!(index.text.contains("npm run build"), "{}", index.text);
        assert!(!sluice::api::console::embedded());
        return;
    }
    assert!(sluice::api::console::embedded());
    // The built page loads its script from the binary; no inline script.
    let script = index
        .text
        .split("src=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("index.html loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    assert!(!index.text.contains("<script>"), "an inline script");
    let js = send("GET", &format!("{}{script}", server.url), None, None);
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
    assert!(js.header("cache-control").contains("immutable"));
    // A file of another build is missing, not the page.
    let stale = send(
        "GET",
        &format!("{}/assets/old-build.js", server.url),
        None,
        None,
    );
    assert_eq!(stale.status, 404);
}

const BROKEN: &str = "\
# A broken workflow: an unknown plugin, a bad template, a bad cron.
version: 1
name: broken
trigger:
  type: schedule
  cron: every monday
run_as: Read Only
steps:
  - id: first
    uses: transform
  - id: check
    if: { uses: compare, with: { field: 1, operator: eq, value: 1 } }
    then:
      - id: inner
        uses: no-such-plugin
      - id: shape
        uses: transform
        with: { x: \"{{ unclosed\" }
";

#[test]
fn validate_reports_every_problem_at_its_line_and_saves_nothing() {
    let s = Sluice::new();
    let admin = token(&s);
    let server = Server::start(&s);
    let url = format!("{}/api/v1/validate", server.url);
    assert_eq!(send("POST", &url, None, Some(BROKEN)).status, 401);

    let r = send("POST", &url, Some(&admin), Some(BROKEN));
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["valid"], false);
    let problems = v["problems"].as_array().unwrap();
    let find = |needle: &str| {
        problems
            .iter()
            .find(|p| p["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no problem mentions {needle}: {v}"))
    };
    let plugin = find("no-such-plugin");
    assert_eq!(plugin["node"], "steps.1.then.0");
    assert_eq!(plugin["path"], serde_json::json!(["steps", 1, "then", 0]));
    // At its `uses`, the line below the step's id.
    assert_eq!(
        (plugin["line"].as_u64(), plugin["column"].as_u64()),
        (Some(15), Some(9))
    );
    let template = find("bad template");
    assert_eq!(template["node"], "steps.1.then.1");
    assert_eq!(template["line"], 18, "the line of its `with.x`: {template}");
    assert_eq!(template["column"], 17, "{template}");
    let cron = find("every monday");
    assert_eq!(cron["location"], "trigger.cron");
    assert_eq!(
        (cron["line"].as_u64(), cron["column"].as_u64()),
        (Some(6), Some(3))
    );
    for p in problems {
        assert!(p["file"].is_string() && p["location"].is_string(), "{p}");
    }

    // A document that does not parse: one problem at the parse error.
    let r = send(
        "POST",
        &url,
        Some(&admin),
        Some("version: 1\nname: x\nbogus: true\n"),
    );
    let v = r.json();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["problems"][0]["line"], 3, "{v}");
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("bogus")
    );

    // A valid one: the narrowest role, and whether the chosen one is broader.
    let offboarding =
        std::fs::read_to_string(common::workspace().join("examples/templates/offboarding.yaml"))
            .unwrap();
    let v = send("POST", &url, Some(&admin), Some(&offboarding)).json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["problems"], serde_json::json!([]));
    assert_eq!(v["name"], "offboarding");
    assert!(v["narrowest_role"].is_string(), "{v}");
    let broad = offboarding.replace("run_as: Manager", "run_as: Administrator With Billing");
    let v = send("POST", &url, Some(&admin), Some(&broad)).json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["broader_than_needed"], true, "{v}");

    // Nothing was saved, nothing audited.
    let list = send(
        "GET",
        &format!("{}/api/v1/workflows", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(list.json()["workflows"], serde_json::json!([]));
    let audit = send(
        "GET",
        &format!("{}/api/v1/audit", server.url),
        Some(&admin),
        None,
    );
    assert!(!audit.text.contains("workflow.create"), "{}", audit.text);

    // The overview's row: description, run-as role, trigger type, last run.
    let created = send(
        "POST",
        &format!("{}/api/v1/workflows", server.url),
        Some(&admin),
        Some(&offboarding),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let list = send(
        "GET",
        &format!("{}/api/v1/workflows", server.url),
        Some(&admin),
        None,
    )
    .json();
    let row = &list["workflows"][0];
    assert_eq!(row["name"], "offboarding");
    assert_eq!(row["run_as"], "Manager");
    assert_eq!(row["trigger_type"], "manual");
    assert_eq!(row["last_run"], Value::Null);
    assert!(row["description"].as_str().unwrap().contains("leaver"));
}

#[test]
fn graph_derives_nodes_edges_and_groups_from_the_steps() {
    let s = Sluice::new();
    let admin = token(&s);
    let server = Server::start(&s);
    let url = format!("{}/api/v1/graph", server.url);
    let doc = "\
version: 1
name: shapes
trigger: { type: event, event_type: user_create }
run_as: Manager
steps:
  - id: check
    if: { uses: compare, with: { field: 1, operator: eq, value: 1 } }
    then: [{ id: yes, uses: transform }]
    else: [{ id: no, uses: transform }]
  - id: each
    for_each: ${input.users}
    do:
      - id: fan
        parallel:
          - [{ id: a, uses: transform }]
          - [{ id: b, workflow: other }]
  - { id: ticket, connector: jira, method: POST, path: /issue }
";
    assert_eq!(send("POST", &url, None, Some(doc)).status, 401);
    let r = send("POST", &url, Some(&admin), Some(doc));
    assert_eq!(r.status, 200, "{}", r.text);
    let g = r.json();
    let nodes = g["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["id"], "trigger");
    assert_eq!(nodes[0]["detail"], "user_create");
    let kind = |id: &str| {
        nodes
            .iter()
            .find(|n| n["id"] == id)
            .unwrap_or_else(|| panic!("no node {id}: {g}"))["kind"]
            .clone()
    };
    assert_eq!(kind("steps.0"), "condition");
    assert_eq!(kind("steps.0/join"), "join");
    assert_eq!(kind("steps.1"), "for_each");
    assert_eq!(kind("steps.1.do.0"), "parallel");
    assert_eq!(kind("steps.1.do.0.parallel.1.0"), "workflow");
    assert_eq!(kind("steps.2"), "connector");
    let edges: Vec<(String, String, String)> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
                e["label"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (s, t, l) in [
        ("trigger", "steps.0", ""),
        ("steps.0", "steps.0.then.0", "then"),
        ("steps.0", "steps.0.else.0", "else"),
        ("steps.0.then.0", "steps.0/join", ""),
        ("steps.0.else.0", "steps.0/join", ""),
        ("steps.0/join", "steps.1", ""),
        ("steps.1.do.0/join", "steps.2", ""),
    ] {
        assert!(
            edges.contains(&(s.to_owned(), t.to_owned(), l.to_owned())),
            "no edge {s} -> {t} ({l}): {edges:?}"
        );
    }
    let groups: Vec<&str> = g["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["for_each", "parallel"]);

    // A document that does not parse: 400 with the problem's line.
    let r = send("POST", &url, Some(&admin), Some("version: 1\nsteps: [\n"));
    assert_eq!(r.status, 400, "{}", r.text);
    let v = r.json();
    assert_eq!(v["error"]["code"], "WORKFLOW_PARSE_ERROR");
    assert!(v["error"]["details"]["problems"][0]["line"].is_u64(), "{v}");
}
