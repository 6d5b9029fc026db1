//! The integration-test harness: runs the real `tailmcp` binary, fronts it
//! with a stand-in for `tailscale serve`, and drives real MCP clients.

pub mod clients;
pub mod fixtures;
pub mod modern;
pub mod mounts;
pub mod qencode;
pub mod server;
pub mod standin;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};

pub use server::{Builder, Exited, Tailmcp};
pub use standin::{Backend, Injected, ServeStandIn};

/// The repository's root directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

/// The lowercase hex sha256 of `bytes`, as `/healthz` and the logs show it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The lines of the JSON-lines file at `path` (an audit log), each parsed;
/// none if it does not exist yet.
pub fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line is not JSON ({e}): {l}")))
        .collect()
}

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
/// time the request alone, or talk over a unix socket).
pub async fn try_send_on(
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
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
