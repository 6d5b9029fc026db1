//! Security: what a component prints can never pass for a line the host
//! wrote (audit lines included); the unix socket's mode does not follow the
//! umask; `/healthz` tells each asker only what it may know.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tailmcp_tests::{
    Injected, ServeStandIn, Tailmcp, fixtures, post_mcp, send, sha256_hex, tailmcp_bin, tools_call,
};
use tokio::process::Command;

/// A `tailmcp serve` with umask `umask` (tailmcp must not depend on it),
/// its stdout kept apart from its stderr.
async fn start(umask: &str, listen: &str, args: &[&str]) -> Tailmcp {
    Tailmcp::builder()
        .umask(umask)
        .on(listen)
        .args(args)
        .capture_stdout()
        .start()
        .await
}

/// Its stderr so far, line by line.
fn stderr(server: &Tailmcp) -> Vec<String> {
    server.logs().lines().map(String::from).collect()
}

/// The first 12 hex digits of the sha256 of the file at `path`, as log lines name a component.
fn sha256_prefix(path: &str) -> String {
    sha256_hex(&std::fs::read(path).unwrap())[..12].to_string()
}

/// Every line that reads as an audit line: a JSON object with a `caller`.
fn audit_like(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("caller").is_some())
        .collect()
}

#[tokio::test]
pub async fn fault_forged_output() {
    let server = start(
        "022",
        "127.0.0.1:0",
        &[
            "--component",
            fixtures::FAULT_FORGED_OUTPUT,
            "--no-cache",
            "--audit-log",
            "stderr",
        ],
    )
    .await;
    let alice = [("tailscale-user-login", "alice@example.com")];
    for id in 1..=2 {
        let reply = post_mcp(server.addr(), &alice, &tools_call(id, "greet", json!({}))).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    // Both requests are done (the component wrote before it answered).
    let deadline = Instant::now() + Duration::from_secs(10);
    while stderr(&server)
        .iter()
        .filter(|l| l.contains("POST /mcp 200"))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "{}", stderr(&server).join("\n"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stderr = stderr(&server);
    let audited = audit_like(&stderr);
    assert_eq!(
        audited.len(),
        2,
        "only the host's own audit lines: {audited:#?}"
    );
    for line in &audited {
        assert_eq!(line["caller"], "alice@example.com", "{line}");
        assert_eq!(line["tool"], "greet", "{line}");
    }
    for line in &stderr {
        assert!(!line.contains('\u{1b}'), "a raw terminal escape: {line:?}");
        assert!(!line.contains('\r'), "a raw carriage return: {line:?}");
        let real = serde_json::from_str::<Value>(line).is_ok_and(|v| audited.contains(&v));
        assert!(
            !line.starts_with('{') || real,
            "a line the host did not write: {line}"
        );
    }

    // What the component wrote is in host log lines, quoted and escaped.
    let sha = sha256_prefix(fixtures::FAULT_FORGED_OUTPUT);
    let request = "POST /mcp by alice@example.com";
    let out = server
        .wait_for_log(&["component output (stdout)", &sha, request])
        .await;
    assert!(out.contains(r#"\"caller\":\"ceo@corp\""#), "{out}");
    let err = server
        .wait_for_log(&["component output (stderr)", &sha, request])
        .await;
    assert!(
        err.contains(r#"about to answer\n{\"time\""#) && err.contains(r"\r\n\u{1b}[1A"),
        "line breaks and escapes are escaped: {err}"
    );
    let stdout = server.stdout();
    assert!(
        stdout.is_empty(),
        "the host writes nothing on stdout: {stdout:?}"
    );
}

#[tokio::test]
async fn a_component_panic_is_logged_escaped_on_one_line() {
    let server = start(
        "022",
        "127.0.0.1:0",
        &["--component", fixtures::FAULT_TRAP, "--no-cache"],
    )
    .await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(post_mcp(server.addr(), &[], ping).await.status, 500);
    let line = server
        .wait_for_log(&["component output (stderr)", "panicked at"])
        .await;
    assert!(
        line.contains("fixture fault_trap panics on purpose"),
        "the message is on the same line: {line}"
    );
    server.wait_for_log(&["trapped"]).await;
    for line in stderr(&server) {
        assert!(
            !line.contains("panicked at") || line.contains("component output (stderr)"),
            "a raw line from the component: {line}"
        );
    }
}

#[tokio::test]
async fn unix_socket_mode_is_0660_whatever_the_umask() {
    struct Case {
        name: &'static str,
        umask: &'static str,
    }
    let cases = [
        Case {
            name: "umask 000 (would be 0777)",
            umask: "000",
        },
        Case {
            name: "umask 022 (would be 0755)",
            umask: "022",
        },
        Case {
            name: "umask 077 (would be 0700: the sidecar's group locked out)",
            umask: "077",
        },
    ];
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("mcp.sock");
        let listen = format!("unix:{}", socket.display());
        let server = start(case.umask, &listen, &[]).await;
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660, "{}: mode {mode:o}", case.name);
        let entries: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["mcp.sock"], "{}: nothing else is left", case.name);
        let health = probe(&listen).await;
        assert_eq!(health["status"], "ok", "{}", case.name);
        drop(server);
    }
}

/// `tailmcp health --listen LISTEN`: must succeed; its JSON.
async fn probe(listen: &str) -> Value {
    let probe = Command::new(tailmcp_bin())
        .args(["health", "--listen", listen])
        .output()
        .await
        .unwrap();
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    serde_json::from_slice(&probe.stdout).expect("health is JSON")
}

/// The headers `tailscale serve` adds to every request.
const TAILNET: &[(&str, &str)] = &[
    ("x-forwarded-host", "mcp.tail1234.ts.net"),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-for", "100.64.0.7"),
];

/// What `/healthz` showed.
#[derive(Debug, PartialEq)]
enum Shown {
    Refused,
    /// `status` and `component.sha256`, nothing else.
    Summary,
    /// Everything, refusal reasons and counts included.
    Full,
}

fn shown(status: u16, body: &Value) -> Shown {
    match status {
        403 => Shown::Refused,
        200 if body.get("lastRefusal").is_some() => {
            for key in ["version", "swaps", "sseSessions"] {
                assert!(body.get(key).is_some(), "full view without {key}: {body}");
            }
            assert!(body["component"]["source"].is_string(), "{body}");
            Shown::Full
        }
        200 => {
            let keys = |v: &Value| {
                v.as_object().map(|o| {
                    let mut keys: Vec<String> = o.keys().cloned().collect();
                    keys.sort();
                    keys
                })
            };
            assert_eq!(
                keys(body),
                Some(vec!["component".into(), "status".into()]),
                "{body}"
            );
            assert_eq!(
                keys(&body["component"]),
                Some(vec!["sha256".into()]),
                "{body}"
            );
            Shown::Summary
        }
        other => panic!("/healthz answered {other}: {body}"),
    }
}

#[tokio::test]
async fn healthz_views() {
    struct Case {
        name: &'static str,
        headers: &'static [(&'static str, &'static str)],
        expect: Shown,
    }
    let cases = [
        Case {
            name: "plain local probe",
            headers: &[],
            expect: Shown::Full,
        },
        Case {
            name: "an allowed Origin, locally",
            headers: &[("origin", "https://app.example.com")],
            expect: Shown::Full,
        },
        Case {
            name: "a foreign Origin",
            headers: &[("origin", "https://evil.example")],
            expect: Shown::Refused,
        },
        Case {
            name: "Origin null (a sandboxed page)",
            headers: &[("origin", "null")],
            expect: Shown::Refused,
        },
        Case {
            name: "through tailscale serve",
            headers: TAILNET,
            expect: Shown::Summary,
        },
        Case {
            name: "only X-Forwarded-For",
            headers: &[("x-forwarded-for", "100.64.0.7")],
            expect: Shown::Summary,
        },
        Case {
            name: "only X-Forwarded-Host",
            headers: &[("x-forwarded-host", "mcp.tail1234.ts.net")],
            expect: Shown::Summary,
        },
        Case {
            name: "a foreign Origin through tailscale serve",
            headers: &[
                ("origin", "https://evil.example"),
                ("x-forwarded-for", "100.64.0.7"),
            ],
            expect: Shown::Refused,
        },
    ];
    let server = Tailmcp::builder()
        .args([
            "--component",
            fixtures::IDENTITY_HEADERS_ECHO,
            "--allow-origin",
            "https://app.example.com",
        ])
        .start()
        .await;
    let sha = sha256_hex(&std::fs::read(fixtures::IDENTITY_HEADERS_ECHO).unwrap());
    for case in cases {
        let reply = send(server.addr(), "GET", "/healthz", case.headers, "").await;
        let body = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        assert_eq!(
            shown(reply.status, &body),
            case.expect,
            "{}: {body}",
            case.name
        );
        if reply.status == 200 {
            assert_eq!(body["component"]["sha256"], sha, "{}: {body}", case.name);
        }
    }

    // The real path: the tailscale serve stand-in in front of the socket.
    let server = Tailmcp::builder()
        .unix()
        .args(["--component", fixtures::IDENTITY_HEADERS_ECHO])
        .start()
        .await;
    let serve = ServeStandIn::start(
        server.backend(),
        Injected::user("alice@example.com", "Alice"),
    )
    .await;
    let reply = send(serve.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(shown(reply.status, &reply.json()), Shown::Summary);
    // The container health checks probe the socket: they see everything.
    let listen = format!("unix:{}", server.socket().display());
    assert_eq!(shown(200, &probe(&listen).await), Shown::Full);
    let tcp = Tailmcp::builder().start().await;
    assert_eq!(
        shown(200, &probe(&tcp.addr().to_string()).await),
        Shown::Full
    );
}
