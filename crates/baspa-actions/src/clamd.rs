//! A small ClamAV client (SC-3): streams an upload to `clamd` with the `INSTREAM` command over
//! TCP or a unix socket. Written here rather than pulled in because the protocol is a dozen
//! lines and every step needs a bounded timeout: a hung scanner must not hang an upload.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where clamd listens: `host:port` (or `tcp://host:port`) or a unix socket path (`/run/…`
/// or `unix:///run/…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clamd {
    Tcp(String),
    Unix(std::path::PathBuf),
}

/// What clamd said about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature name, e.g. `Win.Test.EICAR_HDB-1`.
    Infected(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot reach clamd at {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("clamd at {address} answered {answer:?}")]
    Failed { address: String, answer: String },
}

/// Waiting longer than this to connect means the scanner is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole scan of the largest upload; clamd scans 50 MB in well under this.
const SCAN_TIMEOUT: Duration = Duration::from_secs(120);
/// clamd's default `StreamMaxLength` is 25 MB per stream but chunks are small; 64 KiB is what
/// clamdscan sends.
const CHUNK: usize = 64 * 1024;

impl Clamd {
    /// Reads a configured address; `None` for an empty setting (no scanner).
    pub fn parse(setting: &str) -> Result<Option<Self>, String> {
        let s = setting.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if let Some(path) = s.strip_prefix("unix://") {
            return Ok(Some(Clamd::Unix(path.into())));
        }
        if s.starts_with('/') {
            return Ok(Some(Clamd::Unix(s.into())));
        }
        let hostport = s.strip_prefix("tcp://").unwrap_or(s);
        match hostport.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(Some(Clamd::Tcp(hostport.to_owned())))
            }
            _ => Err(format!("clamd must be host:port or a unix socket path, not {s:?}")),
        }
    }

    fn address(&self) -> String {
        match self {
            Clamd::Tcp(a) => a.clone(),
            Clamd::Unix(p) => p.display().to_string(),
        }
    }

    /// Sends `bytes` to clamd and returns its verdict. Any failure (down, timeout, size limit,
    /// garbled answer) is an error: the caller refuses the upload (fail closed).
    pub async fn scan(&self, bytes: &[u8]) -> Result<Verdict, ScanError> {
        let address = self.address();
        let unreachable = |reason: String| ScanError::Unreachable { address: address.clone(), reason };
        let answer = match self {
            Clamd::Tcp(a) => connect_and_scan(tokio::net::TcpStream::connect(a), bytes, &unreachable).await?,
            #[cfg(unix)]
            Clamd::Unix(p) => connect_and_scan(tokio::net::UnixStream::connect(p), bytes, &unreachable).await?,
            #[cfg(not(unix))]
            Clamd::Unix(_) => return Err(unreachable("unix sockets are not available here".into())),
        }
        .map_err(|e| unreachable(e.to_string()))?;
        parse_answer(&answer).ok_or(ScanError::Failed { address, answer })
    }
}

/// Connects within `CONNECT_TIMEOUT` and runs the INSTREAM exchange within `SCAN_TIMEOUT`;
/// the outer error is the caller's "unreachable", the inner one an IO failure mid-scan.
async fn connect_and_scan<S: AsyncRead + AsyncWrite + Unpin>(
    connect: impl std::future::Future<Output = std::io::Result<S>>,
    bytes: &[u8],
    unreachable: &impl Fn(String) -> ScanError,
) -> Result<std::io::Result<String>, ScanError> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| unreachable("connection timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
    tokio::time::timeout(SCAN_TIMEOUT, instream(stream, bytes))
        .await
        .map_err(|_| unreachable("the scan timed out".into()))
}

/// The INSTREAM exchange: `zINSTREAM\0`, then chunks each prefixed by its length as a 4-byte
/// big-endian number, then a zero length; the answer ends with `\0`.
async fn instream<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, bytes: &[u8]) -> std::io::Result<String> {
    stream.write_all(b"zINSTREAM\0").await?;
    for chunk in bytes.chunks(CHUNK) {
        let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        stream.write_all(&len.to_be_bytes()).await?;
        if let Err(e) = stream.write_all(chunk).await {
            // clamd closes the connection when the stream passes its size limit and says why.
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer).await;
            if answer.is_empty() {
                return Err(e);
            }
            return Ok(String::from_utf8_lossy(&answer).trim_end_matches('\0').trim().to_owned());
        }
    }
    stream.write_all(&0u32.to_be_bytes()).await?;
    stream.flush().await?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.contains(&0) || answer.len() > 4096 {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&answer).trim_end_matches('\0').trim().to_owned())
}

/// `stream: OK` or `stream: Sig.Name FOUND`; anything else (`… ERROR`) is not a verdict.
fn parse_answer(answer: &str) -> Option<Verdict> {
    let body = answer.strip_prefix("stream:").unwrap_or(answer).trim();
    if body == "OK" {
        return Some(Verdict::Clean);
    }
    body.strip_suffix(" FOUND").map(|sig| Verdict::Infected(sig.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sc3_clamd_addresses_and_answers_are_read() {
        assert_eq!(Clamd::parse("").ok(), Some(None));
        assert_eq!(Clamd::parse("127.0.0.1:3310").ok(), Some(Some(Clamd::Tcp("127.0.0.1:3310".into()))));
        assert_eq!(Clamd::parse("tcp://scanner:3310").ok(), Some(Some(Clamd::Tcp("scanner:3310".into()))));
        assert_eq!(Clamd::parse("/run/clamav/clamd.ctl").ok(), Some(Some(Clamd::Unix("/run/clamav/clamd.ctl".into()))));
        assert_eq!(Clamd::parse("unix:///run/c.sock").ok(), Some(Some(Clamd::Unix("/run/c.sock".into()))));
        assert!(Clamd::parse("scanner").is_err());
        assert_eq!(parse_answer("stream: OK"), Some(Verdict::Clean));
        assert_eq!(
            parse_answer("stream: Eicar-Test-Signature FOUND"),
            Some(Verdict::Infected("Eicar-Test-Signature".into()))
        );
        assert_eq!(parse_answer("INSTREAM size limit exceeded. ERROR"), None);
    }

    #[tokio::test]
    async fn sc3_a_clamd_that_is_not_listening_is_an_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
        let Ok(port) = port else { return };
        let scanner = Clamd::Tcp(format!("127.0.0.1:{port}"));
        assert!(matches!(scanner.scan(b"hello").await, Err(ScanError::Unreachable { .. })));
    }
}
