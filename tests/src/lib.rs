//! The integration-test harness: runs the real `tailmcp` binary, fronts it
//! with a stand-in for `tailscale serve`, and drives real MCP clients.

pub mod clients;
pub mod fixtures;
pub mod modern;
pub mod mounts;
pub mod qencode;
pub mod standin;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use standin::{Backend, Injected, ServeStandIn};

/// How long a server may take to say it is listening.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The `tailmcp` binary: `$TAILMCP_BIN`, or the one cargo built beside this
/// test executable (`cargo build --release` before `cargo test --release`).
pub fn tailmcp_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TAILMCP_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("test executable path");
    // Tests run from target/<profile>/deps/, benchmarks from target/<profile>/.
    let mut dir = exe.parent().expect("executable has a directory");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("deps/ has a parent");
    }
    let bin = dir.join("tailmcp");
    assert!(
        bin.exists(),
        "{} not found: build it first (cargo build --release -p tailmcp)",
        bin.display()
    );
    bin
}

/// The greet component `host/build.rs` built (the one the host embeds).
pub fn greet_wasm() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/component-build/wasm32-wasip2/component/tailmcp_component.wasm")
}

/// Replaces `path` atomically (write beside it, then rename), as the README
/// says to deploy a component.
pub fn replace_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write beside the component");
    std::fs::rename(&tmp, path).expect("rename over the component");
}

/// Resident set size of process `pid` in KiB (0 once it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) process `pid` has used so far, from /proc.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((field(11) + field(12)) * 10) // USER_HZ is 100 on Linux
}

/// How a `tailmcp serve` started by [`launch`] went.
pub enum Launch {
    /// It said it was listening at `listening` (e.g. `http://127.0.0.1:41234`);
    /// its log so far. Killed when `child` is dropped; its log keeps draining.
    Listening {
        listening: String,
        log: String,
        child: Child,
    },
    /// It exited first, with `code`; its stderr.
    Exited { code: Option<i32>, log: String },
}

/// Runs `tailmcp serve ARGS` with `env` (and no other `TAILMCP_*` variable
/// of this process) until it says it is listening or exits: for tests of
/// what starts and what is refused at startup.
pub async fn launch(args: &[&str], env: &[(&str, &str)]) -> Launch {
    let mut command = Command::new(tailmcp_bin());
    command.arg("serve").args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("TAILMCP_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tailmcp");
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let mut log = String::new();
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            log.push_str(&line);
            log.push('\n');
            if let Some(rest) = line.split("listening on ").nth(1) {
                return Some(rest.trim_end_matches("/mcp").to_string());
            }
        }
        None
    };
    let listening = tokio::time::timeout(STARTUP_TIMEOUT, read)
        .await
        .expect("tailmcp listens or exits within the startup timeout");
    match listening {
        Some(listening) => {
            // Keep draining its log so that it never blocks writing it.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Launch::Listening {
                listening,
                log,
                child,
            }
        }
        None => {
            let status = child.wait().await.expect("wait for tailmcp");
            Launch::Exited {
                code: status.code(),
                log,
            }
        }
    }
}

/// A running `tailmcp serve`; killed on drop (its log is printed if the test failed).
pub struct Tailmcp {
    child: Child,
    /// What it printed after "listening on ", e.g. `http://127.0.0.1:41234`.
    pub listening: String,
    logs: Arc<Mutex<String>>,
    /// Keeps a unix socket's directory alive.
    _dir: Option<tempfile::TempDir>,
}

impl Tailmcp {
    /// Starts `tailmcp serve --listen 127.0.0.1:0 ARGS...`.
    pub async fn start(args: &[&str]) -> Tailmcp {
        Self::spawn("127.0.0.1:0", args, None).await
    }

    /// Starts `tailmcp serve --listen unix:<temp dir>/mcp.sock ARGS...`.
    pub async fn start_unix(args: &[&str]) -> Tailmcp {
        let dir = tempfile::tempdir().expect("temp dir");
        let listen = format!("unix:{}", dir.path().join("mcp.sock").display());
        Self::spawn(&listen, args, Some(dir)).await
    }

    /// Starts `tailmcp serve --listen LISTEN ARGS...`.
    pub async fn start_on(listen: &str, args: &[&str]) -> Tailmcp {
        Self::spawn(listen, args, None).await
    }

    async fn spawn(listen: &str, args: &[&str], dir: Option<tempfile::TempDir>) -> Tailmcp {
        let mut child = Command::new(tailmcp_bin())
            .args(["serve", "--listen", listen])
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("TAILMCP_COMPONENT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn tailmcp");
        let logs = Arc::new(Mutex::new(String::new()));
        let (ready, mut listening) = tokio::sync::mpsc::channel::<String>(1);
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = ready.try_send(rest.trim_end_matches("/mcp").to_string());
                }
                let mut logs = sink.lock().expect("log lock");
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let listening = match tokio::time::timeout(STARTUP_TIMEOUT, listening.recv()).await {
            Ok(Some(listening)) => listening,
            _ => {
                let _ = child.kill().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!("tailmcp did not start:\n{}", logs.lock().expect("log lock"));
            }
        };
        Tailmcp {
            child,
            listening,
            logs,
            _dir: dir,
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

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("tailmcp is running")
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("log lock").clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("tailmcp exits after SIGTERM")
            .expect("wait for tailmcp")
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

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// (status, JSON-RPC error code or null, id or null): what the protocol
    /// tests compare. An empty body (a 202, say) gives nulls.
    pub fn status_code_id(&self) -> (u16, serde_json::Value, serde_json::Value) {
        use serde_json::Value;
        if self.body.is_empty() {
            return (self.status, Value::Null, Value::Null);
        }
        let json = self.json();
        (
            self.status,
            json["error"]["code"].clone(),
            json.get("id").cloned().unwrap_or(Value::Null),
        )
    }
}

/// The headers every MCP POST carries.
pub const MCP_HEADERS: &[(&str, &str)] = &[
    ("accept", "application/json, text/event-stream"),
    ("content-type", "application/json"),
];

/// Sends one HTTP/1.1 request to `addr` and reads the whole answer.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    try_send(addr, method, path, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Like [`send`], but a transport failure (refused, reset) is an `Err`.
pub async fn try_send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<Reply, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    try_send_on(stream, method, path, headers, body).await
}

/// Like [`try_send`], on a connection already made (so that a test can
/// time the request alone).
pub async fn try_send_on(
    stream: tokio::net::TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<Reply, String> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(body.into()))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok(Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// A JSON-RPC `ping`: the smallest body the host reads as a request (it
/// refuses any POST body that is not one JSON-RPC message, `{}` included).
pub const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

/// POSTs a JSON-RPC body to `/mcp` with the standard MCP headers plus `extra`.
pub async fn post_mcp(addr: SocketAddr, extra: &[(&str, &str)], body: &str) -> Reply {
    let mut headers = MCP_HEADERS.to_vec();
    headers.extend_from_slice(extra);
    send(addr, "POST", "/mcp", &headers, body.to_string()).await
}

/// A `tools/call` body.
pub fn tools_call(id: u64, name: &str, arguments: serde_json::Value) -> String {
    serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": name, "arguments": arguments }
    })
    .to_string()
}

impl Tailmcp {
    /// Kills the server with SIGKILL, as a machine or pod that dies would:
    /// no graceful shutdown, in-flight requests are cut off. Returns once
    /// the process is gone.
    pub async fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().await.expect("SIGKILL tailmcp");
        self.child.wait().await.expect("wait for tailmcp")
    }
}
