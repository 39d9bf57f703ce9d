//! A real ClamAV daemon for tests (SC-3): Debian's `clamd` started in the foreground with a
//! private config, on a free 127.0.0.1 port, with a one-line signature database the test defines
//! (there is no internet for `freshclam`, and the test must not depend on the official
//! signatures). Not a mock: `baspa_actions::clamd` speaks INSTREAM to it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The text the test signature matches, and the name clamd reports for it (clamd adds
/// `.UNOFFICIAL` to signatures that are not from ClamAV's own databases).
pub const TEST_MARKER: &str = "BASPA-CLAMD-TEST-MARKER-7f3k";
pub const TEST_SIGNATURE: &str = "Baspa.Test.Marker";

pub struct ClamdServer {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

fn clamd_binary() -> Option<&'static str> {
    ["/usr/sbin/clamd", "/usr/bin/clamd", "/usr/local/sbin/clamd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

impl ClamdServer {
    /// Starts clamd; `None` (with a note) when it is not installed outside CI, a panic in CI.
    pub async fn start() -> Option<Self> {
        let Some(binary) = clamd_binary() else {
            if std::env::var_os("CI").is_some() {
                panic!("clamd must be installed in CI (apt-get install clamav-daemon)");
            }
            eprintln!("skipped: clamd is not installed (apt-get install clamav-daemon)");
            return None;
        };
        let dir = tempfile::tempdir().expect("clamd dir");
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).expect("clamd db dir");
        let hex: String = TEST_MARKER.bytes().map(|b| format!("{b:02x}")).collect();
        std::fs::write(db.join("baspa-test.ndb"), format!("{TEST_SIGNATURE}:0:*:{hex}\n")).expect("signature");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).ok()?;
        let config = dir.path().join("clamd.conf");
        std::fs::write(
            &config,
            format!(
                "Foreground yes\nDatabaseDirectory {db}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n\
                 TemporaryDirectory {tmp}\nPidFile {tmp}/clamd.pid\nLogFile {tmp}/clamd.log\n",
                db = db.display(),
                tmp = dir.path().display()
            ),
        )
        .expect("clamd config");
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clamd");
        // Loading one signature takes a second or two; the official databases would take far
        // longer, which is why they are not used.
        for _ in 0..300 {
            if ping(port).await {
                return Some(Self { port, child, dir });
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.path().join("clamd.log")).unwrap_or_default();
                panic!("clamd exited with {status}: {log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("clamd did not start on port {port}");
    }

    /// The address for `baspa_actions::clamd::Clamd::parse` and the `admin.clamd` setting.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops clamd (to test what happens when the scanner is down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("clamd.log")).unwrap_or_default()
    }
}

async fn ping(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else { return false };
    if stream.write_all(b"zPING\0").await.is_err() {
        return false;
    }
    let mut answer = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut answer)).await;
    matches!(read, Ok(Ok(n)) if answer[..n].starts_with(b"PONG"))
}

impl Drop for ClamdServer {
    fn drop(&mut self) {
        self.stop();
    }
}
