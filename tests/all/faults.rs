//! Faulty components are contained: the caller gets a clear error and the
//! host keeps serving.

use std::time::{Duration, Instant};

use tailmcp_tests::{Tailmcp, fixtures, post_mcp, send};

const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

#[tokio::test]
pub async fn fault_trap() {
    let server = Tailmcp::start(&["--component", fixtures::FAULT_TRAP]).await;
    for _ in 0..3 {
        let reply = post_mcp(server.addr(), &[], PING).await;
        assert_eq!(reply.status, 500);
        assert_eq!(reply.json()["error"]["code"], -32603);
    }
    assert_eq!(
        send(server.addr(), "GET", "/healthz", &[], "").await.status,
        200
    );
    let logs = server.logs();
    assert!(logs.contains("trapped"), "{logs}");
    assert!(
        logs.contains("fault_trap panics on purpose"),
        "the panic message is logged: {logs}"
    );
}

#[tokio::test]
pub async fn fault_loop() {
    let server = Tailmcp::start(&[
        "--component",
        fixtures::FAULT_LOOP,
        "--request-timeout",
        "1s",
    ])
    .await;
    let started = Instant::now();
    let reply = post_mcp(server.addr(), &[], PING).await;
    assert_eq!(reply.status, 504);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stopped near the deadline"
    );
    assert_eq!(
        send(server.addr(), "GET", "/healthz", &[], "").await.status,
        200
    );
    assert!(server.logs().contains("deadline"));
}
