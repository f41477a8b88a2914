//! `sluice store copy --to URL`: everything the data dir's store keeps, copied into an
//! empty PostgreSQL database, with each table counted on both sides after.

use std::path::PathBuf;

use super::{Failure, print_json, table};
use crate::store::StoreError;
use crate::store::copy::{CopyError, CopyReport, Table};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum StoreCommand {
    /// Copy everything the data dir's store keeps (runs and their journals, workflows,
    /// tokens, the audit log, trigger state, plugins and their components, secrets as
    /// sealed, connectors, roles, plugin state, the sandbox) into an empty PostgreSQL
    /// database, in one transaction; then count every table on both sides and print the
    /// counts. Exit 0 only when every count agrees; 2 when the database is not empty or
    /// cannot be reached, or the data dir is in use (stop `sluice serve` first). The data
    /// dir's store is only read (component files an older version kept beside it are
    /// moved into it first, as every command does); `--database` plays no part.
    Copy {
        /// The PostgreSQL database to copy into (`postgres://user:password@host/db`;
        /// `?options=-csearch_path%3DNAME` keeps the tables in schema NAME, made when
        /// missing). It must hold no records.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: StoreCommand) -> Result<(), Failure> {
    match cmd {
        StoreCommand::Copy { to, json } => copy(data_dir, &to, json),
    }
}

fn copy(data_dir: Option<PathBuf>, to: &str, json: bool) -> Result<(), Failure> {
    let data_dir = super::data_dir_path(data_dir).map_err(|e| super::usage(format!("{e:#}")))?;
    if !json {
        eprintln!(
            "copying the store of {} into PostgreSQL…",
            data_dir.display()
        );
    }
    match crate::store::copy::copy_data_dir(&data_dir, to) {
        Ok(report) => {
            if json {
                return print_json(&report_json(&report));
            }
            print_table(&report);
            eprintln!(
                "copied {} records; every table holds as many in the database as in the data dir",
                report.destination.total()
            );
            Ok(())
        }
        Err(e) => {
            if let CopyError::Mismatch { report, .. } = &e {
                if json {
                    print_json(&report_json(report))?;
                } else {
                    print_table(report);
                }
            }
            Err(failure(&data_dir, e))
        }
    }
}

/// Exit 2 when the copy could not start (no store, the data dir in use, the database
/// unreachable or not empty); otherwise the code's own exit.
fn failure(data_dir: &std::path::Path, e: CopyError) -> Failure {
    let exit = match &e {
        CopyError::NoSource(_)
        | CopyError::Source(_)
        | CopyError::Destination(_)
        | CopyError::NotEmpty(_) => 2,
        _ => e.code().exit(),
    };
    let error = match &e {
        CopyError::Source(StoreError::Locked(_)) => match super::serve::running_service(data_dir) {
            Some(serving) => anyhow::anyhow!("{serving}"),
            None => e.into(),
        },
        _ => e.into(),
    };
    Failure { code: exit, error }
}

fn report_json(report: &CopyReport) -> serde_json::Value {
    let tables: Vec<serde_json::Value> = Table::ALL
        .iter()
        .map(|t| {
            serde_json::json!({
                "table": t.name(),
                "data_dir": report.source.get(*t),
                "database": report.destination.get(*t),
            })
        })
        .collect();
    serde_json::json!({
        "matches": report.matches(),
        "records": report.destination.total(),
        "tables": tables,
    })
}

fn print_table(report: &CopyReport) {
    let mut t = table(["table", "data dir", "database", ""]);
    for name in Table::ALL {
        let (a, b) = (report.source.get(name), report.destination.get(name));
        t.add_row([
            name.name().to_owned(),
            a.to_string(),
            b.to_string(),
            if a == b { "" } else { "differs" }.to_owned(),
        ]);
    }
    println!("{t}");
}
