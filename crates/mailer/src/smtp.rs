//! Our own SMTP connections: lettre's `AsyncSmtpConnection` (its message builder and protocol
//! code) over TCP streams this module opens with `TCP_NODELAY`, kept in a small pool.
//!
//! Why not lettre's transport: lettre writes a message's body and its final `\r\n.\r\n` as two
//! writes; without `TCP_NODELAY` the terminator waits for the server's delayed ACK (≈ 40 ms on
//! Linux), which caps one connection at ≈ 20 messages a second. The pool here is also
//! predictable: a connection is reused by the next message as soon as its reply is read, a
//! connection that saw any error is closed, and one idle for a while is checked with NOOP.
//!
//! All three kinds of connection run over a socket opened here with `TCP_NODELAY`: plain, STARTTLS
//! (lettre upgrades our socket in place) and implicit TLS (a rustls stream over our socket, handed
//! to lettre as an already-open stream). Certificates are checked against the public web roots and,
//! when `mail.smtp_ca_file` names a PEM file, the authorities in it as well (a relay with a
//! certificate from an organisation's own authority).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::settings::MailSettings;
use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, pki_types};

use crate::error::{Error, Result};
use crate::transport::{Outcome, Security, classify};

/// A connection idle longer than this is checked with NOOP before it carries a message.
const CHECK_AFTER: Duration = Duration::from_secs(2);
/// A connection idle longer than this is closed instead of reused (servers drop idle clients).
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// Connections to one SMTP server, opened on demand and reused.
pub struct SmtpPool {
    host: String,
    port: u16,
    security: Security,
    tls: Option<TlsParameters>,
    /// For implicit TLS: the same trust as `tls`, for the rustls stream opened here.
    implicit_tls: Option<(TlsConnector, pki_types::ServerName<'static>)>,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    /// How many idle connections are kept; 0 closes each after its message.
    keep: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    opened: AtomicU64,
}

impl std::fmt::Debug for SmtpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpPool")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

impl SmtpPool {
    /// Checks the SMTP settings and builds the pool; no connection is opened yet.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting that is wrong.
    pub fn new(s: &MailSettings, keep: usize, base: &Path) -> Result<Self> {
        let host = s.smtp_host.trim();
        if host.is_empty() {
            return Err(Error::Config(
                "mail.smtp_host is empty; set it to the SMTP server's name".into(),
            ));
        }
        let security = Security::parse(&s.smtp_security)?;
        let (tls, implicit_tls) = match security {
            Security::None => (None, None),
            Security::StartTls | Security::Tls => {
                let extra = extra_roots(s, base)?;
                let tls_error = |e: &dyn std::fmt::Display| {
                    Error::Config(format!(
                        "mail.smtp_host: cannot set up TLS for `{host}`: {e}"
                    ))
                };
                let mut builder = TlsParameters::builder(host.to_owned());
                for der in &extra {
                    builder = builder.add_root_certificate(
                        Certificate::from_der(der.to_vec()).map_err(|e| tls_error(&e))?,
                    );
                }
                let params = builder.build_rustls().map_err(|e| tls_error(&e))?;
                let implicit = if security == Security::Tls {
                    let mut roots = rustls::RootCertStore::empty();
                    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                    for der in extra {
                        roots.add(der).map_err(|e| tls_error(&e))?;
                    }
                    let provider = Arc::new(rustls::crypto::ring::default_provider());
                    let config = rustls::ClientConfig::builder_with_provider(provider)
                        .with_safe_default_protocol_versions()
                        .map_err(|e| tls_error(&e))?
                        .with_root_certificates(roots)
                        .with_no_client_auth();
                    let name = pki_types::ServerName::try_from(host.to_owned())
                        .map_err(|e| tls_error(&e))?;
                    Some((TlsConnector::from(Arc::new(config)), name))
                } else {
                    None
                };
                (Some(params), implicit)
            }
        };
        let credentials = (!s.smtp_username.is_empty())
            .then(|| Credentials::new(s.smtp_username.clone(), s.smtp_password.clone()));
        Ok(Self {
            host: host.to_owned(),
            port: s.smtp_port,
            security,
            tls,
            implicit_tls,
            credentials,
            timeout: Duration::from_secs(s.smtp_timeout_secs.max(1)),
            hello: ClientId::default(),
            keep,
            idle: Mutex::new(Vec::new()),
            opened: AtomicU64::new(0),
        })
    }

    /// `host:port`.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// How many connections this pool has opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(AsyncSmtpConnection, Instant)>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn within<T>(
        &self,
        what: &str,
        fut: impl Future<Output = std::result::Result<T, lettre::transport::smtp::Error>>,
    ) -> std::result::Result<T, String> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("{what}: {e}")),
            Err(_) => Err(format!(
                "{what}: no answer from {} within {} s",
                self.server(),
                self.timeout.as_secs()
            )),
        }
    }

    /// Opens, greets, secures and authenticates a new connection.
    async fn connect(&self) -> std::result::Result<AsyncSmtpConnection, String> {
        let addr = (self.host.as_str(), self.port);
        let tcp = match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(format!("cannot connect to {}: {e}", self.server())),
            Err(_) => {
                return Err(format!(
                    "cannot connect to {}: no answer within {} s",
                    self.server(),
                    self.timeout.as_secs()
                ));
            }
        };
        tcp.set_nodelay(true)
            .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit_tls {
            Some((connector, name)) => {
                let tls =
                    match tokio::time::timeout(self.timeout, connector.connect(name.clone(), tcp))
                        .await
                    {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            return Err(format!("TLS with {}: {e}", self.server()));
                        }
                        Err(_) => {
                            return Err(format!(
                                "TLS with {}: no answer within {} s",
                                self.server(),
                                self.timeout.as_secs()
                            ));
                        }
                    };
                Box::new(TlsOverTcp(tls))
            }
            None => Box::new(tcp),
        };
        let mut conn = self
            .within(
                "the server's greeting",
                AsyncSmtpConnection::connect_with_transport(stream, &self.hello),
            )
            .await?;
        if self.security == Security::StartTls {
            if !conn.can_starttls() {
                conn.abort().await;
                // Required: never fall back to plain text.
                return Err(format!(
                    "{} does not offer STARTTLS, which mail.smtp_security = \"starttls\" requires; \
                     nothing was sent in plain text",
                    self.server()
                ));
            }
            let tls = self.tls.clone().ok_or("STARTTLS without TLS parameters")?;
            self.within("STARTTLS", conn.starttls(tls, &self.hello))
                .await?;
        }
        if let Some(credentials) = &self.credentials
            && let Err(e) = self
                .within(
                    "AUTH",
                    conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials),
                )
                .await
        {
            conn.abort().await;
            return Err(e);
        }
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(conn)
    }

    /// An idle connection that still answers, if there is one.
    async fn checkout(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = self.idle().pop()?;
            let idle_for = since.elapsed();
            if idle_for > IDLE_LIMIT {
                conn.abort().await;
                continue;
            }
            if idle_for > CHECK_AFTER
                && !tokio::time::timeout(self.timeout, conn.test_connected())
                    .await
                    .unwrap_or(false)
            {
                conn.abort().await;
                continue;
            }
            return Some(conn);
        }
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle();
        if idle.len() < self.keep && !conn.has_broken() {
            idle.push((conn, Instant::now()));
        }
        // Otherwise the connection is dropped, which closes the socket.
    }

    /// Delivers one message on a reused or a new connection.
    pub async fn send(&self, message: &Message) -> Outcome {
        let mut conn = match self.checkout().await {
            Some(conn) => conn,
            None => match self.connect().await {
                Ok(conn) => conn,
                Err(reason) => return Outcome::Transient { reason },
            },
        };
        let bytes = message.formatted();
        match tokio::time::timeout(self.timeout, conn.send(message.envelope(), &bytes)).await {
            Ok(result) => {
                if !conn.has_broken() {
                    self.checkin(conn);
                }
                classify(result)
            }
            Err(_) => {
                // The server may yet accept it: the retry carries the same Message-ID.
                Outcome::Transient {
                    reason: format!(
                        "no answer from {} within {} s while sending",
                        self.server(),
                        self.timeout.as_secs()
                    ),
                }
            }
        }
    }

    /// Says goodbye on every idle connection.
    pub async fn close(&self) {
        let idle: Vec<_> = std::mem::take(&mut *self.idle());
        for (mut conn, _) in idle {
            let _ = tokio::time::timeout(Duration::from_secs(1), conn.quit()).await;
        }
    }
}

/// Reads `mail.smtp_ca_file`: the extra authorities to trust, in PEM.
fn extra_roots(s: &MailSettings, base: &Path) -> Result<Vec<pki_types::CertificateDer<'static>>> {
    use pki_types::pem::PemObject;
    let given = s.smtp_ca_file.trim();
    if given.is_empty() {
        return Ok(Vec::new());
    }
    let path = base.join(given);
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::Config(format!(
            "mail.smtp_ca_file: cannot read {}: {e}; name a PEM file of certificates, or leave it empty",
            path.display()
        ))
    })?;
    let certs = pki_types::CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::Config(format!(
                "mail.smtp_ca_file: {} is not a PEM certificate file: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "mail.smtp_ca_file: {} holds no certificate (a PEM file has \
             -----BEGIN CERTIFICATE----- blocks)",
            path.display()
        )));
    }
    Ok(certs)
}

/// A TLS stream over our own socket, in the form lettre takes an already-open stream.
#[derive(Debug)]
struct TlsOverTcp(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsOverTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsOverTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsOverTcp {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}
