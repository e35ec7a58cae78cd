//! A real SMTP server for tests, speaking the protocol over TCP on 127.0.0.1: enough of RFC 5321
//! (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) for a real client to
//! deliver to it, and scriptable so tests can make it refuse (`451`, `550`) or drop the
//! connection. It keeps every accepted message and counts connections.
//!
//! It can also speak TLS, as a real relay does: STARTTLS (RFC 3207) or implicit TLS, with a
//! certificate made for the test by a throwaway certificate authority ([`TestCa`]), and AUTH PLAIN
//! and LOGIN (RFC 4954), offered only once the connection is encrypted and then required before
//! MAIL. [`SmtpServer::start_with`] takes the [`Options`].
//!
//! "Down at first" is a port nobody listens on: [`free_port`] gives one, and
//! [`SmtpServer::start_on`] brings the server up on it later.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent (headers and body), dot-unstuffed, with CRLF line ends.
    pub data: String,
    /// Whether the message came over an encrypted connection.
    pub encrypted: bool,
    /// The user name the client authenticated as, if it did.
    pub authenticated_as: Option<String>,
    /// When the server accepted it (just before its `250` reply went out).
    pub received_at: std::time::SystemTime,
}

/// How the server secures its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// Plain text only; STARTTLS is not offered.
    #[default]
    Plain,
    /// Plain at first, STARTTLS offered.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// What a server started with [`SmtpServer::start_with`] speaks.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub security: Security,
    /// A user name and password; when set, AUTH is offered on encrypted connections and required
    /// before MAIL.
    pub login: Option<(String, String)>,
}

/// A certificate authority made for one test, and a server certificate it signed for
/// `localhost` and `127.0.0.1`.
pub struct TestCa {
    /// The authority's certificate in PEM: what a client must trust.
    pub ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// Makes a fresh authority and server certificate.
    ///
    /// # Panics
    /// When key generation fails.
    pub fn new() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "outreach test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");
        let key = KeyPair::generate().expect("server key");
        let cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server parameters")
            .signed_by(&key, &ca)
            .expect("server certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .expect("server TLS configuration");
        Self {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// How the server answers one message (one MAIL transaction). Unscripted messages are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `250` after DATA.
    Accept,
    /// This reply (such as `550 5.1.1 No such user`) to RCPT TO.
    RejectRecipient(String),
    /// This reply (such as `451 4.3.0 Try again later`) after the message's data.
    RejectData(String),
    /// Close the connection without answering the end of DATA.
    DropAfterData,
    /// `250` after DATA, but only after this long (a slow relay).
    AcceptAfter(Duration),
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Reply>,
    received: Vec<Received>,
    connections: usize,
    /// Replies the server sent to end-of-DATA or RCPT, in order.
    replies: Vec<String>,
    /// Messages whose data has arrived and whose reply has not been sent yet, now and at most.
    in_flight: usize,
    max_in_flight: usize,
}

/// A running server; stopped when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
    ca: Option<Arc<TestCa>>,
}

/// A port on 127.0.0.1 that was free a moment ago (connections to it are refused).
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

impl SmtpServer {
    /// Starts a server on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When it cannot listen.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts a server on `port` of 127.0.0.1 (0 for any free port).
    ///
    /// # Panics
    /// When it cannot listen.
    pub async fn start_on(port: u16) -> Self {
        Self::listen(port, Options::default()).await
    }

    /// Starts a server on a free port of 127.0.0.1 that speaks what `options` say; with TLS,
    /// under a fresh [`TestCa`] whose certificate [`SmtpServer::ca_pem`] gives.
    ///
    /// # Panics
    /// When it cannot listen.
    pub async fn start_with(options: Options) -> Self {
        Self::listen(0, options).await
    }

    /// The PEM certificate of the authority that signed this server's certificate (TLS only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_deref().map(|ca| ca.ca_pem.as_str())
    }

    async fn listen(port: u16, options: Options) -> Self {
        let ca = (options.security != Security::Plain).then(|| Arc::new(TestCa::new()));
        let acceptor = ca
            .as_ref()
            .map(|ca| TlsAcceptor::from(Arc::clone(&ca.server)));
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("test SMTP server cannot listen on port {port}: {e}"));
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.lock().expect("state").connections += 1;
                let st = Arc::clone(&shared);
                let (acceptor, options) = (acceptor.clone(), options.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, st, acceptor, options).await;
                });
            }
        });
        Self {
            addr,
            state,
            task,
            ca,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Queues how the next messages are answered, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().expect("state").script.extend(replies);
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("state").received.clone()
    }

    /// How many messages were accepted so far (without copying them, for observers that must
    /// stay light while they watch a burst).
    pub fn count(&self) -> usize {
        self.state.lock().expect("state").received.len()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.lock().expect("state").connections
    }

    /// The replies given to RCPT TO refusals and to each end of DATA, in order.
    pub fn replies(&self) -> Vec<String> {
        self.state.lock().expect("state").replies.clone()
    }

    /// Messages received and not answered yet (see [`Reply::AcceptAfter`]).
    pub fn in_flight(&self) -> usize {
        self.state.lock().expect("state").in_flight
    }

    /// The most messages that were ever waiting for their reply at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("state").max_in_flight
    }

    /// Waits until `n` messages have arrived or `timeout` passes; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg.rfind('>').unwrap_or(arg.len());
    arg.get(start..end).unwrap_or_default().trim().to_owned()
}

/// One client's connection, from the greeting (or the TLS handshake) to its end.
async fn serve(
    stream: TcpStream,
    state: Arc<Mutex<State>>,
    acceptor: Option<TlsAcceptor>,
    options: Options,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let acceptor = match (options.security, acceptor) {
        (Security::Plain, _) | (_, None) => {
            session(stream, &state, &options, Phase::Plain).await?;
            return Ok(());
        }
        (_, Some(acceptor)) => acceptor,
    };
    if options.security == Security::Tls {
        let tls = acceptor.accept(stream).await?;
        session(tls, &state, &options, Phase::Encrypted { greet: true }).await?;
        return Ok(());
    }
    if let Some(stream) = session(stream, &state, &options, Phase::OffersStartTls).await? {
        let tls = acceptor.accept(stream).await?;
        // RFC 3207: no greeting after STARTTLS; the client starts again with EHLO.
        session(tls, &state, &options, Phase::Encrypted { greet: false }).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Plain,
    OffersStartTls,
    Encrypted { greet: bool },
}

fn decode(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Writes and flushes (TLS keeps what is written until flushed).
async fn say<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    bytes: &[u8],
) -> std::io::Result<()> {
    io.write_all(bytes).await?;
    io.flush().await
}

/// Reads one line, without its line end; `None` at the end of the connection.
async fn next_line<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if io.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Speaks SMTP on `stream`. Returns the stream when the client asked for STARTTLS, for the
/// caller to encrypt; `None` when the connection ended.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    state: &Mutex<State>,
    options: &Options,
    phase: Phase,
) -> std::io::Result<Option<S>> {
    let encrypted = matches!(phase, Phase::Encrypted { .. });
    let mut io = BufReader::new(stream);
    if phase != (Phase::Encrypted { greet: false }) {
        say(&mut io, b"220 localhost ESMTP outreach-testkit\r\n").await?;
    }
    let offers_auth = encrypted && options.login.is_some();
    let mut authenticated_as: Option<String> = None;
    let mut from = String::new();
    let mut rcpt = Vec::new();
    let mut current: Option<Reply> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let cmd = line.trim_end_matches(['\r', '\n']).to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let mut r =
                String::from("250-localhost greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n");
            if phase == Phase::OffersStartTls {
                r.push_str("250-STARTTLS\r\n");
            }
            if offers_auth {
                r.push_str("250-AUTH PLAIN LOGIN\r\n");
            }
            r.push_str("250 SIZE 10485760");
            r
        } else if upper.starts_with("HELO") {
            "250 localhost".into()
        } else if upper == "STARTTLS" && phase == Phase::OffersStartTls {
            io.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
            io.flush().await?;
            return Ok(Some(io.into_inner()));
        } else if upper.starts_with("AUTH ") && offers_auth {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            let mechanism = words.get(1).map(|m| m.to_ascii_uppercase());
            let given: Option<(String, String)> = match mechanism.as_deref() {
                Some("PLAIN") => {
                    let b64 = match words.get(2) {
                        Some(b64) => (*b64).to_owned(),
                        None => {
                            say(&mut io, b"334 \r\n").await?;
                            next_line(&mut io).await?.unwrap_or_default()
                        }
                    };
                    decode(&b64).and_then(|text| {
                        let mut parts = text.split('\0');
                        let _authzid = parts.next()?;
                        Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
                    })
                }
                Some("LOGIN") => {
                    say(&mut io, b"334 VXNlcm5hbWU6\r\n").await?;
                    let user = next_line(&mut io).await?.unwrap_or_default();
                    say(&mut io, b"334 UGFzc3dvcmQ6\r\n").await?;
                    let pass = next_line(&mut io).await?.unwrap_or_default();
                    decode(&user).zip(decode(&pass))
                }
                _ => None,
            };
            match (given, &options.login) {
                (Some(given), Some(login)) if &given == login => {
                    authenticated_as = Some(given.0);
                    "235 2.7.0 Authentication successful".into()
                }
                _ => "535 5.7.8 Authentication credentials invalid".into(),
            }
        } else if upper.starts_with("MAIL FROM:") {
            if options.login.is_some() && authenticated_as.is_none() {
                "530 5.7.0 Authentication required".into()
            } else {
                from = address(&cmd[10..]);
                rcpt.clear();
                current = Some(
                    state
                        .lock()
                        .expect("state")
                        .script
                        .pop_front()
                        .unwrap_or(Reply::Accept),
                );
                "250 2.1.0 Ok".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            if let Some(Reply::RejectRecipient(r)) = &current {
                state.lock().expect("state").replies.push(r.clone());
                r.clone()
            } else {
                rcpt.push(address(&cmd[8..]));
                "250 2.1.5 Ok".into()
            }
        } else if upper == "DATA" {
            if rcpt.is_empty() {
                "554 5.5.1 No valid recipients".into()
            } else {
                say(&mut io, b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if io.read_line(&mut line).await? == 0 {
                        return Ok(None);
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                let reply = current.take().unwrap_or(Reply::Accept);
                if let Reply::AcceptAfter(wait) = reply {
                    {
                        let mut st = state.lock().expect("state");
                        st.in_flight += 1;
                        st.max_in_flight = st.max_in_flight.max(st.in_flight);
                    }
                    tokio::time::sleep(wait).await;
                    state.lock().expect("state").in_flight -= 1;
                }
                match reply {
                    Reply::DropAfterData => return Ok(None),
                    Reply::RejectData(r) => {
                        state.lock().expect("state").replies.push(r.clone());
                        r
                    }
                    Reply::Accept | Reply::AcceptAfter(_) | Reply::RejectRecipient(_) => {
                        let mut st = state.lock().expect("state");
                        st.received.push(Received {
                            mail_from: from.clone(),
                            rcpt_to: rcpt.clone(),
                            data,
                            encrypted,
                            authenticated_as: authenticated_as.clone(),
                            received_at: std::time::SystemTime::now(),
                        });
                        let r = format!("250 2.0.0 Ok: queued as {}", st.received.len());
                        st.replies.push(r.clone());
                        r
                    }
                }
            }
        } else if upper == "RSET" {
            rcpt.clear();
            current = None;
            "250 2.0.0 Ok".into()
        } else if upper == "NOOP" {
            "250 2.0.0 Ok".into()
        } else if upper == "QUIT" {
            io.write_all(b"221 2.0.0 Bye\r\n").await?;
            io.flush().await?;
            return Ok(None);
        } else {
            "502 5.5.2 Command not recognised".into()
        };
        // One write per reply: split writes meet Nagle's algorithm and delayed ACKs and stall
        // each command for tens of milliseconds.
        io.write_all(format!("{reply}\r\n").as_bytes()).await?;
        io.flush().await?;
    }
}
