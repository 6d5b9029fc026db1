//! Protocol eras: which revision a request speaks, and the checks a
//! 2026-07-28 request must pass before it is dispatched. Pure: tested natively.
//!
//! MCP 2026-07-28 ("modern") has no `initialize` handshake: every request
//! carries its protocol version and client capabilities in `params._meta`,
//! and repeats its method, version and target in headers. The revisions up
//! to 2025-11-25 ("legacy") negotiate once, with `initialize`. This endpoint
//! serves both; the body decides which a request is:
//!
//! | request                                                            | era                         |
//! |--------------------------------------------------------------------|-----------------------------|
//! | `params._meta` has `io.modelcontextprotocol/protocolVersion`       | modern, whatever the method |
//! | no such key, but `MCP-Protocol-Version` names 2026-07-28 or later  | modern and malformed: -32602 |
//! | otherwise                                                          | legacy                      |
//!
//! A modern request then climbs this ladder; the first rung it fails answers
//! (the HTTP status of each answer is [`crate::transport`]'s business; one
//! function per rung in `ladder.rs`):
//!
//! 1. `_meta` lacks `clientCapabilities`, or a key has the wrong type: -32602.
//! 2. `MCP-Protocol-Version` or `Mcp-Method` present but not equal to the
//!    body: -32020.
//! 3. The version is not one we serve per request: -32022, with
//!    `data: {supported, requested}`.
//! 4. `MCP-Protocol-Version` or `Mcp-Method` missing; `Mcp-Name` missing,
//!    badly encoded or not equal to `params.name` (`tools/call`,
//!    `prompts/get`) or `params.uri` (`resources/read`): -32020.
//! 5. The method is not served in this era (including `initialize`, `ping`
//!    and the other methods 2026-07-28 removed): -32601.
//! 6. The tool needs a client capability the request did not declare:
//!    -32021, with `data.requiredCapabilities`.
//! 7. An `Mcp-Param-*` header that a tool's input schema asks for (with
//!    `x-mcp-header`) is missing, badly encoded or not equal to the
//!    argument: -32020.
//!
//! Header names are case-insensitive; values are case-sensitive, compared
//! after trimming spaces and tabs, and `Mcp-Name` / `Mcp-Param-*` values may
//! be sent as `=?base64?<base64 of UTF-8>?=`.

mod headers;
mod ladder;

use rmcp::model::ErrorData;
use serde_json::{Map, Value, json};

use crate::jsonrpc;
use crate::meta::{self, CLIENT_CAPABILITIES_KEY, PROTOCOL_VERSION_KEY};
use crate::server::Server;
use crate::version::{Era, is_modern_version};
use crate::wire::Request;

/// Tells the era of `message` and, for a modern request, runs the ladder in
/// the module docs. The error is the JSON-RPC error to answer with.
pub fn classify(
    http: &Request,
    message: &jsonrpc::Request,
    server: &Server,
) -> Result<Era, ErrorData> {
    let meta = meta::request_meta(message);
    let Some(meta) = meta.filter(|meta| meta.contains_key(PROTOCOL_VERSION_KEY)) else {
        return match http.header("mcp-protocol-version") {
            Some(version) if is_modern_version(version) => Err(missing_envelope(version, meta)),
            _ => Ok(Era::Legacy),
        };
    };
    ladder::climb(http, message, meta, server)?;
    Ok(Era::Modern)
}

/// A request that names a modern version in its header but carries no
/// `_meta` claim: the modern envelope is missing, never a legacy fallback.
fn missing_envelope(header_version: &str, meta: Option<&Map<String, Value>>) -> ErrorData {
    let missing: Vec<&str> = match meta {
        None => vec!["_meta"],
        Some(meta) => [PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY]
            .into_iter()
            .filter(|key| !meta.contains_key(*key))
            .collect(),
    };
    ErrorData::invalid_params(
        format!(
            "Invalid params: MCP-Protocol-Version {header_version} needs params._meta with \
             {PROTOCOL_VERSION_KEY} and {CLIENT_CAPABILITIES_KEY}"
        ),
        Some(json!({ "missing": missing })),
    )
}

#[cfg(test)]
mod tests;
