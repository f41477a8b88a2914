//! Old contracts keep loading: every released version of `sluice:plugin` is kept in
//! `wit/<version>/` with a small component built against it (`fixture.wasm`, from
//! `tests/plugins/contract-fixture`; see wit/README.md). Each one installs, is inspected and
//! runs — a host call included — with the real binary, on every build.

mod common;

use std::path::PathBuf;

use common::{Sluice, stderr, workspace};
use serde_json::{Value, json};

/// `(version, fixture)` for each folder of `wit/` named as a version.
fn fixtures() -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(workspace().join("wit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let v = p.file_name().unwrap().to_string_lossy().into_owned();
            (v, p.join("fixture.wasm"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_released_contract_version_installs_is_inspected_and_runs() {
    let fixtures = fixtures();
    assert!(
        fixtures.iter().any(|(v, _)| v == "0.1.0"),
        "the first released contract, 0.1.0, is kept: {fixtures:?}"
    );
    for (version, wasm) in fixtures {
        let s = Sluice::new();
        let path = wasm.to_str().unwrap();
        let out = s.run(&["plugin", "install", path]);
        assert!(out.status.success(), "{version}: {}", stderr(&out));

        let inspect = s.json(&["plugin", "inspect", "contract-fixture", "--json"]);
        assert_eq!(
            inspect["manifest"]["kind"], "action",
            "{version}: {inspect}"
        );
        assert_eq!(inspect["manifest"]["name"], "contract-fixture");
        let bytes = std::fs::read(&wasm).unwrap();
        assert_eq!(
            inspect["digest"].as_str(),
            Some(sluice::host::digest(&bytes).as_str())
        );
        let imports: Vec<&str> = inspect["imports"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let log = format!("sluice:plugin/log@{version}");
        assert!(imports.contains(&log.as_str()), "{version}: {imports:?}");
        assert_eq!(inspect["installed"]["bundled"], false);

        let call = s.json(&[
            "plugin",
            "call",
            "contract-fixture",
            "--input-json",
            r#"{"name":"jane"}"#,
            "--json",
        ]);
        assert_eq!(
            call["result"]["output"],
            json!({"greeting": "hello, jane", "attempt": 1}),
            "{version}: {call}"
        );
        let logged = call["logs"].as_array().unwrap();
        assert!(
            logged
                .iter()
                .any(|l| l["message"].as_str() == Some("greeting jane")),
            "{version}: {call}"
        );
        // The plugin's own error comes back as it raised it.
        let out = s.run(&[
            "plugin",
            "call",
            "contract-fixture",
            "--input-json",
            r#"{"name":""}"#,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{version}: {}", stderr(&out));
        let failed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(failed["result"]["error"]["code"], "EMPTY_NAME", "{failed}");
    }
}
