//! Packs as a user meets them: a third party's pack (`tests/plugins/sample-pack`, the pack
//! `acme`: two actions and a condition in one component) installed, listed, inspected,
//! called and removed as a unit with the real binary; each of its plugins granted and
//! checked on its own; and a workflow using plugins of two packs (that one and the bundled
//! JumpCloud catalogue).

mod common;

use std::path::PathBuf;

use common::{Sluice, stderr, workspace};
use serde_json::{Value, json};
use sluice_plugin_build::{PluginCrate, build_plugins};

fn sample_pack() -> PathBuf {
    let crates = [PluginCrate::single(
        "sample-pack",
        "tests/plugins/sample-pack",
    )];
    build_plugins(&workspace(), &crates)
        .expect("the sample pack builds")
        .remove(0)
}

/// Installs the sample pack, granting `jumpcloud:users.readonly` (to the plugin declaring it).
fn install_acme(s: &Sluice) -> PathBuf {
    let wasm = sample_pack();
    let out = s.run(&[
        "plugin",
        "install",
        wasm.to_str().unwrap(),
        "--grant",
        "jumpcloud:users.readonly",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    wasm
}

fn ids(s: &Sluice) -> Vec<String> {
    s.json(&["plugin", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["name"].as_str().unwrap(),
                r["version"].as_str().unwrap()
            )
        })
        .collect()
}

fn acme(ids: &[String]) -> Vec<&String> {
    ids.iter().filter(|i| i.starts_with("acme-")).collect()
}

/// The id of the default organisation's `jane.doe`.
fn jane(s: &Sluice) -> String {
    let found = s.json(&[
        "plugin",
        "call",
        "user-find",
        "--input-json",
        r#"{"username":"jane.doe"}"#,
        "--json",
    ]);
    found["result"]["output"]["user"]["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{found}"))
        .to_owned()
}

#[test]
fn a_pack_is_inspected_installed_listed_and_removed_as_a_unit() {
    let s = Sluice::new();
    let wasm = sample_pack();
    let path = wasm.to_str().unwrap();

    // The file: the pack and each plugin's own kind and permissions, before any install.
    let file = s.json(&["plugin", "inspect", path, "--json"]);
    assert_eq!(file["pack"]["name"], "acme", "{file}");
    let kinds: Vec<(&str, &str)> = file["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("acme-user-email", "action"),
            ("acme-user-probe", "action"),
            ("acme-email-in-domain", "condition")
        ]
    );
    assert_eq!(
        file["plugins"][0]["permissions"],
        json!(["jumpcloud:users.readonly"])
    );
    assert_eq!(file["plugins"][1]["permissions"], json!([]));

    // Refusals change nothing: a grant no plugin of the pack declares, a grant to the
    // plugin that does not declare it, a plugin the pack does not hold.
    for (grant, says) in [
        (
            "jumpcloud:users",
            "cannot grant `jumpcloud:users`: pack acme@0.1.0 (3 plugins) does not declare it",
        ),
        (
            "acme-user-probe=jumpcloud:users.readonly",
            "cannot grant `acme-user-probe=jumpcloud:users.readonly`: acme-user-probe@0.1.0 \
             does not declare it (declared: nothing)",
        ),
        ("acme-nope=state", "holds no plugin `acme-nope`"),
    ] {
        let out = s.run(&["plugin", "install", path, "--grant", grant]);
        assert_eq!(out.status.code(), Some(2), "{grant}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{grant}: {}", stderr(&out));
        assert!(acme(&ids(&s)).is_empty(), "{grant}: nothing installed");
    }

    // `PERM` goes to each plugin that declares it, and only to those.
    let installed = s.json(&[
        "plugin",
        "install",
        path,
        "--grant",
        "jumpcloud:users.readonly",
        "--json",
    ]);
    assert_eq!(installed["pack"]["name"], "acme", "{installed}");
    let plugins = installed["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), 3);
    assert_eq!(plugins[0]["grants"], json!(["jumpcloud:users.readonly"]));
    assert_eq!(plugins[1]["grants"], json!([]));
    assert_eq!(plugins[2]["grants"], json!([]));
    let digest = &plugins[0]["digest"];
    assert!(
        plugins.iter().all(|p| &p["digest"] == digest),
        "one component"
    );
    assert_eq!(
        acme(&ids(&s)),
        [
            "acme-email-in-domain@0.1.0",
            "acme-user-email@0.1.0",
            "acme-user-probe@0.1.0"
        ]
    );
    let text = s.run(&["plugin", "list"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("installed, pack acme@0.1.0"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );

    // The pack by name, and one of its plugins by its own name.
    let pack = s.json(&["plugin", "inspect", "acme", "--json"]);
    assert_eq!(pack["pack"]["version"], "0.1.0", "{pack}");
    assert_eq!(pack["installed"].as_array().unwrap().len(), 3);
    let one = s.json(&["plugin", "inspect", "acme-user-email", "--json"]);
    assert_eq!(one["installed"]["pack"]["name"], "acme", "{one}");
    assert_eq!(&one["digest"], digest);

    // Installed again: refused, naming the pack. One of its plugins removed alone: refused.
    let again = s.run(&["plugin", "install", path]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("acme@0.1.0 is already installed"),
        "{}",
        stderr(&again)
    );
    let alone = s.run(&["plugin", "remove", "acme-user-probe@0.1.0"]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(
        stderr(&alone).contains("acme-user-probe@0.1.0 is part of pack acme@0.1.0"),
        "{}",
        stderr(&alone)
    );
    assert_eq!(acme(&ids(&s)).len(), 3, "nothing was removed");

    // The pack as a unit.
    let removed = s.run(&["plugin", "remove", "acme@0.1.0"]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert!(
        String::from_utf8_lossy(&removed.stdout).contains("Removed pack acme@0.1.0 (3 plugins"),
        "{}",
        String::from_utf8_lossy(&removed.stdout)
    );
    assert!(acme(&ids(&s)).is_empty());
}

#[test]
fn a_pack_plugin_is_refused_a_scope_its_sibling_declared_and_was_granted() {
    let s = Sluice::new();
    let wasm = install_acme(&s);
    let id = jane(&s);
    let input = json!({ "user_id": id }).to_string();
    let call = |plugin: &str| {
        let out = s.run(&["plugin", "call", plugin, "--input-json", &input, "--json"]);
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out)))
    };
    let granted = call("acme-user-email");
    assert_eq!(
        granted["result"]["output"]["email"], "jane.doe@acme.example",
        "{granted}"
    );
    // The same call from the sibling in the same component, which did not declare it.
    let refused = call("acme-user-probe");
    assert_eq!(
        refused["result"]["error"]["code"], "PERMISSION_DENIED",
        "{refused}"
    );
    let calls = refused["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{refused}");
    assert_eq!(
        calls[0]["error"], "PERMISSION_DENIED",
        "the call never left the host"
    );

    // A file holding a pack is called by naming one of its plugins.
    let path = wasm.to_str().unwrap();
    let whole = s.run(&["plugin", "call", path, "--input-json", "{}"]);
    assert_eq!(whole.status.code(), Some(2));
    assert!(
        stderr(&whole).contains("is a pack; name one of its plugins"),
        "{}",
        stderr(&whole)
    );
    let member = s.json(&[
        "plugin",
        "call",
        path,
        "--member",
        "acme-email-in-domain",
        "--input-json",
        r#"{"email":"jane.doe@acme.example","domain":"acme.example"}"#,
        "--json",
    ]);
    assert_eq!(member["result"]["output"], true, "{member}");
}

#[test]
fn a_workflow_uses_plugins_from_two_packs() {
    let s = Sluice::new();
    install_acme(&s);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("email-check.yaml");
    std::fs::write(
        &file,
        r#"version: 1
name: email-check
description: Finds a user with the JumpCloud catalogue and checks their email with the acme pack.
trigger:
  type: manual
  input_schema:
    type: object
    required: [username]
    properties:
      username: { type: string }
run_as: Read Only
steps:
  - id: find
    uses: user-find
    with: { username: "${input.username}" }
  - id: email
    uses: acme-user-email
    with: { user_id: "${steps.find.output.user._id}" }
  - id: in_domain
    if:
      uses: acme-email-in-domain
      with: { email: "${steps.email.output.email}", domain: acme.example }
    then:
      - id: inside
        uses: transform
        with: { text: "inside" }
    else:
      - id: outside
        uses: transform
        with: { text: "outside" }
output:
  found: "${steps.find.output.found}"
  email: "${steps.email.output.email}"
  branch: "${steps.inside.output.text}"
"#,
    )
    .unwrap();
    let out = s.run(&[
        "run",
        file.to_str().unwrap(),
        "--input-json",
        r#"{"username":"jane.doe"}"#,
        "--json",
    ]);
    let run: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out)));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"]["email"], "jane.doe@acme.example", "{run}");
    // `user-find` itself answered (the catalogue pack's plugins share one component and one
    // digest; its first plugin, `user-get`, has no `found`).
    assert_eq!(run["output"]["found"], true, "{run}");
    assert_eq!(
        run["output"]["branch"], "inside",
        "the condition of the pack answered true"
    );
}

#[test]
fn a_signed_pack_installs_under_the_signature_policy_and_a_tampered_one_does_not() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("acme.key");
    let out = s.run(&["plugin", "keygen", "--out", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let signed = dir.path().join("acme.signed.wasm");
    let out = s.run(&[
        "plugin",
        "sign",
        sample_pack().to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--out",
        signed.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    s.json(&["trust", "add", "acme-publisher", &public, "--json"]);

    // One changed byte in the signed pack: refused, nothing installed.
    let mut bytes = std::fs::read(&signed).unwrap();
    let at = bytes.len() - 40;
    bytes[at] ^= 0x01;
    let tampered = dir.path().join("acme.tampered.wasm");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = s.run(&[
        "plugin",
        "install",
        tampered.to_str().unwrap(),
        "--require-signature",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(acme(&ids(&s)).is_empty(), "nothing installed");

    // The signed pack: every plugin of it carries the signer.
    let out = s.run(&[
        "plugin",
        "install",
        signed.to_str().unwrap(),
        "--require-signature",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("signer acme-publisher"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let pack = s.json(&["plugin", "inspect", "acme", "--json"]);
    assert_eq!(pack["signer"]["key"], "acme-publisher", "{pack}");
    for record in pack["installed"].as_array().unwrap() {
        assert_eq!(record["signer"]["key"], "acme-publisher", "{record}");
    }
}

#[test]
fn bench_step_measures_a_pack_plugin_side_by_side_with_another() {
    let s = Sluice::new();
    let wasm = sample_pack();
    let out = s.run(&["plugin", "install", wasm.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let input = r#"{"email":"jane.doe@acme.example","domain":"acme.example"}"#;
    let failed = s.run(&[
        "bench",
        "step",
        "--plugin",
        "acme-email-in-domain",
        "--against",
        "compare",
        "--input-json",
        input,
        "--iterations",
        "20",
    ]);
    // `compare` refuses this input: the benchmark says the call failed, it measures nothing.
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("the benchmarked call failed"),
        "{}",
        stderr(&failed)
    );
    let report = s.json(&[
        "bench",
        "step",
        "--plugin",
        "acme-email-in-domain",
        "--against",
        "acme-email-in-domain",
        "--input-json",
        input,
        "--iterations",
        "20",
        "--json",
    ]);
    let rows = report["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row["component"], "pack acme@0.1.0", "{row}");
        assert_eq!(row["fresh"]["iterations"], 20, "{row}");
        assert!(row["fresh"]["median_us"].as_f64().unwrap() > 0.0, "{row}");
    }
    assert!(report["ratio"].as_f64().unwrap() > 0.0, "{report}");
}
