//! A new operator's and tool author's first hour: flags and environment in
//! the forms people type, no silent fallback to the built-in component, dev
//! callers (users, grants, tagged devices) on loopback only and never for a
//! request that came with identity or through a proxy, and audit lines that
//! call a request without identity anonymous.

use std::time::Duration;

use serde_json::{Value, json};
use tailmcp_tests::clients::{self, Client};
use tailmcp_tests::{
    Injected, ServeStandIn, Tailmcp, post_mcp, sha256_hex, tailmcp_bin, tools_call,
};

/// A component path that does not exist.
const MISSING: &str = "/nonexistent/tailmcp-first-hour/greet.wasm";

const GRANT: &str = r#"{"example.com/cap/tailmcp":[{"role":"admin"}]}"#;

/// What `tailmcp serve` did with some flags and environment.
#[derive(Debug)]
enum Started {
    /// It said it was listening; the log so far.
    Listening(String),
    /// It exited first; its stderr.
    Refused(String),
}

/// Runs `tailmcp serve ARGS` with `env` until it listens or exits, then
/// stops it; on a loopback port chosen by the system unless `args` or `env`
/// name a listener.
async fn serve_local(args: &[&str], env: &[(&str, &str)]) -> Started {
    let mut server = Tailmcp::builder().args(args).envs(env.iter().copied());
    if args.contains(&"--listen") || env.iter().any(|(k, _)| *k == "TAILMCP_LISTEN") {
        server = server.listen_as_configured();
    }
    match server.launch().await {
        Ok(server) => Started::Listening(server.logs()),
        Err(exited) => Started::Refused(exited.log),
    }
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// `Ok(text)`: starts, and its log contains `text`; `Err(text)`: refuses
    /// to start, saying `text`.
    want: Result<&'static str, &'static str>,
}

#[tokio::test]
async fn flags_and_environment_accept_what_people_type() {
    let cases = [
        Case {
            name: "localhost:PORT listens on loopback",
            args: &["--listen", "localhost:0"],
            env: &[],
            want: Ok("listening on http://127.0.0.1:"),
        },
        Case {
            name: "TAILMCP_LISTEN=localhost:PORT too",
            args: &[],
            env: &[("TAILMCP_LISTEN", "localhost:0")],
            want: Ok("listening on http://127.0.0.1:"),
        },
        Case {
            name: "a host name other than localhost says to give an IP",
            args: &["--listen", "example.com:8080"],
            env: &[],
            want: Err("is not an IP address"),
        },
        Case {
            name: "no port",
            args: &["--listen", "localhost"],
            env: &[],
            want: Err("has no port"),
        },
        Case {
            name: "boolean env 1",
            args: &[],
            env: &[("TAILMCP_NO_CACHE", "1")],
            want: Ok("listening on"),
        },
        Case {
            name: "boolean env yes",
            args: &[],
            env: &[("TAILMCP_NO_LEGACY_SSE", "yes")],
            want: Ok("listening on"),
        },
        Case {
            name: "boolean env off",
            args: &[],
            env: &[("TAILMCP_ALLOW_FUNNEL", "off")],
            want: Ok("listening on"),
        },
        Case {
            name: "boolean env 0 needs nothing else",
            args: &[],
            env: &[("TAILMCP_AUDIT_ARGUMENTS", "0"), ("TAILMCP_NO_CACHE", "0")],
            want: Ok("listening on"),
        },
        Case {
            name: "boolean env nonsense",
            args: &[],
            env: &[("TAILMCP_NO_CACHE", "maybe")],
            want: Err("maybe"),
        },
        Case {
            name: "duration 1m30s",
            args: &["--request-timeout", "1m30s"],
            env: &[],
            want: Ok("listening on"),
        },
        Case {
            name: "duration 1h in env",
            args: &[],
            env: &[("TAILMCP_SSE_IDLE_TIMEOUT", "1h")],
            want: Ok("listening on"),
        },
        Case {
            name: "duration 250ms",
            args: &["--watch-interval", "250ms"],
            env: &[],
            want: Ok("listening on"),
        },
        Case {
            name: "bare number: add a unit",
            args: &["--request-timeout", "30"],
            env: &[],
            want: Err("has no unit: add one, e.g. 30s"),
        },
        Case {
            name: "missing component refused",
            args: &["--component", MISSING, "--no-cache"],
            env: &[],
            want: Err("does not exist (check --component"),
        },
        Case {
            name: "missing component with the explicit fallback",
            args: &["--component", MISSING, "--no-cache"],
            env: &[("TAILMCP_BUILTIN_UNTIL_PRESENT", "1")],
            want: Ok("does not exist yet: serving the built-in greet component"),
        },
        Case {
            name: "dev identity on a unix socket refused",
            args: &[
                "--listen",
                "unix:/tmp/tailmcp-first-hour-never.sock",
                "--dev-identity",
                "dev@example.com",
            ],
            env: &[],
            want: Err("allowed only on a loopback TCP address"),
        },
        Case {
            name: "dev identity on every interface refused",
            args: &["--listen", "0.0.0.0:0", "--dev-identity", "dev@example.com"],
            env: &[],
            want: Err("allowed only on a loopback TCP address"),
        },
        Case {
            name: "dev grant on a non-loopback address refused (env)",
            args: &["--listen", "0.0.0.0:0"],
            env: &[("TAILMCP_DEV_TAGGED", "1"), ("TAILMCP_DEV_GRANT", GRANT)],
            want: Err("allowed only on a loopback TCP address"),
        },
        Case {
            name: "dev tagged device without grants",
            args: &["--dev-tagged"],
            env: &[],
            want: Err("--dev-tagged needs --dev-grant"),
        },
        Case {
            name: "dev tagged device with a user",
            args: &[
                "--dev-tagged",
                "--dev-identity",
                "a@b",
                "--dev-grant",
                GRANT,
            ],
            env: &[],
            want: Err("without a user"),
        },
        Case {
            name: "dev grant that is not a capabilities object",
            args: &["--dev-identity", "a@b", "--dev-grant", r#"{"cap":"admin"}"#],
            env: &[],
            want: Err("--dev-grant: capability \"cap\" is not a list of grant objects"),
        },
        Case {
            name: "dev tagged device on loopback",
            args: &["--dev-tagged", "--dev-grant", GRANT],
            env: &[],
            want: Ok("treated as a tagged device"),
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let got = serve_local(case.args, case.env).await;
        let ok = match (&case.want, &got) {
            (Ok(text), Started::Listening(log)) => log.contains(text),
            (Err(text), Started::Refused(log)) => log.contains(text),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: wanted {:?}, got {got:?}",
                case.name, case.want
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn help_names_rust_log_and_the_value_forms() {
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let out = std::process::Command::new(tailmcp_bin())
            .args(args)
            .output()
            .expect("run tailmcp --help");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}: {text}");
        for want in ["RUST_LOG", "1/0", "1m30s"] {
            assert!(text.contains(want), "{args:?} lacks {want}:\n{text}");
        }
    }
}

/// An empty public name (what compose's `${TAILNET_DNS_NAME:+...}` gives
/// when no tailnet name is set) turns the name check off instead of
/// refusing every request.
#[tokio::test]
async fn empty_public_names_means_any_name() {
    let server = Tailmcp::builder().args(["--public-name", ""]).start().await;
    let reply = post_mcp(server.addr(), &[], &tools_call(1, "greet", json!({}))).await;
    assert_eq!(reply.status, 200, "{:?}\n{}", reply.body, server.logs());
    assert!(!server.logs().contains("https:///mcp"), "{}", server.logs());
}

fn whoami(reply: &Value) -> &Value {
    &reply["result"]["structuredContent"]
}

/// The dev caller fills in only for a bare local request: one through a
/// proxy, or carrying any identity, keeps exactly what it carries.
#[tokio::test]
async fn dev_caller_only_for_bare_local_requests() {
    let server = Tailmcp::builder()
        .args([
            "--dev-identity",
            "dev@example.com",
            "--dev-name",
            "Dev",
            "--dev-grant",
            GRANT,
        ])
        .start()
        .await;
    let tagged = ServeStandIn::start(
        server.backend(),
        Injected {
            capabilities: Some(r#"{"example.com/cap/tailmcp":[{"role":"viewer"}]}"#.into()),
            ..Injected::default()
        },
    )
    .await;
    let anonymous = ServeStandIn::start(server.backend(), Injected::default()).await;
    struct Via {
        name: &'static str,
        addr: std::net::SocketAddr,
        headers: &'static [(&'static str, &'static str)],
        login: Value,
        capabilities: Value,
    }
    let cases = [
        Via {
            name: "bare local request: the dev user with the dev grant",
            addr: server.addr(),
            headers: &[],
            login: json!("dev@example.com"),
            capabilities: serde_json::from_str(GRANT).unwrap(),
        },
        Via {
            name: "X-Forwarded-For: a proxied request is never the dev user",
            addr: server.addr(),
            headers: &[("X-Forwarded-For", "100.64.0.7")],
            login: Value::Null,
            capabilities: json!({}),
        },
        Via {
            name: "capabilities only: stays a tagged device",
            addr: server.addr(),
            headers: &[(
                "Tailscale-App-Capabilities",
                r#"{"example.com/cap/tailmcp":[{"role":"viewer"}]}"#,
            )],
            login: Value::Null,
            capabilities: json!({"example.com/cap/tailmcp": [{"role": "viewer"}]}),
        },
        Via {
            name: "tagged device through serve",
            addr: tagged.addr,
            headers: &[],
            login: Value::Null,
            capabilities: json!({"example.com/cap/tailmcp": [{"role": "viewer"}]}),
        },
        Via {
            name: "no identity through serve",
            addr: anonymous.addr,
            headers: &[],
            login: Value::Null,
            capabilities: json!({}),
        },
    ];
    for case in &cases {
        let reply = post_mcp(case.addr, case.headers, &tools_call(1, "whoami", json!({})))
            .await
            .json();
        let me = whoami(&reply);
        assert_eq!(me["login"], case.login, "{}: {reply}", case.name);
        assert_eq!(
            me["capabilities"], case.capabilities,
            "{}: {reply}",
            case.name
        );
    }
}

/// A dev tagged device with grants, seen through a real MCP client.
#[tokio::test]
async fn dev_tagged_device_with_grants_through_a_real_client() {
    let server = Tailmcp::builder()
        .args(["--dev-tagged", "--dev-grant", GRANT])
        .start()
        .await;
    let url = format!("{}/mcp", server.listening);
    let out = clients::run(Client::TypeScriptSdk, &url, json!({}), "whoami", json!({})).await;
    // The client reports any tool's result under "greet".
    let me = &out["greet"]["structuredContent"];
    assert_eq!(me["taggedDevice"], true, "{out}");
    assert_eq!(me["login"], Value::Null, "{out}");
    assert_eq!(
        me["capabilities"],
        serde_json::from_str::<Value>(GRANT).unwrap(),
        "{out}"
    );
}

/// Audit lines tell a request without any identity from a tagged device.
#[tokio::test]
async fn audit_names_requests_without_identity() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let server = Tailmcp::builder()
        .args(["--allow-funnel", "--audit-log", log.to_str().unwrap()])
        .start()
        .await;
    struct Who {
        name: &'static str,
        injected: Injected,
        caller: &'static str,
        identity: &'static str,
    }
    let cases = [
        Who {
            name: "funnel: no identity at all",
            injected: Injected {
                funnel: true,
                ..Injected::default()
            },
            caller: "anonymous",
            identity: "none",
        },
        Who {
            name: "tagged device",
            injected: Injected {
                capabilities: Some(GRANT.into()),
                ..Injected::default()
            },
            caller: "tagged device",
            identity: "tagged-device",
        },
        Who {
            name: "user",
            injected: Injected::user("alice@example.com", "Alice"),
            caller: "alice@example.com",
            identity: "user",
        },
    ];
    for case in &cases {
        let serve = ServeStandIn::start(server.backend(), case.injected.clone()).await;
        let reply = post_mcp(serve.addr, &[], &tools_call(1, "whoami", json!({}))).await;
        assert_eq!(reply.status, 200, "{}", case.name);
        let text = std::fs::read_to_string(&log).unwrap();
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["caller"], case.caller, "{}: {last}", case.name);
        assert_eq!(last["identity"], case.identity, "{}: {last}", case.name);
    }
}

/// `tailmcp policy ARGS`: exit success, stdout and stderr.
fn policy(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(tailmcp_bin())
        .arg("policy")
        .args(args)
        .output()
        .expect("run tailmcp policy");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn policy_check_on_good_and_bad_files() {
    struct File {
        name: &'static str,
        toml: &'static str,
        ok: bool,
        says: &'static str,
    }
    let files = [
        File {
            name: "good, with a list of grant values",
            toml: "[[allow]]\ntools = [\"greet\"]\nlogins = [\"*\"]\n\n[[allow]]\ntools = [\"*\"]\n\
                   capability = \"example.com/cap/tailmcp\"\ngrant = { role = [\"admin\", \"ops\"] }\n",
            ok: true,
            says: "ok (2 tools checked: greet, whoami)",
        },
        File {
            name: "unknown tool",
            toml: "[[allow]]\ntools = [\"greet\", \"gret\"]\nlogins = [\"*\"]\n",
            ok: false,
            says: "rule 1: unknown tool `gret`",
        },
        File {
            name: "wrong value type, with its line",
            toml: "[[allow]]\nlogins = [\"*\"]\ntools = \"greet\"\n",
            ok: false,
            says: "line 3: invalid type",
        },
        File {
            name: "a rule that can never match",
            toml: "[[allow]]\ntools = [\"greet\"]\ncapability = \"example.com/cap/tailmcp\"\ngrant = { role = [] }\n",
            ok: false,
            says: "never matches",
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    for file in &files {
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, file.toml).unwrap();
        let (ok, text) = policy(&["check", path.to_str().unwrap()]);
        assert_eq!(ok, file.ok, "{}: {text}", file.name);
        assert!(text.contains(file.says), "{}: {text}", file.name);
    }
}

#[tokio::test]
async fn policy_explain_says_which_rule_allows_each_tool() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(
        &path,
        "[[allow]]\ntools = [\"greet\"]\nlogins = [\"*\"]\n\n[[allow]]\ntools = [\"whoami\"]\n\
         capability = \"example.com/cap/tailmcp\"\ngrant = { role = [\"admin\", \"ops\"] }\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    struct Ask {
        name: &'static str,
        args: &'static [&'static str],
        says: &'static [&'static str],
    }
    let asks = [
        Ask {
            name: "a user without grants",
            args: &["--as", "alice@example.com"],
            says: &["greet: allowed by rule 1", "whoami: denied"],
        },
        Ask {
            name: "a user with one of the listed roles",
            args: &[
                "--as",
                "bob@example.com",
                "--grant",
                r#"{"example.com/cap/tailmcp":[{"role":"ops"}]}"#,
            ],
            says: &["greet: allowed by rule 1", "whoami: allowed by rule 2"],
        },
        Ask {
            name: "a tagged device",
            args: &["--tagged", "--grant", GRANT],
            says: &[
                "a tagged device",
                "greet: denied",
                "whoami: allowed by rule 2",
            ],
        },
    ];
    for ask in &asks {
        let mut args = vec!["explain", path];
        args.extend_from_slice(ask.args);
        let (ok, text) = policy(&args);
        assert!(ok, "{}: {text}", ask.name);
        for want in ask.says {
            assert!(text.contains(want), "{}: no {want:?} in {text}", ask.name);
        }
    }
}

/// Editing the policy file takes effect without SIGHUP, and `/healthz`
/// names the version in force.
#[tokio::test]
async fn policy_reloads_when_its_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    let only_greet = "[[allow]]\ntools = [\"greet\"]\nlogins = [\"*\"]\n";
    std::fs::write(&path, only_greet).unwrap();
    let server = Tailmcp::builder()
        .args([
            "--policy",
            path.to_str().unwrap(),
            "--watch-interval",
            "100ms",
            "--dev-identity",
            "alice@example.com",
        ])
        .start()
        .await;
    let health = || async {
        tailmcp_tests::send(server.addr(), "GET", "/healthz", &[], "")
            .await
            .json()
    };
    let before = health().await;
    assert_eq!(before["policy"]["rules"], 1, "{before}");
    assert_eq!(
        before["policy"]["sha256"],
        sha256_hex(only_greet.as_bytes()),
        "{before}"
    );
    let call = || async {
        post_mcp(server.addr(), &[], &tools_call(1, "whoami", json!({})))
            .await
            .json()
    };
    let refused = call().await;
    assert_eq!(
        (&refused["error"]["code"], &refused["error"]["message"]),
        (
            &json!(-32602),
            &json!("Tool whoami is not available to you")
        ),
        "whoami refused at first: {refused}"
    );
    let edited = format!(
        "{only_greet}\n[[allow]]\ntools = [\"whoami\"]\nlogins = [\"alice@example.com\"]\n"
    );
    std::fs::write(&path, &edited).unwrap();
    let mut reloaded = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if call().await["result"].is_object() {
            reloaded = true;
            break;
        }
    }
    assert!(
        reloaded,
        "whoami allowed after the edit:\n{}",
        server.logs()
    );
    let after = health().await;
    assert_eq!(after["policy"]["rules"], 2, "{after}");
    assert_eq!(
        after["policy"]["sha256"],
        sha256_hex(edited.as_bytes()),
        "{after}"
    );
    assert!(after["policy"]["loadedAt"].is_string(), "{after}");
    assert!(
        server
            .logs()
            .contains("the file changed: reloaded the tool policy")
    );
}
