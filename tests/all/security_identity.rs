//! Identity decoding and trust holes: the Funnel marker on every listener,
//! IPv4-mapped loopback, values serve sent literally, control characters,
//! look-alike header names, and tagged devices that only share capability
//! names.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tailmcp_tests::{Injected, ServeStandIn, Tailmcp, fixtures, post_mcp, send, tools_call};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A login whose encoded newline would start a forged access-log line.
const NEWLINE_LOGIN: &str = "ops@example.com\nFORGED INFO tailmcp::access: POST /mcp 200 admin";

/// The address a `--listen` value ends up reachable at, for a client.
fn client_addr(server: &Tailmcp) -> SocketAddr {
    let addr = server.addr();
    if addr.ip().is_unspecified() {
        // 0.0.0.0: reach it over loopback (still an untrusted listener).
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

/// One request to a fresh server: what the caller is, and what must come of it.
struct Case {
    name: &'static str,
    /// `--listen`.
    listen: &'static str,
    /// Through the serve stand-in with this identity, or (`None`) straight
    /// to the listener with `headers` as the client's own.
    serve: Option<Injected>,
    headers: &'static [(&'static str, &'static str)],
    /// 200 with a whoami answer, or the host's refusal.
    status: u16,
    /// whoami's structured answer (`login`, `name`, `capabilities`) on a 200.
    whoami: Value,
    /// A line the log must hold.
    logged: Option<&'static str>,
}

#[tokio::test]
async fn identity_decoding_and_trust() {
    let funnel = Injected {
        funnel: true,
        ..Injected::default()
    };
    let ascii_grant = r#"{"example.com/cap/mcp":[{"role":"viewer","note":"=?utf-8?q?=22,=22role=22:=22admin?="}]}"#;
    let cases = [
        Case {
            name: "funnel marker refused on an untrusted listener",
            listen: "0.0.0.0:0",
            serve: None,
            headers: &[("Tailscale-Funnel-Request", "?1")],
            status: 403,
            whoami: Value::Null,
            logged: None,
        },
        Case {
            name: "funnel marker refused on IPv4-mapped loopback",
            listen: "[::ffff:127.0.0.1]:0",
            serve: Some(funnel),
            headers: &[],
            status: 403,
            whoami: Value::Null,
            logged: None,
        },
        Case {
            name: "IPv4-mapped loopback honours identity like 127.0.0.1",
            listen: "[::ffff:127.0.0.1]:0",
            serve: Some(Injected::user("alice@example.com", "Alice")),
            headers: &[],
            status: 200,
            whoami: json!({"login": "alice@example.com", "name": "Alice", "capabilities": {}}),
            logged: None,
        },
        Case {
            name: "an ASCII login that looks encoded is literal",
            listen: "127.0.0.1:0",
            serve: Some(Injected::user(
                "=?utf-8?q?ops=40example.com?=",
                "=?utf-8?q?Mallory?=",
            )),
            headers: &[],
            status: 200,
            whoami: json!({
                "login": "=?utf-8?q?ops=40example.com?=",
                "name": "=?utf-8?q?Mallory?=",
                "capabilities": {}
            }),
            logged: None,
        },
        Case {
            name: "an ASCII grant holding an encoded word is literal",
            listen: "127.0.0.1:0",
            serve: Some(Injected {
                capabilities: Some(ascii_grant.into()),
                ..Injected::default()
            }),
            headers: &[],
            status: 200,
            whoami: json!({
                "login": null,
                "name": null,
                "capabilities": serde_json::from_str::<Value>(ascii_grant).unwrap()
            }),
            logged: None,
        },
        Case {
            name: "an encoded newline in a login is no identity",
            listen: "127.0.0.1:0",
            serve: Some(Injected::user(NEWLINE_LOGIN, "Ops")),
            headers: &[],
            status: 200,
            whoami: json!({"login": null, "name": null, "capabilities": {}}),
            logged: Some(
                "ignoring identity header tailscale-user-login: holds a control character",
            ),
        },
    ];
    // Every case runs, so a failure lists all the cases that went wrong.
    let mut failures = Vec::new();
    for case in cases {
        let server = Tailmcp::builder().on(case.listen).start().await;
        let (addr, _serve) = match case.serve {
            Some(identity) => {
                let serve = ServeStandIn::start(server.backend(), identity).await;
                (serve.addr, Some(serve))
            }
            None => (client_addr(&server), None),
        };
        let reply = post_mcp(addr, case.headers, &tools_call(1, "whoami", json!({}))).await;
        let logs = server.logs();
        let mut fail = |why: String| failures.push(format!("{}: {why}", case.name));
        if reply.status != case.status {
            fail(format!(
                "status {} not {}: {reply:?}",
                reply.status, case.status
            ));
        } else if case.status == 200 {
            let answer = &reply.json()["result"]["structuredContent"];
            let got = json!({
                "login": answer["login"],
                "name": answer["name"],
                "capabilities": answer["capabilities"],
            });
            if got != case.whoami {
                fail(format!("whoami says {got}, not {}", case.whoami));
            }
        }
        if let Some(line) = case.logged
            && !logs.contains(line)
        {
            fail(format!("no {line:?} in the log"));
        }
        if logs.lines().any(|line| line.starts_with("FORGED")) {
            fail(format!("a caller forged a log line:\n{logs}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Header names that adapters read as identity never reach a component.
#[tokio::test]
async fn look_alike_identity_headers_are_stripped() {
    let names = [
        "Tailscale_User_Login",
        "X-Tailscale-User-Login",
        "x_tailscale_app_capabilities",
        "Tailscale-User_Name",
    ];
    let server = Tailmcp::builder()
        .args(["--component", fixtures::IDENTITY_HEADERS_ECHO])
        .start()
        .await;
    let mut headers: Vec<(&str, &str)> = names
        .iter()
        .map(|name| (*name, "mallory@evil.example"))
        .collect();
    headers.push(("X-Other", "kept"));
    let reply = post_mcp(server.addr(), &headers, tailmcp_tests::PING).await;
    assert_eq!(reply.status, 200);
    let seen = reply.json();
    let seen: Vec<&str> = seen["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(seen.contains(&"x-other"), "{seen:?}");
    for name in names {
        assert!(
            !seen.iter().any(|h| h.eq_ignore_ascii_case(name)),
            "{name} reached the component: {seen:?}"
        );
    }
    assert!(!reply.body.windows(7).any(|w| w == b"mallory"), "{seen:?}");
}

/// A tagged device as serve presents it on a trusted listener.
#[derive(Clone, Copy)]
struct Device {
    capabilities: &'static str,
    peer: &'static str,
}

impl Device {
    fn headers(&self) -> [(&'static str, &'static str); 2] {
        [
            ("tailscale-app-capabilities", self.capabilities),
            ("x-forwarded-for", self.peer),
        ]
    }
}

/// Two tagged devices, and whether they are one caller.
struct Pair {
    name: &'static str,
    a: Device,
    b: Device,
    same: bool,
}

const CI: &str = r#"{"example.com/cap/mcp":[{"role":"ci"}]}"#;
const ADMIN: &str = r#"{"example.com/cap/mcp":[{"role":"admin"}]}"#;

fn pairs() -> [Pair; 3] {
    [
        Pair {
            name: "same capability names, different grants",
            a: Device {
                capabilities: CI,
                peer: "100.64.0.1",
            },
            b: Device {
                capabilities: ADMIN,
                peer: "100.64.0.1",
            },
            same: false,
        },
        Pair {
            name: "same grants, different devices",
            a: Device {
                capabilities: CI,
                peer: "100.64.0.1",
            },
            b: Device {
                capabilities: CI,
                peer: "100.64.0.2",
            },
            same: false,
        },
        Pair {
            // The control: the checks below can tell one caller from two.
            name: "the same device",
            a: Device {
                capabilities: CI,
                peer: "100.64.0.1",
            },
            b: Device {
                capabilities: CI,
                peer: "::ffff:100.64.0.1",
            },
            same: true,
        },
    ]
}

/// Opens `GET /sse` as `device` and returns the stream and its message endpoint.
async fn open_sse(
    addr: SocketAddr,
    device: Device,
) -> (tokio::io::Lines<BufReader<tokio::net::TcpStream>>, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let headers: String = device
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let head = format!(
        "GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nConnection: close\r\n{headers}\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(tcp).lines();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the endpoint event within 10 s")
            .unwrap()
            .expect("the stream is open");
        if let Some(endpoint) = line.strip_prefix("data: ") {
            return (lines, endpoint.to_string());
        }
    }
}

#[tokio::test]
async fn tagged_devices_own_their_sse_sessions() {
    let server = Tailmcp::builder().start().await;
    let addr = server.addr();
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let mut failures = Vec::new();
    for pair in pairs() {
        let (_stream, endpoint) = open_sse(addr, pair.a).await;
        let post = |device: Device| {
            let endpoint = endpoint.clone();
            async move {
                let mut headers = vec![("content-type", "application/json")];
                headers.extend(device.headers());
                send(addr, "POST", &endpoint, &headers, ping).await.status
            }
        };
        let want = if pair.same { 202 } else { 403 };
        let b = post(pair.b).await;
        if b != want {
            failures.push(format!(
                "{}: b posting into a's session got {b}, not {want}",
                pair.name
            ));
        }
        let a = post(pair.a).await;
        if a != 202 {
            failures.push(format!("{}: a posting into its own got {a}", pair.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn tagged_devices_have_their_own_request_quota() {
    let server = Arc::new(
        Tailmcp::builder()
            .args([
                "--component",
                fixtures::FAULT_SLEEP,
                "--request-timeout",
                "1s",
                "--max-requests-per-caller",
                "1",
            ])
            .start()
            .await,
    );
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let mut failures = Vec::new();
    for pair in pairs() {
        let held = {
            let server = server.clone();
            tokio::spawn(async move {
                post_mcp(server.addr(), &pair.a.headers(), ping)
                    .await
                    .status
            })
        };
        server.wait_in_flight(1).await;
        let b = post_mcp(server.addr(), &pair.b.headers(), ping)
            .await
            .status;
        // 429: b counted against a's share; 504: b ran (and slept) on its own.
        let want = if pair.same { 429 } else { 504 };
        if b != want {
            failures.push(format!("{}: b got {b}, not {want}", pair.name));
        }
        let a = held.await.unwrap();
        if a != 504 {
            failures.push(format!("{}: a's request got {a}, not 504", pair.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
