//! A real SMTP server for tests: Python's `aiosmtpd` on 127.0.0.1 with its Debugging handler,
//! whose printed messages the test reads. Not a mock: lettre speaks real SMTP to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct SmtpSink {
    pub port: u16,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl SmtpSink {
    /// Starts the server; `None` (with a note) when aiosmtpd is missing outside CI, a panic in CI.
    pub async fn start() -> Option<Self> {
        let has_aiosmtpd = Command::new("python3").args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
        if !has_aiosmtpd {
            if std::env::var_os("CI").is_some() {
                panic!("aiosmtpd must be installed in CI (pip install aiosmtpd)");
            }
            eprintln!("skipped: python3 -m aiosmtpd is not available");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).ok()?;
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Debugging",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let output = Arc::new(Mutex::new(String::new()));
        if let Some(stdout) = child.stdout.take() {
            let sink = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(mut text) = sink.lock() {
                        text.push_str(&line);
                        text.push('\n');
                    }
                }
            });
        }
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(Self { port, child, output });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, once it contains `needle` (waits up to 15 s).
    pub async fn wait_for(&self, needle: &str) -> String {
        for _ in 0..150 {
            let text = self.output.lock().map(|t| t.clone()).unwrap_or_default();
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail containing {needle:?} arrived; received: {}", self.received());
    }

    pub fn received(&self) -> String {
        self.output.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
