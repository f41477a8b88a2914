//! The HTTP listener of `sluice serve`: hyper's HTTP/1.1 connections over the TCP listener,
//! with the limits `axum::serve` has no settings for. Without them a client that sends one
//! header byte every few seconds, or a body that never ends, or that just stays connected,
//! holds its connection forever, and enough such clients hold the service.
//!
//! - At most `max_connections` connections are open; beyond that, new connections wait in
//!   the listen backlog (they are accepted, in order, as others close), so a burst is
//!   served late rather than refused.
//! - A request's headers must arrive within `header_read_timeout`: for a connection's first
//!   request counted from the accept, for later ones from their first byte. Else the
//!   connection is closed, unanswered.
//! - A request's body must arrive within `body_read_timeout` of its headers: else 408
//!   `REQUEST_BODY_TIMEOUT`, and the connection is closed.
//! - A keep-alive connection with no request for `idle_timeout` is closed.
//!
//! Handlers themselves are not timed (a webhook may wait for its run's output).

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::http::{Request, Response, header};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

/// The listener's limits (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `stop` turns true; then stops accepting, asks every
/// connection to finish the request it is on and close, and returns when all have.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let max = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS)));
    let service = TowerToHyperService::new(router);
    loop {
        // A free slot first: until there is one, new connections wait in the backlog.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.wait_for(|s| *s) => break,
        };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                accept_error(e).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (service, stop) = (service.clone(), stop.clone());
        tokio::spawn(async move {
            connection(stream, service, limits, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let all = u32::try_from(max.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// An accept that failed: a client that gave up is nothing; anything else (out of file
/// descriptors, say) is logged and the loop pauses, as it may pass when connections close.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Where a connection is, which says which deadline applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Receiving a request's headers.
    Head,
    /// A request is with the router (its body is timed by [`TimedBody`]).
    Busy,
    /// Between requests on a keep-alive connection.
    Idle,
}

/// A connection's phase and since when, shared by its socket, its requests and its watchdog.
struct Clock {
    state: Mutex<(Phase, Instant)>,
    changed: Notify,
}

impl Clock {
    fn set(&self, phase: Phase) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = (phase, Instant::now());
        self.changed.notify_one();
    }

    fn get(&self) -> (Phase, Instant) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes came in: an idle connection is receiving a request's headers from now.
    fn bytes_in(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.0 == Phase::Idle {
            *state = (Phase::Head, Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }
}

/// The socket, telling the clock when bytes arrive.
struct Watched {
    inner: TcpStream,
    clock: Arc<Clock>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.bytes_in();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Marks the connection idle when its request is done, however the request ends.
struct Done(Arc<Clock>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.set(Phase::Idle);
    }
}

/// One connection: hyper serving it, and a watchdog closing it when the deadline of its
/// phase passes or the service stops.
async fn connection(
    stream: TcpStream,
    service: TowerToHyperService<Router>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    // The first request's headers are due from the accept.
    let clock = Arc::new(Clock {
        state: Mutex::new((Phase::Head, Instant::now())),
        changed: Notify::new(),
    });
    let io = TokioIo::new(Watched {
        inner: stream,
        clock: clock.clone(),
    });
    let requests = {
        let clock = clock.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            clock.set(Phase::Busy);
            let done = Done(clock.clone());
            let timed_out = Arc::new(AtomicBool::new(false));
            let req = req.map(|incoming| {
                axum::body::Body::new(TimedBody {
                    inner: Some(incoming),
                    deadline: Box::pin(tokio::time::sleep(limits.body_read_timeout)),
                    timed_out: timed_out.clone(),
                })
            });
            let answer = service.call(req);
            async move {
                let response = answer.await;
                drop(done);
                if timed_out.load(Ordering::SeqCst) {
                    return Ok(body_timeout(limits.body_read_timeout));
                }
                response
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        // The watchdog below keeps the deadlines (hyper's own header timeout would also
        // count the idle time between requests).
        .header_read_timeout(None::<Duration>)
        .serve_connection(io, requests);
    let mut conn = std::pin::pin!(conn);
    loop {
        let (phase, since) = clock.get();
        // No deadline while a request is with the router: its body has its own.
        let deadline = match phase {
            Phase::Head => since.checked_add(limits.header_read_timeout),
            Phase::Idle => since.checked_add(limits.idle_timeout),
            Phase::Busy => None,
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = clock.changed.notified() => continue,
            _ = tokio::time::sleep_until(deadline.unwrap_or(since)), if deadline.is_some() => {
                if clock.get() != (phase, since) {
                    continue;
                }
                if phase == Phase::Head {
                    tracing::debug!("closing a connection whose request headers are late");
                    return;
                }
                break;
            }
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    // Idle too long, or the service stops: close once the request in progress (if any) is
    // answered; a client that does not take its answer gets one more idle timeout.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.idle_timeout, conn).await;
}

/// The 408 for a body that took too long (the connection closes after it).
fn body_timeout(limit: Duration) -> Response<axum::body::Body> {
    use axum::response::IntoResponse as _;
    let mut r = crate::api::ApiError::new(
        crate::code::Code::RequestBodyTimeout,
        format!(
            "the request body did not arrive within {} of its headers (--body-read-timeout)",
            humantime::format_duration(limit)
        ),
    )
    .into_response();
    r.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    r
}

/// A request body that fails once `deadline` passes before its end, and says so in
/// `timed_out` (the request then gets a 408, whatever the handler made of the failure).
struct TimedBody {
    inner: Option<Incoming>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl hyper::body::Body for TimedBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.inner = None;
                this.timed_out.store(true, Ordering::SeqCst);
                Poll::Ready(Some(Err("the request body did not arrive in time".into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(|b| b.size_hint())
            .unwrap_or_else(|| SizeHint::with_exact(0))
    }
}
