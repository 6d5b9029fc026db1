//! The JSON-RPC 2.0 envelope: parsing one message, and writing responses.
//!
//! Only the envelope is checked here (version, id, method); method params
//! are the business of [`crate::dispatch`] and [`crate::handlers`].

use rmcp::model::{ErrorCode, ErrorData, RequestId};
use serde::Serialize;
use serde_json::{Value, json};

/// One parsed JSON-RPC message.
#[derive(Debug, PartialEq)]
pub enum Message {
    /// A request: it gets a response.
    Request(Request),
    /// A notification or a response from the client: acknowledged, never answered.
    NoReply,
}

/// A JSON-RPC request.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    pub params: Option<Value>,
}

/// A message that could not be accepted, with the id when it could be read.
#[derive(Debug, PartialEq)]
pub struct Rejection {
    pub id: Option<RequestId>,
    pub error: ErrorData,
}

impl Rejection {
    fn new(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Rejection {
            id,
            error: ErrorData::new(code, message.into(), None),
        }
    }
}

/// Parses one JSON-RPC message from a request body.
pub fn parse(body: &[u8]) -> Result<Message, Rejection> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Rejection::new(None, ErrorCode::PARSE_ERROR, format!("Parse error: {e}")))?;
    let mut object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            return Err(Rejection::new(
                None,
                ErrorCode::INVALID_REQUEST,
                "Invalid Request: batches are not supported; send one JSON-RPC message per POST",
            ));
        }
        _ => {
            return Err(Rejection::new(
                None,
                ErrorCode::INVALID_REQUEST,
                "Invalid Request: expected a JSON-RPC object",
            ));
        }
    };
    let id = match object.remove("id") {
        None => None,
        Some(raw) => Some(serde_json::from_value::<RequestId>(raw).map_err(|_| {
            Rejection::new(
                None,
                ErrorCode::INVALID_REQUEST,
                "Invalid Request: id must be a string or an integer",
            )
        })?),
    };
    let invalid = |message: &str| {
        Rejection::new(
            id.clone(),
            ErrorCode::INVALID_REQUEST,
            format!("Invalid Request: {message}"),
        )
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("jsonrpc must be \"2.0\""));
    }
    match (object.remove("method"), id.clone()) {
        (Some(Value::String(method)), Some(id)) => Ok(Message::Request(Request {
            id,
            method,
            params: object.remove("params"),
        })),
        (Some(Value::String(_)), None) => Ok(Message::NoReply),
        (Some(_), _) => Err(invalid("method must be a string")),
        (None, Some(_)) if object.contains_key("result") || object.contains_key("error") => {
            Ok(Message::NoReply)
        }
        (None, _) => Err(invalid("a request needs a method")),
    }
}

/// A success response.
pub fn success(id: &RequestId, result: &impl Serialize) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// An error response. The id is left out when it could not be read, as the
/// 2025-11-25 schema allows (clients reject `"id": null`).
pub fn failure(id: Option<&RequestId>, error: &ErrorData) -> Value {
    match id {
        Some(id) => json!({ "jsonrpc": "2.0", "id": id, "error": error }),
        None => json!({ "jsonrpc": "2.0", "error": error }),
    }
}

/// The -32601 error for a method this server does not answer.
pub fn method_not_found(method: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::METHOD_NOT_FOUND,
        format!("Method not found: {method}"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::NumberOrString;

    fn code(body: &str) -> (Option<RequestId>, i32) {
        let r = parse(body.as_bytes()).unwrap_err();
        (r.id, r.error.code.0)
    }

    #[test]
    fn request_notification_and_response() {
        let req = parse(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
        assert_eq!(
            req,
            Message::Request(Request {
                id: NumberOrString::Number(7),
                method: "ping".into(),
                params: None
            })
        );
        let req = parse(br#"{"jsonrpc":"2.0","id":"a","method":"x","params":{"k":1}}"#).unwrap();
        let Message::Request(req) = req else { panic!() };
        assert_eq!(req.id, NumberOrString::String("a".into()));
        assert_eq!(req.params, Some(json!({"k":1})));
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap(),
            Message::NoReply
        );
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap(),
            Message::NoReply
        );
    }

    #[test]
    fn envelope_errors() {
        assert_eq!(code("{"), (None, -32700));
        assert_eq!(code(""), (None, -32700));
        assert_eq!(code("[]"), (None, -32600));
        assert_eq!(
            code(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#),
            (None, -32600)
        );
        assert_eq!(code("42"), (None, -32600));
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
            (None, -32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#),
            (None, -32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#),
            (None, -32600)
        );
        let id = Some(NumberOrString::Number(3));
        assert_eq!(
            code(r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#),
            (id.clone(), -32600)
        );
        assert_eq!(code(r#"{"id":3,"method":"ping"}"#), (id.clone(), -32600));
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":3,"method":5}"#),
            (id.clone(), -32600)
        );
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":3}"#), (id, -32600));
    }

    #[test]
    fn failure_omits_unknown_id() {
        let e = ErrorData::new(ErrorCode::PARSE_ERROR, "Parse error", None);
        assert_eq!(failure(None, &e).get("id"), None);
        assert_eq!(
            failure(Some(&NumberOrString::Number(1)), &e)["id"],
            json!(1)
        );
    }
}
