//! The HTTP request and response as plain data, between the wasi:http glue
//! ([`crate::http`]) and the Streamable HTTP rules ([`crate::transport`]).

use rmcp::model::{ErrorCode, ErrorData};
use serde_json::Value;

use crate::jsonrpc;

/// Code for transport-level rejections (406, 415, 405, ...), as the
/// TypeScript SDK uses. Never one of the 2026 codes -32020..-32022, so
/// dual-era clients fall back to `initialize` on these.
const TRANSPORT_ERROR: ErrorCode = ErrorCode(-32000);

/// An HTTP request, as read from wasi:http.
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// An HTTP response, to be written to wasi:http.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(status: u16, body: &Value) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// A transport-level rejection with a JSON-RPC error body and no id.
    pub fn transport_error(status: u16, message: &str) -> Response {
        let error = ErrorData::new(TRANSPORT_ERROR, message.to_string(), None);
        Response::json(status, &jsonrpc::failure(None, &error))
    }
}

impl Request {
    /// The first value of header `name` (case-insensitive), without the
    /// spaces and tabs around it; `None` if absent or not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(|v| v.trim_matches([' ', '\t']))
    }
}
