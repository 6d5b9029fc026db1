//! A tiny blocking HTTP/1.1 client for readiness, sessions and cold start:
//! one request per connection (`Connection: close`), read to the end.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What every benchmark request says: the `tailscale serve` identity headers.
pub const LOGIN: &str = "alice@example.com";
pub const NAME: &str = "Alice";
/// A good `greet` answer contains this (the same check as `greet.lua`).
pub const EXPECTED: &str = "Hello, Alice! You are logged in as alice@example.com.";

pub const GREET: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{}}}"#;
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"tailmcp-bench","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

pub struct Reply {
    pub status: u16,
    head: String,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }
}

/// POSTs `body` to `/mcp` on an already connected stream.
pub fn post_on(
    mut stream: TcpStream,
    addr: SocketAddr,
    body: &str,
    session: Option<&str>,
) -> std::io::Result<Reply> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_nodelay(true)?;
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nTailscale-User-Login: {LOGIN}\r\n\
         Tailscale-User-Name: {NAME}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if body != INITIALIZE {
        request.push_str("MCP-Protocol-Version: 2025-11-25\r\n");
    }
    if let Some(session) = session {
        request.push_str(&format!("Mcp-Session-Id: {session}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

pub fn post(addr: SocketAddr, body: &str, session: Option<&str>) -> std::io::Result<Reply> {
    post_on(TcpStream::connect(addr)?, addr, body, session)
}

/// `initialize` plus `notifications/initialized`; the session id to reuse.
pub fn open_session(addr: SocketAddr) -> Result<String, String> {
    let reply = post(addr, INITIALIZE, None).map_err(|e| e.to_string())?;
    let session = reply
        .header("mcp-session-id")
        .ok_or_else(|| {
            format!(
                "initialize gave no session: {} {}",
                reply.status, reply.body
            )
        })?
        .to_string();
    let ack = post(addr, INITIALIZED, Some(&session)).map_err(|e| e.to_string())?;
    if ack.status != 202 {
        return Err(format!("notifications/initialized got {}", ack.status));
    }
    Ok(session)
}

/// One `tools/call greet`; Ok if it answered with the expected greeting.
pub fn greet(addr: SocketAddr, session: Option<&str>) -> Result<(), String> {
    let reply = post(addr, GREET, session).map_err(|e| e.to_string())?;
    if reply.status == 200 && reply.body.contains(EXPECTED) {
        Ok(())
    } else {
        Err(format!("tools/call got {}: {}", reply.status, reply.body))
    }
}
