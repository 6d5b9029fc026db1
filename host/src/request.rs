//! The path of one HTTP request through the host: strip and decode identity,
//! route `/healthz`, run the checks, buffer the body within its limit, run
//! the component, and write one access-log line.

use std::sync::Arc;

use arc_swap::ArcSwap;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::audit::{self, AuditLog, Outcome};
use crate::checks;
use crate::config::Config;
use crate::engine::Loaded;
use crate::health;
use crate::identity::{self, Caller, Trust};
use crate::instance::Buffered;
use crate::instance::{self, Failure, InstanceLimits};
use crate::limits::{self, Admission, Budget, Refused, Reservation};
use crate::policy::Policy;
use crate::reload::Active;
use crate::rpc;
use crate::sse::{self, SessionError, Sessions};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// What every request handler shares.
pub struct App {
    pub config: Config,
    /// The component new requests run on; swapped by `reload.rs`.
    pub component: Arc<Active>,
    /// Requests running in components, in total and per caller.
    pub admission: Admission,
    /// Request body bytes held in memory, in total and per caller.
    pub budget: Budget,
    /// Open legacy HTTP+SSE sessions.
    pub sessions: Arc<Sessions>,
    /// Who may see and call which tools; `None`: everyone, everything.
    policy: Option<ArcSwap<Policy>>,
    /// One line per tools/call, when configured.
    pub audit: Option<AuditLog>,
}

impl App {
    pub fn new(
        config: Config,
        component: Arc<Active>,
        policy: Option<Policy>,
        audit: Option<AuditLog>,
    ) -> App {
        let admission = Admission::new(
            config.max_concurrent_requests,
            config.max_requests_per_caller,
            config.max_busy_per_caller,
        );
        let budget = Budget::new(
            config.max_buffered_bytes,
            Budget::caller_share(
                config.max_buffered_bytes,
                config.max_body_bytes,
                config.max_requests_per_caller,
                config.max_concurrent_requests,
            ),
        );
        let sessions = Sessions::new(config.sse);
        App {
            config,
            component,
            admission,
            budget,
            sessions,
            policy: policy.map(ArcSwap::from_pointee),
            audit,
        }
    }

    /// The tool policy in force for a request that starts now.
    pub fn policy(&self) -> Option<Arc<Policy>> {
        self.policy.as_ref().map(ArcSwap::load_full)
    }

    /// Replaces the tool policy (only when one was configured at start).
    pub fn set_policy(&self, policy: Policy) {
        if let Some(current) = &self.policy {
            current.store(Arc::new(policy));
        }
    }
}

/// Handles one request; never fails (errors become responses).
pub async fn handle(
    app: Arc<App>,
    mut request: http::Request<Incoming>,
    trust: Trust,
) -> Result<Response<HyperOutgoingBody>, std::convert::Infallible> {
    let started = Instant::now();
    // Caller-controlled, so escaped for the log lines below.
    let method = identity::escape(request.method().as_str()).into_owned();
    let path = identity::escape(request.uri().path()).into_owned();
    let proxied = request.headers().contains_key("x-forwarded-for");
    // Strip first: no `Tailscale-*` header survives past this line.
    let identity = identity::take_identity(request.headers_mut(), trust);
    for warning in &identity.warnings {
        let warning = identity::escape(warning);
        tracing::warn!("{method} {path}: ignoring identity header {warning}");
    }
    let caller = with_dev_caller(&app.config, &identity, proxied);
    let who = caller.describe();
    let response = if identity.funnel && !app.config.allow_funnel {
        reject(
            StatusCode::FORBIDDEN,
            "Forbidden: requests through Tailscale Funnel are not served",
        )
    } else {
        route(&app, request, caller, started).await
    };
    tracing::info!(
        target: "tailmcp::access",
        "{method} {path} {} {:.1}ms {who}",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    Ok(response)
}

/// The request's caller, or the dev caller for a request with no identity
/// at all that came straight from this machine: one that went through a
/// proxy (X-Forwarded-For, as `tailscale serve` sets), came through Funnel
/// or carries any user or capability keeps exactly what it carries.
fn with_dev_caller(config: &Config, identity: &identity::Identity, proxied: bool) -> Caller {
    let bare = identity.caller.user.is_none() && identity.caller.capabilities.is_empty();
    match &config.dev_caller {
        Some(dev) if bare && !proxied && !identity.funnel => dev.clone(),
        _ => identity.caller.clone(),
    }
}

/// Routes a request that arrived at `arrival` (its deadline counts from then).
async fn route(
    app: &App,
    request: http::Request<Incoming>,
    caller: Caller,
    arrival: Instant,
) -> Response<HyperOutgoingBody> {
    if request.uri().path() == health::PATH {
        // A page in a browser learns nothing here, not even that it is up.
        if !checks::origin_allowed(request.headers(), &app.config.allowed_origins) {
            return reject(StatusCode::FORBIDDEN, "Forbidden: Origin not allowed");
        }
        return match *request.method() {
            Method::GET | Method::HEAD => {
                let report = match health::view(request.headers(), app.config.listen.trust()) {
                    health::View::Full => {
                        let mut report = health::report(&app.component);
                        report["sseSessions"] = json!(app.sessions.len());
                        report["in_flight"] = json!(app.admission.in_flight());
                        if let Some(policy) = app.policy() {
                            report["policy"] = policy.health();
                        }
                        report
                    }
                    health::View::Summary => health::summary(&app.component),
                };
                json_response(StatusCode::OK, &report)
            }
            _ => reject(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed: use GET",
            ),
        };
    }
    if !checks::origin_allowed(request.headers(), &app.config.allowed_origins) {
        return reject(StatusCode::FORBIDDEN, "Forbidden: Origin not allowed");
    }
    if !checks::public_name_allowed(request.headers(), &app.config.public_names) {
        tracing::warn!(
            "refused a request for `{}`: not a --public-name ({})",
            identity::escape(checks::requested_name(request.headers()).unwrap_or("no name")),
            app.config.public_names.join(", ")
        );
        return reject(StatusCode::FORBIDDEN, "Forbidden: unknown server name");
    }
    if app.config.legacy_sse {
        let path = request.uri().path();
        if path == sse::SSE_PATH || path == sse::MESSAGES_PATH {
            return legacy_sse(app, request, caller, arrival).await;
        }
    }
    run_component(app, request, caller, arrival).await
}

/// Runs one request through the active component, within every limit, and
/// answers it by `arrival` plus the request timeout.
async fn run_component(
    app: &App,
    mut request: http::Request<Incoming>,
    caller: Caller,
    arrival: Instant,
) -> Response<HyperOutgoingBody> {
    if !request.headers().contains_key(header::HOST) {
        // HTTP/1.0 clients may omit Host; wasi:http needs an authority.
        request
            .headers_mut()
            .insert(header::HOST, HeaderValue::from_static("localhost"));
    }
    // Whose share the body and the request count against, computed once.
    let share = limits::share_key(&caller);
    // The reservation is held until the component is done with the body.
    let reservation = app.budget.reservation(&share);
    let (request, _reservation) = match read_body(request, &app.config, reservation).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    // The host's one reading of the body decides, and it is all the
    // component gets: a body the host cannot read never reaches it.
    let (parts, body) = request.into_parts();
    let mut peek = if parts.method == Method::POST || !body.is_empty() {
        match rpc::read(&body) {
            Ok(reading) => reading,
            Err(refusal) => {
                let status =
                    StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
                return error_response(status, refusal.code, &refusal.message, refusal.id);
            }
        }
    } else {
        rpc::Reading::empty()
    };
    // The client's bytes are not needed past the host's reading.
    drop(body);
    let request = http::Request::from_parts(parts, Bytes::from(std::mem::take(&mut peek.body)));
    let policy = app.policy();
    if let Some(policy) = &policy
        && let Some(tool) = &peek.tool
        && !policy.allows(&caller, tool)
    {
        // Refused before the component runs, with the same answer whether
        // or not the tool exists.
        record(
            app,
            &caller,
            &peek,
            Outcome::Refused,
            Instant::now(),
            &app.component.current(),
        );
        let message = format!("Tool {tool} is not available to you");
        // In-band in both eras, as the component answers an unknown tool.
        return error_response(StatusCode::OK, -32602, &message, peek.id.clone());
    }
    let admitted = match app.admission.admit(&share) {
        Ok(admitted) => admitted,
        Err(Refused::Busy) => {
            return retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: too many requests in progress; retry shortly",
            );
        }
        Err(Refused::CallerBusy) => {
            return retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests: you have too many requests in progress; retry shortly",
            );
        }
    };
    // Its deadline counts from arrival; one already spent (a slow body) is
    // refused rather than started.
    let deadline = arrival + app.config.request_timeout;
    if Instant::now() >= deadline {
        return retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: the request could not start before its deadline; retry shortly",
        );
    }
    let limits = InstanceLimits {
        deadline,
        max_memory_bytes: app.config.max_memory_bytes,
        max_response_bytes: app.config.max_response_bytes,
        fuel: app.config.fuel,
    };
    let started = Instant::now();
    // Only what the policy and the audit log need is kept past this point.
    let audited = (app.audit.is_some() && peek.tool.is_some()).then(|| caller.clone());
    let filter_for =
        (policy.is_some() && peek.method.as_deref() == Some("tools/list")).then(|| caller.clone());
    // Taken once: this request finishes on this component even if a swap happens.
    let component = app.component.current();
    let busy_slots = admitted.busy_slots();
    let request = request.map(Full::new);
    let result = instance::run(component.clone(), request, caller, limits, busy_slots).await;
    if let Some(caller) = &audited {
        let outcome = match &result {
            Ok(response) => call_outcome(response),
            Err(Failure::Timeout | Failure::OutOfFuel) => Outcome::Timeout,
            Err(_) => Outcome::Trap,
        };
        record(app, caller, &peek, outcome, started, &component);
    }
    match result {
        Ok(response) => match (&policy, filter_for) {
            (Some(policy), Some(caller)) => {
                filter_tools(response, policy, &caller, peek.modern, peek.id)
            }
            _ => response,
        },
        Err(failure) => failed(&component, failure, peek.id),
    }
}

/// How a `tools/call` ended, from the component's answer.
fn call_outcome(response: &Response<HyperOutgoingBody>) -> Outcome {
    if response.status() != StatusCode::OK {
        return Outcome::Error;
    }
    let Some(body) = buffered(response) else {
        return Outcome::Error;
    };
    match serde_json::from_slice::<Value>(&body) {
        Ok(reply) if reply.get("error").is_some() => Outcome::Error,
        Ok(reply) if reply["result"]["isError"] == true => Outcome::ToolError,
        Ok(_) => Outcome::Ok,
        Err(_) => Outcome::Error,
    }
}

/// The bytes of a response the host has already read in full.
fn buffered(response: &Response<HyperOutgoingBody>) -> Option<Bytes> {
    response.extensions().get::<Buffered>().map(|b| b.0.clone())
}

/// Leaves only the tools `caller` may call in a `tools/list` answer; on
/// 2026-07-28 such a list is private to the caller.
///
/// Fails closed: an answer that is not a JSON-RPC error and has no readable
/// `result.tools` (an SSE-framed answer, say) is not passed on unfiltered.
fn filter_tools(
    response: Response<HyperOutgoingBody>,
    policy: &Policy,
    caller: &Caller,
    modern: bool,
    id: Option<Value>,
) -> Response<HyperOutgoingBody> {
    let reply = buffered(&response).and_then(|body| serde_json::from_slice::<Value>(&body).ok());
    let Some(mut reply) = reply else {
        return unfilterable(id);
    };
    if reply.get("error").is_some() && reply.get("result").is_none() {
        return response; // an error lists no tools
    }
    let Some(result) = reply.get_mut("result").and_then(Value::as_object_mut) else {
        return unfilterable(id);
    };
    let Some(Value::Array(tools)) = result.get_mut("tools") else {
        return unfilterable(id);
    };
    tools.retain(|tool| {
        tool.get("name")
            .and_then(Value::as_str)
            .is_some_and(|name| policy.allows(caller, name))
    });
    if modern {
        result.insert("cacheScope".into(), json!("private"));
    }
    json_response(response.status(), &reply)
}

fn unfilterable(id: Option<Value>) -> Response<HyperOutgoingBody> {
    tracing::error!(
        "the component's tools/list answer could not be checked against the policy (not a \
         JSON-RPC response with result.tools); answered 500 instead"
    );
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        -32603,
        "Internal error: the tool list could not be checked",
        id,
    )
}

fn record(
    app: &App,
    caller: &Caller,
    peek: &rpc::Reading,
    outcome: Outcome,
    started: Instant,
    component: &Loaded,
) {
    if let (Some(audit), Some(tool)) = (&app.audit, &peek.tool) {
        audit.record(&audit::Entry {
            caller,
            tool,
            outcome,
            duration: started.elapsed(),
            component_sha256: &component.sha256,
            arguments: peek.arguments.as_ref(),
        });
    }
}

/// The legacy HTTP+SSE transport: `GET /sse` and `POST /messages`.
async fn legacy_sse(
    app: &App,
    mut request: http::Request<Incoming>,
    caller: Caller,
    arrival: Instant,
) -> Response<HyperOutgoingBody> {
    let on_sse_path = request.uri().path() == sse::SSE_PATH;
    match (request.method(), on_sse_path) {
        (&Method::GET, true) => return open_sse(app, &caller),
        (&Method::POST, false) => {}
        _ => {
            let mut response = reject(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            let allow = if on_sse_path { "GET" } else { "POST" };
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            return response;
        }
    }
    let Some(id) = sse::session_param(request.uri().query()).map(str::to_owned) else {
        return reject(
            StatusCode::BAD_REQUEST,
            "Bad Request: sessionId is required",
        );
    };
    if let Err(e) = app.sessions.check(&id, &caller) {
        if e == SessionError::NotYours {
            tracing::warn!(
                "refused a POST by {} into another caller's SSE session",
                caller.describe()
            );
        }
        return session_error(e);
    }
    // From here on it is a Streamable-HTTP POST to the component.
    *request.uri_mut() = http::Uri::from_static("/mcp");
    request.headers_mut().insert(
        header::ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    let response = run_component(app, request, caller, arrival).await;
    if response.status() != StatusCode::OK {
        // 202 for notifications; errors go back on the POST itself.
        return response;
    }
    let Ok(body) = response.into_body().collect().await else {
        return reject(StatusCode::INTERNAL_SERVER_ERROR, "Internal error");
    };
    match app.sessions.send(&id, &body.to_bytes()) {
        Ok(()) => {
            let mut accepted = Response::new(
                Full::new(Bytes::from_static(b"Accepted"))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            );
            *accepted.status_mut() = StatusCode::ACCEPTED;
            accepted
        }
        Err(e) => session_error(e),
    }
}

fn open_sse(app: &App, caller: &Caller) -> Response<HyperOutgoingBody> {
    match app.sessions.open(caller) {
        Ok(stream) => {
            let mut response = Response::new(stream.boxed());
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
            response
        }
        Err(e) => session_error(e),
    }
}

fn session_error(error: SessionError) -> Response<HyperOutgoingBody> {
    match error {
        SessionError::Unknown => reject(StatusCode::NOT_FOUND, "Not Found: no such session"),
        SessionError::NotYours => reject(
            StatusCode::FORBIDDEN,
            "Forbidden: this session belongs to another caller",
        ),
        SessionError::Full | SessionError::Backlogged => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: too many open sessions; retry shortly",
        ),
        SessionError::CallerFull => retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests: you have too many open sessions",
        ),
    }
}

/// Buffers the body (up to `max` bytes) so a component never waits on a
/// slow client, and so oversized bodies are refused before it runs. Every
/// byte is reserved in the budget before it is buffered: a declared
/// Content-Length up front, a chunked body chunk by chunk.
async fn read_body(
    request: http::Request<Incoming>,
    config: &Config,
    mut reservation: Reservation,
) -> Result<(http::Request<Bytes>, Reservation), Response<HyperOutgoingBody>> {
    let max = config.max_body_bytes;
    let too_large = || {
        reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Payload Too Large: the request body limit is {max} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let declared = match declared.map(usize::try_from) {
        Some(Ok(len)) if len <= max => Some(len),
        Some(_) => return Err(too_large()),
        None => None,
    };
    if let Some(len) = declared {
        reservation.grow(len).map_err(over_budget)?;
    }
    let (parts, mut body) = request.into_parts();
    let mut buffer = BytesMut::with_capacity(declared.unwrap_or(0));
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(reject(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: the request body could not be read",
                ));
            };
            // Trailers carry nothing a component reads.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if buffer.len() + data.len() > max {
                return Err(too_large());
            }
            if declared.is_none() {
                reservation.grow(data.len()).map_err(over_budget)?;
            }
            buffer.extend_from_slice(&data);
        }
        Ok(())
    };
    match tokio::time::timeout(config.client_timeout, read).await {
        Ok(Ok(())) => Ok((
            http::Request::from_parts(parts, buffer.freeze()),
            reservation,
        )),
        Ok(Err(response)) => Err(response),
        Err(_) => Err(reject(
            StatusCode::REQUEST_TIMEOUT,
            "Request Timeout: the request body arrived too slowly",
        )),
    }
}

/// The answer to a body the buffered-bytes budget has no room for: at once,
/// before the body is read.
fn over_budget(refused: Refused) -> Response<HyperOutgoingBody> {
    match refused {
        Refused::Busy => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: too many request bodies in memory; retry shortly",
        ),
        Refused::CallerBusy => retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests: your request bodies use your whole share of memory; retry shortly",
        ),
    }
}

/// The answer when the component gave none; the details go to the log only.
fn failed(component: &Loaded, failure: Failure, id: Option<Value>) -> Response<HyperOutgoingBody> {
    let sha = &component.sha256[..12.min(component.sha256.len())];
    let (status, message) = match failure {
        Failure::Timeout => {
            tracing::warn!("component {sha} ran past the request deadline and was stopped");
            (
                StatusCode::GATEWAY_TIMEOUT,
                "the tool took too long and was stopped",
            )
        }
        Failure::OutOfFuel => {
            tracing::warn!("component {sha} used up its fuel and was stopped");
            (
                StatusCode::GATEWAY_TIMEOUT,
                "the tool used up its compute budget and was stopped",
            )
        }
        Failure::Trap(trap) => {
            tracing::error!("component {sha} trapped: {}", one_line(&trap));
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error: the server component failed",
            )
        }
        Failure::NoResponse => {
            tracing::error!("component {sha} returned without sending a response");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error: the server component sent no response",
            )
        }
        Failure::ResponseTooLarge => {
            tracing::error!("component {sha} sent a response over the --max-response limit");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error: the response was too large",
            )
        }
        Failure::Setup(why) => {
            tracing::error!("could not start component {sha}: {why}");
            return retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: retry shortly",
            );
        }
    };
    error_response(status, -32603, message, id)
}

/// Keeps a multi-line error (a wasm backtrace, say) on one log line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn retry_later(status: StatusCode, message: &str) -> Response<HyperOutgoingBody> {
    let mut response = reject(status, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// A host-made error: a JSON-RPC error body (code -32000, no id) with a
/// message that names the problem but no internals.
fn reject(status: StatusCode, message: &str) -> Response<HyperOutgoingBody> {
    let code = if status.is_server_error() {
        -32603
    } else {
        -32000
    };
    error_response(status, code, message, None)
}

fn error_response(
    status: StatusCode,
    code: i32,
    message: &str,
    id: Option<Value>,
) -> Response<HyperOutgoingBody> {
    let mut body = json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message } });
    if let Some(id) = id {
        body["id"] = id;
    }
    json_response(status, &body)
}

fn json_response(status: StatusCode, body: &Value) -> Response<HyperOutgoingBody> {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    let mut response = Response::new(
        Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
