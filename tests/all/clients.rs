//! Real MCP clients through the tailscale serve stand-in: each initializes,
//! lists tools and calls `greet`, and gets the injected identity back, never
//! the one it tried to forge.

use serde_json::{Value, json};
use tailmcp_tests::clients::{self, Client};
use tailmcp_tests::{Injected, Tailmcp};

const LOGIN: &str = "zoe@example.com";
const NAME: &str = "Zoë Ünïcode";

async fn check(client: Client, unix: bool) {
    let server = Tailmcp::builder().serve(Injected::user(LOGIN, NAME));
    let server = if unix { server.unix() } else { server }.start().await;
    let serve = server.serve();
    let forged =
        json!({"Tailscale-User-Login": "mallory@evil.example", "Tailscale-User-Name": "Mallory"});
    let out = clients::run(client, &serve.url(), forged, "greet", json!({})).await;
    assert_eq!(out["serverInfo"]["name"], "tailmcp", "{client:?}: {out}");
    let tools: Vec<&Value> = out["tools"].as_array().unwrap().iter().collect();
    assert!(
        tools.iter().any(|t| t["name"] == "greet"),
        "{client:?}: {out}"
    );
    assert_eq!(
        out["greet"]["content"][0]["text"],
        format!("Hello, {NAME}! You are logged in as {LOGIN}."),
        "{client:?}: {out}"
    );
    assert_eq!(out["greet"]["structuredContent"]["login"], LOGIN);
    assert!(
        !out.to_string().contains("mallory"),
        "{client:?}: forged identity leaked: {out}"
    );
    let logs = server.logs();
    assert!(
        logs.contains("POST /mcp 200") && logs.contains(LOGIN),
        "{logs}"
    );
}

#[tokio::test]
async fn typescript_sdk_over_tcp() {
    check(Client::TypeScriptSdk, false).await;
}

#[tokio::test]
async fn typescript_sdk_over_unix_socket() {
    check(Client::TypeScriptSdk, true).await;
}

#[tokio::test]
async fn mcp_remote_as_claude_desktop_runs_it() {
    check(Client::McpRemote, true).await;
}

#[tokio::test]
async fn python_sdk() {
    check(Client::PythonSdk, true).await;
}
