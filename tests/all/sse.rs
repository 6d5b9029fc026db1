//! The legacy HTTP+SSE transport, bridged by the host onto the component.

use std::time::Duration;

use serde_json::{Value, json};
use tailmcp_tests::clients::{self, Client};
use tailmcp_tests::{Injected, Tailmcp, fixtures, greet_wasm, replace_atomically, send};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const LOGIN: &str = "zoe@example.com";
const NAME: &str = "Zoë Ünïcode";

async fn client_over_sse(client: Client) {
    let server = Tailmcp::builder()
        .unix()
        .serve(Injected::user(LOGIN, NAME))
        .start()
        .await;
    let url = format!("http://{}/sse", server.serve().addr);
    let forged = json!({"Tailscale-User-Login": "mallory@evil.example"});
    let out = clients::run(client, &url, forged, "greet", json!({})).await;
    assert_eq!(
        out["greet"]["content"][0]["text"],
        format!("Hello, {NAME}! You are logged in as {LOGIN}."),
        "{client:?}: {out}"
    );
    assert!(
        out["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "greet")
    );
    let logs = server.logs();
    assert!(
        logs.contains("GET /sse 200") && logs.contains("POST /messages 202"),
        "{logs}"
    );
}

#[tokio::test]
async fn typescript_sdk_sse_client_transport() {
    client_over_sse(Client::TypeScriptSdkSse).await;
}

#[tokio::test]
async fn mcp_remote_sse_only() {
    client_over_sse(Client::McpRemoteSseOnly).await;
}

/// An open SSE stream, read line by line.
pub(crate) struct Stream {
    lines: tokio::io::Lines<BufReader<tokio::net::TcpStream>>,
    pub(crate) endpoint: String,
}

impl Stream {
    pub(crate) async fn open(addr: std::net::SocketAddr, headers: &str) -> Result<Stream, String> {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        // Connection: close, so the end of a stream is the end of the connection.
        let head = format!(
            "GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nConnection: close\r\n{headers}\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut lines = BufReader::new(tcp).lines();
        let status = lines.next_line().await.unwrap().unwrap_or_default();
        if !status.contains(" 200 ") {
            return Err(status);
        }
        let mut stream = Stream {
            lines,
            endpoint: String::new(),
        };
        let data = stream.next_data("endpoint").await.expect("endpoint event");
        stream.endpoint = data;
        Ok(stream)
    }

    /// The data of the next event of `kind`; None when the stream ends.
    pub(crate) async fn next_data(&mut self, kind: &str) -> Option<String> {
        let mut event = String::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
                .await
                .expect("an event within 10 s")
                .ok()??;
            // Chunked encoding puts size lines in between; skip them.
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.to_string();
            } else if let Some(data) = line.strip_prefix("data: ")
                && event == kind
            {
                return Some(data.to_string());
            }
        }
    }
}

async fn post(addr: std::net::SocketAddr, endpoint: &str, login: &str, body: &str) -> u16 {
    let headers = [
        ("content-type", "application/json"),
        ("tailscale-user-login", login),
    ];
    send(addr, "POST", endpoint, &headers, body.to_string())
        .await
        .status
}

#[tokio::test]
async fn a_session_belongs_to_its_opener() {
    let server = Tailmcp::builder().start().await;
    let mut alice = Stream::open(server.addr(), "Tailscale-User-Login: alice@example.com\r\n")
        .await
        .unwrap();
    assert!(alice.endpoint.starts_with("/messages?sessionId="));
    assert_eq!(
        alice.endpoint.len(),
        "/messages?sessionId=".len() + 32,
        "128-bit id"
    );
    let ping = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;
    assert_eq!(
        post(server.addr(), &alice.endpoint, "bob@example.com", ping).await,
        403
    );
    assert!(
        server
            .logs()
            .contains("refused a POST by bob@example.com into another caller's SSE session")
    );
    assert_eq!(
        post(server.addr(), &alice.endpoint, "alice@example.com", ping).await,
        202
    );
    let answer: serde_json::Value =
        serde_json::from_str(&alice.next_data("message").await.unwrap()).unwrap();
    assert_eq!(answer, json!({"jsonrpc":"2.0","id":7,"result":{}}));
    let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    assert_eq!(
        post(server.addr(), &alice.endpoint, "alice@example.com", note).await,
        202
    );
    assert_eq!(
        post(
            server.addr(),
            "/messages?sessionId=0123456789abcdef0123456789abcdef",
            "alice@example.com",
            ping
        )
        .await,
        404
    );
    assert_eq!(
        post(server.addr(), "/messages", "alice@example.com", ping).await,
        400
    );
}

#[tokio::test]
async fn a_stream_survives_a_hot_swap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.wasm");
    std::fs::copy(greet_wasm(), &path).unwrap();
    let server = Tailmcp::builder()
        .args(["--component", path.to_str().unwrap()])
        .start()
        .await;
    let mut stream = Stream::open(server.addr(), "Tailscale-User-Login: a@example.com\r\n")
        .await
        .unwrap();
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(
        post(server.addr(), &stream.endpoint, "a@example.com", ping).await,
        202
    );
    let pong = json!({"jsonrpc": "2.0", "id": 1, "result": {}});
    let data = stream.next_data("message").await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap(),
        pong,
        "{data}"
    );
    replace_atomically(&path, &std::fs::read(fixtures::SWAP_V2).unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert_eq!(
            post(server.addr(), &stream.endpoint, "a@example.com", ping).await,
            202
        );
        let data = stream.next_data("message").await.unwrap();
        let answer: Value = serde_json::from_str(&data).unwrap();
        if answer == json!({"version": "v2"}) {
            break; // the same stream now carries the new component's answers
        }
        assert_eq!(answer, pong, "greet's answer until the swap");
        assert!(std::time::Instant::now() < deadline, "never swapped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sessions_are_capped_and_expire() {
    let server = Tailmcp::builder()
        .args([
            "--max-sse-sessions",
            "2",
            "--max-sse-sessions-per-caller",
            "1",
            "--sse-idle-timeout",
            "600ms",
            "--sse-keepalive",
            "100ms",
        ])
        .start()
        .await;
    let mut a = Stream::open(server.addr(), "Tailscale-User-Login: a@example.com\r\n")
        .await
        .unwrap();
    let second = Stream::open(server.addr(), "Tailscale-User-Login: a@example.com\r\n").await;
    assert!(second.err().unwrap().contains(" 429 "), "per-caller cap");
    let _b = Stream::open(server.addr(), "Tailscale-User-Login: b@example.com\r\n")
        .await
        .unwrap();
    let third = Stream::open(server.addr(), "Tailscale-User-Login: c@example.com\r\n").await;
    assert!(third.err().unwrap().contains(" 503 "), "global cap");
    // Idle: keep-alives flow, then the session ends and its id is gone.
    let started = std::time::Instant::now();
    assert_eq!(a.next_data("never").await, None, "the stream ends");
    assert!(started.elapsed() < Duration::from_secs(5));
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(
        post(server.addr(), &a.endpoint, "a@example.com", ping).await,
        404
    );
    // Closed sessions free their place.
    let c = Stream::open(server.addr(), "Tailscale-User-Login: c@example.com\r\n").await;
    assert!(c.is_ok());
}

#[tokio::test]
async fn legacy_sse_can_be_turned_off() {
    let server = Tailmcp::builder().args(["--no-legacy-sse"]).start().await;
    assert_eq!(
        send(server.addr(), "GET", "/sse", &[], "").await.status,
        404
    );
}
