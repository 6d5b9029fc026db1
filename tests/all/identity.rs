//! Identity: forged headers never reach a component or a tool; serve's
//! identity (Q-encoded, capabilities, tagged devices) arrives decoded.

use serde_json::{Value, json};
use tailmcp_tests::{Injected, ServeStandIn, Tailmcp, fixtures, post_mcp, tools_call};

fn greet_text(reply: &Value) -> &str {
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

/// The fixture reports every header it saw and the WIT caller.
#[tokio::test]
pub async fn identity_headers_echo() {
    let server = Tailmcp::builder()
        .unix()
        .args(["--component", fixtures::IDENTITY_HEADERS_ECHO])
        .serve(Injected {
            profile_pic: Some("https://example.com/zoe.png".into()),
            capabilities: Some(
                r#"{"example.com/cap/mcp":[{"role":"👑"},{"tools":["greet"]}]}"#.into(),
            ),
            ..Injected::user("zoe@example.com", "Zoë Ünïcode")
        })
        .start()
        .await;
    let serve = server.serve();
    let forged = [
        ("Tailscale-User-Login", "mallory@evil.example"),
        ("Tailscale-User-Name", "Mallory"),
        (
            "Tailscale-App-Capabilities",
            r#"{"example.com/cap/mcp":[{"role":"admin"}]}"#,
        ),
        ("Tailscale-Something-New", "x"),
        ("X-Other", "kept"),
    ];
    let reply = post_mcp(serve.addr, &forged, tailmcp_tests::PING).await;
    assert_eq!(reply.status, 200);
    let seen = reply.json();
    let headers: Vec<&str> = seen["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(
        headers
            .iter()
            .all(|h| !h.to_ascii_lowercase().starts_with("tailscale-")),
        "a Tailscale-* header reached the component: {headers:?}"
    );
    assert!(
        headers.contains(&"x-other"),
        "other headers pass through: {headers:?}"
    );
    assert_eq!(
        seen["user"],
        json!({"login": "zoe@example.com", "displayName": "Zoë Ünïcode", "profilePicUrl": "https://example.com/zoe.png"})
    );
    let grants: Vec<Value> = seen["capabilities"]["example.com/cap/mcp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| serde_json::from_str(g.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(grants, [json!({"role": "👑"}), json!({"tools": ["greet"]})]);
    assert_eq!(seen["capabilities"].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn forged_login_never_reaches_greet() {
    let server = Tailmcp::builder().start().await;
    let serve = ServeStandIn::start(
        server.backend(),
        Injected::user("alice@example.com", "Alice"),
    )
    .await;
    let reply = post_mcp(
        serve.addr,
        &[
            ("Tailscale-User-Login", "mallory@evil.example"),
            ("tailscale-user-name", "Mallory"),
        ],
        &tools_call(1, "greet", json!({})),
    )
    .await
    .json();
    assert_eq!(
        greet_text(&reply),
        "Hello, Alice! You are logged in as alice@example.com."
    );
    assert!(
        server.logs().contains("alice@example.com"),
        "access log names the caller"
    );
}

#[tokio::test]
async fn tagged_device_gets_a_tool_error_even_with_a_forged_login() {
    let server = Tailmcp::builder().start().await;
    let tagged = Injected {
        capabilities: Some(r#"{"example.com/cap/mcp":[{"role":"ci"}]}"#.into()),
        ..Injected::default()
    };
    let serve = ServeStandIn::start(server.backend(), tagged).await;
    let reply = post_mcp(
        serve.addr,
        &[("Tailscale-User-Login", "mallory@evil.example")],
        &tools_call(1, "greet", json!({})),
    )
    .await
    .json();
    assert_eq!(reply["result"]["isError"], true);
    assert!(greet_text(&reply).contains("tagged device"), "{reply}");
    assert!(!reply.to_string().contains("mallory"));
}

#[tokio::test]
async fn identity_is_ignored_on_a_non_loopback_listener() {
    let server = Tailmcp::builder().on("0.0.0.0:0").start().await;
    assert!(
        server.logs().contains("will be IGNORED"),
        "startup warns: {}",
        server.logs()
    );
    let port = server
        .listening
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let reply = post_mcp(
        addr,
        &[
            ("Tailscale-User-Login", "mallory@evil.example"),
            ("Tailscale-User-Name", "Mallory"),
        ],
        &tools_call(1, "greet", json!({})),
    )
    .await
    .json();
    assert_eq!(reply["result"]["isError"], true, "{reply}");
}

#[tokio::test]
async fn dev_identity_fills_in_only_when_serve_sent_none() {
    let server = Tailmcp::builder()
        .args(["--dev-identity", "dev@example.com", "--dev-name", "Dev"])
        .start()
        .await;
    assert!(server.logs().contains("DEVELOPMENT MODE"));
    let direct = post_mcp(server.addr(), &[], &tools_call(1, "greet", json!({})))
        .await
        .json();
    assert_eq!(
        greet_text(&direct),
        "Hello, Dev! You are logged in as dev@example.com."
    );
    let serve = ServeStandIn::start(
        server.backend(),
        Injected::user("alice@example.com", "Alice"),
    )
    .await;
    let via_serve = post_mcp(serve.addr, &[], &tools_call(2, "greet", json!({})))
        .await
        .json();
    assert_eq!(
        greet_text(&via_serve),
        "Hello, Alice! You are logged in as alice@example.com."
    );
}

#[tokio::test]
async fn funnel_requests_are_refused_unless_allowed() {
    let funnel = Injected {
        funnel: true,
        ..Injected::default()
    };
    let server = Tailmcp::builder().start().await;
    let serve = ServeStandIn::start(server.backend(), funnel.clone()).await;
    let reply = post_mcp(serve.addr, &[], &tools_call(1, "greet", json!({}))).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Funnel")
    );

    let open = Tailmcp::builder().args(["--allow-funnel"]).start().await;
    let serve = ServeStandIn::start(open.backend(), funnel).await;
    let reply = post_mcp(serve.addr, &[], &tools_call(1, "greet", json!({}))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["result"]["isError"],
        true,
        "Funnel callers have no identity"
    );
}
