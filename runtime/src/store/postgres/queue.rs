//! Write-behind for runs, as sled's group commit is: a run's record, journal and kept
//! input are queued and written by one task, many at a time in one statement (one round
//! trip and one WAL flush for many runs' steps), so a run never waits a round trip per
//! step. What the
//! engine waits for is [`Store::commit`](crate::store::Store::commit): every write queued
//! before it is in the database. Reads of these tables first wait for what is queued, so
//! a process always reads its own writes.
//!
//! A batch that fails (the database went away) loses its writes; the runs they belonged
//! to are remembered, and their next [`WriteQueue::commit_run`] fails, so the run stops
//! and resumes later from what its journal holds — as after a crash.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deadpool_postgres::Pool;

use super::{pg_error, pool_error};
use crate::store::StoreError;

/// Writes per statement, at most.
const BATCH: usize = 512;

/// Bytes per statement, about (a batch is cut after the write that passes it): far below
/// the server's limit on one message and one value (1 GB), with journal records of up to a
/// step's output limit.
const BATCH_BYTES: usize = 32 << 20;

/// The run tables the queue writes: a read of one of a run's waits only for that run's
/// writes to that table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Table {
    Runs,
    Journal,
    Inputs,
}

/// A queued write of a run's.
pub(super) enum Write {
    /// Its record (replacing the one there).
    Record(Vec<u8>),
    /// A step record, appended to its journal.
    Journal(Vec<u8>),
    /// Its kept input (replacing what is there).
    Input(Vec<u8>),
    /// Its kept input removed.
    InputRemoved,
}

impl Write {
    /// Its bytes, about.
    fn len(&self) -> usize {
        match self {
            Write::Record(b) | Write::Journal(b) | Write::Input(b) => b.len(),
            Write::InputRemoved => 0,
        }
    }

    fn table(&self) -> Table {
        match self {
            Write::Record(_) => Table::Runs,
            Write::Journal(_) => Table::Journal,
            Write::Input(_) | Write::InputRemoved => Table::Inputs,
        }
    }
}

/// One queued write, with the run it belongs to.
struct Queued {
    seq: u64,
    run: String,
    write: Write,
}

/// Why a batch failed: kept as text, rebuilt as the error it was.
#[derive(Debug, Clone)]
struct Failure {
    unavailable: bool,
    message: String,
}

impl Failure {
    fn of(e: &StoreError) -> Self {
        Failure {
            unavailable: matches!(e, StoreError::Unavailable(_)),
            message: match e {
                StoreError::Unavailable(m) | StoreError::Backend(m) => m.clone(),
                other => other.to_string(),
            },
        }
    }

    fn error(&self) -> StoreError {
        let m = format!("a queued write was lost: {}", self.message);
        if self.unavailable {
            StoreError::Unavailable(m)
        } else {
            StoreError::Backend(m)
        }
    }
}

struct Shared {
    /// The sequence number of the last write queued.
    queued: AtomicU64,
    /// Up to which sequence number every write has been handled (written or lost).
    done: tokio::sync::watch::Sender<u64>,
    /// Runs whose writes were lost, and why (reported once, by their next commit).
    lost: std::sync::Mutex<HashMap<String, Failure>>,
    /// Lost writes not yet reported by a commit, by sequence number (for commits that
    /// name no run).
    last_loss: std::sync::Mutex<Option<(u64, Failure)>>,
    /// The last queued write of each run to each table, until a read or a commit of that
    /// run has waited for it.
    pending: std::sync::Mutex<HashMap<(Table, String), u64>>,
}

/// The queue of run writes and its writer task.
pub(super) struct WriteQueue {
    tx: std::sync::Mutex<tokio::sync::mpsc::UnboundedSender<Queued>>,
    shared: Arc<Shared>,
}

impl WriteQueue {
    /// Starts the writer on `rt`.
    pub(super) fn start(rt: &tokio::runtime::Runtime, pool: Pool) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queued: AtomicU64::new(0),
            done: tokio::sync::watch::Sender::new(0),
            lost: Default::default(),
            last_loss: Default::default(),
            pending: Default::default(),
        });
        rt.spawn(writer(pool, rx, shared.clone()));
        WriteQueue {
            tx: std::sync::Mutex::new(tx),
            shared,
        }
    }

    /// Queues a write of run `run`'s.
    pub(super) fn push(&self, run: &str, write: Write) -> Result<(), StoreError> {
        // Numbered and sent under one lock, so the channel's order is the numbers' order.
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        let seq = self.shared.queued.fetch_add(1, Ordering::SeqCst) + 1;
        self.pending().insert((write.table(), run.to_owned()), seq);
        tx.send(Queued {
            seq,
            run: run.to_owned(),
            write,
        })
        .map_err(|_| StoreError::Backend("the PostgreSQL store is closed".into()))
    }

    /// Resolves once every write queued so far is handled; the error of a lost one among
    /// them, if any (and none was reported yet).
    pub(super) async fn commit(&self) -> Result<(), StoreError> {
        let from = *self.shared.done.borrow();
        self.wait().await?;
        let mut last = self
            .shared
            .last_loss
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match last.take() {
            Some((seq, failure)) if seq > from => Err(failure.error()),
            other => {
                *last = other;
                Ok(())
            }
        }
    }

    /// [`Self::commit`] for the writes of run `run`: fails if any of its writes was lost
    /// since its last commit.
    pub(super) async fn commit_run(&self, run: &str) -> Result<(), StoreError> {
        self.wait().await?;
        let mut pending = self.pending();
        for table in [Table::Runs, Table::Journal, Table::Inputs] {
            pending.remove(&(table, run.to_owned()));
        }
        drop(pending);
        let lost = self
            .shared
            .lost
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(run);
        match lost {
            Some(failure) => Err(failure.error()),
            None => Ok(()),
        }
    }

    /// Waits, on this thread, until every write queued so far is handled.
    pub(super) fn drain(&self) -> Result<(), StoreError> {
        let target = self.shared.queued.load(Ordering::SeqCst);
        futures::executor::block_on(tokio::task::unconstrained(self.wait_for(target)))
    }

    /// Waits, on this thread, until this process's writes of run `run` to `table` are
    /// handled (at once when there are none).
    pub(super) fn drain_run(&self, table: Table, run: &str) -> Result<(), StoreError> {
        let key = (table, run.to_owned());
        let Some(target) = self.pending().get(&key).copied() else {
            return Ok(());
        };
        futures::executor::block_on(tokio::task::unconstrained(self.wait_for(target)))?;
        let mut pending = self.pending();
        if pending.get(&key) == Some(&target) {
            pending.remove(&key);
        }
        Ok(())
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<(Table, String), u64>> {
        self.shared
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn wait(&self) -> Result<(), StoreError> {
        self.wait_for(self.shared.queued.load(Ordering::SeqCst))
            .await
    }

    async fn wait_for(&self, target: u64) -> Result<(), StoreError> {
        let mut done = self.shared.done.subscribe();
        done.wait_for(|d| *d >= target)
            .await
            .map(drop)
            .map_err(|_| StoreError::Backend("the PostgreSQL store's writer stopped".into()))
    }
}

/// Writes what is queued, up to [`BATCH`] writes at a time.
async fn writer(
    pool: Pool,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Queued>,
    shared: Arc<Shared>,
) {
    let mut received = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut received, BATCH).await > 0 {
        for batch in by_size(&received) {
            let last = batch.last().map_or(0, |q| q.seq);
            if let Err(e) = write(&pool, batch).await {
                tracing::warn!("{} queued run writes were lost: {e}", batch.len());
                let failure = Failure::of(&e);
                let mut lost = shared.lost.lock().unwrap_or_else(|p| p.into_inner());
                for q in batch {
                    lost.insert(q.run.clone(), failure.clone());
                }
                drop(lost);
                *shared.last_loss.lock().unwrap_or_else(|p| p.into_inner()) = Some((last, failure));
            }
            shared.done.send_replace(last);
        }
        received.clear();
    }
}

/// `writes` cut into batches of about [`BATCH_BYTES`] at most, in order.
fn by_size(writes: &[Queued]) -> Vec<&[Queued]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, q) in writes.iter().enumerate() {
        bytes += q.run.len() + q.write.len();
        if bytes >= BATCH_BYTES {
            batches.push(&writes[start..=i]);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < writes.len() {
        batches.push(&writes[start..]);
    }
    batches
}

/// Every write of a batch in one statement (so one implicit transaction and one round
/// trip): the journal's records in queue order (its `seq` follows), and of the writes to a
/// run's record or kept input only the last, which is what applying them in order leaves.
const WRITE: &str = "WITH journal_rows AS (
    INSERT INTO journal (run, record)
    SELECT run, record FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(run, record, n)
    ORDER BY n
), run_rows AS (
    INSERT INTO runs (id, record) SELECT * FROM unnest($3::text[], $4::bytea[])
    ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record
), input_rows AS (
    INSERT INTO run_inputs (run, input) SELECT * FROM unnest($5::text[], $6::bytea[])
    ON CONFLICT (run) DO UPDATE SET input = EXCLUDED.input
)
DELETE FROM run_inputs WHERE run = ANY($7::text[])";

async fn write(pool: &Pool, batch: &[Queued]) -> Result<(), StoreError> {
    let (mut journal_runs, mut journal_records) = (Vec::new(), Vec::new());
    // By run id: rows are locked in one order whoever writes them (two nodes' writers on
    // the same runs, as after a take-over, cannot deadlock).
    let mut records: BTreeMap<&str, &[u8]> = BTreeMap::new();
    let mut inputs: BTreeMap<&str, Option<&[u8]>> = BTreeMap::new();
    for q in batch {
        match &q.write {
            Write::Journal(r) => {
                journal_runs.push(q.run.as_str());
                journal_records.push(r.as_slice());
            }
            Write::Record(r) => {
                records.insert(&q.run, r);
            }
            Write::Input(i) => {
                inputs.insert(&q.run, Some(i));
            }
            Write::InputRemoved => {
                inputs.insert(&q.run, None);
            }
        }
    }
    let (record_ids, record_bytes): (Vec<&str>, Vec<&[u8]>) = records.into_iter().unzip();
    let (mut input_runs, mut input_bytes, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for (run, input) in inputs {
        match input {
            Some(bytes) => {
                input_runs.push(run);
                input_bytes.push(bytes);
            }
            None => removed.push(run),
        }
    }
    let client = pool.get().await.map_err(pool_error)?;
    let statement = client.prepare_cached(WRITE).await.map_err(pg_error)?;
    client
        .execute(
            &statement,
            &[
                &journal_runs,
                &journal_records,
                &record_ids,
                &record_bytes,
                &input_runs,
                &input_bytes,
                &removed,
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(seq: u64, bytes: usize) -> Queued {
        Queued {
            seq,
            run: "r".into(),
            write: Write::Journal(vec![b'x'; bytes]),
        }
    }

    #[test]
    fn a_batch_is_cut_by_size_in_order_and_loses_no_write() {
        let writes: Vec<Queued> = (1..=10).map(|seq| journal(seq, 12 << 20)).collect();
        let batches = by_size(&writes);
        let seqs: Vec<Vec<u64>> = batches
            .iter()
            .map(|b| b.iter().map(|q| q.seq).collect())
            .collect();
        // 12 MiB each: the third write passes 32 MiB and ends its batch.
        assert_eq!(
            seqs,
            [vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9], vec![10]]
        );
        // Small writes stay one batch; none is empty.
        let small: Vec<Queued> = (1..=512).map(|seq| journal(seq, 100)).collect();
        assert_eq!(by_size(&small).len(), 1);
        assert!(by_size(&[]).is_empty());
    }
}
