//! `tailmcp policy check` and `tailmcp policy explain`: try a policy file
//! before deploying it, against the tools a component really offers (its
//! own `tools/list`, run in a fresh instance as a request would be).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use wasmtime::Engine;
use wasmtime::error::Context;

use crate::engine::{self, EngineLimits, Loaded};
use crate::identity::{Caller, User};
use crate::instance::{self, InstanceLimits};
use crate::policy::Policy;
use crate::reload::Loader;
use crate::startup::EMBEDDED_COMPONENT;

/// The tool names `component` (the built-in one if `None`) lists.
pub async fn tool_names(component: Option<&Path>) -> wasmtime::Result<Vec<String>> {
    let engine = engine::engine(EngineLimits::default())?;
    let loaded = load(&engine, component)?;
    // The request deadline counts epochs: tick while the component runs.
    let _ticker = engine::epoch_ticker(engine)?;
    let bytes = list_tools(loaded).await?;
    let text = String::from_utf8_lossy(&bytes);
    // JSON, or one server-sent event whose data is the JSON.
    let json = text
        .lines()
        .find_map(|line| line.strip_prefix("data:"))
        .unwrap_or(&text);
    let reply: Value = serde_json::from_str(json.trim())
        .with_context(|| format!("the tools/list answer is not JSON: {text}"))?;
    let tools = reply["result"]["tools"]
        .as_array()
        .with_context(|| format!("the tools/list answer has no result.tools: {reply}"))?;
    Ok(tools
        .iter()
        .filter_map(|tool| tool["name"].as_str().map(str::to_string))
        .collect())
}

/// `component` (the built-in one if `None`), compiled for `engine`.
fn load(engine: &Engine, component: Option<&Path>) -> wasmtime::Result<Loaded> {
    let loader = Loader {
        engine: engine.clone(),
        linker: engine::linker(engine)?,
        cache: None,
        // Checking a policy never needs native code: only `.wasm` is loaded.
        allow_precompiled: false,
    };
    match component {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read component `{}`", path.display()))?;
            loader.load_file(path, &bytes)
        }
        None => loader.load_embedded(EMBEDDED_COMPONENT),
    }
}

/// The body of `loaded`'s answer to `tools/list`.
async fn list_tools(loaded: Loaded) -> wasmtime::Result<Bytes> {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let request = http::Request::post("http://localhost/mcp")
        .header(http::header::HOST, "localhost")
        .header(http::header::ACCEPT, "application/json, text/event-stream")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from_static(body.as_bytes()))
        .context("tools/list request")?;
    let limits = InstanceLimits {
        deadline: std::time::Instant::now() + Duration::from_secs(30),
        max_memory_bytes: crate::config::DEFAULT_MAX_MEMORY_BYTES,
        max_response_bytes: crate::config::DEFAULT_MAX_RESPONSE_BYTES,
        fuel: None,
    };
    // A user: a component that lists tools by caller shows a user's view.
    let caller = Caller {
        user: Some(User {
            login: "policy-check@localhost".into(),
            display_name: "policy check".into(),
            profile_pic_url: None,
        }),
        ..Caller::default()
    };
    let busy_slots = Arc::new(tokio::sync::Semaphore::new(1));
    let response = instance::run(Arc::new(loaded), request, caller, limits, busy_slots)
        .await
        .map_err(|e| wasmtime::Error::msg(format!("tools/list failed in the component: {e:?}")))?;
    Ok(response.into_body())
}

/// `tailmcp policy check`: prints findings; Ok(true) when there are none.
pub async fn check(file: &Path, component: Option<&Path>) -> wasmtime::Result<bool> {
    let policy = Policy::load(file).map_err(wasmtime::Error::msg)?;
    let tools = tool_names(component).await?;
    let findings = policy.check(Some(&tools));
    for finding in &findings {
        println!("{}: {finding}", file.display());
    }
    if findings.is_empty() {
        println!(
            "{}: ok ({} tools checked: {})",
            file.display(),
            tools.len(),
            tools.join(", ")
        );
    }
    Ok(findings.is_empty())
}

/// `tailmcp policy explain`: which tools `caller` sees, and the rule that
/// allows each.
pub async fn explain(
    file: &Path,
    component: Option<&Path>,
    caller: &Caller,
) -> wasmtime::Result<()> {
    let policy = Policy::load(file).map_err(wasmtime::Error::msg)?;
    let tools = tool_names(component).await?;
    println!("caller: {}", caller_line(caller));
    for (tool, rule) in policy.explain(caller, &tools) {
        match rule {
            Some(rule) => println!("  {tool}: allowed by rule {rule}"),
            None => println!("  {tool}: denied (no rule allows it)"),
        }
    }
    Ok(())
}

fn caller_line(caller: &Caller) -> String {
    let who = match &caller.user {
        Some(user) => format!("{} ({})", user.login, user.display_name),
        None => "a tagged device".to_string(),
    };
    let grants = serde_json::to_string(&caller.capabilities).unwrap_or_default();
    format!("{who}, capabilities {grants}")
}
