//! TLS (feature `tls`): Rust to Rust, Rust to Python aiomas and back with `ssl=`, both codecs,
//! client certificates, and what each wrong setting or wrong peer gets. The certificates are
//! made by each test ([`tests::certs::Pki`]).

use std::time::Duration;

use examples::interop;
use rpc_core::tls::rustls::{self, CertificateError};
use rpc_core::tls::{ClientTls, ServerTls, TlsError};
use rpc_core::{
    Codec, Connection, DynCall, Error, Kwargs, Router, Server, ServiceDict, ServiceRef,
};
use tempfile::TempDir;
use tests::certs::Pki;
use tests::python::{python, Proc};

/// Bound for a whole test.
const WHOLE: Duration = Duration::from_secs(60);

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(WHOLE, f)
        .await
        .expect("the test did not finish in time")
}

fn codecs() -> [(Codec, &'static str); 2] {
    [(Codec::msgpack(), "msgpack"), (Codec::json(), "json")]
}

async fn tls_server(pki: &Pki, codec: Codec, require_client_cert: bool) -> Server {
    let mut tls = ServerTls::pem(&pki.server.cert, &pki.server.key);
    if require_client_cert {
        tls = tls.client_ca_pem(&pki.ca.cert);
    }
    Server::builder(interop::router())
        .codec(codec)
        .tls(tls.build().expect("server TLS settings"))
        .bind("127.0.0.1:0")
        .await
        .expect("bind")
}

fn client_tls(pki: &Pki, with_cert: bool) -> ClientTls {
    let mut b = ClientTls::builder().ca_pem(&pki.ca.cert);
    if with_cert {
        b = b.client_cert_pem(&pki.client.cert, &pki.client.key);
    }
    b.build().expect("client TLS settings")
}

/// The [`TlsError`] inside a failed connect.
fn tls_error(e: &Error) -> &TlsError {
    match e {
        Error::Connect { source, .. } => source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TlsError>())
            .unwrap_or_else(|| panic!("expected a TLS error inside, got {source:?}")),
        other => panic!("expected Error::Connect, got {other:?}"),
    }
}

#[tokio::test]
async fn rust_client_calls_rust_server_over_tls_with_both_codecs() {
    bounded(async {
        let pki = Pki::new("test CA");
        for (codec, name) in codecs() {
            let server = tls_server(&pki, codec.clone(), false).await;
            let conn = Connection::builder()
                .codec(codec)
                .tls(client_tls(&pki, false))
                .connect(server.local_addr())
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let sum: i64 = conn.remote().get("add").call((1, 2)).await.unwrap();
            assert_eq!(sum, 3, "{name}");
            let product: i64 = conn
                .remote()
                .get("sub")
                .get("mul")
                .call((3, 5))
                .await
                .unwrap();
            assert_eq!(product, 15, "{name}");
            conn.close().await;
            server.shutdown().await;
        }
    })
    .await
}

#[tokio::test]
async fn client_certificate_is_checked_when_the_server_requires_one() {
    bounded(async {
        let pki = Pki::new("test CA");
        let server = tls_server(&pki, Codec::msgpack(), true).await;
        let conn = Connection::builder()
            .tls(client_tls(&pki, true))
            .connect(server.local_addr())
            .await
            .unwrap();
        let sum: i64 = conn.remote().get("add").call((2, 2)).await.unwrap();
        assert_eq!(sum, 4);
        conn.close().await;

        // Without a certificate: TLS 1.3 lets the client finish its handshake before the
        // server checks, so the refusal arrives as the connection ending, and no call is served.
        let conn = Connection::builder()
            .tls(client_tls(&pki, false))
            .connect(server.local_addr())
            .await
            .unwrap();
        let err = conn
            .remote()
            .get("add")
            .call::<i64>((1, 1))
            .await
            .unwrap_err();
        assert!(
            err.is_connection_reset(),
            "expected the connection to be refused, got {err:?}"
        );
        assert!(
            err.to_string().contains("CertificateRequired"),
            "the error should say a certificate was required: {err}"
        );
        server.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn client_with_the_wrong_ca_is_refused_with_a_clear_error() {
    bounded(async {
        let pki = Pki::new("test CA");
        let other = Pki::new("another CA");
        let server = tls_server(&pki, Codec::msgpack(), false).await;
        let err = Connection::builder()
            .tls(client_tls(&other, false))
            .connect(server.local_addr())
            .await
            .unwrap_err();
        match tls_error(&err) {
            TlsError::Handshake {
                source: rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
                ..
            } => {}
            other => panic!("expected an unknown-issuer handshake error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot connect to {}: TLS handshake with {} failed",
                server.local_addr(),
                server.local_addr()
            )),
            "{text}"
        );
        assert!(
            text.contains("not signed by a CA that this side trusts"),
            "{text}"
        );

        // The server goes on serving clients that trust it.
        let conn = Connection::builder()
            .tls(client_tls(&pki, false))
            .connect(server.local_addr())
            .await
            .unwrap();
        let sum: i64 = conn.remote().get("add").call((1, 2)).await.unwrap();
        assert_eq!(sum, 3);
        conn.close().await;
        server.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn certificate_for_another_name_is_refused() {
    bounded(async {
        let pki = Pki::new("test CA");
        let server = tls_server(&pki, Codec::msgpack(), false).await;
        let tls = client_tls(&pki, false)
            .with_server_name("other.example")
            .unwrap();
        let err = Connection::builder()
            .tls(tls)
            .connect(server.local_addr())
            .await
            .unwrap_err();
        assert!(
            matches!(
                tls_error(&err),
                TlsError::Handshake {
                    source: rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForName
                            | CertificateError::NotValidForNameContext { .. }
                    ),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("does not name the address connected to"),
            "{err}"
        );
        // `localhost` is on the certificate.
        let conn = Connection::builder()
            .tls(
                client_tls(&pki, false)
                    .with_server_name("localhost")
                    .unwrap(),
            )
            .connect(server.local_addr())
            .await
            .unwrap();
        conn.close().await;
        server.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn tls_client_to_a_plain_server_fails_to_connect() {
    bounded(async {
        let pki = Pki::new("test CA");
        let server = Server::builder(interop::router())
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let err = Connection::builder()
            .tls(client_tls(&pki, false))
            .connect(server.local_addr())
            .await
            .unwrap_err();
        // The plain server reads the ClientHello as a frame far over its limit and hangs up.
        assert!(
            matches!(tls_error(&err), TlsError::HandshakeIo { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("does the peer speak TLS?"),
            "{err}"
        );
        server.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn plain_client_to_a_tls_server_gets_no_service() {
    bounded(async {
        let pki = Pki::new("test CA");
        let server = tls_server(&pki, Codec::msgpack(), false).await;
        let conn = Connection::builder()
            .connect(server.local_addr())
            .await
            .unwrap();
        let err = conn
            .remote()
            .get("add")
            .call::<i64>((1, 2))
            .await
            .unwrap_err();
        assert!(err.is_connection_reset(), "{err:?}");
        server.shutdown().await;
    })
    .await
}

#[test]
fn bad_settings_are_reported_with_what_was_expected() {
    let pki = Pki::new("test CA");
    let tmp = tempfile::tempdir().unwrap();

    let missing = tmp.path().join("missing.pem");
    let err = ServerTls::pem_files(&missing, &missing)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::Read {
                what: "certificate chain",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().starts_with(&format!(
        "cannot read the certificate chain from {}: ",
        missing.display()
    )));

    let err = ServerTls::pem("not PEM at all", &pki.server.key)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no certificate chain found in the PEM bytes given: expected PEM with -----BEGIN CERTIFICATE-----"
    );

    let cert_only = tmp.path().join("cert.pem");
    std::fs::write(&cert_only, &pki.server.cert).unwrap();
    let err = ServerTls::pem_files(&cert_only, &cert_only)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::Missing {
                what: "private key",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&cert_only.display().to_string()));

    // The client's key with the server's certificate.
    let err = ServerTls::pem(&pki.server.cert, &pki.client.key)
        .build()
        .unwrap_err();
    assert!(matches!(err, TlsError::Config(_)), "{err:?}");

    let err = ServerTls::pem(&pki.server.cert, &pki.server.key)
        .client_ca_pem("")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::Missing {
                what: "CA certificate",
                ..
            }
        ),
        "{err:?}"
    );

    let err = ClientTls::builder().build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "no CA certificate found in the client's TLS settings: expected PEM with at least one CA (ClientTlsBuilder::ca_file or ca_pem)"
    );

    let err = ClientTls::builder()
        .ca_pem(&pki.ca.cert)
        .server_name("not a name!")
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid server name \"not a name!\": expected a DNS name or an IP address"
    );

    let err = ClientTls::builder()
        .ca_pem(&pki.ca.cert)
        .client_cert_pem(&pki.client.cert, "")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::Missing {
                what: "private key",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn unix_socket_needs_a_server_name() {
    bounded(async {
        let pki = Pki::new("test CA");
        let tmp = tempfile::tempdir().unwrap();
        let addr = format!("unix:{}", tmp.path().join("s.sock").display());
        let server = Server::builder(interop::router())
            .tls(
                ServerTls::pem(&pki.server.cert, &pki.server.key)
                    .build()
                    .unwrap(),
            )
            .bind(&*addr)
            .await
            .unwrap();
        let err = Connection::builder()
            .tls(client_tls(&pki, false))
            .connect(&*addr)
            .await
            .unwrap_err();
        assert!(
            matches!(tls_error(&err), TlsError::NoServerName { .. }),
            "{err:?}"
        );
        let conn = Connection::builder()
            .tls(
                client_tls(&pki, false)
                    .with_server_name("localhost")
                    .unwrap(),
            )
            .connect(&*addr)
            .await
            .unwrap();
        let sum: i64 = conn.remote().get("add").call((1, 2)).await.unwrap();
        assert_eq!(sum, 3);
        conn.close().await;
        server.shutdown().await;
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// With Python aiomas (asyncio's ssl=)

/// Writes the PKI's PEM files for the Python side.
struct Files {
    _tmp: TempDir,
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

fn files(pki: &Pki) -> Files {
    let tmp = tempfile::tempdir().unwrap();
    let path = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    Files {
        ca: path("ca.pem", &pki.ca.cert),
        server_cert: path("server.pem", &pki.server.cert),
        server_key: path("server.key", &pki.server.key),
        client_cert: path("client.pem", &pki.client.cert),
        client_key: path("client.key", &pki.client.key),
        _tmp: tmp,
    }
}

/// What the Rust client serves, so that the Python server can call it back.
fn client_service() -> Router {
    Router::new(ServiceDict::new().function("get_name", |_: DynCall| Ok("rust-tls")))
}

#[tokio::test]
async fn rust_client_calls_python_server_over_tls_with_client_certificate() {
    bounded(async {
        let Some(py) = python() else { return };
        let pki = Pki::new("test CA");
        let f = files(&pki);
        for (codec, name) in codecs() {
            let mut server = Proc::python(
                &py,
                "aiomas_tls_peer.py",
                &[
                    "server",
                    "127.0.0.1:0",
                    name,
                    &f.server_cert,
                    &f.server_key,
                    &f.ca,
                ],
            );
            let addr = server.expect_line("listening on ").await;
            let conn = Connection::builder()
                .codec(codec)
                .serve(client_service())
                .tls(client_tls(&pki, true))
                .connect(&*addr)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let remote = conn.remote();
            let sum: i64 = remote.get("add").call((1, 2)).await.unwrap();
            assert_eq!(sum, 3, "{name}");
            let product: i64 = remote
                .get("sub")
                .get("mul")
                .call_kw((3,), Kwargs::new().arg("b", 5))
                .await
                .unwrap();
            assert_eq!(product, 15, "{name}");
            let hello: String = remote
                .get("call_me_back")
                .call((ServiceRef::root(),))
                .await
                .unwrap();
            assert_eq!(hello, "hello rust-tls", "{name}");
            conn.close().await;

            // The wrong CA: refused with a clear error, the Python server unharmed.
            let other = Pki::new("another CA");
            let err = Connection::builder()
                .codec(Codec::msgpack())
                .tls(client_tls(&other, true))
                .connect(&*addr)
                .await
                .unwrap_err();
            assert!(
                err.to_string()
                    .contains("not signed by a CA that this side trusts"),
                "{name}: {err}"
            );
            drop(server);
        }
    })
    .await
}

#[tokio::test]
async fn python_client_calls_rust_server_over_tls_with_client_certificate() {
    bounded(async {
        let Some(py) = python() else { return };
        let pki = Pki::new("test CA");
        let f = files(&pki);
        for (codec, name) in codecs() {
            let server = tls_server(&pki, codec, true).await;
            let addr = server.local_addr().to_string();
            let client = Proc::python(
                &py,
                "aiomas_tls_peer.py",
                &["client", &addr, name, &f.ca, &f.client_cert, &f.client_key],
            );
            let (lines, status) = client.finish().await;
            assert!(status.success(), "{name}: {lines:?}");
            assert_eq!(
                lines,
                vec![r#"result: [3, 15, "hello python-root"]"#.to_owned()],
                "{name}"
            );

            // A Python client that trusts another CA refuses the Rust server.
            let other = Pki::new("another CA");
            let other_files = files(&other);
            let client = Proc::python(
                &py,
                "aiomas_tls_peer.py",
                &[
                    "client",
                    &addr,
                    name,
                    &other_files.ca,
                    &f.client_cert,
                    &f.client_key,
                ],
            );
            let (lines, status) = client.finish().await;
            assert!(!status.success(), "{name}: {lines:?}");
            assert!(
                lines.len() == 1 && lines[0].contains("CERTIFICATE_VERIFY_FAILED"),
                "{name}: {lines:?}"
            );
            server.shutdown().await;
        }
    })
    .await
}
