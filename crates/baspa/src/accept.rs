//! Connections spread evenly over the serving threads (`serve::serve_app`).
//!
//! Letting every serving thread accept from the one listening socket left the spread to chance,
//! and chance was bad: the thread that was awake took whole bursts of new connections. In the
//! issue 7 benchmark, wrk's 64 connections often all landed on one thread of two, leaving one
//! core's share of the work undone (58k against 72k requests a second from run to run). So one
//! accept loop (on the caller's runtime) hands each connection to the thread holding the fewest
//! open ones; a keep-alive connection pays for that hop once, not per request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Open connections per serving thread.
#[derive(Debug)]
pub struct Spread {
    open: Box<[AtomicUsize]>,
}

impl Spread {
    pub fn new(threads: usize) -> Arc<Self> {
        Arc::new(Spread { open: (0..threads.max(1)).map(|_| AtomicUsize::new(0)).collect() })
    }

    /// The thread with the fewest open connections; ties go to the one after `after`, so equal
    /// threads take turns.
    fn least_busy(&self, after: usize) -> usize {
        let n = self.open.len();
        (1..=n).map(|step| (after + step) % n).min_by_key(|&i| self.open[i].load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Open connections per thread, for tests and logs.
    pub fn open(&self) -> Vec<usize> {
        self.open.iter().map(|o| o.load(Ordering::Relaxed)).collect()
    }
}

/// A connection on its way to a serving thread.
type Handed = (std::net::TcpStream, SocketAddr);

/// Accepts on `listener` until every serving thread has gone, handing each connection to the
/// least busy one. Runs on the caller's runtime; the returned receivers go to the threads.
pub fn spread_connections(
    listener: TcpListener,
    spread: Arc<Spread>,
) -> (tokio::task::JoinHandle<()>, Vec<ThreadListener>) {
    let local = listener.local_addr().ok();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..spread.open.len()).map(|_| mpsc::unbounded_channel()).unzip();
    let listeners = receivers
        .into_iter()
        .enumerate()
        .map(|(thread, incoming)| ThreadListener { incoming, local, spread: spread.clone(), thread })
        .collect();
    let task = tokio::spawn(async move {
        let mut last = spread.open.len() - 1;
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Each response leaves in one write; Nagle would only delay the last segment.
            let _ = tcp.set_nodelay(true);
            let Ok(tcp) = tcp.into_std() else { continue };
            last = spread.least_busy(last);
            // Counted before it is sent, so the next choice already sees it.
            spread.open[last].fetch_add(1, Ordering::Relaxed);
            if senders[last].send((tcp, peer)).is_err() {
                spread.open[last].fetch_sub(1, Ordering::Relaxed);
                if senders.iter().all(mpsc::UnboundedSender::is_closed) {
                    return;
                }
            }
        }
    });
    (task, listeners)
}

/// One serving thread's side: the connections handed to it, for `axum::serve`.
#[derive(Debug)]
pub struct ThreadListener {
    incoming: mpsc::UnboundedReceiver<Handed>,
    local: Option<SocketAddr>,
    spread: Arc<Spread>,
    thread: usize,
}

impl axum::serve::Listener for ThreadListener {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Some((tcp, peer)) = self.incoming.recv().await else {
                // The accept loop ended: the server is stopping.
                return std::future::pending().await;
            };
            // Registered with this thread's runtime; one that cannot be is dropped, uncounted.
            match TcpStream::from_std(tcp) {
                Ok(tcp) => return (Counted { spread: self.spread.clone(), thread: self.thread, tcp }, peer),
                Err(_) => {
                    self.spread.open[self.thread].fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.local.ok_or_else(|| io::Error::other("no local address"))
    }
}

/// A connection that counts as open on its thread until dropped.
#[derive(Debug)]
pub struct Counted {
    spread: Arc<Spread>,
    thread: usize,
    tcp: TcpStream,
}

impl Counted {
    fn tcp(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(&mut self.tcp)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.spread.open[self.thread].fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.tcp().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.tcp().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf1_connections_go_to_the_least_busy_thread_in_turn() {
        let spread = Spread::new(3);
        let mut last = 2;
        let mut order = Vec::new();
        for _ in 0..6 {
            last = spread.least_busy(last);
            spread.open[last].fetch_add(1, Ordering::Relaxed);
            order.push(last);
        }
        assert_eq!(order, [0, 1, 2, 0, 1, 2]);
        spread.open[1].fetch_sub(2, Ordering::Relaxed);
        assert_eq!(spread.least_busy(0), 1, "a thread whose connections closed gets the next ones");
    }

    #[tokio::test]
    async fn pf1_connections_are_spread_evenly_and_a_closed_one_frees_its_place() {
        use axum::serve::Listener as _;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let spread = Spread::new(2);
        let (task, mut threads) = spread_connections(listener, spread.clone());
        let mut clients = Vec::new();
        for _ in 0..8 {
            clients.push(TcpStream::connect(addr).await.expect("connect"));
        }
        let mut served = [Vec::new(), Vec::new()];
        for (thread, listener) in threads.iter_mut().enumerate() {
            for _ in 0..4 {
                let (conn, peer) =
                    tokio::time::timeout(Duration::from_secs(5), listener.accept()).await.expect("handed over");
                assert!(peer.ip().is_loopback());
                served[thread].push(conn);
            }
        }
        assert_eq!(spread.open(), [4, 4]);
        served[1].truncate(1);
        assert_eq!(spread.open(), [4, 1], "dropping a connection uncounts it");
        clients.push(TcpStream::connect(addr).await.expect("connect"));
        let (conn, _) = tokio::time::timeout(Duration::from_secs(5), threads[1].accept()).await.expect("to thread 1");
        served[1].push(conn);
        assert_eq!(spread.open(), [4, 2]);
        task.abort();
    }
}
