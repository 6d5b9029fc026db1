//! The 2026-07-28 per-request `_meta`: its keys (from `tailmcp-protocol`),
//! and reading them from a request.

use serde_json::{Map, Value};

use crate::jsonrpc;

pub use tailmcp_protocol::meta::{
    CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, PROTOCOL_VERSION_KEY, SERVER_INFO_KEY,
};

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
