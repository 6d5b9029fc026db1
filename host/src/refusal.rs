//! Every answer the host gives instead of the component's, as one type:
//! [`Refusal::answer`] is the one place that says each one's HTTP status,
//! JSON-RPC code, message and whether it carries `Retry-After`.
//!
//! Host-made errors are JSON-RPC error bodies; their messages name the
//! problem but no internals (those go to the log, where the refusal is made).

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::response;

/// Why the host answered a request itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// A request through Tailscale Funnel, without `--allow-funnel`.
    Funnel,
    /// A browser `Origin` that is not allowed.
    Origin,
    /// A name that is not a `--public-name`.
    UnknownName,
    /// Not GET on `/healthz`.
    HealthMethod,
    /// The wrong method on a legacy SSE path; `allow` is the right one.
    SseMethod { allow: &'static str },
    /// `POST /messages` without `sessionId`.
    NoSessionId,
    /// No such SSE session, or it has ended.
    NoSuchSession,
    /// An SSE session that belongs to another caller.
    NotYourSession,
    /// Too many SSE sessions in total, or the client is not reading its stream.
    SessionsFull,
    /// Too many SSE sessions for this caller.
    CallerSessionsFull,
    /// A request body over `--max-body`.
    BodyTooLarge { max: usize },
    /// A request body that could not be read.
    BodyUnreadable,
    /// A request body that arrived slower than `--client-timeout`.
    BodyTooSlow,
    /// The buffered-bytes budget has no room for the body.
    BodiesInMemory,
    /// The caller's share of the buffered-bytes budget has no room.
    CallerBodiesInMemory,
    /// The server runs as many requests as it may.
    Busy,
    /// The caller runs its whole share of requests.
    CallerBusy,
    /// The request's deadline passed before it could start.
    PastDeadline,
    /// The host's reading of the JSON-RPC body refused it (see `rpc.rs`).
    Rpc {
        status: StatusCode,
        code: i32,
        message: String,
        id: Option<Value>,
    },
    /// The policy does not let the caller call `tool`; answered the same
    /// whether or not the tool exists.
    ToolNotAllowed { tool: String, id: Option<Value> },
    /// A `tools/list` answer the policy could not be applied to.
    Unfilterable { id: Option<Value> },
    /// The component ran past the deadline.
    TimedOut { id: Option<Value> },
    /// The component used up its fuel.
    OutOfFuel { id: Option<Value> },
    /// The component trapped.
    Trapped { id: Option<Value> },
    /// The component returned without a response.
    NoResponse { id: Option<Value> },
    /// The component's response was over `--max-response`.
    ResponseTooLarge { id: Option<Value> },
    /// No instance could be set up (all slots busy, say).
    NoInstance,
    /// Anything else the host could not do.
    Internal,
}

/// What a [`Refusal`] answers.
struct Answer {
    status: StatusCode,
    code: i32,
    message: Cow<'static, str>,
    retry_after: bool,
}

/// A 4xx with code -32000 or a 5xx with -32603, no `Retry-After`.
fn plain(status: StatusCode, message: &'static str) -> Answer {
    let code = if status.is_server_error() {
        -32603
    } else {
        -32000
    };
    Answer {
        status,
        code,
        message: Cow::Borrowed(message),
        retry_after: false,
    }
}

/// Like [`plain`], with `Retry-After: 1`.
fn retry(status: StatusCode, message: &'static str) -> Answer {
    Answer {
        retry_after: true,
        ..plain(status, message)
    }
}

impl Refusal {
    /// The one table (in three parts): each refusal's status, code,
    /// message and `Retry-After`.
    fn answer(&self) -> Answer {
        self.refused()
            .or_else(|| self.limited())
            .unwrap_or_else(|| self.failed())
    }

    /// Requests refused for who sent them, where, or how.
    fn refused(&self) -> Option<Answer> {
        use StatusCode as S;
        Some(match self {
            Refusal::Funnel => plain(
                S::FORBIDDEN,
                "Forbidden: requests through Tailscale Funnel are not served",
            ),
            Refusal::Origin => plain(S::FORBIDDEN, "Forbidden: Origin not allowed"),
            Refusal::UnknownName => plain(S::FORBIDDEN, "Forbidden: unknown server name"),
            Refusal::HealthMethod => plain(S::METHOD_NOT_ALLOWED, "Method Not Allowed: use GET"),
            Refusal::SseMethod { .. } => plain(S::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            Refusal::NoSessionId => plain(S::BAD_REQUEST, "Bad Request: sessionId is required"),
            Refusal::NoSuchSession => plain(S::NOT_FOUND, "Not Found: no such session"),
            Refusal::NotYourSession => plain(
                S::FORBIDDEN,
                "Forbidden: this session belongs to another caller",
            ),
            Refusal::SessionsFull => retry(
                S::SERVICE_UNAVAILABLE,
                "Service Unavailable: too many open sessions; retry shortly",
            ),
            Refusal::CallerSessionsFull => retry(
                S::TOO_MANY_REQUESTS,
                "Too Many Requests: you have too many open sessions",
            ),
            _ => return None,
        })
    }

    /// Requests over a limit.
    fn limited(&self) -> Option<Answer> {
        use StatusCode as S;
        Some(match self {
            Refusal::BodyTooLarge { max } => Answer {
                message: format!("Payload Too Large: the request body limit is {max} bytes").into(),
                ..plain(S::PAYLOAD_TOO_LARGE, "")
            },
            Refusal::BodyUnreadable => plain(
                S::BAD_REQUEST,
                "Bad Request: the request body could not be read",
            ),
            Refusal::BodyTooSlow => plain(
                S::REQUEST_TIMEOUT,
                "Request Timeout: the request body arrived too slowly",
            ),
            Refusal::BodiesInMemory => retry(
                S::SERVICE_UNAVAILABLE,
                "Service Unavailable: too many request bodies in memory; retry shortly",
            ),
            Refusal::CallerBodiesInMemory => retry(
                S::TOO_MANY_REQUESTS,
                "Too Many Requests: your request bodies use your whole share of memory; retry shortly",
            ),
            Refusal::Busy => retry(
                S::SERVICE_UNAVAILABLE,
                "Service Unavailable: too many requests in progress; retry shortly",
            ),
            Refusal::CallerBusy => retry(
                S::TOO_MANY_REQUESTS,
                "Too Many Requests: you have too many requests in progress; retry shortly",
            ),
            Refusal::PastDeadline => retry(
                S::SERVICE_UNAVAILABLE,
                "Service Unavailable: the request could not start before its deadline; retry shortly",
            ),
            _ => return None,
        })
    }

    /// Requests the component did not answer, or whose answer or body the
    /// host could not pass on.
    fn failed(&self) -> Answer {
        use StatusCode as S;
        match self {
            Refusal::Rpc {
                status,
                code,
                message,
                ..
            } => Answer {
                status: *status,
                code: *code,
                message: message.clone().into(),
                retry_after: false,
            },
            // In-band in both eras, as the component answers an unknown tool.
            Refusal::ToolNotAllowed { tool, .. } => Answer {
                status: S::OK,
                code: -32602,
                message: format!("Tool {tool} is not available to you").into(),
                retry_after: false,
            },
            Refusal::Unfilterable { .. } => plain(
                S::INTERNAL_SERVER_ERROR,
                "Internal error: the tool list could not be checked",
            ),
            Refusal::TimedOut { .. } => {
                plain(S::GATEWAY_TIMEOUT, "the tool took too long and was stopped")
            }
            Refusal::OutOfFuel { .. } => plain(
                S::GATEWAY_TIMEOUT,
                "the tool used up its compute budget and was stopped",
            ),
            Refusal::Trapped { .. } => plain(
                S::INTERNAL_SERVER_ERROR,
                "Internal error: the server component failed",
            ),
            Refusal::NoResponse { .. } => plain(
                S::INTERNAL_SERVER_ERROR,
                "Internal error: the server component sent no response",
            ),
            Refusal::ResponseTooLarge { .. } => plain(
                S::INTERNAL_SERVER_ERROR,
                "Internal error: the response was too large",
            ),
            Refusal::NoInstance => {
                retry(S::SERVICE_UNAVAILABLE, "Service Unavailable: retry shortly")
            }
            // `Refusal::Internal`; the others are answered above.
            _ => plain(S::INTERNAL_SERVER_ERROR, "Internal error"),
        }
    }

    /// The JSON-RPC id the answer carries: the request's, where it was read.
    fn id(&self) -> Option<&Value> {
        match self {
            Refusal::Rpc { id, .. }
            | Refusal::ToolNotAllowed { id, .. }
            | Refusal::Unfilterable { id }
            | Refusal::TimedOut { id }
            | Refusal::OutOfFuel { id }
            | Refusal::Trapped { id }
            | Refusal::NoResponse { id }
            | Refusal::ResponseTooLarge { id } => id.as_ref(),
            _ => None,
        }
    }

    /// The response: a JSON-RPC error body, and `Retry-After` or `Allow`
    /// where the answer has them.
    pub fn response(&self) -> Response<Bytes> {
        let answer = self.answer();
        let mut body = json!({
            "jsonrpc": "2.0",
            "error": { "code": answer.code, "message": answer.message },
        });
        if let Some(id) = self.id() {
            body["id"] = id.clone();
        }
        let mut response = response::json(answer.status, &body);
        let headers = response.headers_mut();
        if answer.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Refusal::SseMethod { allow } = self {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}
