//! Signatures and trust as a publisher and an administrator use them: `plugin keygen`,
//! `plugin sign`, `trust add | list | remove | require-signatures`, and installs under the
//! require-signature policy (refusals store nothing).

mod common;

use std::path::{Path, PathBuf};

use common::{Sluice, hostile_wasm, stderr};
use serde_json::Value;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Makes a key pair in `dir`; returns the key file and the public key.
fn keygen(s: &Sluice, dir: &Path, name: &str) -> (PathBuf, String) {
    let file = dir.join(name);
    let out = s.run(&["plugin", "keygen", "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = stdout(&out).trim().to_owned();
    assert!(public.starts_with("ed25519:"), "{public}");
    (file, public)
}

/// Signs the hostile test plugin with `key` into `dir/name`.
fn signed_hostile(s: &Sluice, key: &Path, dir: &Path, name: &str) -> PathBuf {
    let out_file = dir.join(name);
    let out = s.run(&[
        "plugin",
        "sign",
        hostile_wasm().to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("wasmsign2"), "{}", stdout(&out));
    out_file
}

fn installed(s: &Sluice) -> Vec<Value> {
    let list = s.json(&["plugin", "list", "--json"]);
    list.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["bundled"] == false)
        .cloned()
        .collect()
}

/// The components kept in the data dir's store.
fn stored_components(s: &Sluice) -> usize {
    let store = sluice::store::open(s.data.path(), None).unwrap();
    store.blob_list().unwrap().len()
}

fn install(s: &Sluice, file: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "plugin",
        "install",
        file.to_str().unwrap(),
        "--grant",
        "state",
    ];
    args.extend_from_slice(extra);
    s.run(&args)
}

#[test]
fn keygen_writes_an_owner_only_key_and_never_overwrites_one() {
    let s = Sluice::new();
    let keys = tempfile::tempdir().unwrap();
    let (file, public) = keygen(&s, keys.path(), "publisher.key");
    let bytes = std::fs::read(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let out = s.run(&["plugin", "keygen", "--out", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "the key is unchanged");
    // A second key is another key.
    let (_, other) = keygen(&s, keys.path(), "other.key");
    assert_ne!(public, other);
}

#[test]
fn a_signed_plugin_installs_under_the_policy_and_inspect_shows_its_signer() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(&s, dir.path(), "acme.key");
    let signed = signed_hostile(&s, &key, dir.path(), "hostile.signed.wasm");

    // Before its key is trusted, the file shows its signer by fingerprint.
    let file = s.json(&["plugin", "inspect", signed.to_str().unwrap(), "--json"]);
    assert_eq!(file["signer"]["status"], "untrusted", "{file}");
    let fingerprint = file["signer"]["fingerprint"].as_str().unwrap().to_owned();

    let added = s.json(&["trust", "add", "acme", &public, "--json"]);
    assert_eq!(added["fingerprint"], fingerprint.as_str());
    let out = install(&s, &signed, &["--require-signature"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("signer acme"), "{}", stdout(&out));

    let v = s.json(&["plugin", "inspect", "hostile", "--json"]);
    assert_eq!(v["signer"]["status"], "trusted", "{v}");
    assert_eq!(v["signer"]["key"], "acme");
    assert_eq!(v["installed"]["signer"], v["signer"]);
    let out = s.run(&["plugin", "inspect", "hostile"]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("signer   acme (trusted key {fingerprint})")),
        "{text}"
    );
    // Bundled plugins are trusted as part of the binary.
    let list = s.json(&["plugin", "list", "--json"]);
    assert_eq!(list[0]["signer"]["status"], "bundled", "{}", list[0]);
    // And the signed component still runs.
    let out = s.run(&[
        "plugin",
        "call",
        "hostile",
        "--input-json",
        r#"{"mode":"echo","arg":7}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "7");
}

#[test]
fn the_policy_refuses_unsigned_and_untrusted_components_and_stores_nothing() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let (trusted_key, public) = keygen(&s, dir.path(), "acme.key");
    let (stranger, _) = keygen(&s, dir.path(), "stranger.key");
    let by_stranger = signed_hostile(&s, &stranger, dir.path(), "stranger.wasm");
    s.json(&["trust", "add", "acme", &public, "--json"]);

    // The flag alone refuses an unsigned component.
    let out = install(&s, &hostile_wasm(), &["--require-signature"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not signed"), "{}", stderr(&out));

    // The standing setting, through the CLI.
    let v = s.json(&["trust", "require-signatures", "on", "--json"]);
    assert_eq!(v["require_signatures"], true);
    let v = s.json(&["trust", "list", "--json"]);
    assert_eq!(v["require_signatures"], true);
    assert_eq!(v["keys"][0]["name"], "acme");

    let out = install(&s, &hostile_wasm(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not signed"), "{}", stderr(&out));
    let out = install(&s, &by_stranger, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("which is not trusted"),
        "{}",
        stderr(&out)
    );
    assert!(installed(&s).is_empty(), "nothing was installed");
    assert_eq!(stored_components(&s), 0, "no component file was kept");

    // Bundled plugins are never refused.
    let out = s.run(&["plugin", "call", "transform", "--input-json", "{}"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Off again: the unsigned component installs as before, shown as unsigned.
    let v = s.json(&["trust", "require-signatures", "off", "--json"]);
    assert_eq!(v["require_signatures"], false);
    let out = install(&s, &hostile_wasm(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = s.json(&["plugin", "inspect", "hostile", "--json"]);
    assert_eq!(v["signer"]["status"], "unsigned", "{v}");
    // A component signed by a key not trusted installs without the policy, named by its
    // fingerprint.
    let out = install(&s, &by_stranger, &["--replace"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = s.json(&["plugin", "inspect", "hostile", "--json"]);
    assert_eq!(v["signer"]["status"], "untrusted", "{v}");
    assert!(
        v["signer"]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    drop(trusted_key);
}

#[test]
fn a_byte_changed_after_signing_is_refused_even_without_the_policy() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(&s, dir.path(), "acme.key");
    let signed = signed_hostile(&s, &key, dir.path(), "signed.wasm");
    s.json(&["trust", "add", "acme", &public, "--json"]);
    let mut bytes = std::fs::read(&signed).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered = dir.path().join("tampered.wasm");
    std::fs::write(&tampered, &bytes).unwrap();

    for extra in [&[][..], &["--require-signature"][..]] {
        let out = install(&s, &tampered, extra);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("signature does not verify"),
            "{}",
            stderr(&out)
        );
    }
    assert!(installed(&s).is_empty(), "nothing was installed");
    assert_eq!(stored_components(&s), 0);
    // Signing in place replaces FILE with the signed component.
    let copy = dir.path().join("copy.wasm");
    std::fs::copy(hostile_wasm(), &copy).unwrap();
    let out = s.run(&[
        "plugin",
        "sign",
        copy.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&signed).unwrap()
    );
}

#[test]
fn trust_commands_refuse_bad_keys_duplicate_names_and_unknown_names() {
    let s = Sluice::new();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(&s, dir.path(), "a.key");
    let (_, other) = keygen(&s, dir.path(), "b.key");

    let out = s.run(&["trust", "add", "acme", "ed25519:bm90IGEga2V5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a public key"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["trust", "add", "Not A Name", &public]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not valid"), "{}", stderr(&out));

    s.json(&["trust", "add", "acme", &public, "--json"]);
    let out = s.run(&["trust", "add", "acme", &other]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a trusted key named `acme` exists"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["trust", "add", "again", &public]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("already trusted, as `acme`"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["trust", "remove", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no trusted key is named `nobody`"),
        "{}",
        stderr(&out)
    );
    let v = s.json(&["trust", "list", "--json"]);
    assert_eq!(v["keys"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["require_signatures"], false);

    let out = s.run(&["trust", "remove", "acme"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = s.json(&["trust", "list", "--json"]);
    assert!(v["keys"].as_array().unwrap().is_empty(), "{v}");

    // A file that is not a key, and a file that is not WebAssembly, are refused by sign.
    let not_key = dir.path().join("not.key");
    std::fs::write(&not_key, "hello").unwrap();
    let wasm = hostile_wasm();
    let out = s.run(&[
        "plugin",
        "sign",
        wasm.to_str().unwrap(),
        "--key",
        not_key.to_str().unwrap(),
        "--out",
        dir.path().join("x.wasm").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not an Ed25519 secret key"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&[
        "plugin",
        "sign",
        not_key.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a WebAssembly file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&not_key).unwrap(), b"hello");
}
