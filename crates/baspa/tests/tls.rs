//! HTTPS served directly (HD-5, HD-9): with a self-signed certificate made here, the server
//! answers over TLS 1.3 and TLS 1.2 with HSTS, refuses TLS 1.0 and 1.1 clients at the
//! handshake, makes staff cookies `Secure`, and its plain-HTTP port redirects to HTTPS.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::net::SocketAddr;
use std::sync::Arc;

use baspa::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HSTS: &str = "max-age=31536000; includeSubDomains";

struct Server {
    https: SocketAddr,
    redirect: SocketAddr,
    cert_pem: String,
    secure_cookies: bool,
    _dir: tempfile::TempDir,
}

/// A server on 127.0.0.1 with a fresh certificate for `localhost`, over SQLite.
async fn start() -> Server {
    let dir = tempfile::tempdir().expect("dir");
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("certificate");
    let cert_pem = cert.cert.pem();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, &cert_pem).expect("cert file");
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("key file");
    let mut config = Config::default();
    config.storage.data_dir = dir.path().join("data");
    std::fs::create_dir_all(&config.storage.data_dir).expect("data dir");
    config.server.tls_cert = Some(cert_file);
    config.server.tls_key = Some(key_file);
    config.server.redirect_http = Some("127.0.0.1:0".to_owned());
    let tls = baspa::tls::from_config(&config.server).expect("tls settings").expect("tls on");
    let db = baspa::serve::open_database(&config).await.expect("database");
    let state = baspa::serve::site_state(&config, db).expect("state");
    let secure_cookies = state.admin.secure_cookies;
    let app = baspa_site::router(state);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let plain = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (https, redirect) = (listener.local_addr().expect("addr"), plain.local_addr().expect("addr"));
    tokio::spawn(baspa::serve::serve_app(app, listener, Some(tls), Some(plain), 0, std::future::pending()));
    Server { https, redirect, cert_pem, secure_cookies, _dir: dir }
}

fn root_store(cert_pem: &str) -> rustls::RootCertStore {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("pem")).expect("root");
    roots
}

/// A raw HTTP/1.1 GET over a TLS connection limited to `versions`; the negotiated version and
/// the response head.
async fn get_with_versions(
    server: &Server,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> (rustls::ProtocolVersion, String) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(root_store(&server.cert_pem))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(server.https).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("handshake");
    let version = tls.get_ref().1.protocol_version().expect("version");
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut bytes = Vec::new();
    let _ = tls.read_to_end(&mut bytes).await;
    (version, String::from_utf8_lossy(&bytes).to_ascii_lowercase())
}

/// A ClientHello offering at most `version` (0x0301 = TLS 1.0, 0x0302 = TLS 1.1, 0x0303 =
/// TLS 1.2) without a `supported_versions` extension, as an old client sends it; with suites,
/// groups and signature schemes the server supports, so only the version can make it fail.
fn legacy_client_hello(version: u16) -> Vec<u8> {
    let [major, minor] = version.to_be_bytes();
    let mut body = vec![major, minor];
    body.extend([0x5a; 32]); // random
    body.push(0); // no session id
    let suites: [u16; 5] = [0xc02b, 0xc02f, 0xc013, 0xc014, 0x002f];
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // compression: null
    let extensions: [(u16, &[u8]); 3] = [
        (0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]),             // groups: x25519, P-256
        (0x000b, &[1, 0]),                                     // point formats: uncompressed
        (0x000d, &[0, 6, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01]), // ECDSA-SHA256, PSS, PKCS1
    ];
    let mut ext = Vec::new();
    for (kind, data) in extensions {
        ext.extend(kind.to_be_bytes());
        ext.extend((data.len() as u16).to_be_bytes());
        ext.extend(data);
    }
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut handshake = vec![1]; // ClientHello
    handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16, major, minor];
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd9_https_is_served_with_hsts_and_secure_staff_cookies() {
    let server = start().await;
    assert!(server.secure_cookies, "TLS implies admin.https: Secure, __Host- staff cookies");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server.cert_pem.as_bytes()).expect("cert"))
        .resolve("localhost", server.https)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let url = format!("https://localhost:{}/", server.https.port());
    let res = client.get(&url).send().await.expect("https request");
    assert_eq!(res.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()), Some(HSTS));
    assert!(res.headers().get("x-request-id").is_some(), "the site's own layers answered");
    assert!(res.headers().get("server").is_none());
    // The admin's sign-in page over TLS: every cookie it sets is Secure.
    let res = client.get(format!("https://localhost:{}/admin/login", server.https.port())).send().await.expect("admin");
    assert_eq!(res.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()), Some(HSTS));
    for cookie in res.headers().get_all("set-cookie") {
        let cookie = cookie.to_str().expect("cookie");
        assert!(cookie.contains("; Secure"), "{cookie}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd9_tls_1_2_and_1_3_work_and_tls_1_0_and_1_1_are_refused() {
    let server = start().await;
    let (version, head) = get_with_versions(&server, &[&rustls::version::TLS13]).await;
    assert_eq!(version, rustls::ProtocolVersion::TLSv1_3);
    assert!(head.contains(&format!("strict-transport-security: {HSTS}").to_ascii_lowercase()), "{head}");
    let (version, head) = get_with_versions(&server, &[&rustls::version::TLS12]).await;
    assert_eq!(version, rustls::ProtocolVersion::TLSv1_2);
    assert!(head.starts_with("http/1.1 "), "{head}");

    // The control: the same old-style hello at TLS 1.2 gets a ServerHello (handshake record 22).
    let first_record = |version: u16| async move {
        let mut tcp = TcpStream::connect(server.https).await.expect("connect");
        tcp.write_all(&legacy_client_hello(version)).await.expect("hello");
        let mut answer = vec![0u8; 7];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_exact(&mut answer)).await;
        assert!(matches!(read, Ok(Ok(_))), "an answer to {version:04x}");
        answer
    };
    let answer = first_record(0x0303).await;
    assert_eq!((answer[0], answer[5]), (0x16, 2), "TLS 1.2 hello gets a ServerHello: {answer:02x?}");
    for (legacy, name) in [(0x0302, "TLS 1.1"), (0x0301, "TLS 1.0")] {
        let answer = first_record(legacy).await;
        // A fatal (2) alert record (21), protocol_version (70): never a ServerHello.
        assert_eq!(answer[0], 0x15, "{name}: {answer:02x?}");
        assert_eq!(&answer[5..7], &[2u8, 70u8][..], "{name}: fatal protocol_version alert, {answer:02x?}");
    }

    // Plain HTTP on the TLS port gets no page.
    let mut tcp = TcpStream::connect(server.https).await.expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).contains("<html"), "no page over plain HTTP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd9_the_plain_http_port_redirects_to_https_with_host_and_path() {
    let server = start().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let res = client
        .get(format!("http://{}/ru/news/some-article?page=2", server.redirect))
        .header("host", "baq.test")
        .send()
        .await
        .expect("plain request");
    assert_eq!(res.status().as_u16(), 308);
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).expect("location");
    assert_eq!(location, format!("https://baq.test:{}/ru/news/some-article?page=2", server.https.port()));
    // A forged Host cannot turn the redirect into a link elsewhere.
    let res = client.get(format!("http://{}/", server.redirect)).header("host", "evil.test/x").send().await.expect("x");
    assert_eq!(res.status().as_u16(), 400);
}
