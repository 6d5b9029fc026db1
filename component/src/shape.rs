//! Result shaping per era: the same [`ServerResult`] is written for a 2025
//! client (as rmcp's 2025 types say) or for a 2026-07-28 client
//! (`resultType`, the server's identity in `_meta`, caching hints).

use rmcp::model::{CacheScope, ServerResult};
use serde_json::{Value, json};
use tailmcp_protocol::Spec;

use crate::meta::SERVER_INFO_KEY;
use crate::server::Server;

/// How long a 2026-07-28 client may reuse a discover, list or read result,
/// and with whom. Zero and private: the host can swap the component at any
/// moment, and a tool may answer differently per caller.
pub const CACHE_TTL_MS: u64 = 0;
pub const CACHE_SCOPE: CacheScope = CacheScope::Private;

/// A 2025 result: no `resultType` (rmcp adds it for 2026-07-28), and only
/// object-typed structured output.
pub fn legacy(mut result: ServerResult) -> Value {
    result.strip_result_type_for_legacy_peer();
    result.strip_non_object_output_for_legacy_peer();
    serde_json::to_value(result).unwrap_or_default()
}

/// A 2026-07-28 result: `resultType`, the server's identity in `_meta`, and
/// caching hints where the method table says the result is cacheable.
pub fn modern(server: &Server, spec: &Spec, result: ServerResult) -> Value {
    let mut value = serde_json::to_value(result).unwrap_or_default();
    if let Value::Object(object) = &mut value {
        object
            .entry("resultType")
            .or_insert_with(|| json!("complete"));
        if spec.cacheable {
            object.entry("ttlMs").or_insert_with(|| json!(CACHE_TTL_MS));
            object
                .entry("cacheScope")
                .or_insert_with(|| json!(CACHE_SCOPE));
        }
        let meta = object.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(meta) = meta {
            meta.insert(SERVER_INFO_KEY.into(), json!(server.info()));
        }
    }
    value
}
