//! TLS for litmus and http checks (rustls with the ring provider), bounded by the check's one
//! deadline: the handshake is driven here record by record, each socket read and write given
//! only what is left of the budget, so a server that hangs or trickles its handshake fails the
//! check at the deadline (rustls' own `complete_io` loop would restart the per-read timeout).
//!
//! One [`Connector`] per prober: its `ClientConfig` keeps rustls' client session cache, so a new
//! connection to the same node resumes the session (an abbreviated handshake) when the server
//! allows it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::plan::{PlanError, TlsPlan};
use super::{CheckError, Phase};

/// Most CA certificates read from one file or the system store (a bound on hostile input; the
/// Debian store has about 150).
const CA_LIMIT: usize = 4096;

/// A TLS client setup for one node: configuration (trust, session cache) and the name to verify.
#[derive(Clone)]
pub struct Connector {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    /// What is trusted, for error messages ("the system CA store", "CA file …").
    trust: Arc<str>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("name", &self.name)
            .finish()
    }
}

/// ring, not aws-lc-rs: it builds with a C compiler alone (no cmake, nasm). rustls marks ring's
/// default provider deprecated for lacking post-quantum key exchange, which a health check on a
/// private network does not need.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Connector {
    pub fn new(plan: &TlsPlan) -> Result<Connector, PlanError> {
        let name =
            ServerName::try_from(plan.server_name.clone()).map_err(|e| PlanError::ServerName {
                name: plan.server_name.clone(),
                detail: e.to_string(),
            })?;
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| PlanError::SystemStore(e.to_string()))?;
        let config = if plan.verify {
            let roots = match &plan.ca_file {
                Some(path) => roots_from_file(path)?,
                None => system_roots()?,
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
                .with_no_client_auth()
        };
        let trust: Arc<str> = match &plan.ca_file {
            Some(p) => format!("CA file {}", p.display()).into(),
            None => "the system CA store".into(),
        };
        Ok(Connector {
            config: Arc::new(config),
            name,
            trust,
        })
    }

    /// A new client connection to the node (sans I/O: the caller moves its records).
    pub fn client(&self) -> Result<ClientConnection, CheckError> {
        ClientConnection::new(self.config.clone(), self.name.clone())
            .map_err(|e| CheckError::Tls(e.to_string()))
    }

    /// What a failed handshake step (`e`: a socket error, or rustls' error wrapped as
    /// `InvalidData`) means for the check, in an operator's words.
    pub fn handshake_error(&self, e: &io::Error, budget_ms: u64) -> CheckError {
        let timeout = CheckError::Timeout {
            phase: Phase::Handshake,
            budget_ms,
        };
        handshake_error(e, &timeout, &self.trust)
    }

    /// Handshakes on `sock` before `deadline`.
    pub fn connect(
        &self,
        sock: TcpStream,
        deadline: Instant,
        budget_ms: u64,
    ) -> Result<TlsStream, CheckError> {
        let conn = ClientConnection::new(self.config.clone(), self.name.clone())
            .map_err(|e| CheckError::Tls(e.to_string()))?;
        let mut s = TlsStream {
            conn,
            sock,
            deadline: Some(deadline),
        };
        let timeout = CheckError::Timeout {
            phase: Phase::Handshake,
            budget_ms,
        };
        while s.conn.is_handshaking() {
            s.flush_tls()
                .map_err(|e| handshake_error(&e, &timeout, &self.trust))?;
            if !s.conn.is_handshaking() {
                break;
            }
            match s.read_tls() {
                Ok(0) => {
                    return Err(CheckError::Closed {
                        phase: Phase::Handshake,
                    })
                }
                Ok(_) => {}
                Err(e) => {
                    // Tell the server why (an alert) when rustls has one to send; best effort.
                    let _ = s.flush_tls();
                    return Err(handshake_error(&e, &timeout, &self.trust));
                }
            }
        }
        s.flush_tls()
            .map_err(|e| handshake_error(&e, &timeout, &self.trust))?;
        Ok(s)
    }
}

fn handshake_error(e: &io::Error, timeout: &CheckError, trust: &str) -> CheckError {
    use rustls::CertificateError as C;
    let tls = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    if let Some(rustls::Error::InvalidCertificate(c)) = tls {
        // The cases an operator meets most, said in their words; rustls' own text otherwise.
        let hint = match c {
            C::UnknownIssuer => Some(format!("certificate not signed by a CA in {trust}")),
            C::BadSignature => Some(format!("certificate signature does not verify ({trust})")),
            C::Revoked => Some("certificate revoked".to_string()),
            _ => None,
        };
        if let Some(h) = hint {
            return CheckError::Tls(h);
        }
    }
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timeout.clone(),
        io::ErrorKind::InvalidData => {
            let text = e.to_string();
            // A peer answering in plaintext shows up as a record type rustls does not know.
            if text.contains("corrupt message") || text.contains("InvalidContentType") {
                CheckError::Tls(format!("{text} (is the port speaking TLS?)"))
            } else {
                CheckError::Tls(text)
            }
        }
        _ => CheckError::io(Phase::Handshake, e),
    }
}

fn roots_from_file(path: &std::path::Path) -> Result<RootCertStore, PlanError> {
    let err = |detail: String| PlanError::CaFile {
        path: path.display().to_string(),
        detail,
    };
    let mut roots = RootCertStore::empty();
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| err(e.to_string()))?;
    for (i, cert) in iter.enumerate() {
        if i >= CA_LIMIT {
            return Err(err(format!("more than {CA_LIMIT} certificates")));
        }
        let cert = cert.map_err(|e| err(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| err(format!("certificate {}: {e}", i.saturating_add(1))))?;
    }
    if roots.is_empty() {
        return Err(err("no PEM certificate in it".into()));
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, PlanError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (_added, _ignored) =
        roots.add_parsable_certificates(found.certs.into_iter().take(CA_LIMIT));
    if roots.is_empty() {
        let why = found
            .errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no certificate found (is ca-certificates installed?)".into());
        return Err(PlanError::SystemStore(why));
    }
    Ok(roots)
}

/// `tls_verify = false`: any certificate for any name is accepted. The handshake's signatures
/// are still checked against the presented key (so the session is encrypted to whoever holds
/// it), but who that is, is not verified: the check proves only that something answered.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TLS connection whose every socket operation ends by `deadline` (set through the
/// `set_*_timeout` calls the HTTP client makes before each read and write).
pub struct TlsStream {
    conn: ClientConnection,
    sock: TcpStream,
    deadline: Option<Instant>,
}

impl TlsStream {
    /// Whether the handshake resumed an earlier session (no certificate exchange).
    pub fn resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    fn left(&self) -> io::Result<Option<Duration>> {
        match self.deadline {
            None => Ok(None),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(io::Error::new(io::ErrorKind::TimedOut, "check deadline"))
                } else {
                    Ok(Some(left))
                }
            }
        }
    }

    /// Writes every pending TLS record.
    fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            let left = self.left()?;
            self.sock.set_write_timeout(left)?;
            self.conn.write_tls(&mut self.sock)?;
        }
        Ok(())
    }

    /// Reads one batch of TLS records and processes them; 0 means the peer closed.
    fn read_tls(&mut self) -> io::Result<usize> {
        let left = self.left()?;
        self.sock.set_read_timeout(left)?;
        let n = loop {
            match self.conn.read_tls(&mut self.sock) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        if n > 0 {
            self.conn
                .process_new_packets()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
        Ok(n)
    }

    pub fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.deadline = t.and_then(|t| Instant::now().checked_add(t));
        Ok(())
    }

    pub fn set_write_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(t)
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                // Closed without close_notify: for a health answer, as good as a close.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            self.flush_tls()?;
            if self.read_tls()? == 0 {
                return Ok(0);
            }
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.conn.writer().write(buf)?;
        self.flush_tls()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()
    }
}
