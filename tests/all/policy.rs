//! The host's tool policy and audit log: callers see and call only the
//! tools their login or Tailscale grants allow, in both protocol eras, and
//! every call leaves a JSON line the component can neither forge nor skip.

use serde_json::{Value, json};
use tailmcp_tests::{
    Injected, ServeStandIn, Tailmcp, fixtures, json_lines, post_mcp, send, tailmcp_bin, tools_call,
};

const CAP: &str = "tailmcp.github.io/cap/mcp";

const POLICY: &str = r#"
# Read-only greeting for everyone with a login.
[[allow]]
tools = ["greet"]
logins = ["*"]

# Admins (by grant) get every tool.
[[allow]]
tools = ["*"]
capability = "tailmcp.github.io/cap/mcp"
grant = { role = "admin" }

# Anyone with the capability gets the tools its grants list.
[[allow]]
capability = "tailmcp.github.io/cap/mcp"
tools_from_grant = "tools"
"#;

fn caps(grants: Value) -> Option<String> {
    Some(json!({ CAP: grants }).to_string())
}

struct Setup {
    _dir: tempfile::TempDir,
    audit: std::path::PathBuf,
    policy: std::path::PathBuf,
    server: Tailmcp,
}

async fn setup(extra: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut args = vec![
        "--policy",
        policy.to_str().unwrap(),
        "--audit-log",
        audit.to_str().unwrap(),
        "--audit-arguments",
    ];
    args.extend_from_slice(extra);
    let server = Tailmcp::builder().unix().args(&args).start().await;
    Setup {
        _dir: dir,
        audit,
        policy,
        server,
    }
}

async fn visible(serve: &ServeStandIn, modern: bool) -> (Vec<String>, Value) {
    let body = if modern {
        json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{
            "io.modelcontextprotocol/protocolVersion":"2026-07-28",
            "io.modelcontextprotocol/clientCapabilities":{}}}})
    } else {
        json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})
    };
    let headers: &[(&str, &str)] = if modern {
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ]
    } else {
        &[]
    };
    let reply = post_mcp(serve.addr, headers, &body.to_string()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let result = reply.json()["result"].clone();
    let names = result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    (names, result)
}

/// Calls `tool` with no arguments (the tools take none).
async fn call(serve: &ServeStandIn, tool: &str) -> Value {
    call_with(serve, tool, json!({})).await
}

async fn call_with(serve: &ServeStandIn, tool: &str, arguments: Value) -> Value {
    let reply = post_mcp(serve.addr, &[], &tools_call(5, tool, arguments)).await;
    assert_eq!(reply.status, 200);
    reply.json()
}

fn refused(reply: &Value, tool: &str) -> bool {
    reply["error"]["code"] == -32602
        && reply["error"]["message"] == format!("Tool {tool} is not available to you")
        && reply["id"] == 5
}

#[tokio::test]
async fn visible_tools_and_allowed_calls_match_the_policy() {
    let s = setup(&[]).await;
    let alice = ServeStandIn::start(
        s.server.backend(),
        Injected::user("alice@example.com", "Alice"),
    )
    .await;
    let admin = ServeStandIn::start(
        s.server.backend(),
        Injected {
            // Several grants for one capability: their union counts.
            capabilities: caps(
                json!([{"role": "viewer"}, {"role": "admin", "note": "👑 Ünïcode"}]),
            ),
            ..Injected::user("root@example.com", "Zoë Admin")
        },
    )
    .await;
    let ci = ServeStandIn::start(
        s.server.backend(),
        Injected {
            capabilities: caps(json!([{"tools": ["whoami"]}])),
            ..Injected::default()
        },
    )
    .await;
    let nobody = ServeStandIn::start(s.server.backend(), Injected::default()).await;

    for modern in [false, true] {
        assert_eq!(
            visible(&alice, modern).await.0,
            ["greet"],
            "modern={modern}"
        );
        assert_eq!(
            visible(&admin, modern).await.0,
            ["greet", "whoami"],
            "modern={modern}"
        );
        assert_eq!(visible(&ci, modern).await.0, ["whoami"], "modern={modern}");
        assert!(
            visible(&nobody, modern).await.0.is_empty(),
            "modern={modern}"
        );
    }
    let (_, modern) = visible(&alice, true).await;
    assert_eq!(
        modern["cacheScope"], "private",
        "a filtered list is private to its caller"
    );

    assert!(
        call(&alice, "greet").await["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("alice@example.com")
    );
    // Refused calls carry arguments, for the audit log to record.
    assert!(refused(
        &call_with(&alice, "whoami", json!({"why": "test"})).await,
        "whoami"
    ));
    assert!(
        refused(&call(&alice, "does-not-exist").await, "does-not-exist"),
        "no hint that a tool exists"
    );
    let whoami = call(&admin, "whoami").await;
    assert_eq!(
        whoami["result"]["structuredContent"]["login"], "root@example.com",
        "{whoami}"
    );
    assert!(refused(&call(&ci, "greet").await, "greet"));
    assert_eq!(
        call(&ci, "whoami").await["result"]["structuredContent"]["capabilities"][CAP][0]["tools"]
            [0],
        "whoami"
    );
    assert!(refused(&call(&nobody, "greet").await, "greet"));

    let lines = json_lines(&s.audit);
    assert_eq!(lines.len(), 7, "one line per tools/call: {lines:#?}");
    let sha = send(
        // health over the socket is not needed: the audit line names the component.
        alice.addr,
        "GET",
        "/healthz",
        &[],
        "",
    )
    .await
    .json()["component"]["sha256"]
        .clone();
    for line in &lines {
        for key in [
            "time",
            "caller",
            "tool",
            "outcome",
            "durationMs",
            "component",
        ] {
            assert!(line.get(key).is_some(), "{key} missing: {line}");
        }
        assert_eq!(line["component"], sha);
        let sent = if line["tool"] == "whoami" && line["outcome"] == "refused" {
            json!({"why": "test"})
        } else {
            json!({})
        };
        assert_eq!(line["arguments"], sent, "--audit-arguments: {line}");
    }
    let outcomes: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["caller"].as_str().unwrap(),
                l["tool"].as_str().unwrap(),
                l["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("alice@example.com", "greet", "ok"),
            ("alice@example.com", "whoami", "refused"),
            ("alice@example.com", "does-not-exist", "refused"),
            ("root@example.com", "whoami", "ok"),
            ("tagged device", "greet", "refused"),
            ("tagged device", "whoami", "ok"),
            // No user and no capabilities: no identity at all, not a device.
            ("anonymous", "greet", "refused"),
        ]
    );
    assert_eq!(
        lines[4]["capabilities"][CAP][0]["tools"][0], "whoami",
        "tagged devices are named by their capabilities"
    );
}

#[tokio::test]
async fn a_component_cannot_suppress_its_audit_line() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let server = Tailmcp::builder()
        .args([
            "--component",
            fixtures::FAULT_TRAP,
            "--audit-log",
            audit.to_str().unwrap(),
        ])
        .start()
        .await;
    let reply = post_mcp(
        server.addr(),
        &[("tailscale-user-login", "a@example.com")],
        &tools_call(1, "anything", json!({})),
    )
    .await;
    assert_eq!(reply.status, 500);
    let lines = json_lines(&audit);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["outcome"], "trap");
    assert_eq!(lines[0]["caller"], "a@example.com");
    assert!(
        lines[0].get("arguments").is_none(),
        "arguments are off by default"
    );
}

#[tokio::test]
async fn a_malformed_policy_stops_startup_and_a_bad_reload_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[allow]]\ntools = [\"greet\"]\nlogin = [\"*\"]\n").unwrap();
    let out = tokio::process::Command::new(tailmcp_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            bad.to_str().unwrap(),
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("unknown field `login`"),
        "{stderr}"
    );

    let s = setup(&[]).await;
    let alice = ServeStandIn::start(
        s.server.backend(),
        Injected::user("alice@example.com", "Alice"),
    )
    .await;
    std::fs::write(&s.policy, "[[allow]]\ntools = 5\n").unwrap();
    assert!(s.server.signal("HUP"), "kill -HUP");
    s.server
        .wait_for_log(&["keeping the previous policy"])
        .await;
    assert_eq!(
        visible(&alice, false).await.0,
        ["greet"],
        "the old policy still applies"
    );
    std::fs::write(
        &s.policy,
        "[[allow]]\ntools = [\"*\"]\nlogins = [\"alice@example.com\"]\n",
    )
    .unwrap();
    assert!(s.server.signal("HUP"), "kill -HUP");
    s.server.wait_for_log(&["reloaded the tool policy"]).await;
    assert_eq!(visible(&alice, false).await.0, ["greet", "whoami"]);
}
