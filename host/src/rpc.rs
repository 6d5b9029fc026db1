//! The host's one reading of a JSON-RPC request body: what the policy, the
//! audit log and error answers go by, and the only bytes a component gets.
//!
//! The body is parsed strictly: a repeated key at any depth, a batch, or an
//! envelope that is not one JSON-RPC message is refused here, before any
//! component runs. The component is then handed [`Reading::body`], the
//! host's own re-serialisation of what it read, so a component (written in
//! any language, with any JSON parser) cannot read the request differently
//! from the host: no "first key wins here, last key wins there".
//!
//! Which method names a tool comes from the method table in
//! `tailmcp-protocol`, the one the component dispatches by.
//!
//! Kept free of wasmtime so that `fuzz/` can include this file as it is.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use tailmcp_protocol::meta::PROTOCOL_VERSION_KEY;
use tailmcp_protocol::version::is_modern_version;
use tailmcp_protocol::{Target, lookup};

/// JSON-RPC error codes the host answers with.
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const INVALID_PARAMS: i32 = -32602;

/// What kind of JSON-RPC message a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Has an id and a method: it gets a response.
    Request,
    /// A method without an id: acknowledged, never answered.
    Notification,
    /// A client's response to a server request (a result or an error).
    Response,
    /// No body at all (a GET or a DELETE): nothing to read or judge.
    Empty,
}

/// The host's reading of one request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub kind: Kind,
    /// The id (a string or an integer), for requests and responses.
    pub id: Option<Value>,
    pub method: Option<String>,
    /// `params.name` of a `tools/call` request: the tool the policy judges.
    pub tool: Option<String>,
    /// `params.arguments` of a `tools/call`, for the audit log.
    pub arguments: Option<Value>,
    /// The request uses the 2026-07-28 (stateless) revision.
    pub modern: bool,
    /// What the component is given: the message as the host read it.
    pub body: Vec<u8>,
}

/// Why a body was refused, as a JSON-RPC error.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// 400 for a body that is not one JSON-RPC message; 200 (an in-band
    /// error, as the component answers bad params) for a `tools/call` that
    /// names no tool.
    pub status: u16,
    pub code: i32,
    pub message: String,
    /// The id, when it could be read.
    pub id: Option<Value>,
}

impl Refusal {
    fn new(code: i32, message: impl Into<String>, id: Option<Value>) -> Refusal {
        Refusal {
            status: if code == INVALID_PARAMS { 200 } else { 400 },
            code,
            message: message.into(),
            id,
        }
    }
}

impl Reading {
    /// The reading of a request without a body.
    pub fn empty() -> Reading {
        Reading {
            kind: Kind::Empty,
            id: None,
            method: None,
            tool: None,
            arguments: None,
            modern: false,
            body: Vec::new(),
        }
    }
}

/// Reads `body` as exactly one JSON-RPC message, or says why not.
pub fn read(body: &[u8]) -> Result<Reading, Refusal> {
    let value = parse_strict(body)
        .map_err(|e| Refusal::new(PARSE_ERROR, format!("Parse error: {e}"), None))?;
    let Envelope { object, id, kind } = envelope(&value)?;
    let method = object
        .get("method")
        .and_then(Value::as_str)
        .map(String::from);
    let params = object.get("params");
    let modern = params
        .and_then(|p| p.get("_meta"))
        .and_then(|meta| meta.get(PROTOCOL_VERSION_KEY))
        .and_then(Value::as_str)
        .is_some_and(is_modern_version);
    let (tool, arguments) = called_tool(method.as_deref(), params, &id)?;
    let body = serde_json::to_vec(&value)
        .map_err(|e| Refusal::new(PARSE_ERROR, format!("Parse error: {e}"), id.clone()))?;
    Ok(Reading {
        kind,
        id,
        method,
        tool: if kind == Kind::Request { tool } else { None },
        arguments: if kind == Kind::Request {
            arguments
        } else {
            None
        },
        modern,
        body,
    })
}

/// What [`envelope`] reads of a message.
struct Envelope<'a> {
    object: &'a Map<String, Value>,
    id: Option<Value>,
    kind: Kind,
}

/// The envelope of a message: its object, its id and its kind.
fn envelope(value: &Value) -> Result<Envelope<'_>, Refusal> {
    let object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            return Err(Refusal::new(
                INVALID_REQUEST,
                "Invalid Request: batches are not supported; send one JSON-RPC message per POST",
                None,
            ));
        }
        _ => {
            return Err(Refusal::new(
                INVALID_REQUEST,
                "Invalid Request: expected a JSON-RPC object",
                None,
            ));
        }
    };
    let id = match object.get("id") {
        None => None,
        Some(id) if id.is_string() || id.is_i64() || id.is_u64() => Some(id.clone()),
        Some(_) => {
            return Err(Refusal::new(
                INVALID_REQUEST,
                "Invalid Request: id must be a string or an integer",
                None,
            ));
        }
    };
    let invalid = |message: &str| {
        Refusal::new(
            INVALID_REQUEST,
            format!("Invalid Request: {message}"),
            id.clone(),
        )
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("jsonrpc must be \"2.0\""));
    }
    let kind = match (object.get("method"), &id) {
        (Some(Value::String(_)), Some(_)) => Kind::Request,
        (Some(Value::String(_)), None) => Kind::Notification,
        (Some(_), _) => return Err(invalid("method must be a string")),
        (None, Some(_)) if object.contains_key("result") || object.contains_key("error") => {
            Kind::Response
        }
        (None, _) => return Err(invalid("a request needs a method")),
    };
    Ok(Envelope { object, id, kind })
}

/// The tool and arguments of a method whose target is a tool (per the
/// method table); `(None, None)` for any other method.
fn called_tool(
    method: Option<&str>,
    params: Option<&Value>,
    id: &Option<Value>,
) -> Result<(Option<String>, Option<Value>), Refusal> {
    let Some(spec) = method
        .and_then(lookup)
        .filter(|spec| spec.target == Some(Target::Tool))
    else {
        return Ok((None, None));
    };
    // A tool call the host cannot name is refused here rather than passed
    // on unjudged.
    let Some(tool) = spec.target_in(params) else {
        return Err(Refusal::new(
            INVALID_PARAMS,
            format!(
                "Invalid params: {} needs params.{}, a string",
                spec.name,
                Target::Tool.field()
            ),
            id.clone(),
        ));
    };
    let arguments = params.and_then(|p| p.get("arguments")).cloned();
    Ok((Some(tool.to_string()), arguments))
}

/// Parses JSON like `serde_json::from_slice::<Value>`, but refuses a key
/// that appears twice in one object (at any depth) instead of keeping the
/// last copy.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let Strict(value) = Strict::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A JSON value whose objects have no repeated keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("key {key:?} appears twice")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(body: &str) -> (i32, Option<Value>) {
        let refusal = read(body.as_bytes()).expect_err(body);
        (refusal.code, refusal.id)
    }

    #[test]
    fn reads_the_envelope() {
        let r = read(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"greet","arguments":{"a":1}}}"#).unwrap();
        assert_eq!(r.kind, Kind::Request);
        assert_eq!(r.id, Some(json!(3)));
        assert_eq!(r.method.as_deref(), Some("tools/call"));
        assert_eq!(r.tool.as_deref(), Some("greet"));
        assert_eq!(r.arguments, Some(json!({"a":1})));
        assert!(!r.modern);
        let r = read(br#"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#).unwrap();
        assert!(r.modern);
        assert_eq!(r.tool, None);
        let r =
            read(br#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"greet"}}"#).unwrap();
        assert_eq!(r.kind, Kind::Notification);
        assert_eq!(r.tool, None, "a notification runs no tool");
        let r = read(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap();
        assert_eq!(r.kind, Kind::Response);
    }

    #[test]
    fn refuses_what_it_cannot_read_as_one_message() {
        type Case = (&'static str, &'static str, (i32, Option<Value>));
        let cases: &[Case] = &[
            ("not json", "{nope", (PARSE_ERROR, None)),
            ("empty", "", (PARSE_ERROR, None)),
            (
                "trailing garbage",
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"} x"#,
                (PARSE_ERROR, None),
            ),
            (
                "repeated id",
                r#"{"jsonrpc":"2.0","id":1,"id":1,"method":"tools/call","params":{"name":"whoami"}}"#,
                (PARSE_ERROR, None),
            ),
            (
                "repeated method",
                r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"whoami"}}"#,
                (PARSE_ERROR, None),
            ),
            (
                "repeated tool name",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","name":"whoami"}}"#,
                (PARSE_ERROR, None),
            ),
            (
                "repeated key deep in arguments",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{"a":[{"b":1,"b":2}]}}}"#,
                (PARSE_ERROR, None),
            ),
            (
                "repeated key spelled with an escape",
                r#"{"jsonrpc":"2.0","id":1,"i\u0064":2,"method":"ping"}"#,
                (PARSE_ERROR, None),
            ),
            (
                "batch",
                r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
                (INVALID_REQUEST, None),
            ),
            ("not an object", "7", (INVALID_REQUEST, None)),
            (
                "float id",
                r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
                (INVALID_REQUEST, None),
            ),
            (
                "null id",
                r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
                (INVALID_REQUEST, None),
            ),
            (
                "no version",
                r#"{"id":4,"method":"ping"}"#,
                (INVALID_REQUEST, Some(json!(4))),
            ),
            (
                "method not a string",
                r#"{"jsonrpc":"2.0","id":4,"method":7}"#,
                (INVALID_REQUEST, Some(json!(4))),
            ),
            (
                "no method",
                r#"{"jsonrpc":"2.0","id":4}"#,
                (INVALID_REQUEST, Some(json!(4))),
            ),
            (
                "tool name not a string",
                r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":["whoami"]}}"#,
                (INVALID_PARAMS, Some(json!(4))),
            ),
            (
                "tool params not an object",
                r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":"whoami"}"#,
                (INVALID_PARAMS, Some(json!(4))),
            ),
            (
                "tools/call without params",
                r#"{"jsonrpc":"2.0","id":4,"method":"tools/call"}"#,
                (INVALID_PARAMS, Some(json!(4))),
            ),
        ];
        for (name, body, want) in cases {
            assert_eq!(&refused(body), want, "{name}");
        }
    }

    #[test]
    fn the_component_gets_the_host_reading() {
        let sent = br#"{ "jsonrpc" : "2.0", "id":"a", "method":"tools/call",
            "params":{"name":"greet","arguments":{"x":"\u00e9"}} }"#;
        let r = read(sent).unwrap();
        let again: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(again, serde_json::from_slice::<Value>(sent).unwrap());
        assert_eq!(
            read(&r.body).unwrap(),
            r,
            "reading the re-serialisation changes nothing"
        );
    }
}
