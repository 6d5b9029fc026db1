//! The Streamable HTTP rules for the `/mcp` endpoint: which HTTP status a
//! request gets and in what order the checks run. Pure: tested natively.
//!
//! | check (in order)                                    | answer                  |
//! |-----------------------------------------------------|-------------------------|
//! | path is not `/mcp`                                  | 404                     |
//! | method is not POST                                  | 405, `Allow: POST`      |
//! | `Accept` lacks `application/json` or `text/event-stream` | 406                |
//! | `Content-Type` is not `application/json`            | 415                     |
//! | `MCP-Protocol-Version` present but not served       | 400                     |
//! | body is not JSON / is a batch / not JSON-RPC        | 400, -32700 / -32600    |
//! | notification or response                            | 202, empty              |
//! | request                                             | 200, JSON-RPC response  |

use rmcp::model::{ErrorCode, ErrorData, ServerResult};
use serde_json::Value;

use crate::caller::Caller;
use crate::dispatch::{self, SUPPORTED_VERSIONS};
use crate::jsonrpc::{self, Message};

/// The one MCP endpoint.
pub const ENDPOINT: &str = "/mcp";

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
    fn json(status: u16, body: &Value) -> Response {
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
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Answers one HTTP request to the component.
pub fn handle(req: &Request, caller: &dyn Fn() -> Caller) -> Response {
    let path = req.path.split('?').next().unwrap_or_default();
    if path != ENDPOINT {
        return Response::transport_error(404, "Not Found: the MCP endpoint is /mcp");
    }
    if req.method != "POST" {
        let mut response = Response::transport_error(
            405,
            "Method Not Allowed: this stateless server takes POST only",
        );
        response.headers.push(("allow".into(), "POST".into()));
        return response;
    }
    let accept = req.header("accept").unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return Response::transport_error(
            406,
            "Not Acceptable: Accept must list both application/json and text/event-stream",
        );
    }
    let content_type = req.header("content-type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Response::transport_error(
            415,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    if let Some(version) = req.header("mcp-protocol-version")
        && !dispatch::is_supported(version.trim())
    {
        let message = format!(
            "Bad Request: unsupported MCP-Protocol-Version {version:?} (supported: {})",
            SUPPORTED_VERSIONS
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Response::transport_error(400, &message);
    }
    let request = match jsonrpc::parse(&req.body) {
        Ok(Message::Request(request)) => request,
        Ok(Message::NoReply) => {
            return Response {
                status: 202,
                headers: Vec::new(),
                body: Vec::new(),
            };
        }
        Err(rejection) => {
            return Response::json(
                400,
                &jsonrpc::failure(rejection.id.as_ref(), &rejection.error),
            );
        }
    };
    let body = match dispatch::dispatch(&request, caller) {
        Ok(mut result) => {
            // 2025 revisions know no `resultType`; rmcp adds it for 2026-07-28.
            ServerResult::strip_result_type_for_legacy_peer(&mut result);
            jsonrpc::success(&request.id, &result)
        }
        Err(error) => jsonrpc::failure(Some(&request.id), &error),
    };
    Response::json(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::User;
    use serde_json::json;

    const ACCEPT: &str = "application/json, text/event-stream";

    fn post(body: &str) -> Request {
        Request {
            method: "POST".into(),
            path: "/mcp".into(),
            headers: vec![
                ("accept".into(), ACCEPT.into()),
                ("content-type".into(), b"application/json".to_vec()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    fn alice() -> Caller {
        Caller {
            user: Some(User {
                login: "alice@example.com".into(),
                display_name: "Alice".into(),
                profile_pic_url: Some("https://example.com/a.png".into()),
            }),
            ..Caller::default()
        }
    }

    fn answer(req: &Request) -> (u16, Value) {
        let r = handle(req, &alice);
        let body = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).unwrap()
        };
        (r.status, body)
    }

    #[test]
    fn greet_over_tools_call() {
        let (status, body) = answer(&post(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet"}}"#,
        ));
        assert_eq!(status, 200);
        assert_eq!(body["id"], 1);
        assert_eq!(
            body["result"]["content"][0]["text"],
            "Hello, Alice! You are logged in as alice@example.com."
        );
        assert_eq!(
            body["result"]["structuredContent"]["profilePicUrl"],
            "https://example.com/a.png"
        );
        assert_eq!(
            body["result"].get("resultType"),
            None,
            "legacy results carry no resultType"
        );
    }

    #[test]
    fn http_errors_in_order() {
        let mut r = post("{}");
        r.path = "/other".into();
        assert_eq!(answer(&r).0, 404);
        for method in ["GET", "DELETE", "PUT"] {
            let mut r = post("{}");
            r.method = method.into();
            let response = handle(&r, &alice);
            assert_eq!(response.status, 405);
            assert!(response.headers.contains(&("allow".into(), "POST".into())));
        }
        let mut r = post("{");
        r.headers[0].1 = b"application/json".to_vec();
        assert_eq!(answer(&r).0, 406);
        r.headers[0].1 = b"*/*".to_vec();
        assert_eq!(answer(&r).0, 406);
        let mut r = post("{");
        r.headers[1].1 = b"text/plain".to_vec();
        assert_eq!(answer(&r).0, 415);
        let mut r = post("{");
        r.headers[1].1 = b"application/json; charset=utf-8".to_vec();
        assert_eq!(
            answer(&r),
            (
                400,
                json!({"jsonrpc":"2.0","error":{"code":-32700,"message":answer(&r).1["error"]["message"]}})
            )
        );
        let mut r = post(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        r.headers
            .push(("MCP-Protocol-Version".into(), b"2020-01-01".to_vec()));
        let (status, body) = answer(&r);
        assert_eq!(status, 400);
        assert_eq!(
            body["error"]["code"], -32000,
            "legacy 4xx never carries a 2026 code"
        );
        r.headers.last_mut().unwrap().1 = b"2025-06-18".to_vec();
        assert_eq!(answer(&r).0, 200);
    }

    #[test]
    fn batches_notifications_and_unknown_methods() {
        let (status, body) = answer(&post(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#));
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!(-32600))
        );
        assert_eq!(
            answer(&post(
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
            )),
            (202, Value::Null)
        );
        let (status, body) = answer(&post(
            r#"{"jsonrpc":"2.0","id":"x","method":"resources/list"}"#,
        ));
        assert_eq!(
            (status, body["id"].clone(), body["error"]["code"].clone()),
            (200, json!("x"), json!(-32601))
        );
        let (status, body) = answer(&post(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#));
        assert_eq!(
            (status, body),
            (200, json!({"jsonrpc":"2.0","id":2,"result":{}}))
        );
    }
}
