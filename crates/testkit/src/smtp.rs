//! A real SMTP server for tests, speaking the protocol over TCP on 127.0.0.1: enough of RFC 5321
//! (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) for a real client to
//! deliver to it, and scriptable so tests can make it refuse (`451`, `550`) or drop the
//! connection. It keeps every accepted message and counts connections.
//!
//! "Down at first" is a port nobody listens on: [`free_port`] gives one, and
//! [`SmtpServer::start_on`] brings the server up on it later.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent (headers and body), dot-unstuffed, with CRLF line ends.
    pub data: String,
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
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Reply>,
    received: Vec<Received>,
    connections: usize,
    /// Replies the server sent to end-of-DATA or RCPT, in order.
    replies: Vec<String>,
}

/// A running server; stopped when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
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
                tokio::spawn(async move {
                    let _ = session(stream, st).await;
                });
            }
        });
        Self { addr, state, task }
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

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.lock().expect("state").connections
    }

    /// The replies given to RCPT TO refusals and to each end of DATA, in order.
    pub fn replies(&self) -> Vec<String> {
        self.state.lock().expect("state").replies.clone()
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

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 localhost ESMTP outreach-testkit\r\n")
        .await?;
    let mut from = String::new();
    let mut rcpt = Vec::new();
    let mut current: Option<Reply> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']);
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-localhost greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760".into()
        } else if upper.starts_with("HELO") {
            "250 localhost".into()
        } else if upper.starts_with("MAIL FROM:") {
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
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                match current.take().unwrap_or(Reply::Accept) {
                    Reply::DropAfterData => return Ok(()),
                    Reply::RejectData(r) => {
                        state.lock().expect("state").replies.push(r.clone());
                        r
                    }
                    Reply::Accept | Reply::RejectRecipient(_) => {
                        let mut st = state.lock().expect("state");
                        st.received.push(Received {
                            mail_from: from.clone(),
                            rcpt_to: rcpt.clone(),
                            data,
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
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 Command not recognised".into()
        };
        // One write per reply: split writes meet Nagle's algorithm and delayed ACKs and stall
        // each command for tens of milliseconds.
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}
