//! The 2026-07-28 per-request `_meta`: its keys, and reading them from a
//! request.

use serde_json::{Map, Value};

use crate::jsonrpc;

/// `_meta` key of the protocol version a modern request speaks.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the client capabilities a modern request declares.
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client's name and version (optional).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// Result `_meta` key under which a modern server names itself.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// `params._meta`, when it is an object.
pub fn request_meta(message: &jsonrpc::Request) -> Option<&Map<String, Value>> {
    message
        .params
        .as_ref()
        .and_then(|params| params.get("_meta"))
        .and_then(Value::as_object)
}

/// The client capabilities a modern request declares in its `_meta`.
pub fn client_capabilities(message: &jsonrpc::Request) -> Option<&Map<String, Value>> {
    request_meta(message)?
        .get(CLIENT_CAPABILITIES_KEY)?
        .as_object()
}

/// Whether the body claims the modern era (`_meta` names a protocol version).
pub fn claims_modern(message: &jsonrpc::Request) -> bool {
    request_meta(message).is_some_and(|meta| meta.contains_key(PROTOCOL_VERSION_KEY))
}
