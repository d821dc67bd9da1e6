//! The tap's accept loops: hyper's HTTP/1.1 + HTTP/2 server with header-read timeouts (slow
//! clients cannot hold the server), TCP_NODELAY, and graceful shutdown of every connection.
//!
//! The tap runs on event loops of its own: one OS thread per loop, each with a single-threaded
//! tokio runtime, its own upstream connection pool and its own listening socket, all bound to the
//! same address with `SO_REUSEPORT` so the kernel spreads connections across them. A request
//! then lives on one thread from accept to the last body byte: no work stealing, no cross-thread
//! wake-ups between the client's connection task and the upstream connection's task — the
//! per-request cost that dominated on a shared multi-threaded runtime (see README "Benchmarks").

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serve `router` on `listener` until `shutdown`, then let open connections finish their
/// in-flight requests (including streams); the caller bounds how long that may take.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, _peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A listening socket with `SO_REUSEPORT`, so several event loops can each accept on `addr`.
fn reuseport_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// The tap's event loops, started by [`start_event_loops`].
pub struct EventLoops {
    /// The address all loops accept on (the real port when asked for port 0).
    pub addr: SocketAddr,
    done: Vec<tokio::sync::oneshot::Receiver<()>>,
}

impl EventLoops {
    /// Completes when every loop has stopped accepting and its connections have finished.
    pub async fn finished(self) {
        for done in self.done {
            let _ = done.await;
        }
    }
}

/// Bind `addr` once per router (`SO_REUSEPORT`) and serve each router on a thread of its own
/// with a single-threaded runtime, until `shutdown`. Binding errors are returned before any
/// thread starts.
pub fn start_event_loops(
    addr: SocketAddr,
    routers: Vec<Router>,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) -> std::io::Result<EventLoops> {
    assert!(!routers.is_empty(), "the tap needs at least one event loop");
    let first = reuseport_listener(addr)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..routers.len() {
        listeners.push(reuseport_listener(addr)?);
    }
    let mut done = Vec::with_capacity(routers.len());
    for (i, (listener, router)) in listeners.into_iter().zip(routers).enumerate() {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let shutdown = shutdown.clone();
        std::thread::Builder::new()
            .name(format!("shadowtap-tap-{i}"))
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            serve(listener, router, header_read_timeout, shutdown).await;
                        }
                        Err(e) => tracing::error!(error = %e, "tap event loop cannot listen"),
                    }
                });
                // Dropping the runtime ends what is left of its tasks (a shutdown past its grace).
                drop(runtime);
                let _ = done_tx.send(());
            })?;
        done.push(done_rx);
    }
    Ok(EventLoops { addr, done })
}
