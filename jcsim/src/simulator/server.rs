//! The HTTP front: the simulator served on a socket (axum), for clients that speak HTTP —
//! `sluice sandbox`, the embedded simulator's loopback port, tests on port 0.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use super::{Incoming, Simulator};
use crate::{ApiError, Reply};

impl Simulator {
    /// The HTTP front: [`Simulator::admit`], then [`Simulator::dispatch`] on a blocking thread.
    pub async fn http(
        self: Arc<Self>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let admitted = self
            .admit(Incoming {
                method: method.as_str(),
                path: uri.path(),
                query,
                api_key: headers.get("x-api-key").map(HeaderValue::as_bytes),
                authorization: headers.get("authorization").map(HeaderValue::as_bytes),
                org: headers.get("x-org-id").map(HeaderValue::as_bytes),
                body: &body,
            })
            .await;
        let req = match admitted {
            Ok(req) => req,
            Err(reply) => return reply_response(reply),
        };
        let this = self.clone();
        let result = tokio::task::spawn_blocking(move || this.dispatch(&req)).await;
        match result {
            Ok(Ok(reply)) => reply_response(reply),
            Ok(Err(e)) => error_response(&e),
            Err(e) => error_response(&ApiError::new(500, "INTERNAL", e.to_string())),
        }
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let this = self.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let this = this.clone();
                async move { this.http(method, uri, headers, body).await }
            },
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// A simulator serving in the background; dropping it stops the server.
#[derive(Debug)]
pub struct RunningSimulator {
    pub addr: std::net::SocketAddr,
    pub simulator: Arc<Simulator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RunningSimulator {
    /// `http://ADDR`, the base URL a JumpCloud client uses for it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Simulator {
    /// Binds `addr` (port 0 for any free port) and serves in a background task of the
    /// current tokio runtime.
    pub fn spawn(self: Arc<Self>, addr: std::net::SocketAddr) -> std::io::Result<RunningSimulator> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = self.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = server.serve(listener, shutdown).await {
                tracing::error!("the JumpCloud sandbox stopped: {e}");
            }
        });
        Ok(RunningSimulator {
            addr,
            simulator: self,
            stop: Some(stop),
        })
    }
}

fn json_response(status: u16, body: Option<&Value>) -> Response {
    let mut r = Response::new(match body {
        Some(b) => Body::from(b.to_string()),
        None => Body::empty(),
    });
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_some() {
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    r
}

fn reply_response(reply: Reply) -> Response {
    let mut r = json_response(reply.status, reply.body.as_ref());
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

fn error_response(e: &ApiError) -> Response {
    json_response(e.status, Some(&e.body()))
}
