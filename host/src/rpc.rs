//! What the host reads of a JSON-RPC request body, for the policy, the audit
//! log and error answers: never the whole message, only its envelope.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The first protocol revision that carries its version in `_meta`.
const MODERN_VERSION: &str = "2026-07-28";
const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// The envelope of one JSON-RPC request.
#[derive(Debug, Default, PartialEq)]
pub struct Peek {
    /// The id, when it is a string or an integer.
    pub id: Option<Value>,
    pub method: Option<String>,
    /// `params.name` of a `tools/call`.
    pub tool: Option<String>,
    /// `params.arguments` of a `tools/call`.
    pub arguments: Option<Value>,
    /// The request uses the 2026-07-28 (stateless) revision.
    pub modern: bool,
}

#[derive(Deserialize)]
struct Envelope {
    id: Option<Value>,
    method: Option<String>,
    params: Option<Map<String, Value>>,
}

/// Reads the envelope of `body`; an unreadable body gives an empty [`Peek`].
pub fn peek(body: &[u8]) -> Peek {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return Peek::default();
    };
    let id = envelope
        .id
        .filter(|id| id.is_string() || id.is_i64() || id.is_u64());
    let params = envelope.params.unwrap_or_default();
    let modern = params
        .get("_meta")
        .and_then(|meta| meta.get(VERSION_KEY))
        .and_then(Value::as_str)
        .is_some_and(|version| version >= MODERN_VERSION);
    let is_call = envelope.method.as_deref() == Some("tools/call");
    Peek {
        id,
        tool: is_call
            .then(|| params.get("name").and_then(Value::as_str).map(String::from))
            .flatten(),
        arguments: is_call.then(|| params.get("arguments").cloned()).flatten(),
        method: envelope.method,
        modern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_envelope() {
        let p = peek(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"greet","arguments":{"a":1}}}"#);
        assert_eq!(p.id, Some(json!(3)));
        assert_eq!(p.method.as_deref(), Some("tools/call"));
        assert_eq!(p.tool.as_deref(), Some("greet"));
        assert_eq!(p.arguments, Some(json!({"a":1})));
        assert!(!p.modern);
        let p = peek(br#"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#);
        assert!(p.modern);
        assert_eq!(p.tool, None);
        assert_eq!(peek(b"{nope"), Peek::default());
        assert_eq!(peek(br#"{"id":1.5}"#).id, None);
        assert_eq!(peek(br#"{"id":null,"method":"x"}"#).id, None);
    }
}
