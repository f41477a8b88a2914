//! `sluice connector add|list|show|remove`: External App Connectors. The credential is read
//! from an environment variable or standard input (never the command line) and sealed
//! under `SLUICE_SECRET_KEY`; listings never show it.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::Duration;

use super::{App, Failure, print_json, table, usage};
use crate::connector::{self, Auth, ConnectorDef, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS};
use crate::secrets;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum ConnectorCommand {
    /// Define an external application: base URL, credential, default headers, hosts.
    Add(Box<AddArgs>),
    /// The defined connectors.
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One connector's definition (the credential is never shown).
    Show {
        name: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a connector and its stored credential.
    Remove { name: String },
}

#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// Lower-case letters, digits, `-` and `_`; workflows call the connector by this name.
    name: String,
    /// The application's root, e.g. `https://acme.atlassian.net`; step paths are relative
    /// to it.
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// Send the credential as this header (e.g. `X-Api-Key`).
    #[arg(long, value_name = "HEADER", conflicts_with_all = ["bearer_env", "basic_user", "secret_in_path"])]
    auth_header: Option<String>,
    /// Send `Authorization: Bearer <token>`, the token read from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["basic_user", "secret_in_path", "secret_env"])]
    bearer_env: Option<String>,
    /// Send HTTP basic authentication as this user; the password from --secret-env or
    /// standard input.
    #[arg(long, value_name = "USER", conflicts_with = "secret_in_path")]
    basic_user: Option<String>,
    /// Append the credential to the base URL's path (webhook URLs that carry their token,
    /// such as Slack's).
    #[arg(long)]
    secret_in_path: bool,
    /// The environment variable holding the credential; without it, it is read from
    /// standard input.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    /// A header sent with every call, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "K:V")]
    headers: Vec<String>,
    /// Another host requests and redirects may reach (repeatable); the base URL's host is
    /// always allowed.
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_hosts: Vec<String>,
    /// Allow a plain-http base URL on a non-loopback host.
    #[arg(long)]
    allow_http: bool,
    /// Per-request timeout, e.g. `30s` (default) or `500ms`.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Largest response body accepted, in bytes (default 1 MiB).
    #[arg(long, value_name = "BYTES")]
    max_response_bytes: Option<u64>,
    /// Replace an existing connector of this name.
    #[arg(long)]
    replace: bool,
}

fn store_error(e: connector::ConnectorError) -> Failure {
    Failure::coded(e.code(), e)
}

/// The definition the arguments describe (checked), without its secret.
fn definition(a: &AddArgs) -> Result<ConnectorDef, Failure> {
    let auth = if let Some(header) = &a.auth_header {
        Auth::Header {
            header: header.clone(),
        }
    } else if a.bearer_env.is_some() {
        Auth::Bearer
    } else if let Some(user) = &a.basic_user {
        Auth::Basic { user: user.clone() }
    } else if a.secret_in_path {
        Auth::Path
    } else {
        if a.secret_env.is_some() {
            return Err(usage(
                "--secret-env needs --auth-header, --basic-user or --secret-in-path to say how \
                 the credential is sent",
            ));
        }
        Auth::None
    };
    let mut headers = std::collections::BTreeMap::new();
    for h in &a.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| usage(format!("--header `{h}`: write it as `Name: value`")))?;
        headers.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    let timeout_ms = match &a.timeout {
        None => DEFAULT_TIMEOUT_MS,
        Some(t) => humantime::parse_duration(t)
            .map(|d: Duration| d.as_millis() as u64)
            .map_err(|e| usage(format!("--timeout `{t}`: {e}")))?,
    };
    let def = ConnectorDef {
        version: connector::VERSION,
        name: a.name.clone(),
        base_url: a.base_url.clone(),
        auth,
        headers,
        allow_hosts: a.allow_hosts.clone(),
        allow_http: a.allow_http,
        timeout_ms,
        max_response_bytes: a.max_response_bytes.unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    def.validate().map_err(store_error)?;
    Ok(def)
}

/// The credential, from the named environment variable or standard input.
fn read_secret(a: &AddArgs) -> Result<String, Failure> {
    let var = a.bearer_env.as_ref().or(a.secret_env.as_ref());
    let value = match var {
        Some(var) => std::env::var(var).map_err(|_| {
            usage(format!(
                "environment variable {var} is not set; export the credential there"
            ))
        })?,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| usage(format!("reading the credential from standard input: {e}")))?;
            s
        }
    };
    let value = value.trim_end_matches(['\n', '\r']).to_owned();
    if value.is_empty() {
        return Err(usage(match var {
            Some(var) => format!("environment variable {var} is empty"),
            None => "the credential is empty: pipe it on standard input or name an environment \
                     variable with --secret-env"
                .into(),
        }));
    }
    if value.contains(['\r', '\n']) {
        return Err(usage("the credential has a line break in it"));
    }
    Ok(value)
}

fn row(def: &ConnectorDef, stored: bool) -> serde_json::Value {
    serde_json::json!({
        "name": def.name,
        "base_url": def.base_url,
        "auth": def.auth,
        "credential": if !def.auth.needs_secret() { "none" } else if stored { "****" } else { "missing" },
        "headers": def.headers,
        "allowed_hosts": def.hosts(),
        "allow_http": def.allow_http,
        "timeout_ms": def.timeout_ms,
        "max_response_bytes": def.max_response_bytes,
        "created_at": def.created_at,
    })
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: ConnectorCommand) -> Result<(), Failure> {
    let (_, store) = App::open_store(data_dir)?;
    let has_secret = |name: &str| -> Result<bool, Failure> {
        Ok(store
            .secret_get(&connector::secret_name(name))
            .map_err(anyhow::Error::from)?
            .is_some())
    };
    match cmd {
        ConnectorCommand::Add(a) => {
            let def = definition(&a)?;
            if !a.replace
                && store
                    .connector_get(&def.name)
                    .map_err(store_error)?
                    .is_some()
            {
                return Err(store_error(connector::ConnectorError::Exists(def.name)));
            }
            let sealed = if def.auth.needs_secret() {
                let key = super::secret::key()?;
                let value = read_secret(&a)?;
                let name = connector::secret_name(&def.name);
                Some((
                    secrets::seal(&key, &name, value.as_bytes()).map_err(anyhow::Error::from)?,
                    name,
                ))
            } else {
                None
            };
            match sealed {
                Some((bytes, name)) => store
                    .secret_put(&name, &bytes)
                    .map_err(anyhow::Error::from)?,
                None => {
                    store
                        .secret_remove(&connector::secret_name(&def.name))
                        .map_err(anyhow::Error::from)?;
                }
            }
            store.connector_put(&def).map_err(store_error)?;
            eprintln!(
                "connector `{}` {} ({}; credential: {})",
                def.name,
                if a.replace { "saved" } else { "added" },
                def.base_url,
                if def.auth.needs_secret() {
                    "encrypted"
                } else {
                    "none"
                }
            );
            Ok(())
        }
        ConnectorCommand::List { json } => {
            let defs = store.connector_list().map_err(store_error)?;
            let mut rows = Vec::new();
            for d in &defs {
                rows.push(row(d, has_secret(&d.name)?));
            }
            if json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                eprintln!(
                    "no connectors; define one with `sluice connector add NAME --base-url URL`"
                );
                return Ok(());
            }
            let mut t = table(["name", "base URL", "auth", "credential", "hosts"]);
            for (d, r) in defs.iter().zip(&rows) {
                t.add_row([
                    d.name.clone(),
                    d.base_url.clone(),
                    d.auth.describe(),
                    r["credential"].as_str().unwrap_or_default().to_owned(),
                    d.hosts().join(", "),
                ]);
            }
            println!("{t}");
            Ok(())
        }
        ConnectorCommand::Show { name, json } => {
            let def = store
                .connector_get(&name)
                .map_err(store_error)?
                .ok_or_else(|| store_error(connector::ConnectorError::NotFound(name.clone())))?;
            let r = row(&def, has_secret(&name)?);
            if json {
                return print_json(&r);
            }
            println!("name         {}", def.name);
            println!("base URL     {}", def.base_url);
            println!("auth         {}", def.auth.describe());
            println!(
                "credential   {}",
                r["credential"].as_str().unwrap_or_default()
            );
            for (k, v) in &def.headers {
                println!("header       {k}: {v}");
            }
            println!("hosts        {}", def.hosts().join(", "));
            println!("timeout      {} ms", def.timeout_ms);
            println!("max response {} bytes", def.max_response_bytes);
            println!("created      {}", def.created_at);
            Ok(())
        }
        ConnectorCommand::Remove { name } => {
            if !store.connector_remove(&name).map_err(store_error)? {
                return Err(store_error(connector::ConnectorError::NotFound(name)));
            }
            store
                .secret_remove(&connector::secret_name(&name))
                .map_err(anyhow::Error::from)?;
            eprintln!("removed connector `{name}` and its credential");
            Ok(())
        }
    }
}
