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

use crate::caller::Caller;
use crate::dispatch;
use crate::era;
use crate::jsonrpc::{self, Message, Rejection};
use crate::meta;
use crate::server::Server;
use crate::version::{self, LEGACY_VERSIONS};

pub use crate::wire::{Request, Response};

/// The one MCP endpoint.
pub const ENDPOINT: &str = "/mcp";

/// Answers one HTTP request to the component, for `server`.
pub fn handle(server: &Server, req: &Request, caller: &dyn Fn() -> Caller) -> Response {
    if let Err(response) = check_http(req) {
        return response;
    }
    let message = jsonrpc::parse(&req.body);
    if let Err(response) = check_version_header(req, &message) {
        return response;
    }
    match message {
        Ok(Message::Request(request)) => answer(server, req, &request, caller),
        Ok(Message::NoReply) => Response {
            status: 202,
            headers: Vec::new(),
            body: Vec::new(),
        },
        Err(rejection) => Response::json(
            400,
            &jsonrpc::failure(rejection.id.as_ref(), &rejection.error),
        ),
    }
}

/// The checks that need no body: path, method, `Accept`, `Content-Type`.
fn check_http(req: &Request) -> Result<(), Response> {
    let path = req.path.split('?').next().unwrap_or_default();
    if path != ENDPOINT {
        return Err(Response::transport_error(
            404,
            "Not Found: the MCP endpoint is /mcp",
        ));
    }
    if req.method != "POST" {
        let mut response = Response::transport_error(
            405,
            "Method Not Allowed: this stateless server takes POST only",
        );
        response.headers.push(("allow".into(), "POST".into()));
        return Err(response);
    }
    let accept = req.header("accept").unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return Err(Response::transport_error(
            406,
            "Not Acceptable: Accept must list both application/json and text/event-stream",
        ));
    }
    let content_type = req.header("content-type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Response::transport_error(
            415,
            "Unsupported Media Type: Content-Type must be application/json",
        ));
    }
    Ok(())
}

/// The 2025 rule: an unknown version header is refused before the body is
/// read. A 2026 version, or a body that claims 2026-07-28, is judged by the
/// era ladder instead.
fn check_version_header(
    req: &Request,
    message: &Result<Message, Rejection>,
) -> Result<(), Response> {
    let modern_body =
        matches!(message, Ok(Message::Request(request)) if meta::claims_modern(request));
    if let Some(version) = req.header("mcp-protocol-version")
        && !modern_body
        && !version::is_legacy_version(version)
        && !version::is_modern_version(version)
    {
        let message = format!(
            "Bad Request: unsupported MCP-Protocol-Version {version:?} (supported: 2026-07-28 \
             with params._meta, or {} with initialize)",
            LEGACY_VERSIONS.join(", ")
        );
        return Err(Response::transport_error(400, &message));
    }
    Ok(())
}

/// A request: its era (a refusal by the 2026-07-28 ladder answers with an
/// HTTP status), then its method, answered in-band.
fn answer(
    server: &Server,
    req: &Request,
    request: &jsonrpc::Request,
    caller: &dyn Fn() -> Caller,
) -> Response {
    let era = match era::classify(req, request, server) {
        Ok(era) => era,
        Err(error) => {
            return Response::json(
                ladder_status(&error),
                &jsonrpc::failure(Some(&request.id), &error),
            );
        }
    };
    let body = match dispatch::dispatch(server, era, request, caller) {
        Ok(result) => jsonrpc::success(&request.id, &result),
        Err(error) => jsonrpc::failure(Some(&request.id), &error),
    };
    Response::json(200, &body)
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

#[cfg(test)]
mod tests;
