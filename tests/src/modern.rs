//! Requests in the MCP 2026-07-28 shape: `Mcp-*` headers plus a `_meta`
//! naming the revision, as a stateless client sends them.

use serde_json::{Value, json};

pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// A 2026-07-28 request body: `params` plus a well-formed `_meta` declaring
/// `capabilities`.
pub fn body_with(id: Value, method: &str, mut params: Value, capabilities: Value) -> String {
    params["_meta"] = json!({
        META_VERSION: "2026-07-28",
        META_CAPABILITIES: capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"}
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// [`body_with`] a client that declares no capabilities.
pub fn body(id: Value, method: &str, params: Value) -> String {
    body_with(id, method, params, json!({}))
}

/// The headers a 2026-07-28 client sends with `method` (and `Mcp-Name`).
pub fn headers<'a>(method: &'a str, name: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut headers = vec![
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
    ];
    headers.extend(name.map(|name| ("mcp-name", name)));
    headers
}
