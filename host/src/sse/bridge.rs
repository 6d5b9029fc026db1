//! The legacy transport's HTTP handlers: `GET /sse` opens a session's
//! stream; `POST /messages?sessionId=…` is checked against its session,
//! becomes a Streamable-HTTP POST for the component (`request.rs` runs it),
//! and its answer goes out on the stream.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::{MESSAGES_PATH, SSE_PATH, SessionError, Sessions, session_param};
use crate::identity::Caller;
use crate::refusal::Refusal;
use crate::response;

/// Whether `path` is one of the legacy transport's.
pub fn serves(path: &str) -> bool {
    path == SSE_PATH || path == MESSAGES_PATH
}

/// What a request to a legacy path is.
pub enum Legacy {
    /// `GET /sse`: the opened stream.
    Opened(Response<HyperOutgoingBody>),
    /// `POST /messages`: the request to run, as a Streamable-HTTP POST,
    /// and the session its answer goes to.
    Post {
        request: http::Request<Incoming>,
        session: String,
    },
}

/// Opens a stream or checks a POST against its session.
pub fn accept(
    sessions: &Sessions,
    mut request: http::Request<Incoming>,
    caller: &Caller,
) -> Result<Legacy, Refusal> {
    let on_sse_path = request.uri().path() == SSE_PATH;
    match (request.method(), on_sse_path) {
        (&Method::GET, true) => return open(sessions, caller).map(Legacy::Opened),
        (&Method::POST, false) => {}
        _ => {
            let allow = if on_sse_path { "GET" } else { "POST" };
            return Err(Refusal::SseMethod { allow });
        }
    }
    let Some(session) = session_param(request.uri().query()).map(str::to_owned) else {
        return Err(Refusal::NoSessionId);
    };
    if let Err(e) = sessions.check(&session, caller) {
        if e == SessionError::NotYours {
            tracing::warn!(
                "refused a POST by {} into another caller's SSE session",
                caller.describe()
            );
        }
        return Err(e.into());
    }
    // From here on it is a Streamable-HTTP POST to the component.
    *request.uri_mut() = http::Uri::from_static("/mcp");
    request.headers_mut().insert(
        header::ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    Ok(Legacy::Post { request, session })
}

/// Sends the component's answer to a POST on its session's stream.
pub async fn deliver(
    sessions: &Sessions,
    session: &str,
    response: Response<HyperOutgoingBody>,
) -> Response<HyperOutgoingBody> {
    if response.status() != StatusCode::OK {
        // 202 for notifications; errors go back on the POST itself.
        return response;
    }
    let Ok(body) = response.into_body().collect().await else {
        return response::send(Refusal::Internal.response());
    };
    match sessions.send(session, &body.to_bytes()) {
        Ok(()) => {
            let mut accepted = Response::new(Bytes::from_static(b"Accepted"));
            *accepted.status_mut() = StatusCode::ACCEPTED;
            response::send(accepted)
        }
        Err(e) => response::send(Refusal::from(e).response()),
    }
}

fn open(sessions: &Sessions, caller: &Caller) -> Result<Response<HyperOutgoingBody>, Refusal> {
    let stream = sessions.open(caller)?;
    let mut response = Response::new(stream.boxed());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

impl From<SessionError> for Refusal {
    fn from(error: SessionError) -> Refusal {
        match error {
            SessionError::Unknown => Refusal::NoSuchSession,
            SessionError::NotYours => Refusal::NotYourSession,
            SessionError::Full | SessionError::Backlogged => Refusal::SessionsFull,
            SessionError::CallerFull => Refusal::CallerSessionsFull,
        }
    }
}
