//! Every record in and out of the PostgreSQL tables ([`Export`], [`Import`]), for `sluice
//! store copy`. An import is one transaction: the tables are locked against other
//! writers, checked to be empty, filled, counted, and only then committed.

use std::collections::HashMap;

use deadpool_postgres::{Pool, Transaction};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::tables::{bytes_at, seconds};
use super::{Param, PgStore, params, pg_error, pool_error};
use crate::store::StoreError;
use crate::store::copy::{
    CopyError, CopyReport, Counts, Export, Import, Record, Sink, Source, Table,
};

/// Records sent to the database at once (pipelined on one connection), and at most about
/// this many bytes of them.
const CHUNK_RECORDS: usize = 512;
const CHUNK_BYTES: usize = 8 << 20;

/// How long an import waits for other writers' locks on the tables before giving up.
const LOCK_TIMEOUT: &str = "30s";

/// Each table's rows, in the order [`Export::export`] promises.
fn select(table: Table) -> &'static str {
    match table {
        Table::Runs => "SELECT id, record FROM runs ORDER BY id",
        Table::Journal => "SELECT run, record FROM journal ORDER BY run, seq",
        Table::RunInputs => "SELECT run, input FROM run_inputs ORDER BY run",
        Table::Workflows => "SELECT name, record FROM workflows ORDER BY name",
        Table::WorkflowVersions => {
            "SELECT name, version, record FROM workflow_versions ORDER BY name, version"
        }
        Table::Tokens => "SELECT hash, record FROM tokens ORDER BY hash",
        Table::Audit => "SELECT entry FROM audit ORDER BY seq",
        Table::Triggers => "SELECT key, value FROM triggers ORDER BY key",
        Table::Fires => "SELECT fire, run FROM fires ORDER BY fire",
        Table::FireExpiry => "SELECT at, fire FROM fire_expiry ORDER BY at, fire",
        Table::Plugins => "SELECT id, record FROM plugins ORDER BY id",
        Table::Blobs => "SELECT digest, bytes FROM blobs ORDER BY digest",
        Table::TrustedKeys => "SELECT name, record FROM trusted_keys ORDER BY name",
        Table::Settings => "SELECT key, value FROM settings ORDER BY key",
        Table::Secrets => "SELECT name, sealed FROM secrets ORDER BY name",
        Table::Connectors => "SELECT name, def FROM connectors ORDER BY name",
        Table::Roles => "SELECT name, record FROM roles ORDER BY name",
        Table::State => {
            "SELECT workflow, owner, key, value FROM state ORDER BY workflow, owner, key"
        }
        Table::StateUsage => "SELECT owner, keys, bytes FROM state_usage ORDER BY owner",
        Table::SimulatorSnapshot => "SELECT snapshot FROM simulator_snapshot",
        Table::SimulatorLog => "SELECT change FROM simulator_log ORDER BY seq",
    }
}

/// The statement adding one row of a table. The journal, the audit log and the
/// simulator's log are given their sequence numbers, so their order is the order sent
/// whatever order the pipelined statements run in.
fn insert(table: Table) -> &'static str {
    match table {
        Table::Runs => "INSERT INTO runs (id, record) VALUES ($1, $2)",
        Table::Journal => "INSERT INTO journal (seq, run, record) VALUES ($1, $2, $3)",
        Table::RunInputs => "INSERT INTO run_inputs (run, input) VALUES ($1, $2)",
        Table::Workflows => "INSERT INTO workflows (name, record) VALUES ($1, $2)",
        Table::WorkflowVersions => {
            "INSERT INTO workflow_versions (name, version, record) VALUES ($1, $2, $3)"
        }
        Table::Tokens => "INSERT INTO tokens (hash, record) VALUES ($1, $2)",
        Table::Audit => "INSERT INTO audit (seq, entry) VALUES ($1, $2)",
        Table::Triggers => "INSERT INTO triggers (key, value) VALUES ($1, $2)",
        Table::Fires => "INSERT INTO fires (fire, run) VALUES ($1, $2)",
        Table::FireExpiry => "INSERT INTO fire_expiry (at, fire) VALUES ($1, $2)",
        Table::Plugins => "INSERT INTO plugins (id, record) VALUES ($1, $2)",
        Table::Blobs => "INSERT INTO blobs (digest, bytes) VALUES ($1, $2)",
        Table::TrustedKeys => "INSERT INTO trusted_keys (name, record) VALUES ($1, $2)",
        Table::Settings => "INSERT INTO settings (key, value) VALUES ($1, $2)",
        Table::Secrets => "INSERT INTO secrets (name, sealed) VALUES ($1, $2)",
        Table::Connectors => "INSERT INTO connectors (name, def) VALUES ($1, $2)",
        Table::Roles => "INSERT INTO roles (name, record) VALUES ($1, $2)",
        Table::State => "INSERT INTO state (workflow, owner, key, value) VALUES ($1, $2, $3, $4)",
        Table::StateUsage => "INSERT INTO state_usage (owner, keys, bytes) VALUES ($1, $2, $3)",
        Table::SimulatorSnapshot => "INSERT INTO simulator_snapshot (id, snapshot) VALUES (1, $1)",
        Table::SimulatorLog => "INSERT INTO simulator_log (seq, change) VALUES ($1, $2)",
    }
}

/// After an import: the sequences continue after the numbers given.
const SEQUENCES: &str = "\
    SELECT setval(pg_get_serial_sequence('journal', 'seq'), max(seq)) FROM journal \
        HAVING count(*) > 0; \
    SELECT setval(pg_get_serial_sequence('audit', 'seq'), max(seq)) FROM audit \
        HAVING count(*) > 0; \
    SELECT setval(pg_get_serial_sequence('simulator_log', 'seq'), max(seq)) \
        FROM simulator_log HAVING count(*) > 0";

/// One query counting every table.
fn count_query() -> String {
    let columns: Vec<String> = Table::ALL
        .iter()
        .map(|t| format!("(SELECT count(*) FROM {})", t.name()))
        .collect();
    format!("SELECT {}", columns.join(", "))
}

fn counts_of(row: &Row) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    for (i, table) in Table::ALL.iter().enumerate() {
        let n: i64 = row.try_get(i).map_err(pg_error)?;
        counts.set(*table, n.max(0) as u64);
    }
    Ok(counts)
}

fn text(row: &Row, i: usize) -> Result<String, StoreError> {
    row.try_get(i).map_err(pg_error)
}

fn number(row: &Row, i: usize) -> Result<u64, StoreError> {
    let n: i64 = row.try_get(i).map_err(pg_error)?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt {
        key: format!("row column {i}"),
        reason: format!("a negative number ({n})"),
    })
}

/// A row of [`select`]`(table)` as its record.
fn record(table: Table, row: &Row) -> Result<Record, StoreError> {
    let b = |i| bytes_at(row, i);
    Ok(match table {
        Table::Runs => Record::Run {
            id: text(row, 0)?,
            record: b(1)?,
        },
        Table::Journal => Record::Journal {
            run: text(row, 0)?,
            record: b(1)?,
        },
        Table::RunInputs => Record::RunInput {
            run: text(row, 0)?,
            input: b(1)?,
        },
        Table::Workflows => Record::Workflow {
            name: text(row, 0)?,
            record: b(1)?,
        },
        Table::WorkflowVersions => Record::Version {
            name: text(row, 0)?,
            version: u32::try_from(number(row, 1)?).map_err(|_| StoreError::Corrupt {
                key: text(row, 0).unwrap_or_default(),
                reason: "a version number out of range".into(),
            })?,
            record: b(2)?,
        },
        Table::Tokens => Record::Token {
            hash: text(row, 0)?,
            record: b(1)?,
        },
        Table::Audit => Record::Audit { entry: b(0)? },
        Table::Triggers => Record::Trigger {
            key: text(row, 0)?,
            value: b(1)?,
        },
        Table::Fires => Record::Fire {
            fire: text(row, 0)?,
            run: text(row, 1)?,
        },
        Table::FireExpiry => Record::FireExpiry {
            at: number(row, 0)?,
            fire: text(row, 1)?,
        },
        Table::Plugins => Record::Plugin {
            id: text(row, 0)?,
            record: b(1)?,
        },
        Table::Blobs => Record::Blob {
            digest: text(row, 0)?,
            bytes: b(1)?,
        },
        Table::TrustedKeys => Record::TrustedKey {
            name: text(row, 0)?,
            record: b(1)?,
        },
        Table::Settings => Record::Setting {
            key: text(row, 0)?,
            value: b(1)?,
        },
        Table::Secrets => Record::Secret {
            name: text(row, 0)?,
            sealed: b(1)?,
        },
        Table::Connectors => Record::Connector {
            name: text(row, 0)?,
            def: b(1)?,
        },
        Table::Roles => Record::Role {
            name: text(row, 0)?,
            record: b(1)?,
        },
        Table::State => Record::State {
            workflow: b(0)?,
            owner: b(1)?,
            key: b(2)?,
            value: b(3)?,
        },
        Table::StateUsage => Record::StateUsage {
            owner: b(0)?,
            keys: number(row, 1)?,
            bytes: number(row, 2)?,
        },
        Table::SimulatorSnapshot => Record::SimulatorSnapshot { snapshot: b(0)? },
        Table::SimulatorLog => Record::SimulatorChange { change: b(0)? },
    })
}

/// The parameters of [`insert`]`(record.table())`; `seq` numbers the logs' rows.
fn values(record: Record, seq: i64) -> Vec<Param> {
    match record {
        Record::Run { id: k, record: v }
        | Record::RunInput { run: k, input: v }
        | Record::Workflow { name: k, record: v }
        | Record::Token { hash: k, record: v }
        | Record::Trigger { key: k, value: v }
        | Record::Plugin { id: k, record: v }
        | Record::Blob {
            digest: k,
            bytes: v,
        }
        | Record::TrustedKey { name: k, record: v }
        | Record::Setting { key: k, value: v }
        | Record::Secret { name: k, sealed: v }
        | Record::Connector { name: k, def: v }
        | Record::Role { name: k, record: v } => params![k, v],
        Record::Journal { run, record } => params![seq, run, record],
        Record::Version {
            name,
            version,
            record,
        } => params![name, i64::from(version), record],
        Record::Audit { entry } => params![seq, entry],
        Record::Fire { fire, run } => params![fire, run],
        Record::FireExpiry { at, fire } => params![seconds(at), fire],
        Record::State {
            workflow,
            owner,
            key,
            value,
        } => params![workflow, owner, key, value],
        Record::StateUsage { owner, keys, bytes } => {
            params![owner, seconds(keys), seconds(bytes)]
        }
        Record::SimulatorSnapshot { snapshot } => params![snapshot],
        Record::SimulatorChange { change } => params![seq, change],
    }
}

impl Export for PgStore {
    fn counts(&self) -> Result<Counts, StoreError> {
        self.block(|pool| async move {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_one(&count_query(), &[])
                .await
                .map_err(pg_error)?;
            counts_of(&row)
        })
    }

    /// Reads a table at a time.
    fn export(&self, sink: &mut Sink<'_>) -> Result<(), StoreError> {
        for table in Table::ALL {
            for row in self.rows(select(table), params![])? {
                sink(record(table, &row)?)?;
            }
        }
        Ok(())
    }
}

/// What an import's loading task is sent.
enum Load {
    Records(Vec<Record>),
    /// Every record was sent: these many of each table.
    End(Counts),
}

impl Import for PgStore {
    fn import(&self, source: &mut Source<'_>) -> Result<Counts, CopyError> {
        let Some(rt) = &self.rt.0 else {
            return Err(StoreError::Backend("the PostgreSQL store is closed".into()).into());
        };
        // The records are read on this thread and written by a task on the store's
        // runtime, a few chunks in flight at most.
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let task = rt.spawn(load(self.pool.clone(), rx));
        let mut stopped = false;
        let send = |load: Load, stopped: &mut bool| -> Result<(), StoreError> {
            futures::executor::block_on(tx.send(load)).map_err(|_| {
                *stopped = true;
                StoreError::Backend("the destination stopped taking records".into())
            })
        };
        let (mut chunk, mut bytes, mut sent) = (Vec::new(), 0, Counts::default());
        let fed = source(&mut |record: Record| {
            sent.add(record.table(), 1);
            bytes += record.size();
            chunk.push(record);
            if chunk.len() >= CHUNK_RECORDS || bytes >= CHUNK_BYTES {
                bytes = 0;
                send(Load::Records(std::mem::take(&mut chunk)), &mut stopped)?;
            }
            Ok(())
        });
        let fed = fed.and_then(|()| {
            send(Load::Records(chunk), &mut stopped)?;
            Ok(send(Load::End(sent), &mut stopped)?)
        });
        // Without `End` the task rolls back.
        drop(tx);
        let loaded = futures::executor::block_on(task)
            .map_err(|e| StoreError::Backend(format!("a PostgreSQL store task failed: {e}")))?;
        match fed {
            Ok(()) => loaded,
            // The destination failed first: its error is the one that matters.
            Err(_) if stopped && loaded.is_err() => loaded,
            Err(e) => Err(e),
        }
    }
}

/// The import's transaction: locks, checks the tables are empty, writes what comes, and
/// commits once `End` comes and the counts agree with it.
async fn load(pool: Pool, mut rx: tokio::sync::mpsc::Receiver<Load>) -> Result<Counts, CopyError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    let tables: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    // Other writers (a node started on the database) wait until the copy is committed.
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; LOCK TABLE {} IN EXCLUSIVE MODE",
        tables.join(", ")
    ))
    .await
    .map_err(pg_error)?;
    let count = count_query();
    let held = counts_of(&tx.query_one(&count, &[]).await.map_err(pg_error)?)?;
    if held.total() > 0 {
        return Err(CopyError::NotEmpty(held.describe()));
    }
    let mut statements = HashMap::new();
    let mut numbered = Counts::default();
    while let Some(load) = rx.recv().await {
        match load {
            Load::Records(records) => {
                write(&tx, &mut statements, &mut numbered, records).await?;
            }
            Load::End(sent) => {
                tx.batch_execute(SEQUENCES).await.map_err(pg_error)?;
                let written = counts_of(&tx.query_one(&count, &[]).await.map_err(pg_error)?)?;
                if written != sent {
                    return Err(CopyError::Mismatch {
                        report: Box::new(CopyReport {
                            source: sent,
                            destination: written,
                        }),
                        committed: false,
                    });
                }
                tx.commit().await.map_err(pg_error)?;
                return Ok(written);
            }
        }
    }
    Err(StoreError::Backend("the copy ended before all its records came".into()).into())
}

/// Writes `records`, pipelined on the transaction's connection.
async fn write(
    tx: &Transaction<'_>,
    statements: &mut HashMap<Table, tokio_postgres::Statement>,
    numbered: &mut Counts,
    records: Vec<Record>,
) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        let table = record.table();
        if let std::collections::hash_map::Entry::Vacant(slot) = statements.entry(table) {
            slot.insert(tx.prepare(insert(table)).await.map_err(pg_error)?);
        }
        numbered.add(table, 1);
        let seq = i64::try_from(numbered.get(table)).unwrap_or(i64::MAX);
        rows.push((table, values(record, seq)));
    }
    let writes = rows.iter().map(|(table, values)| {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|p| p.as_ref() as _).collect();
        let statement = &statements[table];
        async move { tx.execute(statement, &refs).await }
    });
    futures::future::try_join_all(writes)
        .await
        .map_err(pg_error)?;
    Ok(())
}
