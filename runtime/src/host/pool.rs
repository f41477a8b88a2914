//! The guest pool: a multi-threaded tokio runtime of its own on which all guest code runs.
//!
//! A plugin that spins holds the thread it runs on until the next epoch tick; were guests
//! run on the runtime that serves the API, webhooks, the scheduler and the poller, a few
//! looping plugins would freeze them all until their deadlines. On this pool they only
//! compete with each other: every guest yields at each epoch tick, so they take turns, and
//! the pool's threads never serve anything but runs and plugin calls.

use std::future::Future;

use tokio::runtime::{Builder, Handle, Runtime};

/// The runtime guest code runs on; shut down (without waiting) when dropped.
#[derive(Debug)]
pub struct GuestPool {
    runtime: Option<Runtime>,
    handle: Handle,
}

/// A task on the pool ended without an answer (it panicked or the pool shut down).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PoolError(String);

impl GuestPool {
    /// A pool with `threads` workers (0: one per core).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("sluice-guest")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(Self {
            runtime: Some(runtime),
            handle,
        })
    }

    /// Whether the calling code already runs on this pool.
    pub fn is_current(&self) -> bool {
        Handle::try_current().is_ok_and(|h| h.id() == self.handle.id())
    }

    /// Starts `fut` on the pool; the handle can be awaited from any runtime.
    pub fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(fut)
    }

    /// Runs `fut` on the pool and waits for it; a panic inside it comes back as an error.
    pub async fn run<F>(&self, fut: F) -> Result<F::Output, PoolError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn(fut).await.map_err(|e| {
            if e.is_panic() {
                let panic = e.into_panic();
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "an internal error".to_owned());
                PoolError(format!("internal error: {text}"))
            } else {
                PoolError("the guest pool is shutting down".to_owned())
            }
        })
    }
}

impl Drop for GuestPool {
    fn drop(&mut self) {
        // Dropping a runtime from async code would block; this never waits.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn tasks_run_on_the_pool_and_panics_come_back_as_errors() {
        let pool = GuestPool::new(1).unwrap();
        assert!(!pool.is_current());
        let handle = pool.handle.clone();
        let on_pool = pool
            .run(async move { Handle::current().id() == handle.id() })
            .await
            .unwrap();
        assert!(on_pool);
        let e = pool
            .run(async {
                if std::hint::black_box(true) {
                    panic!("boom");
                }
            })
            .await
            .unwrap_err();
        assert!(e.to_string().contains("boom"), "{e}");
    }

    #[test]
    fn dropping_the_pool_inside_async_code_does_not_panic() {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let pool = GuestPool::new(1).unwrap();
            drop(pool);
        });
    }
}
