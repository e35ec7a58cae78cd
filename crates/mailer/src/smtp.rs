//! Our own SMTP connections: lettre's `AsyncSmtpConnection` (its message builder and protocol
//! code) over TCP streams this module opens with `TCP_NODELAY`, kept in a small pool.
//!
//! Why not lettre's transport: lettre writes a message's body and its final `\r\n.\r\n` as two
//! writes; without `TCP_NODELAY` the terminator waits for the server's delayed ACK (≈ 40 ms on
//! Linux), which caps one connection at ≈ 20 messages a second. The pool here is also
//! predictable: a connection is reused by the next message as soon as its reply is read, a
//! connection that saw any error is closed, and one idle for a while is checked with NOOP.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use outreach_core::config::MailSettings;

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
    pub fn new(s: &MailSettings, keep: usize) -> Result<Self> {
        let host = s.smtp_host.trim();
        if host.is_empty() {
            return Err(Error::Config(
                "mail.smtp_host is empty; set it to the SMTP server's name".into(),
            ));
        }
        let security = Security::parse(&s.smtp_security)?;
        let tls = match security {
            Security::None => None,
            Security::StartTls | Security::Tls => {
                Some(TlsParameters::new(host.to_owned()).map_err(|e| {
                    Error::Config(format!(
                        "mail.smtp_host: cannot set up TLS for `{host}`: {e}"
                    ))
                })?)
            }
        };
        let credentials = (!s.smtp_username.is_empty())
            .then(|| Credentials::new(s.smtp_username.clone(), s.smtp_password.clone()));
        Ok(Self {
            host: host.to_owned(),
            port: s.smtp_port,
            security,
            tls,
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
        let mut conn = match self.security {
            Security::Tls => {
                // Implicit TLS: lettre opens the socket (it wraps its own stream in TLS before
                // the greeting), so TCP_NODELAY cannot be set; rustls' buffering keeps the two
                // writes of a message in one record more often than not.
                self.within(
                    "cannot connect",
                    AsyncSmtpConnection::connect_tokio1(
                        addr,
                        Some(self.timeout),
                        &self.hello,
                        self.tls.clone(),
                        None,
                    ),
                )
                .await?
            }
            Security::None | Security::StartTls => {
                let tcp =
                    match tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(addr))
                        .await
                    {
                        Ok(Ok(tcp)) => tcp,
                        Ok(Err(e)) => {
                            return Err(format!("cannot connect to {}: {e}", self.server()));
                        }
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
                let mut conn = self
                    .within(
                        "the server's greeting",
                        AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello),
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
                conn
            }
        };
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
