//! `sluice sandbox`: serve a standalone JumpCloud sandbox (its directory in memory, apart
//! from any data dir), `sluice sandbox reset` the embedded one in the data dir, or read its
//! mail outbox with `sluice sandbox mail`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::{App, Failure, usage};
use sluice_jcsim::oauth::ServiceAccount;
use sluice_jcsim::{Faults, Simulator, SnapshotStore, seed};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct SandboxArgs {
    #[command(subcommand)]
    command: Option<SandboxCommand>,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8089", value_name = "ADDR")]
    listen: SocketAddr,
    /// The API key clients must send as `x-api-key` (default: a random one, printed).
    #[arg(long, env = "SLUICE_SANDBOX_API_KEY", value_name = "KEY")]
    api_key: Option<String>,
    /// A seed file (JSON), or `default` for the built-in organisation.
    #[arg(long, default_value = "default", value_name = "FILE|default")]
    seed: String,
    /// Injected faults, e.g. `429=0.1,503=0.05,latency=20ms,retry-after=1`.
    #[arg(long, value_name = "SPEC")]
    faults: Option<String>,
    /// A service account clients can exchange for bearer tokens at `/oauth2/token`:
    /// `CLIENT_ID:SECRET[:ROLE]`, ROLE a predefined role (`Administrator` by default).
    /// Repeat it, also with the same id and another secret (an account holds two).
    #[arg(long = "service-account", value_name = "ID:SECRET[:ROLE]")]
    service_accounts: Vec<String>,
    /// How long issued tokens live (JumpCloud's: about an hour); shorter for tests.
    #[arg(long, default_value = "1h", value_name = "DURATION", value_parser = humantime::parse_duration)]
    token_ttl: std::time::Duration,
}

#[derive(Debug, clap::Subcommand)]
enum SandboxCommand {
    /// Put the embedded sandbox of the data dir back to the default organisation.
    Reset,
    /// The embedded sandbox's mail outbox: what the workflows' email steps sent through
    /// the built-in `sandbox-mail` connector, newest last.
    Mail {
        /// The last N messages (default 20; 0 for all).
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: usize,
        /// Print the messages as JSON, bodies included.
        #[arg(long)]
        json: bool,
    },
}

/// The embedded sandbox kept in the data dir (not served; for reading or resetting it).
fn embedded(
    data_dir: Option<PathBuf>,
) -> Result<(PathBuf, Arc<dyn crate::store::Store>, Simulator), Failure> {
    let (dir, store) = App::open_store(data_dir)?;
    let snapshots: Arc<dyn SnapshotStore> = store.clone();
    let simulator = Simulator::new(
        seed::default_directory(),
        "",
        Faults::default(),
        Some(snapshots),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    Ok((dir, store, simulator))
}

pub(crate) async fn run(data_dir: Option<PathBuf>, args: SandboxArgs) -> Result<(), Failure> {
    if let Some(SandboxCommand::Mail { limit, json }) = args.command {
        let (_, _, simulator) = embedded(data_dir)?;
        let outbox = simulator.outbox();
        let skip = if limit == 0 {
            0
        } else {
            outbox.len().saturating_sub(limit)
        };
        let shown = &outbox[skip..];
        if json {
            return super::print_json(&shown);
        }
        if shown.is_empty() {
            println!("the embedded sandbox's outbox is empty");
            return Ok(());
        }
        let text = |m: &serde_json::Value, k: &str| match &m[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        };
        let mut t = super::table(["id", "received", "to", "subject"]);
        for m in shown {
            t.add_row([
                text(m, "id"),
                text(m, "received_at"),
                text(m, "to"),
                text(m, "subject"),
            ]);
        }
        println!("{t}");
        if skip > 0 {
            println!("{skip} older message(s) not shown (--limit 0 shows all)");
        }
        return Ok(());
    }
    if let Some(SandboxCommand::Reset) = args.command {
        let (dir, store, simulator) = embedded(data_dir)?;
        simulator.reset().map_err(|e| anyhow::anyhow!(e))?;
        store.flush()?;
        eprintln!(
            "the embedded JumpCloud sandbox in {} is back to the default organisation",
            dir.display()
        );
        return Ok(());
    }
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}, not loopback: anyone who can reach it and knows the key can use it",
            args.listen
        );
    }
    let directory = if args.seed == "default" {
        seed::default_directory()
    } else {
        let text = std::fs::read_to_string(&args.seed)
            .map_err(|e| usage(format!("cannot read the seed file {}: {e}", args.seed)))?;
        seed::parse(&text).map_err(usage)?
    };
    let faults = match &args.faults {
        Some(spec) => Faults::parse(spec).map_err(|e| usage(format!("--faults: {e}")))?,
        None => Faults::default(),
    };
    let key = args
        .api_key
        .clone()
        .unwrap_or_else(|| format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)));
    let accounts = args
        .service_accounts
        .iter()
        .map(|spec| ServiceAccount::parse(spec))
        .collect::<Result<Vec<_>, _>>()
        .and_then(ServiceAccount::merge)
        .map_err(|e| usage(format!("--service-account: {e}")))?;
    if args.token_ttl.is_zero() || args.token_ttl > std::time::Duration::from_secs(24 * 3600) {
        return Err(usage("--token-ttl: between 1s and 24h"));
    }
    let ids: Vec<String> = accounts
        .iter()
        .map(|a| format!("{} ({})", a.client_id, a.role))
        .collect();
    let simulator = Arc::new(
        Simulator::new(directory, key.clone(), faults, None)
            .map_err(usage)?
            .with_service_accounts(accounts, args.token_ttl),
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("JumpCloud sandbox listening on http://{addr}");
    println!("organisation id: {}", simulator.org_id());
    if args.api_key.is_none() {
        println!("API key: {key}");
    }
    println!(
        "use it with SLUICE_JUMPCLOUD_URL=http://{addr} SLUICE_JUMPCLOUD_API_KEY=<key>; Ctrl-C stops it"
    );
    if !ids.is_empty() {
        println!(
            "service accounts: {}; tokens at http://{addr}/oauth2/token live {}; use one with \
             SLUICE_JUMPCLOUD_CLIENT_ID=<id> SLUICE_JUMPCLOUD_CLIENT_SECRET=<secret>",
            ids.join(", "),
            humantime::format_duration(args.token_ttl)
        );
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    simulator.serve(listener, shutdown).await?;
    Ok(())
}
