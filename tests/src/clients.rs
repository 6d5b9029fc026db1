//! Real MCP clients, run as child processes from `tests/clients/`: the
//! official TypeScript SDK, `mcp-remote` driven over stdio as Claude Desktop
//! runs it, and the official Python SDK. Each prints one JSON line.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

/// `tests/clients/`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// The Python interpreter with the `mcp` SDK: `$TAILMCP_PYTHON`, else the
/// test command's venv (`target/pyenv`), else `python3`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("TAILMCP_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// A client to run.
#[derive(Debug, Clone, Copy)]
pub enum Client {
    /// `@modelcontextprotocol/sdk` `StreamableHTTPClientTransport`.
    TypeScriptSdk,
    /// `npx mcp-remote URL`, spoken to over stdio like Claude Desktop.
    McpRemote,
    /// The Python `mcp` SDK's `streamablehttp_client`.
    PythonSdk,
    /// `@modelcontextprotocol/sdk` `SSEClientTransport` (legacy HTTP+SSE; URL is `/sse`).
    TypeScriptSdkSse,
    /// `npx mcp-remote URL --transport sse-only` over stdio (URL is `/sse`).
    McpRemoteSseOnly,
}

/// Runs `client` against `url`: initialize, list tools, call `tool` with
/// `args`; `headers` are extra HTTP headers the client sends (e.g. forged
/// identity). Returns the client's JSON line.
pub async fn run(client: Client, url: &str, headers: Value, tool: &str, args: Value) -> Value {
    let (program, script, transport) = match client {
        Client::TypeScriptSdk => (PathBuf::from("node"), "ts_client.mjs", ""),
        Client::McpRemote => (PathBuf::from("node"), "mcp_remote_driver.mjs", ""),
        Client::PythonSdk => (python(), "py_client.py", ""),
        Client::TypeScriptSdkSse => (PathBuf::from("node"), "ts_client.mjs", "sse"),
        Client::McpRemoteSseOnly => (PathBuf::from("node"), "mcp_remote_driver.mjs", "sse-only"),
    };
    assert!(
        dir().join("node_modules").exists(),
        "tests/clients/node_modules is missing: run `npm ci` in tests/clients (the README's test command does)"
    );
    let child = Command::new(&program)
        .arg(script)
        .arg(url)
        .current_dir(dir())
        .env("TAILMCP_TEST_HEADERS", headers.to_string())
        .env("TAILMCP_TEST_TOOL", tool)
        .env("TAILMCP_TEST_ARGS", args.to_string())
        .env("TAILMCP_TEST_TRANSPORT", transport)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} {script}: {e}", program.display()));
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{client:?} timed out"))
        .expect("client output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{client:?} failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!("{client:?} printed no JSON line:\nstdout: {stdout}\nstderr: {stderr}")
        });
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{client:?} printed bad JSON ({e}): {line}"))
}
