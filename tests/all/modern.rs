//! MCP 2026-07-28 beside the 2025 revisions, on the real host: one test per
//! row of the dual-era decision table (README "Protocol versions"), plus the
//! 2026-07-28 ladder of header and `_meta` checks, in order.

use serde_json::{Value, json};
use tailmcp_tests::modern::{self, META_CAPABILITIES, META_VERSION, SERVER_INFO};
use tailmcp_tests::{Injected, MCP_HEADERS, ServeStandIn, Tailmcp, post_mcp, send};

/// (status, error code or null, id or null) of one POST with the standard
/// Accept and Content-Type plus `extra`.
async fn answer(server: &Tailmcp, extra: &[(&str, &str)], body: &str) -> (u16, Value, Value) {
    post_mcp(server.addr(), extra, body).await.status_code_id()
}

async fn discover(server: &Tailmcp) -> Value {
    let reply = post_mcp(
        server.addr(),
        &modern::headers("server/discover", None),
        &modern::body(json!("d"), "server/discover", json!({})),
    )
    .await;
    assert_eq!(reply.status, 200);
    reply.json()["result"].clone()
}

/// Row: a request whose `_meta` names a protocol version is modern, served
/// statelessly with `resultType`, serverInfo in `_meta` and caching hints.
#[tokio::test]
async fn a_claim_in_meta_is_served_as_2026_07_28() {
    let server = Tailmcp::builder().start().await;
    let discovered = discover(&server).await;
    assert_eq!(
        discovered["supportedVersions"],
        json!([
            "2026-07-28",
            "2025-11-25",
            "2025-06-18",
            "2025-03-26",
            "2024-11-05"
        ])
    );
    assert_eq!(discovered["capabilities"], json!({"tools": {}}));
    assert_eq!(discovered["resultType"], "complete");
    assert_eq!(discovered["ttlMs"], 0);
    assert_eq!(discovered["cacheScope"], "private");
    assert_eq!(discovered["_meta"][SERVER_INFO]["name"], "tailmcp");
    assert!(discovered["_meta"][SERVER_INFO]["version"].is_string());
    assert!(
        discovered["instructions"]
            .as_str()
            .unwrap()
            .contains("greet")
    );
    assert!(discovered.get("protocolVersion").is_none() && discovered.get("serverInfo").is_none());

    // A session id is ignored, never minted or echoed.
    let mut with_session = modern::headers("tools/list", None);
    with_session.push(("mcp-session-id", "from-an-old-client"));
    let reply = post_mcp(
        server.addr(),
        &with_session,
        &modern::body(json!(2), "tools/list", json!({})),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.headers.get("mcp-session-id").is_none());
    let list = &reply.json()["result"];
    assert_eq!(list["tools"][0]["name"], "greet");
    assert_eq!(list["resultType"], "complete");
    assert_eq!(
        (list["ttlMs"].clone(), list["cacheScope"].clone()),
        (json!(0), json!("private"))
    );
    assert_eq!(list["_meta"][SERVER_INFO]["name"], "tailmcp");
}

/// Identity reaches `greet` the same way whichever era the request speaks.
#[tokio::test]
async fn identity_is_the_same_in_both_eras() {
    let server = Tailmcp::builder().unix().start().await;
    let serve = ServeStandIn::start(
        server.backend(),
        Injected::user("zoe@example.com", "Zoë Ünïcode"),
    )
    .await;
    let forged = ("Tailscale-User-Login", "mallory@evil.example");
    let mut modern_headers = modern::headers("tools/call", Some("greet"));
    modern_headers.push(forged);
    let modern_reply = post_mcp(
        serve.addr,
        &modern_headers,
        &modern::body(json!(1), "tools/call", json!({"name": "greet"})),
    )
    .await;
    let legacy_reply = post_mcp(
        serve.addr,
        &[forged],
        &tailmcp_tests::tools_call(1, "greet", json!({})),
    )
    .await;
    assert_eq!((modern_reply.status, legacy_reply.status), (200, 200));
    let (modern_result, legacy_result) = (
        &modern_reply.json()["result"],
        &legacy_reply.json()["result"],
    );
    assert_eq!(
        modern_result["content"][0]["text"],
        "Hello, Zoë Ünïcode! You are logged in as zoe@example.com."
    );
    assert_eq!(modern_result["content"], legacy_result["content"]);
    assert_eq!(
        modern_result["structuredContent"],
        legacy_result["structuredContent"]
    );
    assert_eq!(modern_result["resultType"], "complete");
    assert!(legacy_result.get("resultType").is_none());
}

/// The 2026-07-28 ladder, rung by rung and in order; every refusal is an
/// HTTP 400 that echoes the id.
#[tokio::test]
async fn header_and_meta_checks_in_ladder_order() {
    let server = Tailmcp::builder().start().await;
    let supported = discover(&server).await["supportedVersions"].clone();
    let list = modern::body(json!(7), "tools/list", json!({}));
    let call = modern::body(json!(8), "tools/call", json!({"name": "greet"}));
    let no_capabilities = json!({"jsonrpc":"2.0","id":9,"method":"tools/list",
        "params":{"_meta":{META_VERSION:"2026-07-28"}}})
    .to_string();
    let v2030 = list.replace("2026-07-28", "2030-01-01");
    let refused = |code: i64, id: Value| (400, json!(code), id);
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        &'a str,
        (u16, Value, Value),
    );
    let cases: Vec<Case> = vec![
        (
            "well-formed",
            modern::headers("tools/list", None),
            &list,
            (200, Value::Null, json!(7)),
        ),
        (
            "clientCapabilities missing (before any header check)",
            vec![("mcp-method", "other")],
            &no_capabilities,
            refused(-32602, json!(9)),
        ),
        (
            "MCP-Protocol-Version disagrees with _meta",
            vec![
                ("mcp-protocol-version", "2025-11-25"),
                ("mcp-method", "tools/list"),
            ],
            &list,
            refused(-32020, json!(7)),
        ),
        (
            "Mcp-Method disagrees with the method (before the version check)",
            vec![
                ("mcp-protocol-version", "2030-01-01"),
                ("mcp-method", "prompts/list"),
            ],
            &v2030,
            refused(-32020, json!(7)),
        ),
        (
            "a version we do not serve",
            vec![
                ("mcp-protocol-version", "2030-01-01"),
                ("mcp-method", "tools/list"),
            ],
            &v2030,
            refused(-32022, json!(7)),
        ),
        (
            "MCP-Protocol-Version missing",
            vec![("mcp-method", "tools/list")],
            &list,
            refused(-32020, json!(7)),
        ),
        (
            "Mcp-Method missing",
            vec![("mcp-protocol-version", "2026-07-28")],
            &list,
            refused(-32020, json!(7)),
        ),
        (
            "Mcp-Method values are case-sensitive",
            modern::headers("TOOLS/LIST", None),
            &list,
            refused(-32020, json!(7)),
        ),
        (
            "header names are not",
            vec![
                ("MCP-PROTOCOL-VERSION", "2026-07-28"),
                ("MCP-METHOD", "tools/list"),
            ],
            &list,
            (200, Value::Null, json!(7)),
        ),
        (
            "Mcp-Name missing",
            modern::headers("tools/call", None),
            &call,
            refused(-32020, json!(8)),
        ),
        (
            "Mcp-Name names another tool",
            modern::headers("tools/call", Some("other")),
            &call,
            refused(-32020, json!(8)),
        ),
        (
            "Mcp-Name differs in case",
            modern::headers("tools/call", Some("Greet")),
            &call,
            refused(-32020, json!(8)),
        ),
        (
            "Mcp-Name with surrounding whitespace",
            modern::headers("tools/call", Some(" \tgreet ")),
            &call,
            (200, Value::Null, json!(8)),
        ),
        (
            "Mcp-Name base64-encoded",
            modern::headers("tools/call", Some("=?base64?Z3JlZXQ=?=")),
            &call,
            (200, Value::Null, json!(8)),
        ),
        (
            "Mcp-Name with invalid base64",
            modern::headers("tools/call", Some("=?base64?Z3JlZXQ?=")),
            &call,
            refused(-32020, json!(8)),
        ),
    ];
    for (name, extra, body, expected) in cases {
        assert_eq!(answer(&server, &extra, body).await, expected, "{name}");
    }

    // -32022 names what we serve (a subset of discover's list) and echoes the request.
    let reply = post_mcp(
        server.addr(),
        &[
            ("mcp-protocol-version", "v999.0.0"),
            ("mcp-method", "tools/list"),
        ],
        &list.replace("2026-07-28", "v999.0.0"),
    )
    .await;
    let error = &reply.json()["error"];
    assert_eq!((reply.status, error["code"].clone()), (400, json!(-32022)));
    assert_eq!(error["data"]["requested"], "v999.0.0");
    assert_eq!(error["data"]["supported"], supported);

    // Errors from the method itself stay in-band, as in 2025.
    let unknown_tool = modern::body(json!(10), "tools/call", json!({"name": "nope"}));
    assert_eq!(
        answer(
            &server,
            &modern::headers("tools/call", Some("nope")),
            &unknown_tool
        )
        .await,
        (200, json!(-32602), json!(10))
    );
}

/// Row: `initialize`, `ping` and the other methods 2026-07-28 removed, and
/// unknown methods, are 404 + -32601 on a modern request.
#[tokio::test]
async fn removed_and_unknown_methods_are_404_when_modern() {
    let server = Tailmcp::builder().start().await;
    for (id, method) in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "resources/list",
        "subscriptions/listen",
        "unknown/method",
    ]
    .into_iter()
    .enumerate()
    {
        let body = modern::body(json!(id), method, json!({}));
        assert_eq!(
            answer(&server, &modern::headers(method, None), &body).await,
            (404, json!(-32601), json!(id)),
            "{method}"
        );
    }
}

/// Row: no claim in the body but a 2026 `MCP-Protocol-Version` header is a
/// malformed modern request: 400 + -32602 naming the missing `_meta`, never
/// a silent fallback to 2025 rules.
#[tokio::test]
async fn a_modern_header_without_meta_is_malformed() {
    let server = Tailmcp::builder().start().await;
    let reply = post_mcp(
        server.addr(),
        &modern::headers("server/discover", None),
        r#"{"jsonrpc":"2.0","id":3,"method":"server/discover","params":{}}"#,
    )
    .await;
    let body = reply.json();
    assert_eq!((reply.status, body["id"].clone()), (400, json!(3)));
    assert_eq!(body["error"]["code"], -32602);
    assert_eq!(body["error"]["data"]["missing"], json!(["_meta"]));
    let reply = post_mcp(
        server.addr(),
        &modern::headers("server/discover", None),
        &json!({"jsonrpc":"2.0","id":4,"method":"server/discover",
            "params":{"_meta":{META_CAPABILITIES:{}}}})
        .to_string(),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["error"]["data"]["missing"],
        json!([META_VERSION])
    );
}

/// Row: `initialize` without a claim is the 2025 handshake; asked for
/// 2026-07-28 (which has none), it offers the newest 2025 revision.
#[tokio::test]
async fn initialize_without_a_claim_is_the_2025_handshake() {
    let server = Tailmcp::builder().start().await;
    for (asked, answered) in [("2025-06-18", "2025-06-18"), ("2026-07-28", "2025-11-25")] {
        let reply = post_mcp(
            server.addr(),
            &[],
            &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
                "protocolVersion": asked, "capabilities": {}, "clientInfo": {"name":"t","version":"1"}}})
            .to_string(),
        )
        .await;
        assert_eq!(reply.status, 200);
        assert!(reply.headers.get("mcp-session-id").is_none());
        let result = &reply.json()["result"];
        assert_eq!(result["protocolVersion"], answered, "asked {asked}");
        assert_eq!(result["serverInfo"]["name"], "tailmcp");
        assert!(result.get("resultType").is_none());
    }
}

/// Row: other requests without a claim, with a 2025 header or none, follow
/// the 2025 rules: `ping` works, no `resultType`, errors in-band on 200.
#[tokio::test]
async fn requests_without_a_claim_follow_2025_rules() {
    let server = Tailmcp::builder().start().await;
    for version in [None, Some("2025-06-18"), Some("2025-11-25")] {
        let extra: Vec<(&str, &str)> = version
            .map(|v| ("mcp-protocol-version", v))
            .into_iter()
            .collect();
        let ping = post_mcp(
            server.addr(),
            &extra,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        )
        .await;
        assert_eq!(
            (ping.status, ping.json()["result"].clone()),
            (200, json!({}))
        );
        let list = post_mcp(
            server.addr(),
            &extra,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        )
        .await
        .json();
        assert_eq!(list["result"]["tools"][0]["name"], "greet");
        for key in ["resultType", "ttlMs", "cacheScope", "_meta"] {
            assert!(list["result"].get(key).is_none(), "{version:?}: {key}");
        }
        assert_eq!(
            answer(
                &server,
                &extra,
                r#"{"jsonrpc":"2.0","id":3,"method":"server/discover"}"#
            )
            .await,
            (200, json!(-32601), json!(3)),
            "{version:?}"
        );
    }
}

/// Row: a 2025-style header naming a version we do not know is a 400 whose
/// body is never one of the 2026 codes, so dual-era clients fall back.
#[tokio::test]
async fn unknown_legacy_versions_get_a_400_without_2026_codes() {
    let server = Tailmcp::builder().start().await;
    for version in ["2024-01-01", "2025-01-01", "1.0"] {
        let (status, code, _) = answer(
            &server,
            &[("mcp-protocol-version", version)],
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        )
        .await;
        assert_eq!((status, code), (400, json!(-32000)), "{version}");
    }
}

/// Rows: notifications and client responses without a claim get 202; a
/// batch is refused (also when an element carries a claim).
#[tokio::test]
async fn notifications_responses_and_batches() {
    let server = Tailmcp::builder().start().await;
    for body in [
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
    ] {
        assert_eq!(
            answer(&server, &[], body).await,
            (202, Value::Null, Value::Null),
            "{body}"
        );
    }
    let legacy = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#.to_string();
    let with_claim = format!("[{}]", modern::body(json!(1), "tools/list", json!({})));
    for body in [legacy, with_claim] {
        assert_eq!(answer(&server, &[], &body).await.0, 400, "{body}");
        assert_eq!(answer(&server, &[], &body).await.1, json!(-32600), "{body}");
    }
}

/// Rows: GET and DELETE (2025 session operations) get 405 from this
/// stateless endpoint.
#[tokio::test]
async fn get_and_delete_are_405() {
    let server = Tailmcp::builder().start().await;
    for method in ["GET", "DELETE"] {
        let reply = send(server.addr(), method, "/mcp", MCP_HEADERS, "").await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.headers["allow"], "POST");
        let code = reply.json()["error"]["code"].as_i64().unwrap();
        assert!(!(-32022..=-32020).contains(&code));
    }
}

/// How a dual-era client uses the table: it probes with `server/discover`;
/// a DiscoverResult means 2026-07-28 works, and the same endpoint still
/// answers the 2025 handshake for clients that fall back.
#[tokio::test]
async fn a_dual_era_client_can_use_either_era() {
    let server = Tailmcp::builder()
        .args(["--dev-identity", "alice@example.com", "--dev-name", "Alice"])
        .start()
        .await;
    let discovered = discover(&server).await;
    assert!(
        discovered["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-07-28"))
    );
    let call = post_mcp(
        server.addr(),
        &modern::headers("tools/call", Some("greet")),
        &modern::body(
            json!(1),
            "tools/call",
            json!({"name": "greet", "arguments": {}}),
        ),
    )
    .await
    .json();
    assert_eq!(
        call["result"]["content"][0]["text"],
        "Hello, Alice! You are logged in as alice@example.com."
    );
    let init = post_mcp(
        server.addr(),
        &[],
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    )
    .await;
    assert_eq!(init.json()["result"]["protocolVersion"], "2025-11-25");
}
