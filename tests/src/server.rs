//! Starting `tailmcp serve`: one [`Builder`] for every test (flags,
//! environment, listener kind, a stand-in for `tailscale serve` in front),
//! and the running [`Tailmcp`] with what tests observe of it (its logs, its
//! full `/healthz`, the requests it has in flight).

use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::standin::{Backend, Injected, ServeStandIn};
use crate::{Reply, tailmcp_bin, try_send_on};

/// How long a server may take to say it is listening.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the `wait_*` helpers wait for what they observe.
const WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the server is told to listen.
enum Listener {
    /// `--listen 127.0.0.1:0`.
    Tcp,
    /// `--listen unix:<temp dir>/mcp.sock`.
    Unix,
    /// `--listen ADDR`.
    At(String),
    /// No `--listen`: the flags or the environment name the listener, or
    /// the default applies.
    AsConfigured,
}

/// How to start `tailmcp serve`; see [`Tailmcp::builder`].
#[must_use]
pub struct Builder {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    env_clear: bool,
    listener: Listener,
    umask: Option<String>,
    capture_stdout: bool,
    serve: Option<Injected>,
    command: Option<Command>,
    keep: Vec<tempfile::TempDir>,
}

/// A `tailmcp serve` that exited before it listened.
#[derive(Debug)]
pub struct Exited {
    pub code: Option<i32>,
    /// Its stderr.
    pub log: String,
}

impl Builder {
    /// One more `tailmcp serve` flag or value.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Builder {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// More `tailmcp serve` flags and values.
    pub fn args<I, S>(mut self, args: I) -> Builder
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// An environment variable. The server never inherits this process's
    /// `TAILMCP_*` variables; `RUST_LOG` is `info` unless set here.
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Builder {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// More environment variables, as [`Builder::env`].
    pub fn envs<I, K, V>(self, vars: I) -> Builder
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        vars.into_iter()
            .fold(self, |builder, (name, value)| builder.env(name, value))
    }

    /// The environment given here and nothing else (plus `RUST_LOG`), as a
    /// container has.
    pub fn env_clear(mut self) -> Builder {
        self.env_clear = true;
        self
    }

    /// Listen on a unix socket in a temp dir of its own.
    pub fn unix(mut self) -> Builder {
        self.listener = Listener::Unix;
        self
    }

    /// Listen on `listen` (`host:port` or `unix:PATH`).
    pub fn on(mut self, listen: &str) -> Builder {
        self.listener = Listener::At(listen.to_string());
        self
    }

    /// Pass no `--listen`: the flags or environment given name the listener.
    pub fn listen_as_configured(mut self) -> Builder {
        self.listener = Listener::AsConfigured;
        self
    }

    /// Run with this umask (through `sh`, which sets it and execs tailmcp).
    pub fn umask(mut self, umask: &str) -> Builder {
        self.umask = Some(umask.to_string());
        self
    }

    /// Keep what the server writes to stdout ([`Tailmcp::stdout`]); it is
    /// discarded otherwise.
    pub fn capture_stdout(mut self) -> Builder {
        self.capture_stdout = true;
        self
    }

    /// Put a `tailscale serve` stand-in injecting `identity` in front
    /// ([`Tailmcp::serve`]).
    pub fn serve(mut self, identity: Injected) -> Builder {
        self.serve = Some(identity);
        self
    }

    /// Run `command` instead of `tailmcp serve` (a sandbox that runs it, say):
    /// the flags, environment and listener given here are not used; the
    /// harness still waits for it to listen, keeps its log and kills it.
    pub fn command(mut self, command: Command) -> Builder {
        self.command = Some(command);
        self
    }

    /// Keep `dir` until the server is dropped.
    pub fn keep(mut self, dir: tempfile::TempDir) -> Builder {
        self.keep.push(dir);
        self
    }

    /// Starts it and waits until it listens (panics with its log if it does not).
    pub async fn start(self) -> Tailmcp {
        match self.launch().await {
            Ok(server) => server,
            Err(Exited { code, log }) => {
                panic!("tailmcp exited ({code:?}) before listening:\n{log}")
            }
        }
    }

    /// Starts it and waits until it listens or exits: for tests of what
    /// starts and what is refused at startup.
    pub async fn launch(mut self) -> Result<Tailmcp, Exited> {
        let mut command = self.prepare();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(if self.capture_stdout {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn tailmcp");
        let stdout = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            tokio::spawn(collect(out, stdout.clone(), None));
        }
        let logs = Arc::new(Mutex::new(String::new()));
        let (ready, mut listening) = tokio::sync::mpsc::channel::<String>(1);
        let stderr = child.stderr.take().expect("piped stderr");
        tokio::spawn(collect(stderr, logs.clone(), Some(ready)));
        let listening = match tokio::time::timeout(STARTUP_TIMEOUT, listening.recv()).await {
            Ok(Some(listening)) => listening,
            // Its stderr closed: it exited.
            Ok(None) => {
                let status = child.wait().await.expect("wait for tailmcp");
                let log = logs.lock().expect("log lock").clone();
                return Err(Exited {
                    code: status.code(),
                    log,
                });
            }
            Err(_elapsed) => {
                let _ = child.kill().await;
                panic!(
                    "tailmcp did not listen within {STARTUP_TIMEOUT:?}:\n{}",
                    logs.lock().expect("log lock")
                );
            }
        };
        let mut server = Tailmcp {
            child,
            listening,
            logs,
            stdout,
            serve: None,
            _keep: std::mem::take(&mut self.keep),
        };
        if let Some(identity) = self.serve {
            server.serve = Some(ServeStandIn::start(server.backend(), identity).await);
        }
        Ok(server)
    }

    /// The command line and environment, with the listener chosen.
    fn prepare(&mut self) -> Command {
        if let Some(command) = self.command.take() {
            return command;
        }
        let listen = match &self.listener {
            Listener::Tcp => Some("127.0.0.1:0".to_string()),
            Listener::Unix => {
                let dir = tempfile::tempdir().expect("temp dir");
                let listen = format!("unix:{}", dir.path().join("mcp.sock").display());
                self.keep.push(dir);
                Some(listen)
            }
            Listener::At(listen) => Some(listen.clone()),
            Listener::AsConfigured => None,
        };
        let mut command = match &self.umask {
            Some(umask) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
                    .arg(tailmcp_bin());
                sh
            }
            None => Command::new(tailmcp_bin()),
        };
        command.arg("serve");
        if let Some(listen) = listen {
            command.args(["--listen", &listen]);
        }
        command.args(&self.args);
        if self.env_clear {
            command.env_clear();
        } else {
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("TAILMCP_") {
                    command.env_remove(name);
                }
            }
        }
        command
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// Appends each line of `from` to `sink`; sends what follows "listening on "
/// (without `/mcp`) to `ready`, which is dropped when `from` ends (the
/// process exited).
async fn collect(
    from: impl AsyncRead + Unpin,
    sink: Arc<Mutex<String>>,
    ready: Option<tokio::sync::mpsc::Sender<String>>,
) {
    let mut lines = BufReader::new(from).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // Kept before it is reported, so the log has the line by then.
        {
            let mut sink = sink.lock().expect("log lock");
            sink.push_str(&line);
            sink.push('\n');
        }
        if let (Some(ready), Some(rest)) = (&ready, line.split("listening on ").nth(1)) {
            let _ = ready.try_send(rest.trim_end_matches("/mcp").to_string());
        }
    }
}

/// A running `tailmcp serve`; killed on drop (its log is printed if the test failed).
pub struct Tailmcp {
    child: Child,
    /// What it printed after "listening on ", e.g. `http://127.0.0.1:41234`.
    pub listening: String,
    logs: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
    serve: Option<ServeStandIn>,
    /// Temp dirs (a unix socket's, say) that live as long as the server.
    _keep: Vec<tempfile::TempDir>,
}

impl Tailmcp {
    /// How to start one: by default `tailmcp serve --listen 127.0.0.1:0`,
    /// without this process's `TAILMCP_*` variables, `RUST_LOG=info`.
    pub fn builder() -> Builder {
        Builder {
            args: Vec::new(),
            env: Vec::new(),
            env_clear: false,
            listener: Listener::Tcp,
            umask: None,
            capture_stdout: false,
            serve: None,
            command: None,
            keep: Vec::new(),
        }
    }

    /// The TCP address it listens on (panics for unix sockets).
    pub fn addr(&self) -> SocketAddr {
        self.listening
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not a TCP listener: {}", self.listening))
    }

    /// The unix socket path (panics for TCP listeners).
    pub fn socket(&self) -> PathBuf {
        self.listening
            .strip_prefix("unix:")
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("not a unix listener: {}", self.listening))
    }

    /// Where a tailscale serve stand-in should proxy to.
    pub fn backend(&self) -> Backend {
        match self.listening.strip_prefix("unix:") {
            Some(path) => Backend::Unix(path.into()),
            None => Backend::Tcp(self.addr()),
        }
    }

    /// The stand-in in front of it (panics unless started with [`Builder::serve`]).
    pub fn serve(&self) -> &ServeStandIn {
        self.serve
            .as_ref()
            .expect("started without a stand-in in front (Builder::serve)")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("tailmcp is running")
    }

    /// Everything the server logged (its stderr) so far.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("log lock").clone()
    }

    /// Everything it wrote to stdout so far (with [`Builder::capture_stdout`]).
    pub fn stdout(&self) -> String {
        self.stdout.lock().expect("stdout lock").clone()
    }

    /// Sends one request straight to its listener (TCP or unix socket), as
    /// the local probe does: no forwarding headers.
    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let reply = match self.backend() {
            Backend::Tcp(addr) => match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => try_send_on(stream, method, path, headers, "").await,
                Err(e) => Err(format!("connect: {e}")),
            },
            Backend::Unix(socket) => match tokio::net::UnixStream::connect(socket).await {
                Ok(stream) => try_send_on(stream, method, path, headers, "").await,
                Err(e) => Err(format!("connect: {e}")),
            },
        };
        reply.unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.logs()))
    }

    /// Its full `/healthz` view.
    pub async fn health(&self) -> Value {
        let reply = self.send("GET", "/healthz", &[]).await;
        assert_eq!(reply.status, 200, "/healthz: {:?}", reply.body);
        reply.json()
    }

    /// Polls `/healthz` (full view) until `check` holds for it; returns
    /// that body. Panics after the wait timeout, saying `what` never happened.
    pub async fn wait_health(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let health = self.health().await;
            if check(&health) {
                return health;
            }
            assert!(
                Instant::now() < deadline,
                "{what} after {WAIT_TIMEOUT:?}: /healthz is {health}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until exactly `n` requests are being handled by a component
    /// instance (`/healthz` `in_flight`).
    pub async fn wait_in_flight(&self, n: u64) {
        let what = format!("in_flight is not {n}");
        self.wait_health(&what, |h| h["in_flight"] == n).await;
    }

    /// Waits until `/healthz` names the refusal of a component file holding
    /// `bytes`; returns that `/healthz` body.
    pub async fn wait_refusal(&self, bytes: &[u8]) -> Value {
        let sha256 = crate::sha256_hex(bytes);
        self.wait_health("the file was never refused", |h| {
            h["lastRefusal"]["sha256"] == sha256.as_str()
        })
        .await
    }

    /// Waits until a log line contains every one of `parts`; returns it.
    pub async fn wait_for_log(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let logs = self.logs();
            if let Some(line) = logs.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {parts:?} after {WAIT_TIMEOUT:?}:\n{logs}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The `version` a swap fixture (`swap_v1`, `swap_v2`) answers at `path`.
    pub async fn version(&self, path: &str) -> String {
        let reply = self.send("GET", path, &[]).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.json()["version"]
            .as_str()
            .unwrap_or_else(|| panic!("no version in {:?}", reply.body))
            .to_string()
    }

    /// Waits until `GET /` answers version `want`; returns how long that took.
    pub async fn wait_for_version(&self, want: &str) -> Duration {
        let started = Instant::now();
        loop {
            // Before a swap the old component may answer anything (even 404).
            let reply = self.send("GET", "/", &[]).await;
            if reply.status == 200 && reply.json()["version"] == want {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < WAIT_TIMEOUT,
                "{want} never served:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends it `signal` (`HUP`, `TERM`, ...) with kill(1); whether that worked.
    pub fn signal(&self, signal: &str) -> bool {
        std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        if self.child.id().is_some() {
            self.signal("TERM");
        }
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("tailmcp exits after SIGTERM")
            .expect("wait for tailmcp")
    }

    /// Kills the server with SIGKILL, as a machine or pod that dies would:
    /// no graceful shutdown, in-flight requests are cut off. Returns once
    /// the process is gone.
    pub async fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().await.expect("SIGKILL tailmcp");
        self.child.wait().await.expect("wait for tailmcp")
    }
}

impl Drop for Tailmcp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- tailmcp log ---\n{}", self.logs());
        }
        let _ = self.child.start_kill();
    }
}
