//! Copying everything one store keeps into another, as `sluice store copy` does to move a
//! data dir's store into PostgreSQL.
//!
//! A backend reads out every record it keeps as a [`Record`] ([`Export`]: the sled store
//! in `sled_copy.rs`, PostgreSQL in `postgres/copy.rs`); a backend that can be a
//! destination loads them ([`Import`]: PostgreSQL), all or nothing, into a store that holds
//! no record yet. [`copy`] streams one into the other and checks the counts twice: inside
//! the destination's transaction (what was read against what was written: a difference
//! rolls everything back) and after it (each table counted on both sides).
//!
//! The records are the stored bytes as they are (JSON documents, sealed secrets,
//! components): nothing is decoded, re-encoded or decrypted on the way.

use std::path::Path;

use super::StoreError;
use crate::code::Code;

/// Every table both backends keep, in the order [`Export::export`] sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Runs,
    Journal,
    RunInputs,
    Workflows,
    WorkflowVersions,
    Tokens,
    Audit,
    Triggers,
    Fires,
    FireExpiry,
    Plugins,
    Blobs,
    TrustedKeys,
    Settings,
    Secrets,
    Connectors,
    Roles,
    State,
    StateUsage,
    SimulatorSnapshot,
    SimulatorLog,
}

/// How many tables there are.
const TABLES: usize = 21;

impl Table {
    pub const ALL: [Table; TABLES] = [
        Table::Runs,
        Table::Journal,
        Table::RunInputs,
        Table::Workflows,
        Table::WorkflowVersions,
        Table::Tokens,
        Table::Audit,
        Table::Triggers,
        Table::Fires,
        Table::FireExpiry,
        Table::Plugins,
        Table::Blobs,
        Table::TrustedKeys,
        Table::Settings,
        Table::Secrets,
        Table::Connectors,
        Table::Roles,
        Table::State,
        Table::StateUsage,
        Table::SimulatorSnapshot,
        Table::SimulatorLog,
    ];

    /// The table's name (PostgreSQL's table of that name holds it).
    pub fn name(self) -> &'static str {
        match self {
            Table::Runs => "runs",
            Table::Journal => "journal",
            Table::RunInputs => "run_inputs",
            Table::Workflows => "workflows",
            Table::WorkflowVersions => "workflow_versions",
            Table::Tokens => "tokens",
            Table::Audit => "audit",
            Table::Triggers => "triggers",
            Table::Fires => "fires",
            Table::FireExpiry => "fire_expiry",
            Table::Plugins => "plugins",
            Table::Blobs => "blobs",
            Table::TrustedKeys => "trusted_keys",
            Table::Settings => "settings",
            Table::Secrets => "secrets",
            Table::Connectors => "connectors",
            Table::Roles => "roles",
            Table::State => "state",
            Table::StateUsage => "state_usage",
            Table::SimulatorSnapshot => "simulator_snapshot",
            Table::SimulatorLog => "simulator_log",
        }
    }
}

/// One stored record, as its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Run {
        id: String,
        record: Vec<u8>,
    },
    /// A step record of a run's journal; a run's records come in write order.
    Journal {
        run: String,
        record: Vec<u8>,
    },
    /// A run's write-only input, kept while it is unfinished.
    RunInput {
        run: String,
        input: Vec<u8>,
    },
    Workflow {
        name: String,
        record: Vec<u8>,
    },
    Version {
        name: String,
        version: u32,
        record: Vec<u8>,
    },
    Token {
        hash: String,
        record: Vec<u8>,
    },
    /// An audit entry; entries come oldest first.
    Audit {
        entry: Vec<u8>,
    },
    Trigger {
        key: String,
        value: Vec<u8>,
    },
    /// A schedule fire or event delivery, and the run it started.
    Fire {
        fire: String,
        run: String,
    },
    /// When a fire key is forgotten (Unix seconds).
    FireExpiry {
        at: u64,
        fire: String,
    },
    Plugin {
        id: String,
        record: Vec<u8>,
    },
    /// An installed component's bytes, by sha256.
    Blob {
        digest: String,
        bytes: Vec<u8>,
    },
    TrustedKey {
        name: String,
        record: Vec<u8>,
    },
    Setting {
        key: String,
        value: Vec<u8>,
    },
    /// A secret as it is stored: sealed (nonce and ciphertext).
    Secret {
        name: String,
        sealed: Vec<u8>,
    },
    Connector {
        name: String,
        def: Vec<u8>,
    },
    Role {
        name: String,
        record: Vec<u8>,
    },
    /// A plugin's state key (bytes throughout, as a plugin may use any string).
    State {
        workflow: Vec<u8>,
        owner: Vec<u8>,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// A state owner's key count and bytes (keys plus values).
    StateUsage {
        owner: Vec<u8>,
        keys: u64,
        bytes: u64,
    },
    /// The JumpCloud simulator's snapshot (at most one).
    SimulatorSnapshot {
        snapshot: Vec<u8>,
    },
    /// A change logged after the simulator's snapshot; changes come in write order.
    SimulatorChange {
        change: Vec<u8>,
    },
}

impl Record {
    pub fn table(&self) -> Table {
        match self {
            Record::Run { .. } => Table::Runs,
            Record::Journal { .. } => Table::Journal,
            Record::RunInput { .. } => Table::RunInputs,
            Record::Workflow { .. } => Table::Workflows,
            Record::Version { .. } => Table::WorkflowVersions,
            Record::Token { .. } => Table::Tokens,
            Record::Audit { .. } => Table::Audit,
            Record::Trigger { .. } => Table::Triggers,
            Record::Fire { .. } => Table::Fires,
            Record::FireExpiry { .. } => Table::FireExpiry,
            Record::Plugin { .. } => Table::Plugins,
            Record::Blob { .. } => Table::Blobs,
            Record::TrustedKey { .. } => Table::TrustedKeys,
            Record::Setting { .. } => Table::Settings,
            Record::Secret { .. } => Table::Secrets,
            Record::Connector { .. } => Table::Connectors,
            Record::Role { .. } => Table::Roles,
            Record::State { .. } => Table::State,
            Record::StateUsage { .. } => Table::StateUsage,
            Record::SimulatorSnapshot { .. } => Table::SimulatorSnapshot,
            Record::SimulatorChange { .. } => Table::SimulatorLog,
        }
    }

    /// About how many bytes the record holds (to bound what is in flight at once).
    pub fn size(&self) -> usize {
        let (a, b): (&[u8], &[u8]) = match self {
            Record::Run { id: k, record: v }
            | Record::Journal { run: k, record: v }
            | Record::RunInput { run: k, input: v }
            | Record::Workflow { name: k, record: v }
            | Record::Version {
                name: k, record: v, ..
            }
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
            | Record::Role { name: k, record: v } => (k.as_bytes(), v),
            Record::Fire { fire, run } => (fire.as_bytes(), run.as_bytes()),
            Record::FireExpiry { fire, .. } => (fire.as_bytes(), &[]),
            Record::State {
                workflow,
                owner,
                key,
                value,
            } => return workflow.len() + owner.len() + key.len() + value.len(),
            Record::StateUsage { owner, .. } => (owner, &[]),
            Record::Audit { entry: v }
            | Record::SimulatorSnapshot { snapshot: v }
            | Record::SimulatorChange { change: v } => (&[], v),
        };
        a.len() + b.len() + 16
    }
}

/// How many records each table holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts([u64; TABLES]);

impl Counts {
    pub fn get(&self, table: Table) -> u64 {
        self.0[table as usize]
    }

    pub fn set(&mut self, table: Table, n: u64) {
        self.0[table as usize] = n;
    }

    pub fn add(&mut self, table: Table, n: u64) {
        self.0[table as usize] += n;
    }

    /// Records across every table.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The tables holding records, with their counts: `runs (3), tokens (1)`.
    pub fn describe(&self) -> String {
        Table::ALL
            .iter()
            .filter(|t| self.get(**t) > 0)
            .map(|t| format!("{} ({})", t.name(), self.get(*t)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where [`Export::export`] sends records; an error stops the export with that error.
pub type Sink<'a> = dyn FnMut(Record) -> Result<(), StoreError> + 'a;

/// What [`Import::import`] loads: called once with a sink, it sends every record to load.
pub type Source<'a> = dyn FnMut(&mut Sink<'_>) -> Result<(), CopyError> + 'a;

/// A store whose every record can be read out.
pub trait Export: Send + Sync {
    /// How many records each table holds, counted by the backend itself.
    fn counts(&self) -> Result<Counts, StoreError>;
    /// Sends every record to `sink`, table after table in [`Table::ALL`]'s order; within
    /// a table by key, a run's journal records, the audit log and the simulator's log in
    /// write order. Stops at the first error, the sink's included.
    fn export(&self, sink: &mut Sink<'_>) -> Result<(), StoreError>;
}

/// A store that records can be loaded into.
pub trait Import: Send + Sync {
    /// Loads what `source` sends into this store, which must hold no record
    /// ([`CopyError::NotEmpty`]), in one transaction: if `source` or a write fails, or
    /// what was written does not count as what was sent ([`CopyError::Mismatch`]),
    /// nothing is kept. Returns each table's count as written.
    fn import(&self, source: &mut Source<'_>) -> Result<Counts, CopyError>;
}

/// Each table's count on both sides of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub source: Counts,
    pub destination: Counts,
}

impl CopyReport {
    /// Whether every table has as many records on both sides.
    pub fn matches(&self) -> bool {
        self.source == self.destination
    }

    /// The tables whose counts differ.
    pub fn differences(&self) -> String {
        Table::ALL
            .iter()
            .filter(|t| self.source.get(**t) != self.destination.get(**t))
            .map(|t| {
                format!(
                    "{} ({} copied from, {} in the destination)",
                    t.name(),
                    self.source.get(*t),
                    self.destination.get(*t)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a copy did not happen, or did not check out.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "there is no store in {0}: nothing to copy (name the data dir with --data-dir or \
         SLUICE_DATA_DIR)"
    )]
    NoSource(String),
    /// The source could not be opened (held by a running `sluice serve`: `Locked`).
    #[error("{0}")]
    Source(StoreError),
    /// The destination could not be opened (unreachable, refused, a bad URL).
    #[error("the destination: {0}")]
    Destination(StoreError),
    #[error(
        "the destination is not empty: it holds {0}; nothing was copied. Copy into a new \
         database, or a new schema of one (`?options=-csearch_path%3DNAME` in the URL)"
    )]
    NotEmpty(String),
    #[error(
        "the counts differ after the copy: {}; {}",
        .report.differences(),
        kept(.committed)
    )]
    Mismatch {
        report: Box<CopyReport>,
        /// Whether the destination kept what was written.
        committed: bool,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a mismatch left in the destination.
fn kept(committed: &bool) -> &'static str {
    if *committed {
        "the destination holds what was written: drop it, and copy again into an empty one"
    } else {
        "nothing was kept in the destination"
    }
}

impl CopyError {
    pub fn code(&self) -> Code {
        match self {
            CopyError::NoSource(_) => Code::StoreError,
            CopyError::Source(e) | CopyError::Destination(e) | CopyError::Store(e) => e.code(),
            CopyError::NotEmpty(_) => Code::StoreNotEmpty,
            CopyError::Mismatch { .. } => Code::StoreCopyMismatch,
        }
    }
}

/// Copies every record of `from` into `to`, which must be empty, and counts both sides
/// after: [`CopyError::Mismatch`] (with the counts) unless every table agrees.
pub fn copy<D: Import + Export + ?Sized>(
    from: &dyn Export,
    to: &D,
) -> Result<CopyReport, CopyError> {
    let counted = from.counts()?;
    to.import(&mut |sink| {
        let mut read = Counts::default();
        from.export(&mut |record| {
            read.add(record.table(), 1);
            sink(record)
        })?;
        if read != counted {
            // The source changed while it was read (it is held open, so this is a fault).
            return Err(CopyError::Mismatch {
                report: Box::new(CopyReport {
                    source: counted.clone(),
                    destination: read,
                }),
                committed: false,
            });
        }
        Ok(())
    })?;
    // The source is held open and was just read in full: counted once. The destination is
    // counted again after its commit, independently of what the import wrote.
    let report = CopyReport {
        source: counted,
        destination: to.counts()?,
    };
    if !report.matches() {
        return Err(CopyError::Mismatch {
            report: Box::new(report),
            committed: true,
        });
    }
    Ok(report)
}

/// Copies the store of the data dir `data_dir` (sled, in `<data-dir>/store`) into the
/// empty PostgreSQL database at `url`, as [`copy`]. The data dir's store must exist and
/// not be held by another process ([`StoreError::Locked`]); components older versions kept
/// as files beside it are moved into it first, so they are copied too.
pub fn copy_data_dir(data_dir: &Path, url: &str) -> Result<CopyReport, CopyError> {
    let dir = data_dir.join("store");
    if !dir.is_dir() {
        return Err(CopyError::NoSource(data_dir.display().to_string()));
    }
    let from = super::SledStore::open(&dir).map_err(CopyError::Source)?;
    super::open::adopt_component_files(data_dir, &from).map_err(CopyError::Source)?;
    let to = super::PgStore::open(url).map_err(CopyError::Destination)?;
    copy(&from, &to)
}

#[cfg(test)]
#[path = "copy_tests.rs"]
mod tests;
