//! Faulty components are contained: the caller gets a clear error (with the
//! request's id), the log says what happened, and the host keeps serving.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tailmcp_tests::{Tailmcp, fixtures, greet_wasm, post_mcp, replace_atomically, tools_call};

const PING: &str = r#"{"jsonrpc":"2.0","id":"req-7","method":"ping"}"#;

/// Starts the host on a copy of `fixture` (so it can be swapped out later).
async fn serving(
    fixture: &str,
    extra: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf, Tailmcp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("component.wasm");
    std::fs::copy(fixture, &path).unwrap();
    let mut args = vec!["--component", path.to_str().unwrap(), "--no-cache"];
    args.extend_from_slice(extra);
    let server = Tailmcp::builder().args(&args).start().await;
    (dir, path, server)
}

/// The fault's answer: status, JSON-RPC error and the echoed id.
async fn expect_contained(server: &Tailmcp, status: u16, message: &str) {
    let started = Instant::now();
    let reply = post_mcp(server.addr(), &[], PING).await;
    assert_eq!(reply.status, status, "{:?}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"]["code"], -32603, "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
    assert_eq!(body["id"], "req-7", "the request id is echoed");
    assert!(started.elapsed() < Duration::from_secs(15));
}

/// Swaps the greet component in and checks it serves 200 calls, 32 at a time.
async fn greet_still_served(server: Tailmcp, path: &std::path::Path) {
    replace_atomically(path, &std::fs::read(greet_wasm()).unwrap());
    let server = Arc::new(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while post_mcp(server.addr(), &[], PING).await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "greet never swapped in:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut calls = Vec::new();
    for worker in 0..32u64 {
        let server = server.clone();
        calls.push(tokio::spawn(async move {
            for i in 0..7u64 {
                let id = worker * 100 + i;
                let reply = post_mcp(
                    server.addr(),
                    &[
                        ("tailscale-user-login", "alice@example.com"),
                        ("tailscale-user-name", "Alice"),
                    ],
                    &tools_call(id, "greet", json!({})),
                )
                .await;
                assert_eq!(reply.status, 200);
                let body = reply.json();
                assert_eq!(body["id"], id);
                assert_eq!(
                    body["result"]["content"][0]["text"],
                    "Hello, Alice! You are logged in as alice@example.com."
                );
            }
        }));
    }
    for call in calls {
        call.await.expect("greet call");
    }
    // Fixtures may panic (inside wasm, printed to stderr); the host never does.
    for line in server.logs().lines().filter(|l| l.contains("panicked at")) {
        assert!(line.contains("src/bin/fault_"), "the host panicked: {line}");
    }
}

#[tokio::test]
pub async fn fault_trap() {
    let (_dir, path, server) = serving(fixtures::FAULT_TRAP, &[]).await;
    for _ in 0..3 {
        expect_contained(&server, 500, "Internal error: the server component failed").await;
    }
    let logs = server.logs();
    assert!(logs.contains("trapped"), "{logs}");
    assert!(
        logs.contains("fault_trap panics on purpose"),
        "the panic message is logged: {logs}"
    );
    greet_still_served(server, &path).await;
}

#[tokio::test]
pub async fn fault_loop() {
    let (_dir, path, server) = serving(fixtures::FAULT_LOOP, &["--request-timeout", "1s"]).await;
    // Several at once: each spinning instance is stopped by its own deadline.
    let server = Arc::new(server);
    let mut spins = Vec::new();
    for _ in 0..4 {
        let server = server.clone();
        spins.push(tokio::spawn(async move {
            expect_contained(&server, 504, "the tool took too long and was stopped").await;
        }));
    }
    for spin in spins {
        spin.await.unwrap();
    }
    assert!(server.logs().contains("ran past the request deadline"));
    let server = Arc::into_inner(server).unwrap();
    greet_still_served(server, &path).await;
}

#[tokio::test]
pub async fn fault_oom() {
    let (_dir, path, server) = serving(fixtures::FAULT_OOM, &["--max-memory", "16MiB"]).await;
    expect_contained(&server, 500, "Internal error: the server component failed").await;
    assert!(server.logs().contains("trapped"), "{}", server.logs());
    greet_still_served(server, &path).await;
}

#[tokio::test]
pub async fn fault_huge_body() {
    let (_dir, path, server) =
        serving(fixtures::FAULT_HUGE_BODY, &["--max-response", "1MiB"]).await;
    expect_contained(&server, 500, "Internal error: the response was too large").await;
    assert!(server.logs().contains("--max-response"));
    greet_still_served(server, &path).await;
}

#[tokio::test]
pub async fn fault_sleep() {
    let (_dir, path, server) = serving(fixtures::FAULT_SLEEP, &["--request-timeout", "1s"]).await;
    expect_contained(&server, 504, "the tool took too long and was stopped").await;
    greet_still_served(server, &path).await;
}

#[tokio::test]
pub async fn fault_no_response() {
    let (_dir, path, server) = serving(fixtures::FAULT_NO_RESPONSE, &[]).await;
    expect_contained(
        &server,
        500,
        "Internal error: the server component sent no response",
    )
    .await;
    greet_still_served(server, &path).await;
}

#[tokio::test]
async fn fuel_stops_a_spinning_component() {
    let (_dir, _path, server) = serving(
        fixtures::FAULT_LOOP,
        &["--fuel", "100000000", "--request-timeout", "30s"],
    )
    .await;
    expect_contained(
        &server,
        504,
        "the tool used up its compute budget and was stopped",
    )
    .await;
    assert_eq!(server.health().await["status"], "ok");
}

#[tokio::test]
async fn full_server_answers_503_and_a_greedy_caller_429() {
    let (_dir, _path, server) = serving(
        fixtures::FAULT_SLEEP,
        &[
            "--request-timeout",
            "3s",
            "--max-concurrent-requests",
            "3",
            "--max-requests-per-caller",
            "2",
        ],
    )
    .await;
    let server = Arc::new(server);
    let hold = |login: &'static str| {
        let server = server.clone();
        tokio::spawn(async move {
            post_mcp(server.addr(), &[("tailscale-user-login", login)], PING)
                .await
                .status
        })
    };
    let (a1, a2) = (hold("a@example.com"), hold("a@example.com"));
    server.wait_in_flight(2).await;
    let started = Instant::now();
    let greedy = post_mcp(
        server.addr(),
        &[("tailscale-user-login", "a@example.com")],
        PING,
    )
    .await;
    assert_eq!(greedy.status, 429);
    assert_eq!(greedy.headers["retry-after"], "1");
    let b = hold("b@example.com");
    server.wait_in_flight(3).await;
    let full = post_mcp(
        server.addr(),
        &[("tailscale-user-login", "c@example.com")],
        PING,
    )
    .await;
    assert_eq!(full.status, 503);
    assert_eq!(full.headers["retry-after"], "1");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refusals are immediate"
    );
    for held in [a1, a2, b] {
        assert_eq!(held.await.unwrap(), 504);
    }
}
