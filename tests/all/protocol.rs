//! The MCP Streamable HTTP contract of the greet component, on the real host:
//! every status and error code in the README's table.

use serde_json::{Value, json};
use tailmcp_tests::{Tailmcp, post_mcp, send};

/// What the greet component tells a client at `initialize`.
const INSTRUCTIONS: &str = "This server knows who is calling: every request reaches it through \
    Tailscale, which vouches for the caller's login and display name. Call `greet` to learn which \
    Tailscale user the server sees you as.";

fn initialize(version: &str) -> String {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name":"t","version":"1"}}})
    .to_string()
}

#[tokio::test]
async fn initialize_negotiates_each_version() {
    let server = Tailmcp::builder().start().await;
    for (asked, answered) in [
        ("2025-11-25", "2025-11-25"),
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("2024-11-05", "2024-11-05"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let reply = post_mcp(server.addr(), &[], &initialize(asked)).await;
        assert_eq!(reply.status, 200);
        assert!(
            reply.headers.get("mcp-session-id").is_none(),
            "stateless: no session"
        );
        let result = &reply.json()["result"];
        assert_eq!(result["protocolVersion"], answered, "asked {asked}");
        assert_eq!(result["serverInfo"]["name"], "tailmcp");
        assert_eq!(result["instructions"], INSTRUCTIONS, "asked {asked}");
        assert_eq!(result["capabilities"], json!({"tools": {}}));
    }
}

#[tokio::test]
async fn tools_list_and_call() {
    let server = Tailmcp::builder()
        .args(["--dev-identity", "alice@example.com", "--dev-name", "Alice"])
        .start()
        .await;
    let list = post_mcp(
        server.addr(),
        &[("mcp-protocol-version", "2025-06-18")],
        r#"{"jsonrpc":"2.0","id":"l","method":"tools/list"}"#,
    )
    .await
    .json();
    let greet = &list["result"]["tools"][0];
    assert_eq!(greet["name"], "greet");
    assert_eq!(
        greet["inputSchema"],
        json!({"type":"object","additionalProperties":false})
    );
    assert_eq!(greet["annotations"]["readOnlyHint"], true);
    assert!(
        greet["outputSchema"].is_object()
            && greet["title"].is_string()
            && greet["description"].is_string()
    );
    assert!(list["result"].get("resultType").is_none());

    let call = post_mcp(
        server.addr(),
        &[],
        &tailmcp_tests::tools_call(2, "greet", json!({})),
    )
    .await
    .json();
    assert_eq!(call["id"], 2);
    assert_eq!(
        call["result"]["content"][0]["text"],
        "Hello, Alice! You are logged in as alice@example.com."
    );
    assert_eq!(
        call["result"]["structuredContent"],
        json!({"login":"alice@example.com","name":"Alice"})
    );
    assert_eq!(call["result"]["isError"], false);
}

/// (status, JSON-RPC error code or null, id or null) for one POST.
type Answer = (u16, Value, Value);

/// (name, headers, body, expected answer).
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, Answer);

async fn answer(server: &Tailmcp, headers: &[(&str, &str)], body: &str) -> Answer {
    send(server.addr(), "POST", "/mcp", headers, body.to_string())
        .await
        .status_code_id()
}

#[tokio::test]
async fn every_error_case() {
    let server = Tailmcp::builder().start().await;
    let ok = tailmcp_tests::MCP_HEADERS;
    let ping = r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#;
    let json_only = [
        ("accept", "application/json"),
        ("content-type", "application/json"),
    ];
    let any = [("accept", "*/*"), ("content-type", "application/json")];
    let text = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "text/plain"),
    ];
    let batch = format!("[{ping}]");
    let cases: Vec<Case> = vec![
        ("ping", ok, ping, (200, Value::Null, json!(9))),
        (
            "accept without SSE",
            &json_only,
            ping,
            (406, json!(-32000), Value::Null),
        ),
        ("accept */*", &any, ping, (406, json!(-32000), Value::Null)),
        ("text/plain", &text, ping, (415, json!(-32000), Value::Null)),
        (
            "parse error",
            ok,
            "{\"jsonrpc\":",
            (400, json!(-32700), Value::Null),
        ),
        ("batch", ok, &batch, (400, json!(-32600), Value::Null)),
        (
            "not an object",
            ok,
            "\"hi\"",
            (400, json!(-32600), Value::Null),
        ),
        (
            "wrong jsonrpc",
            ok,
            r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#,
            (400, json!(-32600), json!(3)),
        ),
        (
            "null id",
            ok,
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            (400, json!(-32600), Value::Null),
        ),
        (
            "unknown method",
            ok,
            r#"{"jsonrpc":"2.0","id":4,"method":"resources/list"}"#,
            (200, json!(-32601), json!(4)),
        ),
        (
            "unknown tool",
            ok,
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope"}}"#,
            (200, json!(-32602), json!(5)),
        ),
        (
            "tools/call without name",
            ok,
            r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{}}"#,
            (200, json!(-32602), json!(6)),
        ),
        (
            "arguments not an object",
            ok,
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"greet","arguments":[]}}"#,
            (200, json!(-32602), json!(7)),
        ),
        (
            "notification",
            ok,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            (202, Value::Null, Value::Null),
        ),
        (
            "client response",
            ok,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            (202, Value::Null, Value::Null),
        ),
    ];
    for (name, headers, body, expected) in cases {
        assert_eq!(answer(&server, headers, body).await, expected, "{name}");
    }
    // A 2026-07-28 header on a body without the 2026 `_meta` is a malformed
    // 2026-07-28 request (-32602, naming what is missing), not a 2025 one.
    // Its 400 still carries none of -32020..-32022, so a dual-era client
    // that probed this way falls back to `initialize`.
    let mut with_version = ok.to_vec();
    with_version.push(("mcp-protocol-version", "2026-07-28"));
    let reply = send(server.addr(), "POST", "/mcp", &with_version, ping).await;
    assert_eq!(reply.status, 400, "2026 header without _meta");
    let body = reply.json();
    assert_eq!(
        (body["error"]["code"].clone(), body["id"].clone()),
        (json!(-32602), json!(9))
    );
    assert_eq!(body["error"]["data"]["missing"], json!(["_meta"]));
    let code = body["error"]["code"].as_i64().unwrap();
    assert!(
        !(-32022..=-32020).contains(&code),
        "a 400 for a claimless body never uses a 2026 code"
    );
    // A 2025-style header naming a version we do not know is refused the 2025 way.
    let mut with_version = ok.to_vec();
    with_version.push(("mcp-protocol-version", "2025-01-01"));
    let reply = send(server.addr(), "POST", "/mcp", &with_version, ping).await;
    assert_eq!(reply.status, 400, "unsupported MCP-Protocol-Version");
    assert_eq!(reply.json()["error"]["code"], -32000);
}

#[tokio::test]
async fn arguments_that_fail_the_schema_are_a_tool_error() {
    let server = Tailmcp::builder()
        .args(["--dev-identity", "a@example.com"])
        .start()
        .await;
    let reply = post_mcp(
        server.addr(),
        &[],
        &tailmcp_tests::tools_call(1, "greet", json!({"unexpected": 1})),
    )
    .await;
    assert_eq!(reply.status, 200);
    let result = &reply.json()["result"];
    assert_eq!(result["isError"], true);
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("unexpected")
    );
}

#[tokio::test]
async fn get_delete_and_other_paths() {
    let server = Tailmcp::builder().start().await;
    for method in ["GET", "DELETE"] {
        let reply = send(
            server.addr(),
            method,
            "/mcp",
            &[("accept", "text/event-stream")],
            "",
        )
        .await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.headers["allow"], "POST");
    }
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let reply = send(
        server.addr(),
        "POST",
        "/other",
        tailmcp_tests::MCP_HEADERS,
        ping,
    )
    .await;
    assert_eq!(reply.status, 404);
    // The host reads every POST body before routing reaches the component:
    // one that is not a JSON-RPC message is refused on any path.
    let reply = send(
        server.addr(),
        "POST",
        "/other",
        tailmcp_tests::MCP_HEADERS,
        "{}",
    )
    .await;
    assert_eq!(reply.status_code_id().0, 400);
    assert_eq!(reply.json()["error"]["code"], -32600);
}
