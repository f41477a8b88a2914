//! Pinned plugin versions: a saved workflow runs the component it resolved when saved,
//! after newer versions or a replaced component are installed, until it is saved again;
//! explicit `@version` and `@sha256:` pins; "update available" in the API; removal of a
//! pinned plugin refused unless forced; a file run records what it resolved.
//!
//! The plugin is `tests/plugins/versioned`, which answers its version and a mark: the test
//! makes the other components by rewriting those texts in the component's bytes.

use sluice_plugin_build::{PluginCrate, build_plugins};

use super::*;

/// The versioned test plugin's component with `(from, to)` texts rewritten (same length).
fn variant(rewrites: &[(&str, &str)]) -> Vec<u8> {
    let crates = [PluginCrate::single("versioned", "tests/plugins/versioned")];
    let path = build_plugins(&common::workspace(), &crates)
        .expect("versioned plugin builds")
        .remove(0);
    let mut bytes = std::fs::read(path).unwrap();
    for (from, to) in rewrites {
        assert_eq!(from.len(), to.len());
        let mut found = 0;
        let mut i = 0;
        while let Some(at) = bytes[i..]
            .windows(from.len())
            .position(|w| w == from.as_bytes())
        {
            bytes[i + at..i + at + to.len()].copy_from_slice(to.as_bytes());
            i += at + to.len();
            found += 1;
        }
        assert!(found > 0, "`{from}` is not in the component");
    }
    bytes
}

fn install(api: &Http, wasm: &[u8], replace: bool) -> Value {
    let path = if replace {
        "/api/v1/plugins?replace=true"
    } else {
        "/api/v1/plugins"
    };
    let (status, v) = api.send("POST", path, Some(wasm.to_vec()), &[]);
    assert_eq!(status, 201, "{v}");
    v
}

fn doc(name: &str, uses: &str) -> String {
    format!(
        "version: 1\nname: {name}\ntrigger: {{ type: manual }}\nrun_as: Read Only\nsteps:\n  \
         - id: ask\n    uses: {uses}\n"
    )
}

/// Starts a run of a saved workflow and returns the finished run record.
fn run(api: &Http, name: &str) -> Value {
    let (status, v) = api.post(&format!("/api/v1/workflows/{name}/runs"), "{}");
    assert_eq!(status, 202, "{v}");
    let done = api.finished(v["run_id"].as_str().unwrap());
    assert_eq!(done["run"]["status"], "succeeded", "{done}");
    done["run"].clone()
}

/// What the run's plugin answered: `version/mark`.
fn answer(run: &Value) -> String {
    format!(
        "{}/{}",
        run["output"]["version"].as_str().unwrap_or("?"),
        run["output"]["mark"].as_str().unwrap_or("?")
    )
}

fn pin_state(api: &Http, name: &str) -> Value {
    let (status, v) = api.get(&format!("/api/v1/workflows/{name}"));
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn saved_workflows_run_the_plugin_they_pinned_until_saved_again() {
    let v1 = variant(&[]);
    let v2 = variant(&[("7.7.1", "7.7.2")]);
    let v1b = variant(&[("mark-aaaa", "mark-bbbb")]);
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));

    let d1 = install(&api, &v1, false)["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    for (name, uses) in [("pinned", "versioned"), ("by-version", "versioned@7.7.1")] {
        let (status, v) = api.post("/api/v1/workflows", &doc(name, uses));
        assert_eq!(status, 201, "{v}");
        assert_eq!(v["update_available"], false, "{v}");
    }
    let first = run(&api, "pinned");
    assert_eq!(answer(&first), "7.7.1/mark-aaaa");
    assert_eq!(first["pins"]["versioned"]["digest"], d1.as_str());

    // A newer version: saved workflows keep the old one, and say an update is available.
    let d2 = install(&api, &v2, false)["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let w = pin_state(&api, "pinned");
    assert_eq!(w["update_available"], true, "{w}");
    let pin = &w["pins"][0];
    assert_eq!(
        (&pin["uses"], &pin["version"], &pin["digest"]),
        (&"versioned".into(), &"7.7.1".into(), &d1.as_str().into())
    );
    assert_eq!(
        (&pin["latest"]["version"], &pin["latest"]["digest"]),
        (&"7.7.2".into(), &d2.as_str().into())
    );
    let (_, list) = api.get("/api/v1/workflows");
    let row = |list: &Value, name: &str| {
        list["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["update_available"]
            .clone()
    };
    assert_eq!(row(&list, "pinned"), true);
    let again = run(&api, "pinned");
    assert_eq!(answer(&again), "7.7.1/mark-aaaa");
    assert_eq!(again["pins"]["versioned"]["digest"], d1.as_str());

    // Saved again: the new version, and no update pending.
    let (status, v) = api.put("/api/v1/workflows/pinned", &doc("pinned", "versioned"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["update_available"], false, "{v}");
    assert_eq!(answer(&run(&api, "pinned")), "7.7.2/mark-aaaa");
    let (_, list) = api.get("/api/v1/workflows");
    assert_eq!(row(&list, "pinned"), false);

    // Explicit pins: a version, a digest; unknown ones are refused with the versions there.
    assert_eq!(answer(&run(&api, "by-version")), "7.7.1/mark-aaaa");
    let (status, v) = api.post(
        "/api/v1/workflows",
        &doc("by-digest", &format!("versioned@sha256:{d1}")),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(answer(&run(&api, "by-digest")), "7.7.1/mark-aaaa");
    for (uses, says) in [
        ("versioned@9.9.9", "no version 9.9.9 of `versioned`"),
        (
            &format!("versioned@sha256:{}", "0".repeat(64)) as &str,
            "no component of `versioned` has that sha256",
        ),
        ("versioned@latest", "`latest` is not a version"),
    ] {
        let (status, v) = api.post("/api/v1/workflows", &doc("unknown-pin", uses));
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"]["code"], "WORKFLOW_INVALID", "{v}");
        assert!(v.to_string().contains(says), "{uses}: {v}");
    }

    // 7.7.1 replaced by another component: pinned runs keep the pinned bytes (kept on
    // disk), and the pin says the installed one differs.
    let d1b = install(&api, &v1b, true)["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(d1b, d1);
    assert_eq!(answer(&run(&api, "by-version")), "7.7.1/mark-aaaa");
    let w = pin_state(&api, "by-version");
    assert_eq!(w["update_available"], true, "{w}");
    assert_eq!(w["pins"][0]["latest"]["digest"], d1b.as_str());
    let (status, _) = api.put(
        "/api/v1/workflows/by-version",
        &doc("by-version", "versioned@7.7.1"),
    );
    assert_eq!(status, 200);
    assert_eq!(answer(&run(&api, "by-version")), "7.7.1/mark-bbbb");

    // Removal of a pinned version: refused with the workflows (the API), unless forced.
    let (status, v) = api.delete("/api/v1/plugins/versioned@7.7.1");
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"]["code"], "PLUGIN_PINNED");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("by-digest, by-version"), "{message}");
    server.stop();

    // The CLI: refused (exit 2) while an enabled workflow pins it; a disabled one does not
    // hold it; --force removes it.
    let out = s.run(&["plugin", "remove", "versioned@7.7.2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pinned by the enabled workflow: pinned"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["plugin", "remove", "versioned@7.7.2", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let (status, v) = api.post("/api/v1/workflows/pinned/runs", "{}");
    assert_eq!(status, 202, "{v}");
    let done = api.finished(v["run_id"].as_str().unwrap());
    assert_eq!(done["run"]["status"], "failed", "{done}");
    assert!(done.to_string().contains("no longer installed"), "{done}");
    let w = pin_state(&api, "pinned");
    assert_eq!(w["pins"][0]["available"], false, "{w}");
    for name in ["by-digest", "by-version"] {
        assert_eq!(
            api.post(&format!("/api/v1/workflows/{name}/disable"), "").0,
            200
        );
    }
    let (status, v) = api.delete("/api/v1/plugins/versioned@7.7.1");
    assert_eq!(status, 204, "{v}");
    server.stop();
}

#[test]
fn a_file_run_records_what_it_resolved() {
    let s = Sluice::new();
    let file = s.data.path().join("ask.yaml");
    std::fs::write(&file, doc("ask", "versioned")).unwrap();
    std::fs::write(s.data.path().join("v.wasm"), variant(&[])).unwrap();
    let installed = s.json(&[
        "plugin",
        "install",
        s.data.path().join("v.wasm").to_str().unwrap(),
        "--json",
    ]);
    let done = s.json(&["run", file.to_str().unwrap(), "--json"]);
    assert_eq!(done["output"]["version"], "7.7.1");
    let id = done["run_id"].as_str().unwrap();
    let shown = s.json(&["runs", "show", id, "--json"]);
    let pin = &shown["run"]["pins"]["versioned"];
    assert_eq!(pin["digest"], installed["digest"], "{shown}");
    assert_eq!(
        (&pin["version"], &pin["bundled"]),
        (&"7.7.1".into(), &false.into())
    );
}
