//! `sluice token create|list|revoke`: admin API tokens for `sluice serve`. The token is
//! printed once; only its hash is stored.

use std::path::PathBuf;

use super::{App, Failure, print_json, table};
use crate::service::tokens;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it (once: it cannot be shown again).
    Create {
        #[arg(long)]
        name: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List tokens by name (never the tokens themselves).
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: calls with it get 401 from then on.
    Revoke { name: String },
}

fn token_error(e: tokens::TokenError) -> Failure {
    Failure::coded(e.code(), e)
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: TokenCommand) -> Result<(), Failure> {
    let (_, store) = App::open_store(data_dir)?;
    match cmd {
        TokenCommand::Create { name, json } => {
            let (token, record) = tokens::create(&*store, &name).map_err(token_error)?;
            if json {
                let mut out = record;
                out["token"] = serde_json::json!(token);
                return print_json(&out);
            }
            eprintln!("token `{name}` created; it is shown once, keep it somewhere safe:");
            println!("{token}");
            Ok(())
        }
        TokenCommand::List { json } => {
            let list = tokens::list(&*store)?;
            if json {
                return print_json(&list);
            }
            let mut t = table(["name", "created", "token"]);
            for r in &list {
                t.add_row(
                    ["name", "created_at", "hint"]
                        .map(|k| r[k].as_str().unwrap_or_default().to_owned()),
                );
            }
            println!("{t}");
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(&*store, &name).map_err(token_error)?;
            eprintln!("token `{name}` revoked");
            Ok(())
        }
    }
}
