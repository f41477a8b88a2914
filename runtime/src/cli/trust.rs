//! `sluice trust add | list | remove | require-signatures` (the keys trusted to sign
//! plugins, and the install policy), and the signing commands `sluice plugin keygen` and
//! `sluice plugin sign`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{App, Failure, print_json, table, usage};
use crate::host::PluginHostError;
use crate::host::signing::{KeyError, SecretKey};
use crate::host::trust::{self, TrustError};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum TrustCommand {
    /// Trust a public key to sign plugins, under a name (shown as the plugins' signer).
    Add {
        /// 1-64 lowercase letters, digits, `.`, `_` or `-`.
        name: String,
        /// The key as `sluice plugin keygen` prints it: `ed25519:` and base64.
        pubkey: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the trusted keys and whether installs require a signature by one of them.
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a key (plugins it signed stay installed).
    Remove { name: String },
    /// Show, or turn on or off, the standing policy that every install (CLI and API) must
    /// be signed by a trusted key.
    RequireSignatures {
        /// `on` or `off`; without it, print the current setting.
        #[arg(value_parser = ["on", "off"])]
        state: Option<String>,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn trust_error(e: TrustError) -> Failure {
    Failure::coded(e.code(), e)
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: TrustCommand) -> Result<(), Failure> {
    let (_, store) = App::open_store(data_dir)?;
    match cmd {
        TrustCommand::Add { name, pubkey, json } => {
            let key = trust::add(&*store, &name, &pubkey).map_err(trust_error)?;
            if json {
                return print_json(&key);
            }
            println!("Trusted `{}` (key {})", key.name, key.fingerprint);
            Ok(())
        }
        TrustCommand::List { json } => {
            let keys = trust::list(&*store)?;
            let required = trust::requires_signatures(&*store)?;
            if json {
                return print_json(&serde_json::json!({
                    "keys": keys,
                    "require_signatures": required,
                }));
            }
            if keys.is_empty() {
                println!("No trusted keys (add one with `sluice trust add NAME PUBKEY`).");
            } else {
                let mut t = table(["name", "fingerprint", "public key", "added"]);
                for k in &keys {
                    t.add_row(vec![
                        k.name.clone(),
                        k.fingerprint.clone(),
                        k.public_key.clone(),
                        k.added_at.clone(),
                    ]);
                }
                println!("{t}");
            }
            println!("require signatures: {}", on_off(required));
            Ok(())
        }
        TrustCommand::Remove { name } => {
            let key = trust::remove(&*store, &name).map_err(trust_error)?;
            println!(
                "No longer trusted: `{}` (key {})",
                key.name, key.fingerprint
            );
            Ok(())
        }
        TrustCommand::RequireSignatures { state, json } => {
            if let Some(state) = state {
                trust::set_requires_signatures(&*store, state == "on")?;
            }
            let on = trust::requires_signatures(&*store)?;
            if json {
                return print_json(&serde_json::json!({ "require_signatures": on }));
            }
            println!("require signatures: {}", on_off(on));
            if on {
                println!(
                    "every install must be signed by a trusted key (`sluice trust list`); bundled \
                     plugins are part of the binary and always trusted"
                );
            }
            Ok(())
        }
    }
}

fn key_error(e: KeyError) -> Failure {
    Failure::coded(e.code(), e)
}

/// `sluice plugin keygen --out KEYFILE`: a new secret key, written owner-only to a file
/// that must not exist; the public key goes to stdout.
pub(crate) fn keygen(out: &Path) -> Result<(), Failure> {
    let key = SecretKey::generate().map_err(key_error)?;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut file = o.open(out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => usage(format!(
            "{} exists; keygen never overwrites a key file (plugins signed with that key would \
             lose their signer): give another --out, or move the file away first",
            out.display()
        )),
        _ => usage(format!("cannot create {}: {e}", out.display())),
    })?;
    let written = file
        .write_all(&key.to_file_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(out);
        return Err(Failure::from(anyhow::anyhow!(
            "cannot write {}: {e}",
            out.display()
        )));
    }
    eprintln!(
        "secret key written to {} (owner-only; anyone who has it can sign as you). Key {}; \
         its public key, for `sluice trust add NAME PUBKEY`:",
        out.display(),
        key.public().fingerprint()
    );
    println!("{}", key.public().to_text());
    Ok(())
}

/// `sluice plugin sign FILE --key KEYFILE [--out SIGNED]`: embeds a signature (in place
/// without `--out`).
pub(crate) fn sign(file: &Path, keyfile: &Path, out: Option<&Path>) -> Result<(), Failure> {
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| usage(format!("cannot read {}: {e}", p.display())));
    let key = SecretKey::from_file_bytes(&keyfile.display().to_string(), &read(keyfile)?)
        .map_err(key_error)?;
    let bytes = read(file)?;
    let label = file.display().to_string();
    if !bytes.starts_with(b"\0asm") {
        return Err(PluginHostError::NotWasm(label).into());
    }
    if bytes.get(4..8) != Some(&[0x0d, 0x00, 0x01, 0x00][..]) {
        return Err(PluginHostError::CoreModule(label).into());
    }
    let signed = key.sign(&label, &bytes).map_err(key_error)?;
    let target = out.unwrap_or(file);
    // Written beside the target and renamed, so a failure leaves the target as it was.
    let tmp = target.with_extension("wasm.signing");
    std::fs::write(&tmp, &signed)
        .and_then(|()| std::fs::rename(&tmp, target))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            usage(format!("cannot write {}: {e}", target.display()))
        })?;
    println!(
        "Signed {} with key {} (wasmsign2 embedded signature)",
        target.display(),
        key.public().fingerprint()
    );
    println!("sha256 {}", crate::host::digest(&signed));
    Ok(())
}
