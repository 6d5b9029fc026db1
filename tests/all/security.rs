//! One reading of each request decides, and it is the host's: a body the
//! host and a component could read differently (a repeated key, a batch)
//! never reaches a component, in both protocol eras and on the legacy SSE
//! path; the component gets the host's own re-serialisation; the policy's
//! `tools/list` filter fails closed; a rule's conditions all hold.

use std::path::Path;

use serde_json::{Value, json};
use tailmcp_tests::{MCP_HEADERS, Tailmcp, fixtures, json_lines, send};

use crate::sse::Stream;

/// greet for everyone with a login; whoami for nobody.
const POLICY: &str = r#"
[[allow]]
tools = ["greet"]
logins = ["*"]
"#;

const ALICE: (&str, &str) = ("tailscale-user-login", "alice@example.com");

struct Setup {
    _dir: tempfile::TempDir,
    audit: std::path::PathBuf,
    server: Tailmcp,
}

/// A server on loopback (identity headers honoured), with the policy above
/// and an audit log, serving `component` (the built-in one if `None`).
async fn setup(policy: &str, component: Option<&Path>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let policy_path = dir.path().join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut args = vec![
        "--policy".to_string(),
        policy_path.display().to_string(),
        "--audit-log".to_string(),
        audit.display().to_string(),
    ];
    if let Some(component) = component {
        args.extend(["--component".to_string(), component.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Tailmcp::builder().args(&args).start().await;
    Setup {
        _dir: dir,
        audit,
        server,
    }
}

const MODERN_CALL: &[(&str, &str)] = &[
    ("mcp-protocol-version", "2026-07-28"),
    ("mcp-method", "tools/call"),
    ("mcp-name", "whoami"),
];
const MODERN_LIST: &[(&str, &str)] = &[
    ("mcp-protocol-version", "2026-07-28"),
    ("mcp-method", "tools/list"),
];
const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

#[tokio::test]
async fn a_body_read_two_ways_never_reaches_the_component() {
    struct Case {
        name: &'static str,
        headers: &'static [(&'static str, &'static str)],
        body: String,
        /// HTTP status and JSON-RPC error code of the host's refusal.
        want: (u16, i64),
    }
    let cases = [
        Case {
            name: "repeated id",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"id":1,"method":"tools/call","params":{"name":"whoami"}}"#.into(),
            want: (400, -32700),
        },
        Case {
            name: "repeated tool name",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","name":"whoami"}}"#.into(),
            want: (400, -32700),
        },
        Case {
            name: "repeated method",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"whoami"}}"#.into(),
            want: (400, -32700),
        },
        Case {
            name: "repeated params",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet"},"params":{"name":"whoami"}}"#.into(),
            want: (400, -32700),
        },
        Case {
            name: "repeated key spelled with an escape",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","n\u0061me":"whoami"}}"#.into(),
            want: (400, -32700),
        },
        Case {
            name: "repeated key deep in the arguments",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{"a":{"b":1,"b":2}}}}"#.into(),
            want: (400, -32700),
        },
        Case {
            name: "batch holding a forbidden call",
            headers: &[],
            body: r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}]"#.into(),
            want: (400, -32600),
        },
        Case {
            name: "tool name the host cannot read",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["whoami"]}}"#.into(),
            want: (200, -32602),
        },
        Case {
            name: "2026-07-28: repeated id",
            headers: MODERN_CALL,
            body: format!(r#"{{"jsonrpc":"2.0","id":1,"id":1,"method":"tools/call","params":{{"name":"whoami",{META}}}}}"#),
            want: (400, -32700),
        },
        Case {
            name: "2026-07-28: repeated tool name",
            headers: MODERN_CALL,
            body: format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"greet","name":"whoami",{META}}}}}"#),
            want: (400, -32700),
        },
        Case {
            name: "tools/list with a repeated id (would list every tool)",
            headers: &[],
            body: r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}"#.into(),
            want: (400, -32700),
        },
        Case {
            name: "2026-07-28: tools/list with a repeated key",
            headers: MODERN_LIST,
            body: format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/list","params":{{{META}}}}}"#),
            want: (400, -32700),
        },
    ];
    let s = setup(POLICY, None).await;
    for case in &cases {
        let mut headers = MCP_HEADERS.to_vec();
        headers.push(ALICE);
        headers.extend_from_slice(case.headers);
        let reply = send(s.server.addr(), "POST", "/mcp", &headers, case.body.clone()).await;
        let answer = reply.json();
        assert_eq!(
            (reply.status, answer["error"]["code"].as_i64().unwrap_or(0)),
            case.want,
            "{}: {answer}",
            case.name
        );
        assert!(
            answer.get("result").is_none(),
            "{}: the component answered: {answer}",
            case.name
        );
    }
    assert!(
        json_lines(&s.audit).is_empty(),
        "no tools/call was read, so none ran and none is audited: {:?}",
        json_lines(&s.audit)
    );
    // The same server still serves and judges readable calls.
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(ALICE);
    let body = r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"whoami"}}"#;
    let refused = send(s.server.addr(), "POST", "/mcp", &headers, body)
        .await
        .json();
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert_eq!(json_lines(&s.audit)[0]["outcome"], "refused");
}

#[tokio::test]
async fn the_legacy_sse_path_reads_the_same_way() {
    let s = setup(POLICY, None).await;
    let mut stream = Stream::open(
        s.server.addr(),
        "Tailscale-User-Login: alice@example.com\r\n",
    )
    .await
    .unwrap();
    let post = |body: &'static str| {
        let endpoint = stream.endpoint.clone();
        let addr = s.server.addr();
        async move {
            let headers = [("content-type", "application/json"), ALICE];
            let reply = send(addr, "POST", &endpoint, &headers, body).await;
            let code = serde_json::from_slice::<Value>(&reply.body)
                .map(|answer| answer["error"]["code"].clone())
                .unwrap_or(Value::Null);
            (reply.status, code)
        }
    };
    let repeated =
        r#"{"jsonrpc":"2.0","id":1,"id":1,"method":"tools/call","params":{"name":"whoami"}}"#;
    assert_eq!(post(repeated).await, (400, json!(-32700)));
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}]"#;
    assert_eq!(post(batch).await, (400, json!(-32600)));
    // The next message on the stream answers the next readable POST: the
    // refused ones put nothing on it.
    let ping = r#"{"jsonrpc":"2.0","id":"after","method":"ping"}"#;
    assert_eq!(post(ping).await.0, 202);
    let answer: Value = serde_json::from_str(&stream.next_data("message").await.unwrap()).unwrap();
    assert_eq!(answer["id"], "after", "{answer}");
    assert!(json_lines(&s.audit).is_empty());
}

/// The `security_body_echo` fixture answers with the bytes it was given: the host's
/// re-serialisation (compact, keys in order), not what the client sent.
#[tokio::test]
pub async fn security_body_echo() {
    let s = setup(POLICY, Some(Path::new(fixtures::SECURITY_BODY_ECHO))).await;
    let sent = r#"{ "method" : "ping", "id":1 , "jsonrpc":"2.0",
        "params": {"b": 1, "a": "\u00e9\ud83d\ude00", "c": 1.50} }"#;
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(ALICE);
    let reply = send(s.server.addr(), "POST", "/mcp", &headers, sent).await;
    assert_eq!(reply.status, 200);
    let given = reply.json()["body"].as_str().unwrap().to_string();
    assert_eq!(
        given,
        r#"{"id":1,"jsonrpc":"2.0","method":"ping","params":{"a":"é😀","b":1,"c":1.5}}"#
    );
    // Requests without a body (GET, DELETE) still reach it, with none.
    let get = send(s.server.addr(), "GET", "/mcp", &[ALICE], "").await;
    assert_eq!(get.json()["body"], "");
}

/// A `tools/list` answer the host cannot read as JSON is not passed on
/// unfiltered: the filter fails closed.
#[tokio::test]
async fn the_tools_list_filter_fails_closed() {
    // `security_body_echo` answers a tools/list with `{"body": ...}`: JSON, but no
    // `result.tools` to filter.
    let s = setup(POLICY, Some(Path::new(fixtures::SECURITY_BODY_ECHO))).await;
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(ALICE);
    let list = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#;
    let reply = send(s.server.addr(), "POST", "/mcp", &headers, list).await;
    assert_eq!(reply.status, 500, "{:?}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["error"]["code"], -32603, "{answer}");
    assert_eq!(answer["id"], 3);
    assert!(answer.get("body").is_none(), "{answer}");
    assert!(
        s.server
            .logs()
            .contains("could not be checked against the policy"),
        "{}",
        s.server.logs()
    );
}

/// Every condition a rule names must hold: a rule with `logins` and a
/// `capability` allows a caller who has both, not either.
#[tokio::test]
async fn a_rule_with_logins_and_a_capability_needs_both() {
    const BOTH: &str = r#"
[[allow]]
tools = ["whoami"]
logins = ["ops@example.com"]
capability = "example.com/cap/mcp"
"#;
    let s = setup(BOTH, None).await;
    let cap = r#"{"example.com/cap/mcp":[{}]}"#;
    struct Case {
        name: &'static str,
        headers: Vec<(&'static str, &'static str)>,
        allowed: bool,
    }
    let cases = [
        Case {
            name: "login and capability",
            headers: vec![
                ("tailscale-user-login", "ops@example.com"),
                ("tailscale-app-capabilities", cap),
            ],
            allowed: true,
        },
        Case {
            name: "login only",
            headers: vec![("tailscale-user-login", "ops@example.com")],
            allowed: false,
        },
        Case {
            name: "capability only (another user)",
            headers: vec![
                ("tailscale-user-login", "eve@example.com"),
                ("tailscale-app-capabilities", cap),
            ],
            allowed: false,
        },
        Case {
            name: "capability only (tagged device)",
            headers: vec![("tailscale-app-capabilities", cap)],
            allowed: false,
        },
    ];
    for case in cases {
        let mut headers = MCP_HEADERS.to_vec();
        headers.extend(case.headers);
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#;
        let answer = send(s.server.addr(), "POST", "/mcp", &headers, body)
            .await
            .json();
        assert_eq!(
            answer.get("result").is_some(),
            case.allowed,
            "{}: {answer}",
            case.name
        );
    }
}
