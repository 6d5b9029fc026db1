//! A busy tool does not freeze the server: guests yield to the host, one
//! caller's looping calls leave room for other callers and `/healthz`, every
//! answer comes by its deadline (counted from arrival, queueing included),
//! and SIGTERM ends the process in time with every slot looping.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use tailmcp_tests::{
    MCP_HEADERS, Reply, Tailmcp, cpu_time, fixtures, tools_call, try_send, try_send_on,
};
use tokio::net::TcpStream;

/// A `tools/call` of the fixture's never-ending `spin` tool by `login`
/// (identity headers are honoured on loopback); returns how long its answer
/// took from once the connection was up (the deadline counts from the
/// request's arrival), and the answer.
fn spin(
    addr: SocketAddr,
    login: String,
    id: u64,
) -> tokio::task::JoinHandle<(Duration, Result<Reply, String>)> {
    tokio::spawn(async move {
        let stream = match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => stream,
            Err(e) => return (Duration::ZERO, Err(format!("connect: {e}"))),
        };
        let sent = Instant::now();
        let reply = call(stream, &login, &tools_call(id, "spin", json!({}))).await;
        (sent.elapsed(), reply)
    })
}

/// POSTs `body` to `/mcp` as `login` on `stream` and reads the whole answer.
async fn call(stream: TcpStream, login: &str, body: &str) -> Result<Reply, String> {
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("tailscale-user-login", login));
    try_send_on(stream, "POST", "/mcp", &headers, body.to_string()).await
}

/// Starts the host on the `fault_spin_tool` fixture.
async fn serving(extra: &[&str]) -> Tailmcp {
    let mut args = vec!["--component", fixtures::FAULT_SPIN_TOOL, "--no-cache"];
    args.extend_from_slice(extra);
    Tailmcp::builder().args(&args).start().await
}

/// A looping call's answer: 504 (stopped at its deadline) or 503 with
/// Retry-After (it could not start before its deadline).
fn assert_stopped_in_time(what: &str, took: Duration, reply: &Result<Reply, String>, by: Duration) {
    let reply = reply.as_ref().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        took <= by,
        "{what} answered after {took:?}, later than {by:?}"
    );
    match reply.status {
        504 => {}
        503 => assert_eq!(reply.headers["retry-after"], "1", "{what}"),
        other => panic!("{what}: status {other}: {:?}", reply.body),
    }
}

/// What another caller asks while caller A's calls all loop.
struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    /// Text the answer must contain.
    answer: &'static str,
}

const GREET: &str =
    r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"greet","arguments":{}}}"#;

const OTHERS: &[Case] = &[
    Case {
        name: "another user's greet",
        method: "POST",
        path: "/mcp",
        headers: &[("tailscale-user-login", "b@example.com")],
        body: GREET,
        answer: "Hello from the quick tool",
    },
    Case {
        name: "a tagged device's greet",
        method: "POST",
        path: "/mcp",
        headers: &[(
            "tailscale-app-capabilities",
            r#"{"example.com/cap/mcp":[{"tools":["greet"]}]}"#,
        )],
        body: GREET,
        answer: "Hello from the quick tool",
    },
    Case {
        name: "GET /healthz",
        method: "GET",
        path: "/healthz",
        headers: &[],
        body: "",
        answer: "\"status\"",
    },
];

/// Caller A runs 8 looping calls (well inside its 32 requests); while they
/// still run, other callers and `/healthz` are answered promptly, well
/// before A's deadline. Before guests yielded, two loops held both worker
/// threads until their deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub async fn fault_spin_tool() {
    const TIMEOUT: Duration = Duration::from_secs(10);
    let server = serving(&["--request-timeout", "10s"]).await;
    let addr = server.addr();
    let calls: Vec<_> = (0..8)
        .map(|i| spin(addr, "a@example.com".into(), i))
        .collect();
    server.wait_in_flight(8).await;
    for case in OTHERS {
        for round in 0..3 {
            let mut headers = MCP_HEADERS.to_vec();
            headers.extend_from_slice(case.headers);
            let sent = Instant::now();
            let reply = tokio::time::timeout(
                Duration::from_secs(8),
                try_send(addr, case.method, case.path, &headers, case.body),
            )
            .await
            .unwrap_or_else(|_| panic!("{}: no answer within 8 s", case.name))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let took = sent.elapsed();
            assert_eq!(reply.status, 200, "{}: {:?}", case.name, reply.body);
            let body = String::from_utf8_lossy(&reply.body);
            assert!(body.contains(case.answer), "{}: {body}", case.name);
            assert!(
                took < Duration::from_secs(2),
                "{} (round {round}) took {took:?} while A's calls loop",
                case.name
            );
        }
    }
    assert!(
        calls.iter().all(|call| !call.is_finished()),
        "A's calls were still running while the others were answered"
    );
    for (i, call) in calls.into_iter().enumerate() {
        let (took, reply) = call.await.expect("spin call");
        let what = format!("A's call {i}");
        assert_stopped_in_time(&what, took, &reply, TIMEOUT + Duration::from_secs(1));
    }
}

/// 64 looping calls (two callers, 32 each, the default per-caller limit):
/// each is answered by its deadline plus 1 s, whether it ran (504) or
/// waited its turn the whole time (503); then the guests are really gone
/// (the server idles) and it serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_looping_calls_are_answered_by_their_deadline() {
    const TIMEOUT: Duration = Duration::from_secs(3);
    let server = serving(&["--request-timeout", "3s"]).await;
    let addr = server.addr();
    let calls: Vec<_> = (0..64)
        .map(|i| spin(addr, format!("caller{}@example.com", i % 2), i))
        .collect();
    let by = TIMEOUT + Duration::from_secs(1);
    for (i, call) in calls.into_iter().enumerate() {
        let (took, reply) = tokio::time::timeout(by + Duration::from_secs(2), call)
            .await
            .unwrap_or_else(|_| panic!("call {i}: no answer within {by:?} + 2 s"))
            .expect("spin call");
        assert_stopped_in_time(&format!("call {i}"), took, &reply, by);
    }
    // Stopped guests use no more CPU.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = cpu_time(server.pid());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_time(server.pid()) - before;
    assert!(
        used < Duration::from_millis(300),
        "the server used {used:?} of CPU in 1 s after every call was answered"
    );
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("tailscale-user-login", "caller0@example.com"));
    let reply = try_send(addr, "POST", "/mcp", &headers, GREET)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

/// SIGTERM with every instance slot looping: new connections are refused at
/// once, and the process exits (cleanly) within --shutdown-timeout plus 1 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_every_slot_looping_exits_in_time() {
    const SHUTDOWN: Duration = Duration::from_secs(2);
    let server = serving(&[
        "--request-timeout",
        "60s",
        "--max-concurrent-requests",
        "8",
        "--shutdown-timeout",
        "2s",
    ])
    .await;
    let addr = server.addr();
    // Eight callers, so every call runs rather than waits its turn.
    let calls: Vec<_> = (0..8)
        .map(|i| spin(addr, format!("caller{i}@example.com"), i))
        .collect();
    server.wait_in_flight(8).await;

    let signalled = Instant::now();
    assert!(server.signal("TERM"), "kill -TERM");
    let refused = loop {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            break signalled.elapsed();
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(1),
            "still accepting connections 1 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // `terminate` signals again (the handler is installed, so that is a
    // no-op) and waits for the exit.
    let status = server.terminate().await;
    let exited = signalled.elapsed();
    assert!(status.success(), "a clean exit, not the signal: {status:?}");
    assert!(
        exited <= SHUTDOWN + Duration::from_secs(1),
        "exited {exited:?} after SIGTERM (refused connections after {refused:?})"
    );
    for call in calls {
        call.abort();
    }
}
