//! HTTPS served directly (HD-9): rustls with the `ring` provider, TLS 1.2 and 1.3 only (rustls
//! has no TLS 1.0/1.1 at all), HTTP/2 and HTTP/1.1 by ALPN; and the optional plain-HTTP port
//! that redirects every request to HTTPS.
//!
//! Handshakes run in their own tasks with a deadline, so a slow or silent client never holds up
//! the accept loop; finished connections reach `axum::serve` through a channel ([`TlsListener`]).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; further connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 512;

/// The value sent on every HTTPS response.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The server's TLS settings from PEM files: certificate chain and private key. The errors name
/// the file (never its contents).
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("server.tls_cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("server.tls_cert {}: no certificate in the file", cert.display());
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow::anyhow!("server.tls_key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("server.tls_cert and server.tls_key do not make a usable pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The TLS settings from `[server]`, or `None` for plain HTTP. One of the two files without the
/// other, or a redirect port without TLS, stops start-up with the reason.
pub fn from_config(server: &crate::config::ServerConfig) -> anyhow::Result<Option<Arc<ServerConfig>>> {
    match (&server.tls_cert, &server.tls_key) {
        (Some(cert), Some(key)) => server_config(cert, key).map(Some),
        (None, None) if server.redirect_http.is_some() => {
            anyhow::bail!("server.redirect_http needs server.tls_cert and server.tls_key")
        }
        (None, None) => Ok(None),
        _ => anyhow::bail!("set both server.tls_cert and server.tls_key, or neither"),
    }
}

/// A listener whose connections have finished the TLS handshake.
pub struct TlsListener<Io> {
    ready: mpsc::Receiver<(TlsStream<Io>, SocketAddr)>,
    local: SocketAddr,
}

impl<Io: AsyncRead + AsyncWrite + Unpin + Send + 'static> TlsListener<Io> {
    /// Starts accepting on `listener`; must be called inside a Tokio runtime.
    pub fn new<L>(mut listener: L, config: Arc<ServerConfig>) -> io::Result<Self>
    where
        L: axum::serve::Listener<Io = Io, Addr = SocketAddr>,
    {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let permits = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        tokio::spawn(async move {
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else { return };
                // The listener waits out accept errors itself.
                let (tcp, peer) = listener.accept().await;
                if tx.is_closed() {
                    return;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    match tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, peer)).await;
                        }
                        // Scanners, old clients (TLS 1.0/1.1) and timeouts: nothing to serve.
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake refused"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { ready, local })
    }
}

impl<Io: AsyncRead + AsyncWrite + Unpin + Send + 'static> axum::serve::Listener for TlsListener<Io> {
    type Io = TlsStream<Io>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task only ends when the runtime shuts down.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The plain-HTTP port's whole application: `308` to `https://<host><path>` (the port of the
/// HTTPS address unless it is 443). A missing or malformed `Host` gets `400`, so the redirect
/// never points anywhere the client did not ask for.
pub fn redirect_router(https_port: u16) -> Router {
    Router::new().fallback(move |headers: HeaderMap, uri: Uri| async move { redirect(&headers, &uri, https_port) })
}

fn redirect(headers: &HeaderMap, uri: &Uri, https_port: u16) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).and_then(host_name);
    let Some(host) = host else { return StatusCode::BAD_REQUEST.into_response() };
    let port = if https_port == 443 { String::new() } else { format!(":{https_port}") };
    let path = uri.path_and_query().map(|p| p.as_str()).filter(|p| p.starts_with('/')).unwrap_or("/");
    let location = format!("https://{host}{port}{path}");
    let mut res = StatusCode::PERMANENT_REDIRECT.into_response();
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// The host of a `Host` header without its port: a DNS name or an IP address, nothing else.
fn host_name(value: &str) -> Option<&str> {
    let host = if let Some(rest) = value.strip_prefix('[') {
        let (v6, _) = rest.split_once(']')?;
        v6.parse::<std::net::Ipv6Addr>().ok()?;
        &value[..v6.len() + 2]
    } else {
        value.split(':').next()?
    };
    let is_name = !host.is_empty()
        && host.len() <= 253
        && (host.starts_with('[') || host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    is_name.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd9_redirect_keeps_host_and_path_and_refuses_odd_hosts() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, header::HeaderValue::from_static("baq.kz:80"));
        let res = redirect(&h, &"/ru/news?x=1".parse().expect("uri"), 443);
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(res.headers()[header::LOCATION], "https://baq.kz/ru/news?x=1");
        let res = redirect(&h, &"/".parse().expect("uri"), 8443);
        assert_eq!(res.headers()[header::LOCATION], "https://baq.kz:8443/");
        assert_eq!(host_name("[::1]:80"), Some("[::1]"));
        for bad in ["", "evil.com/x", "a b", "[zz]", "x@evil.com"] {
            assert_eq!(host_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hd9_half_a_tls_configuration_stops_start_up() {
        let mut server = crate::config::ServerConfig::default();
        assert!(from_config(&server).expect("plain").is_none());
        server.redirect_http = Some("127.0.0.1:0".into());
        assert!(from_config(&server).is_err(), "a redirect port without TLS");
        server.redirect_http = None;
        server.tls_cert = Some("cert.pem".into());
        assert!(from_config(&server).is_err(), "a certificate without its key");
        server.tls_key = Some("missing-key.pem".into());
        let err = from_config(&server).expect_err("missing files").to_string();
        assert!(err.contains("server.tls_cert"), "{err}");
    }
}
