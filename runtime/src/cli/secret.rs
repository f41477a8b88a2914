//! `sluice secret keygen|set|list|remove`, and reading the JumpCloud credentials from the
//! environment or, failing that, from the sealed secrets.

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;

use super::{App, Failure, usage};
use crate::jumpcloud::embedded::JumpCloudTarget;
use crate::secrets::{self, KEY_VAR, SecretKey};
use crate::store::Store;

/// The secret holding the JumpCloud API key.
pub(crate) const JUMPCLOUD_API_KEY: &str = "jumpcloud.api_key";
/// The secret holding the JumpCloud organisation id.
pub(crate) const JUMPCLOUD_ORG_ID: &str = "jumpcloud.org_id";
/// The stored service-account credentials: (environment variable, secret name).
const JUMPCLOUD_SERVICE_ACCOUNT: [(&str, &str); 3] = [
    ("SLUICE_JUMPCLOUD_CLIENT_ID", "jumpcloud.client_id"),
    ("SLUICE_JUMPCLOUD_CLIENT_SECRET", "jumpcloud.client_secret"),
    (
        "SLUICE_JUMPCLOUD_CLIENT_SECRET_2",
        "jumpcloud.client_secret_2",
    ),
];

#[derive(Debug, clap::Subcommand)]
pub(crate) enum SecretCommand {
    /// Print a new random key to export as SLUICE_SECRET_KEY (keep it outside the data dir).
    Keygen,
    /// Store a secret read from standard input (never from the command line), e.g.
    /// `jumpcloud.api_key` or `jumpcloud.org_id`, or a service account's
    /// `jumpcloud.client_id`, `jumpcloud.client_secret` and `jumpcloud.client_secret_2`.
    Set { name: String },
    /// The names of the stored secrets (values are never shown).
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a stored secret.
    Remove { name: String },
}

/// The administrator's key from the environment, or a usage error saying how to make one.
pub(crate) fn key() -> Result<SecretKey, Failure> {
    SecretKey::from_env(|k| std::env::var(k).ok())
        .map_err(|e| usage(e.to_string()))?
        .ok_or_else(|| usage(secrets::SecretError::NoKey.to_string()))
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: SecretCommand) -> Result<(), Failure> {
    if let SecretCommand::Keygen = cmd {
        println!(
            "{}",
            SecretKey::generate_hex().map_err(anyhow::Error::from)?
        );
        eprintln!("export it as {KEY_VAR}; whoever holds it can read the stored secrets");
        return Ok(());
    }
    let (_, store) = App::open_store(data_dir)?;
    match cmd {
        SecretCommand::Keygen => Ok(()),
        SecretCommand::Set { name } => {
            secrets::check_name(&name).map_err(|e| usage(e.to_string()))?;
            let key = key()?;
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .map_err(|e| usage(format!("reading the secret from standard input: {e}")))?;
            let value = value.trim_end_matches(['\n', '\r']);
            if value.is_empty() {
                return Err(usage(
                    "the secret is empty: pipe its value on standard input",
                ));
            }
            let sealed =
                secrets::seal(&key, &name, value.as_bytes()).map_err(anyhow::Error::from)?;
            store
                .secret_put(&name, &sealed)
                .map_err(anyhow::Error::from)?;
            eprintln!("stored secret `{name}` (encrypted)");
            Ok(())
        }
        SecretCommand::List { json } => {
            let names = store.secret_names().map_err(anyhow::Error::from)?;
            if json {
                return super::print_json(&serde_json::json!({ "secrets": names }));
            }
            for n in names {
                println!("{n}");
            }
            Ok(())
        }
        SecretCommand::Remove { name } => {
            if store.secret_remove(&name).map_err(anyhow::Error::from)? {
                eprintln!("removed secret `{name}`");
                Ok(())
            } else {
                Err(usage(format!("no secret named `{name}`")))
            }
        }
    }
}

/// The JumpCloud this runtime talks to: `SLUICE_JUMPCLOUD_*` from the environment, with the
/// API key or the service account's client id and secrets, and the organisation id,
/// falling back to the sealed secrets; else the embedded sandbox.
pub(crate) fn jumpcloud_target(store: &Arc<dyn Store>) -> Result<JumpCloudTarget, Failure> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let stored = |var: &str, name: &str| -> Result<Option<String>, Failure> {
        if let Some(v) = env(var) {
            return Ok(Some(v));
        }
        if store
            .secret_get(name)
            .map_err(anyhow::Error::from)?
            .is_none()
        {
            return Ok(None);
        }
        let key = SecretKey::from_env(env).map_err(|e| usage(e.to_string()))?;
        secrets::read(store.as_ref(), key.as_ref(), name).map_err(|e| {
            usage(format!(
                "the JumpCloud credential `{name}` is stored encrypted and cannot be read: {e}"
            ))
        })
    };
    // The identity (an API key or a service account) comes whole from the environment or
    // whole from the store, never an environment client id with a stored secret.
    let from_env = std::iter::once("SLUICE_JUMPCLOUD_API_KEY")
        .chain(JUMPCLOUD_SERVICE_ACCOUNT.map(|(var, _)| var))
        .any(|var| env(var).is_some());
    let identity = |var: &str, name: &str| {
        if from_env {
            Ok(env(var))
        } else {
            stored(var, name)
        }
    };
    let api_key = identity("SLUICE_JUMPCLOUD_API_KEY", JUMPCLOUD_API_KEY)?;
    let org_id = stored("SLUICE_JUMPCLOUD_ORG_ID", JUMPCLOUD_ORG_ID)?;
    let mut service_account = Vec::with_capacity(JUMPCLOUD_SERVICE_ACCOUNT.len());
    for (var, name) in JUMPCLOUD_SERVICE_ACCOUNT {
        service_account.push((var, identity(var, name)?));
    }
    crate::jumpcloud::embedded::connect(
        |k| match k {
            "SLUICE_JUMPCLOUD_API_KEY" => api_key.clone(),
            "SLUICE_JUMPCLOUD_ORG_ID" => org_id.clone(),
            other => match service_account.iter().find(|(var, _)| *var == other) {
                Some((_, value)) => value.clone(),
                None => env(other),
            },
        },
        store.clone(),
        super::database().is_some(),
    )
    .map_err(usage)
}
