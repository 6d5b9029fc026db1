//! A battery of bad input against the real host and the greet component:
//! each gets its documented answer, and none crashes or hangs the host.

use std::time::Duration;

use serde_json::{Value, json};
use tailmcp_tests::{MCP_HEADERS, Tailmcp, post_mcp, send};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// (status, error code) for a POST of `body` with the MCP headers plus `extra`.
async fn answer(server: &Tailmcp, extra: &[(&str, &str)], body: Vec<u8>) -> (u16, Value) {
    let mut headers = MCP_HEADERS.to_vec();
    headers.extend_from_slice(extra);
    let reply = send(server.addr(), "POST", "/mcp", &headers, body).await;
    let code = serde_json::from_slice::<Value>(&reply.body)
        .map(|v| v["error"]["code"].clone())
        .unwrap_or(Value::Null);
    (reply.status, code)
}

fn call(params: Value) -> Vec<u8> {
    json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":params})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn malformed_bodies_get_their_documented_answers() {
    let server = Tailmcp::builder()
        .args(["--max-body", "256KiB"])
        .start()
        .await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge_string = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"s":"{}"}}}}"#,
        "é".repeat(60_000)
    );
    let too_big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"s":"{}"}}}}"#,
        "x".repeat(300_000)
    );
    let cases: Vec<(&str, Vec<u8>, (u16, Value))> = vec![
        (
            "truncated",
            br#"{"jsonrpc":"2.0","id":1,"meth"#.to_vec(),
            (400, json!(-32700)),
        ),
        ("empty", Vec::new(), (400, json!(-32700))),
        (
            "invalid UTF-8",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}".to_vec(),
            (400, json!(-32700)),
        ),
        ("deep nesting", deep.into_bytes(), (400, json!(-32700))),
        (
            "huge string within the limit",
            huge_string.into_bytes(),
            (200, Value::Null),
        ),
        (
            "over the body limit",
            too_big.into_bytes(),
            (413, json!(-32000)),
        ),
        (
            "jsonrpc is a number",
            br#"{"jsonrpc":2,"id":1,"method":"ping"}"#.to_vec(),
            (400, json!(-32600)),
        ),
        (
            "id is a bool",
            br#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#.to_vec(),
            (400, json!(-32600)),
        ),
        (
            "id is an array",
            br#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#.to_vec(),
            (400, json!(-32600)),
        ),
        (
            "method is an array",
            br#"{"jsonrpc":"2.0","id":1,"method":[]}"#.to_vec(),
            (400, json!(-32600)),
        ),
        (
            "params is a string",
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"x"}"#.to_vec(),
            (200, json!(-32602)),
        ),
        (
            "name is a number",
            call(json!({"name": 5})),
            (200, json!(-32602)),
        ),
        (
            "name is null",
            call(json!({"name": null})),
            (200, json!(-32602)),
        ),
        (
            "arguments is a string",
            call(json!({"name": "greet", "arguments": "x"})),
            (200, json!(-32602)),
        ),
        (
            "cursor is a number",
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":5}}"#.to_vec(),
            (200, json!(-32602)),
        ),
        (
            "initialize without a version",
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":5}}"#
                .to_vec(),
            (200, json!(-32602)),
        ),
        (
            "unknown method",
            br#"{"jsonrpc":"2.0","id":1,"method":"nope/nope"}"#.to_vec(),
            (200, json!(-32601)),
        ),
        (
            "method with odd bytes",
            br#"{"jsonrpc":"2.0","id":1,"method":"\u0000\n"}"#.to_vec(),
            (200, json!(-32601)),
        ),
    ];
    for (name, body, expected) in cases {
        let got = answer(&server, &[], body).await;
        assert_eq!(got.0, expected.0, "{name}");
        if !expected.1.is_null() {
            assert_eq!(got.1, expected.1, "{name}");
        }
    }
    assert_eq!(
        send(server.addr(), "GET", "/healthz", &[], "").await.status,
        200
    );
}

#[tokio::test]
async fn forged_and_malformed_identity_headers() {
    let server = Tailmcp::builder().start().await;
    let greet = call(json!({"name": "greet"}));
    // (name, headers, whether a user identity survives)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    // Values serve could not have encoded so were sent as they are: literal.
    let cases: [Case; 7] = [
        (
            "invalid encoded word",
            &[("tailscale-user-login", "=?utf-8?q?=ZZ?=")],
            true,
        ),
        (
            "unknown charset",
            &[("tailscale-user-login", "=?koi8-r?q?abc?=")],
            true,
        ),
        (
            "invalid UTF-8 in a word",
            &[("tailscale-user-login", "=?utf-8?q?=FF?=")],
            true,
        ),
        (
            "encoded control character",
            &[("tailscale-user-login", "=?utf-8?q?a=0Ab?=")],
            false,
        ),
        (
            "invalid capability JSON",
            &[
                ("tailscale-user-login", "a@b.c"),
                ("tailscale-app-capabilities", "{nope"),
            ],
            true,
        ),
        (
            "capabilities not an object",
            &[("tailscale-app-capabilities", "[1,2]")],
            false,
        ),
        (
            "duplicate login",
            &[
                ("tailscale-user-login", "a@b.c"),
                ("tailscale-user-login", "m@evil"),
            ],
            false,
        ),
    ];
    for (name, headers, has_user) in cases {
        let reply = post_mcp(server.addr(), headers, std::str::from_utf8(&greet).unwrap()).await;
        assert_eq!(reply.status, 200, "{name}");
        let is_error = reply.json()["result"]["isError"] == true;
        assert_eq!(!is_error, has_user, "{name}: {}", reply.json());
    }
    assert!(
        server.logs().contains("ignoring identity header"),
        "bad values are logged"
    );
}

/// Sends raw bytes on one connection and reads until the server closes it or goes quiet.
async fn raw(server: &Tailmcp, bytes: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn http_edge_cases() {
    let server = Tailmcp::builder()
        .args(["--client-timeout", "1s"])
        .start()
        .await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

    let http10 = format!(
        "POST /mcp HTTP/1.0\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{ping}",
        ping.len()
    );
    let answer = raw(&server, http10.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );

    let one = format!(
        "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{ping}",
        ping.len()
    );
    let pipelined =
        format!("{one}{one}GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let answer = raw(&server, pipelined.as_bytes()).await;
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 3, "{answer}");

    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let answer = raw(&server, big_header.as_bytes()).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );

    let garbage = raw(&server, b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n").await;
    assert!(
        garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
        "{garbage}"
    );

    // Slowloris: a request head that never finishes is cut off.
    let started = std::time::Instant::now();
    let slow = raw(&server, b"POST /mcp HTTP/1.1\r\nHost: x\r\n").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut off after --client-timeout"
    );
    assert!(
        slow.is_empty() || slow.starts_with("HTTP/1.1 408"),
        "{slow}"
    );

    // A body that never arrives gets 408.
    let stalled = "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{";
    let answer = raw(&server, stalled.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    assert_eq!(
        send(server.addr(), "GET", "/healthz", &[], "").await.status,
        200
    );
}
