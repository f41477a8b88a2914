//! The require-signatures policy through the API: read and set with an admin token (and
//! refused without one), applied to uploads, audited; the signer in the plugin record.

use super::*;

/// Makes a key with `sluice plugin keygen` in `dir`; returns the key file and public key.
fn keygen(s: &Sluice, dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let file = dir.join("publisher.key");
    let out = s.run(&["plugin", "keygen", "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    (
        file,
        String::from_utf8(out.stdout).unwrap().trim().to_owned(),
    )
}

#[test]
fn the_signature_policy_is_read_and_set_through_the_api_and_applies_to_uploads() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(&s, dir.path());
    let signed = dir.path().join("signed.wasm");
    let out = s.run(&[
        "plugin",
        "sign",
        hostile_wasm().to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--out",
        signed.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    s.json(&["trust", "add", "acme", &public, "--json"]);
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let anon = Http::new(&server.url, None);

    let (status, v) = api.get("/api/v1/trust");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["require_signatures"], false);
    assert_eq!(v["keys"][0]["name"], "acme");
    assert_eq!(v["keys"][0]["public_key"], public.as_str());

    // Only an admin token reads or changes the policy.
    for (status, v) in [
        anon.get("/api/v1/trust"),
        anon.put("/api/v1/trust", r#"{"require_signatures": true}"#),
    ] {
        assert_eq!(status, 401, "{v}");
    }
    for bad in [
        r#"{"require_signatures": "yes"}"#,
        "{}",
        r#"{"other": true}"#,
        "[",
    ] {
        let (status, v) = api.put("/api/v1/trust", bad);
        assert_eq!(status, 400, "{bad}: {v}");
    }
    assert_eq!(api.get("/api/v1/trust").1["require_signatures"], false);

    let (status, v) = api.put("/api/v1/trust", r#"{"require_signatures": true}"#);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["require_signatures"], true);

    // Under the policy an unsigned upload is refused and nothing is stored.
    let unsigned = std::fs::read(hostile_wasm()).unwrap();
    let (status, v) = api.send("POST", "/api/v1/plugins?grant=state", Some(unsigned), &[]);
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["error"]["code"], "SIGNATURE_REQUIRED", "{v}");
    let (_, v) = api.get("/api/v1/plugins");
    assert!(
        v["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["bundled"] == true),
        "nothing was installed"
    );

    // A tampered upload is refused whatever the policy.
    let mut tampered = std::fs::read(&signed).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let (status, v) = api.send("POST", "/api/v1/plugins", Some(tampered), &[]);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "SIGNATURE_INVALID", "{v}");

    // The signed one installs, and its record names the signer.
    let bytes = std::fs::read(&signed).unwrap();
    let (status, v) = api.send(
        "POST",
        "/api/v1/plugins?grant=state&require_signature=true",
        Some(bytes),
        &[],
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["signer"]["status"], "trusted", "{v}");
    assert_eq!(v["signer"]["key"], "acme", "{v}");
    let id = format!("hostile@{}", v["version"].as_str().unwrap());
    let (_, v) = api.get(&format!("/api/v1/plugins/{id}"));
    assert_eq!(v["plugin"]["signer"]["key"], "acme", "{v}");
    let (_, v) = api.get("/api/v1/plugins/transform");
    assert_eq!(v["plugin"]["signer"]["status"], "bundled", "{v}");

    let (_, v) = api.get("/api/v1/audit?limit=100");
    let change = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "trust.policy")
        .unwrap_or_else(|| panic!("the policy change is audited: {v}"));
    assert_eq!(change["detail"]["require_signatures"], true, "{change}");

    // Off through the API; the CLI reads what the API set.
    let (status, v) = api.put("/api/v1/trust", r#"{"require_signatures": false}"#);
    assert_eq!(status, 200, "{v}");
    server.stop();
    let v = s.json(&["trust", "require-signatures", "--json"]);
    assert_eq!(v["require_signatures"], false);
    s.json(&["trust", "require-signatures", "on", "--json"]);
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    assert_eq!(api.get("/api/v1/trust").1["require_signatures"], true);
}
