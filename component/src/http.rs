//! The wasi:http glue: turns an `incoming-request` into a plain [`Request`],
//! and a plain [`Response`] into an `outgoing-response`. No MCP rules here;
//! those live in [`crate::transport`], which is pure and tested natively.
#![cfg_attr(
    not(target_arch = "wasm32"),
    allow(dead_code, reason = "only the wasm build exports the handler")
)]

use std::io::{Read, Write};

use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

use crate::caller::Caller;
use crate::server::Server;
use crate::transport;
use crate::wire::{Request, Response};

/// The largest request body the component reads. The host enforces its own
/// (usually smaller) limit before the component runs; this one only keeps a
/// component that is served without that limit from buffering without bound.
const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;

/// Answers one wasi:http request for `server`: the whole `incoming-handler`
/// export of a component built on this crate.
pub fn handle(server: &Server, request: IncomingRequest, response_out: ResponseOutparam) {
    let response = match read_request(&request) {
        Ok(req) => transport::handle(server, &req, &Caller::current),
        Err(response) => response,
    };
    drop(request);
    write_response(response, response_out);
}

fn read_request(request: &IncomingRequest) -> Result<Request, Response> {
    let method = match request.method() {
        Method::Get => "GET".to_string(),
        Method::Head => "HEAD".to_string(),
        Method::Post => "POST".to_string(),
        Method::Put => "PUT".to_string(),
        Method::Delete => "DELETE".to_string(),
        Method::Connect => "CONNECT".to_string(),
        Method::Options => "OPTIONS".to_string(),
        Method::Trace => "TRACE".to_string(),
        Method::Patch => "PATCH".to_string(),
        Method::Other(other) => other,
    };
    let path = request.path_with_query().unwrap_or_else(|| "/".to_string());
    let headers = request.headers().entries();
    // Only a POST carries a message; other methods are answered without reading.
    let body = if method == "POST" {
        read_body(request)?
    } else {
        Vec::new()
    };
    Ok(Request {
        method,
        path,
        headers,
        body,
    })
}

fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, Response> {
    let unreadable = || Response::transport_error(400, "request body could not be read");
    let body = request.consume().map_err(|()| unreadable())?;
    let mut stream = body.stream().map_err(|()| unreadable())?;
    let mut bytes = Vec::new();
    let read = stream
        .by_ref()
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut bytes);
    drop(stream);
    read.map_err(|_| unreadable())?;
    if bytes.len() as u64 > MAX_BODY_BYTES {
        return Err(Response::transport_error(413, "request body too large"));
    }
    Ok(bytes)
}

fn write_response(response: Response, response_out: ResponseOutparam) {
    let fields = Fields::new();
    for (name, value) in &response.headers {
        // Header names and values are ours and valid; a failure here is a bug
        // worth seeing in the host log as a trap.
        fields
            .append(name, value.as_bytes())
            .expect("response header is valid");
    }
    let outgoing = OutgoingResponse::new(fields);
    outgoing
        .set_status_code(response.status)
        .expect("status code is valid");
    let body = outgoing.body().expect("response body is taken once");
    // Set the response before writing the body so the host can start sending.
    ResponseOutparam::set(response_out, Ok(outgoing));
    let mut stream = body.write().expect("body stream is taken once");
    let written = stream
        .write_all(&response.body)
        .and_then(|()| Write::flush(&mut stream));
    // The stream must be dropped before the body is finished.
    drop(stream);
    if written.is_ok() {
        let _ = OutgoingBody::finish(body, None);
    }
}
