//! The Streamable HTTP rules for the `/mcp` endpoint: which HTTP status a
//! request gets and in what order the checks run. Pure: tested natively.
//!
//! | check (in order)                                         | answer                  |
//! |----------------------------------------------------------|-------------------------|
//! | path is not `/mcp`                                       | 404                     |
//! | method is not POST                                       | 405, `Allow: POST`      |
//! | `Accept` lacks `application/json` or `text/event-stream` | 406                     |
//! | `Content-Type` is not `application/json`                 | 415                     |
//! | `MCP-Protocol-Version` names no version we serve, and the body is not a 2026-07-28 request | 400, -32000 |
//! | body is not JSON / is a batch / not JSON-RPC             | 400, -32700 / -32600    |
//! | notification or response                                 | 202, empty              |
//! | 2026-07-28 request refused by [`crate::era`]'s ladder     | 400 (-32602, -32020, -32021, -32022), or 404 (-32601) |
//! | request                                                  | 200, JSON-RPC response (protocol errors in-band, both eras) |
//!
//! Transport-level rejections use -32000, never one of the 2026 codes
//! -32020…-32022, so a dual-era client that probes with a 2026-07-28 request
//! and gets a legacy-style 4xx falls back to `initialize` correctly.

use rmcp::model::{ErrorCode, ErrorData};
use serde_json::Value;

use crate::caller::Caller;
use crate::dispatch;
use crate::era::{self, LEGACY_VERSIONS};
use crate::jsonrpc::{self, Message};
use crate::server::Server;

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

/// The HTTP status of an error the 2026-07-28 ladder refused a request with:
/// 404 for a method not served, 400 for the rest (envelope, headers,
/// version, client capabilities).
fn ladder_status(error: &ErrorData) -> u16 {
    if error.code == ErrorCode::METHOD_NOT_FOUND {
        404
    } else {
        400
    }
}

/// Answers one HTTP request to the component, for `server`.
pub fn handle(server: &Server, req: &Request, caller: &dyn Fn() -> Caller) -> Response {
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
    let message = jsonrpc::parse(&req.body);
    let modern_body =
        matches!(&message, Ok(Message::Request(request)) if era::claims_modern(request));
    // The 2025 rule: an unknown version header is refused before the body
    // is read. A 2026 version, or a body that claims 2026-07-28, is judged
    // by the era ladder instead.
    if let Some(version) = req.header("mcp-protocol-version")
        && !modern_body
        && !era::is_legacy_version(version)
        && !era::is_modern_version(version)
    {
        let message = format!(
            "Bad Request: unsupported MCP-Protocol-Version {version:?} (supported: 2026-07-28 \
             with params._meta, or {} with initialize)",
            LEGACY_VERSIONS
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Response::transport_error(400, &message);
    }
    let request = match message {
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
    let era = match era::classify(req, &request, server) {
        Ok(era) => era,
        Err(error) => {
            return Response::json(
                ladder_status(&error),
                &jsonrpc::failure(Some(&request.id), &error),
            );
        }
    };
    let body = match dispatch::dispatch(server, era, &request, caller) {
        Ok(result) => jsonrpc::success(&request.id, &result),
        Err(error) => jsonrpc::failure(Some(&request.id), &error),
    };
    Response::json(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SERVER;
    use crate::testing::{alice, answer_for, modern_body, modern_headers, post};
    use serde_json::json;

    fn answer(req: &Request) -> (u16, Value) {
        answer_for(&SERVER, req)
    }

    /// (status, error code or null, id or null) of a POST.
    fn outcome(headers: &[(&str, &str)], body: &str) -> (u16, Value, Value) {
        let (status, body) = answer(&post(headers, body));
        (
            status,
            body["error"]["code"].clone(),
            body.get("id").cloned().unwrap_or(Value::Null),
        )
    }

    #[test]
    fn greet_over_tools_call() {
        let (status, body) = answer(&post(
            &[],
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
        let mut r = post(&[], "{}");
        r.path = "/other".into();
        assert_eq!(answer(&r).0, 404);
        for method in ["GET", "DELETE", "PUT"] {
            let mut r = post(&[], "{}");
            r.method = method.into();
            let response = handle(&SERVER, &r, &alice);
            assert_eq!(response.status, 405);
            assert!(response.headers.contains(&("allow".into(), "POST".into())));
        }
        let mut r = post(&[], "{");
        r.headers[0].1 = b"application/json".to_vec();
        assert_eq!(answer(&r).0, 406);
        r.headers[0].1 = b"*/*".to_vec();
        assert_eq!(answer(&r).0, 406);
        let mut r = post(&[], "{");
        r.headers[1].1 = b"text/plain".to_vec();
        assert_eq!(answer(&r).0, 415);
        let mut r = post(&[], "{");
        r.headers[1].1 = b"application/json; charset=utf-8".to_vec();
        assert_eq!(
            answer(&r),
            (
                400,
                json!({"jsonrpc":"2.0","error":{"code":-32700,"message":answer(&r).1["error"]["message"]}})
            )
        );
        let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        let (status, code, _) = outcome(&[("MCP-Protocol-Version", "2020-01-01")], ping);
        assert_eq!(status, 400);
        assert_eq!(code, -32000, "legacy 4xx never carries a 2026 code");
        // The legacy header check still comes before the body is read.
        assert_eq!(
            outcome(&[("MCP-Protocol-Version", "2020-01-01")], "{"),
            (400, json!(-32000), Value::Null)
        );
        assert_eq!(
            outcome(&[("MCP-Protocol-Version", "2025-06-18")], ping).0,
            200
        );
        assert_eq!(
            outcome(&[("MCP-Protocol-Version", " 2025-06-18 ")], ping).0,
            200
        );
    }

    #[test]
    fn batches_notifications_and_unknown_methods() {
        let (status, body) = answer(&post(&[], r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#));
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!(-32600))
        );
        assert_eq!(
            answer(&post(
                &[],
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
            )),
            (202, Value::Null)
        );
        let (status, body) = answer(&post(
            &[],
            r#"{"jsonrpc":"2.0","id":"x","method":"resources/list"}"#,
        ));
        assert_eq!(
            (status, body["id"].clone(), body["error"]["code"].clone()),
            (200, json!("x"), json!(-32601))
        );
        let (status, body) = answer(&post(&[], r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#));
        assert_eq!(
            (status, body),
            (200, json!({"jsonrpc":"2.0","id":2,"result":{}}))
        );
    }

    #[test]
    fn modern_refusals_use_http_status_and_echo_the_id() {
        let discover = modern_body(json!("d"), "server/discover", json!({}));
        let ok = modern_headers("server/discover", None);
        let (status, body) = answer(&post(&ok, &discover));
        assert_eq!((status, body["id"].clone()), (200, json!("d")));
        assert_eq!(body["result"]["resultType"], "complete");

        type Case<'a> = (
            &'a str,
            Vec<(&'a str, &'a str)>,
            String,
            (u16, Value, Value),
        );
        let cases: Vec<Case> = vec![
            (
                "header without claim",
                vec![
                    ("MCP-Protocol-Version", "2026-07-28"),
                    ("Mcp-Method", "ping"),
                ],
                r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#.into(),
                (400, json!(-32602), json!(9)),
            ),
            (
                "Mcp-Method mismatch",
                vec![
                    ("MCP-Protocol-Version", "2026-07-28"),
                    ("Mcp-Method", "tools/list"),
                ],
                discover.clone(),
                (400, json!(-32020), json!("d")),
            ),
            (
                "unsupported version",
                vec![
                    ("MCP-Protocol-Version", "2030-01-01"),
                    ("Mcp-Method", "server/discover"),
                ],
                discover.replace("2026-07-28", "2030-01-01"),
                (400, json!(-32022), json!("d")),
            ),
            (
                "missing capability",
                modern_headers("tools/call", Some("greet")),
                json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"greet",
                    "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})
                .to_string(),
                (400, json!(-32602), json!(3)),
            ),
            (
                "removed method",
                modern_headers("ping", None),
                modern_body(json!(5), "ping", json!({})),
                (404, json!(-32601), json!(5)),
            ),
            (
                "initialize with a claim",
                modern_headers("initialize", None),
                modern_body(json!(6), "initialize", json!({})),
                (404, json!(-32601), json!(6)),
            ),
            (
                "unknown tool, in-band",
                modern_headers("tools/call", Some("nope")),
                modern_body(json!(7), "tools/call", json!({"name": "nope"})),
                (200, json!(-32602), json!(7)),
            ),
            (
                "a legacy-unknown header does not hide a modern body's mismatch",
                vec![
                    ("MCP-Protocol-Version", "2020-01-01"),
                    ("Mcp-Method", "server/discover"),
                ],
                discover.clone(),
                (400, json!(-32020), json!("d")),
            ),
        ];
        for (name, headers, body, expected) in cases {
            assert_eq!(outcome(&headers, &body), expected, "{name}");
        }
        // Notifications get 202 in either era.
        assert_eq!(
            outcome(
                &modern_headers("notifications/cancelled", None),
                r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#
            ),
            (202, Value::Null, Value::Null)
        );
    }

    #[test]
    fn legacy_refusals_never_carry_2026_codes() {
        let bodies = [
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            "{",
            "[]",
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
        ];
        for header in [None, Some("2020-01-01"), Some("1.0"), Some("2025-11-25")] {
            for body in bodies {
                let headers: Vec<(&str, &str)> = header
                    .map(|h| ("MCP-Protocol-Version", h))
                    .into_iter()
                    .collect();
                let (status, code, _) = outcome(&headers, body);
                let code = code.as_i64().unwrap_or(0);
                assert!(
                    !(-32022..=-32020).contains(&code),
                    "{header:?} {body}: {status} {code}"
                );
            }
        }
    }
}
