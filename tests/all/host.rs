//! Host behaviour around the component: health, checks, limits, shutdown.

use serde_json::json;
use tailmcp_tests::{
    Injected, ServeStandIn, Tailmcp, fixtures, greet_wasm, post_mcp, send, sha256_hex, tailmcp_bin,
    tools_call,
};

#[tokio::test]
async fn healthz_reports_the_component_sha256() {
    let server = Tailmcp::builder()
        .args(["--component", fixtures::IDENTITY_HEADERS_ECHO])
        .start()
        .await;
    let reply = send(server.addr(), "GET", "/healthz", &[], "").await;
    assert_eq!(reply.status, 200);
    let health = reply.json();
    let expected = sha256_hex(&std::fs::read(fixtures::IDENTITY_HEADERS_ECHO).unwrap());
    assert_eq!(health["status"], "ok");
    assert_eq!(health["component"]["sha256"], expected);
    assert_eq!(
        health["component"]["source"],
        fixtures::IDENTITY_HEADERS_ECHO
    );
}

/// The full view counts the requests a component instance is handling (what
/// tests wait on instead of sleeping); the tailnet's view does not show it.
#[tokio::test]
async fn healthz_counts_requests_in_flight() {
    let server = Tailmcp::builder()
        .args(["--component", fixtures::SWAP_V1, "--no-cache"])
        .serve(Injected::user("alice@example.com", "Alice"))
        .start()
        .await;
    assert_eq!(server.health().await["in_flight"], 0);
    let addr = server.addr();
    let slow: Vec<_> = (0..2)
        .map(|_| tokio::spawn(async move { send(addr, "GET", "/?sleep=1000", &[], "").await }))
        .collect();
    server.wait_in_flight(2).await;
    let summary = send(server.serve().addr, "GET", "/healthz", &[], "")
        .await
        .json();
    assert_eq!(
        summary,
        json!({"status": "ok", "component": {"sha256": sha256_hex(&std::fs::read(fixtures::SWAP_V1).unwrap())}}),
        "through serve: status and sha256 only"
    );
    for slow in slow {
        assert_eq!(slow.await.unwrap().status, 200);
    }
    server.wait_in_flight(0).await;
}

#[tokio::test]
async fn health_command_probes_a_unix_socket() {
    let server = Tailmcp::builder().unix().start().await;
    let listen = format!("unix:{}", server.socket().display());
    let ok = tokio::process::Command::new(tailmcp_bin())
        .args(["health", "--listen", &listen])
        .output()
        .await
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // The full view of the built-in component, which the host embeds.
    let health: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["component"]["source"], "embedded", "{health}");
    assert_eq!(
        health["component"]["sha256"],
        sha256_hex(&std::fs::read(greet_wasm()).unwrap()),
        "{health}"
    );
    // Gone, and its socket with it.
    server.kill().await;
    let down = tokio::process::Command::new(tailmcp_bin())
        .args(["health", "--listen", &listen, "--timeout", "2s"])
        .output()
        .await
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("unhealthy"));
}

#[tokio::test]
async fn foreign_origin_is_refused_missing_origin_allowed() {
    let server = Tailmcp::builder()
        .args(["--allow-origin", "https://app.example.com"])
        .start()
        .await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(post_mcp(server.addr(), &[], ping).await.status, 200);
    assert_eq!(
        post_mcp(
            server.addr(),
            &[("origin", "https://app.example.com")],
            ping
        )
        .await
        .status,
        200
    );
    let reply = post_mcp(server.addr(), &[("origin", "https://evil.example")], ping).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.json()["error"]["message"],
        "Forbidden: Origin not allowed"
    );
}

#[tokio::test]
async fn public_name_is_checked_against_x_forwarded_host() {
    let server = Tailmcp::builder()
        .unix()
        .args(["--public-name", ServeStandIn::PUBLIC_NAME])
        .start()
        .await;
    let serve = ServeStandIn::start(
        server.backend(),
        Injected::user("alice@example.com", "Alice"),
    )
    .await;
    let reply = post_mcp(serve.addr, &[], &tools_call(1, "greet", json!({}))).await;
    assert_eq!(
        reply.status,
        200,
        "the stand-in sends X-Forwarded-Host {}",
        ServeStandIn::PUBLIC_NAME
    );

    let other = Tailmcp::builder()
        .unix()
        .args(["--public-name", "other.tail1234.ts.net"])
        .start()
        .await;
    let serve = ServeStandIn::start(
        other.backend(),
        Injected::user("alice@example.com", "Alice"),
    )
    .await;
    let reply = post_mcp(serve.addr, &[], &tools_call(1, "greet", json!({}))).await;
    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn oversized_body_is_refused_before_the_component_runs() {
    let server = Tailmcp::builder()
        .args(["--max-body", "1KiB", "--component", fixtures::FAULT_TRAP])
        .start()
        .await;
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(4096)
    );
    let reply = post_mcp(server.addr(), &[], &huge).await;
    assert_eq!(reply.status, 413);
    assert!(
        !server.logs().contains("trapped"),
        "the (trapping) component never ran"
    );
}

#[tokio::test]
async fn sigterm_exits_cleanly() {
    let server = Tailmcp::builder().unix().start().await;
    let socket = server.socket();
    let status = server.terminate().await;
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "the socket file is removed on exit");
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.wasm");
    std::fs::copy(fixtures::SWAP_V1, &path).unwrap();
    let server = Tailmcp::builder()
        .args([
            "--component",
            path.to_str().unwrap(),
            "--shutdown-timeout",
            "5s",
        ])
        .start()
        .await;
    let addr = server.addr();
    let slow = tokio::spawn(async move { send(addr, "GET", "/?sleep=1500", &[], "").await });
    server.wait_in_flight(1).await;
    let started = std::time::Instant::now();
    let status = server.terminate().await;
    let reply = slow.await.unwrap();
    assert_eq!(reply.status, 200, "the in-flight request finished");
    assert_eq!(reply.json()["version"], "v1");
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "it waited for the request"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}
