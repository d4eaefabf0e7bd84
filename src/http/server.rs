//! The listener: accepts TCP connections and serves them with hyper's HTTP/1
//! connection builder, so that slow headers are cut off (axum's `serve` sets no
//! header-read timeout), every request carries its peer address, and shutdown
//! drains in-flight requests within a deadline.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// How a listener serves its connections.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// A client that does not send its complete request headers within this is
    /// disconnected.
    pub header_timeout: Duration,
    /// On shutdown, in-flight requests may finish within this.
    pub drain: Duration,
    /// Connections open at once; past it a new one is answered 503 and closed
    /// rather than queued without end (each holds a buffer and a task).
    pub max_connections: usize,
}

/// The answer to a connection over the limit: written once, without reading the
/// request, then the socket is closed. Providers retry a 503.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
content-type: application/json\r\ncontent-length: 30\r\nconnection: close\r\n\r\n\
{\"error\":\"too_many_connections\"}";

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and
/// gives in-flight requests up to `options.drain` to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let ServeOptions {
        header_timeout,
        drain,
        max_connections,
    } = options;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(max_connections));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and alike: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    crate::telemetry::events::ConnectionRefused { peer }.emit();
                    // One non-blocking attempt: a slow reader gets nothing more.
                    let _ = stream.try_write(OVER_CAPACITY);
                    continue;
                };
                let svc = router.clone().map_request(move |mut req: http::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    req
                });
                let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _slot = slot;
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, peer = %peer, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(drain) => {
            tracing::warn!("in-flight requests did not finish within {drain:?}");
        }
    }
}
