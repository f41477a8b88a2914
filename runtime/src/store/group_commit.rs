//! Group commit: many writers, one flush at a time, each flush covering every write made
//! before it started.
//!
//! A writer either waits for durability ([`GroupCommit::commit`]) or only asks for it
//! ([`GroupCommit::commit_soon`]) and goes on; either way flushes run back to back while
//! requests keep coming, so a write asked for is on disk within about two flush times.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::watch;

use super::StoreError;

/// What the flusher has made durable: requests up to `upto`; and the last failed flush,
/// with the requests it was to cover.
#[derive(Debug, Clone, Default)]
struct Flushed {
    upto: u64,
    error: Option<(u64, Arc<str>)>,
}

/// The flush state shared by every handle of one store.
#[derive(Debug)]
pub(super) struct GroupCommit {
    /// Commit requests made so far; a request's number covers every write before it.
    requested: AtomicU64,
    /// Whether a flusher (inline or on a blocking thread) is running.
    flushing: AtomicBool,
    flushed: watch::Sender<Flushed>,
}

impl Default for GroupCommit {
    fn default() -> Self {
        GroupCommit {
            requested: AtomicU64::new(0),
            flushing: AtomicBool::new(false),
            flushed: watch::Sender::new(Flushed::default()),
        }
    }
}

/// Something that can make every write so far durable.
pub(super) trait Flush: Clone + Send + 'static {
    fn flush_to_disk(&self) -> Result<(), StoreError>;
}

impl GroupCommit {
    /// Waits until every write made before this call is on disk.
    pub async fn commit<F: Flush>(self: &Arc<Self>, db: &F) -> Result<(), StoreError> {
        let mine = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let mut rx = self.flushed.subscribe();
        if !self.flushing.swap(true, Ordering::SeqCst) {
            // Nobody is flushing: flush on this worker thread (other tasks move to the
            // other workers) instead of handing off to a blocking thread and back — two
            // thread wake-ups less, which is most of a short run's latency. A
            // current-thread runtime has no other worker and hands off.
            if tokio::runtime::Handle::current().runtime_flavor()
                == tokio::runtime::RuntimeFlavor::MultiThread
            {
                tokio::task::block_in_place(|| self.flush_until_idle(db));
            } else {
                let (me, db) = (self.clone(), db.clone());
                tokio::task::spawn_blocking(move || me.flush_until_idle(&db))
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
            }
        }
        let state = rx
            .wait_for(|f| f.upto >= mine || f.error.as_ref().is_some_and(|(t, _)| *t >= mine))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        match &state.error {
            Some((_, e)) if state.upto < mine => Err(StoreError::Backend(e.to_string())),
            _ => Ok(()),
        }
    }

    /// Asks for every write made before this call to be flushed, without waiting: a flush
    /// starts on a blocking thread unless one is running (which then goes on to cover it).
    pub fn commit_soon<F: Flush>(self: &Arc<Self>, db: &F) {
        self.requested.fetch_add(1, Ordering::SeqCst);
        if !self.flushing.swap(true, Ordering::SeqCst) {
            let (me, db) = (self.clone(), db.clone());
            tokio::task::spawn_blocking(move || me.flush_until_idle(&db));
        }
    }

    /// Flushes until no request is left uncovered, then gives up the flusher role. Called
    /// only by whoever set `flushing`.
    fn flush_until_idle<F: Flush>(&self, db: &F) {
        loop {
            let target = self.requested.load(Ordering::SeqCst);
            if self.flushed.borrow().upto >= target {
                if self.keeps_role_after_release(target) {
                    continue;
                }
                return;
            }
            match db.flush_to_disk() {
                Ok(()) => {
                    self.flushed.send_replace(Flushed {
                        upto: target,
                        error: None,
                    });
                }
                Err(e) => {
                    // Every request waiting now gets the error (none is left waiting for a
                    // flusher that gave up); a request made after this tries again.
                    let failed = self.requested.load(Ordering::SeqCst);
                    self.flushed
                        .send_modify(|f| f.error = Some((failed, e.to_string().into())));
                    if self.keeps_role_after_release(failed) {
                        continue;
                    }
                    return;
                }
            }
        }
    }

    /// Gives up the flusher role, having dealt with requests up to `covered`. A request
    /// made after that found `flushing` set and left its flush to us: take the role back
    /// (true) unless someone else did.
    fn keeps_role_after_release(&self, covered: u64) -> bool {
        self.flushing.store(false, Ordering::SeqCst);
        self.requested.load(Ordering::SeqCst) > covered
            && !self.flushing.swap(true, Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Counts flushes and records how many writes each one covered.
    #[derive(Clone, Default)]
    struct Disk {
        writes: Arc<AtomicU64>,
        durable: Arc<AtomicU64>,
        flushes: Arc<AtomicU64>,
        fail: Arc<Mutex<bool>>,
        /// While true, a flush waits (to let a test line requests up behind it).
        hold: Arc<(Mutex<bool>, std::sync::Condvar)>,
        entered: Arc<AtomicU64>,
    }

    impl Flush for Disk {
        fn flush_to_disk(&self) -> Result<(), StoreError> {
            self.entered.fetch_add(1, Ordering::SeqCst);
            let (held, opened) = &*self.hold;
            let mut held = held.lock().unwrap();
            while *held {
                held = opened.wait(held).unwrap();
            }
            drop(held);
            let seen = self.writes.load(Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(2));
            if *self.fail.lock().unwrap() {
                return Err(StoreError::Backend("disk full".into()));
            }
            self.durable.fetch_max(seen, Ordering::SeqCst);
            self.flushes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_covers_every_earlier_write_and_concurrent_commits_share_flushes() {
        let gc = Arc::new(GroupCommit::default());
        let disk = Disk::default();
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (gc, disk) = (gc.clone(), disk.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..5 {
                    let n = disk.writes.fetch_add(1, Ordering::SeqCst) + 1;
                    gc.commit(&disk).await.unwrap();
                    assert!(disk.durable.load(Ordering::SeqCst) >= n);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let flushes = disk.flushes.load(Ordering::SeqCst);
        assert!(flushes < 160, "160 commits shared flushes: {flushes}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commit_soon_flushes_without_waiting_and_a_later_commit_finds_it_done() {
        let gc = Arc::new(GroupCommit::default());
        let disk = Disk::default();
        disk.writes.fetch_add(1, Ordering::SeqCst);
        gc.commit_soon(&disk);
        // The caller went on at once; the write still reaches the disk.
        let mut rx = gc.flushed.subscribe();
        rx.wait_for(|f| f.upto >= 1).await.unwrap();
        assert_eq!(disk.durable.load(Ordering::SeqCst), 1);
        disk.writes.fetch_add(1, Ordering::SeqCst);
        gc.commit(&disk).await.unwrap();
        assert_eq!(disk.durable.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_made_during_a_failing_flush_fails_too_instead_of_waiting_forever() {
        use std::time::Duration;
        let gc = Arc::new(GroupCommit::default());
        let disk = Disk::default();
        *disk.fail.lock().unwrap() = true;
        *disk.hold.0.lock().unwrap() = true;
        let commit = |gc: &Arc<GroupCommit>, disk: &Disk| {
            let (gc, disk) = (gc.clone(), disk.clone());
            tokio::spawn(async move { gc.commit(&disk).await })
        };
        let first = commit(&gc, &disk);
        while disk.entered.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The first commit's flush is under way; this one queues behind it.
        let second = commit(&gc, &disk);
        while gc.requested.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        *disk.hold.0.lock().unwrap() = false;
        disk.hold.1.notify_all();
        let second = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("a commit whose flusher gave up must not wait forever");
        assert!(second.unwrap().is_err());
        assert!(first.await.unwrap().is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_flush_fails_its_waiters_and_the_next_commit_tries_again() {
        let gc = Arc::new(GroupCommit::default());
        let disk = Disk::default();
        *disk.fail.lock().unwrap() = true;
        let err = gc.commit(&disk).await.unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        *disk.fail.lock().unwrap() = false;
        gc.commit(&disk).await.unwrap();
        assert_eq!(disk.flushes.load(Ordering::SeqCst), 1);
    }
}
