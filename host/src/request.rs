//! The path of one HTTP request through the host, one line per step: strip
//! identity, route, check, admit, run, record. Each step's work lives in
//! the file named on its line; what the host answers itself is a
//! [`Refusal`] (`refusal.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use hyper::body::Incoming;
use serde_json::Value;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::app::App;
use crate::audit::{self, Outcome};
use crate::body;
use crate::checks;
use crate::config::Config;
use crate::enforce;
use crate::engine::Loaded;
use crate::health;
use crate::identity::{self, Caller, Trust};
use crate::instance::{self, Failure, InstanceLimits};
use crate::limits::{self, Admitted, Refused};
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::response;
use crate::rpc::{self, Reading};
use crate::sse::bridge::{self, Legacy};

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
    let (caller, funnel) = strip_identity(&app.config, &mut request, trust, &method, &path);
    let who = caller.describe();
    let response = if funnel && !app.config.allow_funnel {
        response::send(Refusal::Funnel.response())
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

/// Strips every identity header and decodes the caller (`identity/`): no
/// `Tailscale-*` header survives past this step. Also says whether the
/// request came through Funnel.
fn strip_identity(
    config: &Config,
    request: &mut http::Request<Incoming>,
    trust: Trust,
    method: &str,
    path: &str,
) -> (Caller, bool) {
    let proxied = request.headers().contains_key("x-forwarded-for");
    let identity = identity::take_identity(request.headers_mut(), trust);
    for warning in &identity.warnings {
        let warning = identity::escape(warning);
        tracing::warn!("{method} {path}: ignoring identity header {warning}");
    }
    (with_dev_caller(config, &identity, proxied), identity.funnel)
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

/// Routes a request that arrived at `arrival` (its deadline counts from
/// then): `/healthz` (`health.rs`), the legacy SSE paths (`sse/bridge.rs`),
/// or the component.
async fn route(
    app: &App,
    request: http::Request<Incoming>,
    caller: Caller,
    arrival: Instant,
) -> Response<HyperOutgoingBody> {
    if request.uri().path() == health::PATH {
        return response::send(health::answer(app, &request).unwrap_or_else(|r| r.response()));
    }
    if let Err(refusal) = check(&app.config, &request) {
        return response::send(refusal.response());
    }
    if app.config.legacy_sse && bridge::serves(request.uri().path()) {
        return match bridge::accept(&app.sessions, request, &caller) {
            Ok(Legacy::Opened(stream)) => stream,
            Ok(Legacy::Post { request, session }) => {
                let answer = run_component(app, request, caller, arrival).await;
                bridge::deliver(&app.sessions, &session, answer).await
            }
            Err(refusal) => response::send(refusal.response()),
        };
    }
    run_component(app, request, caller, arrival).await
}

/// The checks every MCP request passes (`checks.rs`): its Origin, and the
/// name it was sent to.
fn check(config: &Config, request: &http::Request<Incoming>) -> Result<(), Refusal> {
    if !checks::origin_allowed(request.headers(), &config.allowed_origins) {
        return Err(Refusal::Origin);
    }
    if !checks::public_name_allowed(request.headers(), &config.public_names) {
        tracing::warn!(
            "refused a request for `{}`: not a --public-name ({})",
            identity::escape(checks::requested_name(request.headers()).unwrap_or("no name")),
            config.public_names.join(", ")
        );
        return Err(Refusal::UnknownName);
    }
    Ok(())
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
    let answer = match admit_and_run(app, request, &caller, arrival).await {
        Ok(answer) => answer,
        Err(refusal) => refusal.response(),
    };
    response::send(answer)
}

/// Reads the body, checks it against the policy, admits it, runs it and
/// records it; `caller` is whose request it is.
async fn admit_and_run(
    app: &App,
    request: http::Request<Incoming>,
    caller: &Caller,
    arrival: Instant,
) -> Result<Response<Bytes>, Refusal> {
    // Whose share the body and the request count against, computed once.
    let share = limits::share_key(caller);
    // The reservation is held until the component is done with the body.
    let reservation = app.budget.reservation(&share);
    let (request, _reservation) = body::read(request, &app.config, reservation).await?;
    let (request, reading) = read_rpc(request)?;
    let policy = app.policy();
    if let Err(refusal) = enforce::check_call(policy.as_deref(), caller, &reading) {
        let (audit, component) = (app.audit.as_ref(), app.component.current());
        let sha256 = &component.sha256;
        audit::record(
            audit,
            caller,
            &reading,
            Outcome::Refused,
            Duration::ZERO,
            sha256,
        );
        return Err(refusal);
    }
    let admitted = admit(app, &share, arrival)?;
    // Taken once: this request finishes on this component even if a swap happens.
    let component = app.component.current();
    let started = Instant::now();
    let result = run(app, &component, request, caller, &admitted, arrival).await;
    if app.audit.is_some() {
        let outcome = call_outcome(&result);
        let (audit, sha256) = (app.audit.as_ref(), &component.sha256);
        audit::record(audit, caller, &reading, outcome, started.elapsed(), sha256);
    }
    answer(result, policy.as_deref(), caller, &reading, &component)
}

/// How a `tools/call` that ran ended, from the component's answer.
fn call_outcome(result: &Result<http::Response<Bytes>, Failure>) -> Outcome {
    let response = match result {
        Ok(response) => response,
        Err(Failure::Timeout | Failure::OutOfFuel) => return Outcome::Timeout,
        Err(_) => return Outcome::Trap,
    };
    if response.status() != StatusCode::OK {
        return Outcome::Error;
    }
    match serde_json::from_slice::<Value>(response.body()) {
        Ok(reply) if reply.get("error").is_some() => Outcome::Error,
        Ok(reply) if reply["result"]["isError"] == true => Outcome::ToolError,
        Ok(_) => Outcome::Ok,
        Err(_) => Outcome::Error,
    }
}

/// The host's one reading of the body (`rpc.rs`): it decides, and it is all
/// the component gets, so a body the host cannot read never reaches it.
fn read_rpc(request: http::Request<Bytes>) -> Result<(http::Request<Bytes>, Reading), Refusal> {
    let (parts, body) = request.into_parts();
    let mut reading = if parts.method == Method::POST || !body.is_empty() {
        rpc::read(&body).map_err(|refusal| Refusal::Rpc {
            status: StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
            code: refusal.code,
            message: refusal.message,
            id: refusal.id,
        })?
    } else {
        Reading::empty()
    };
    // The client's bytes are not needed past the host's reading.
    drop(body);
    let body = Bytes::from(std::mem::take(&mut reading.body));
    Ok((http::Request::from_parts(parts, body), reading))
}

/// Admits the request (`limits.rs`): within the server's and the caller's
/// share, and before its deadline, or refused at once.
fn admit(app: &App, share: &str, arrival: Instant) -> Result<Admitted, Refusal> {
    let admitted = app
        .admission
        .admit(share)
        .map_err(|refused| match refused {
            Refused::Busy => Refusal::Busy,
            Refused::CallerBusy => Refusal::CallerBusy,
        })?;
    // Its deadline counts from arrival; one already spent (a slow body) is
    // refused rather than started.
    if Instant::now() >= arrival + app.config.request_timeout {
        return Err(Refusal::PastDeadline);
    }
    Ok(admitted)
}

/// Runs the request in a fresh instance (`instance.rs`); its place is held
/// until the answer is made.
async fn run(
    app: &App,
    component: &Arc<Loaded>,
    request: http::Request<Bytes>,
    caller: &Caller,
    admitted: &Admitted,
    arrival: Instant,
) -> Result<Response<Bytes>, Failure> {
    let limits = InstanceLimits {
        deadline: arrival + app.config.request_timeout,
        max_memory_bytes: app.config.max_memory_bytes,
        max_response_bytes: app.config.max_response_bytes,
        fuel: app.config.fuel,
    };
    let busy_slots = admitted.busy_slots();
    instance::run(
        component.clone(),
        request,
        caller.clone(),
        limits,
        busy_slots,
    )
    .await
}

/// The component's answer, cut by the policy for `tools/list`
/// (`enforce.rs`), or the host's when the component gave none.
fn answer(
    result: Result<Response<Bytes>, Failure>,
    policy: Option<&Policy>,
    caller: &Caller,
    reading: &Reading,
    component: &Loaded,
) -> Result<Response<Bytes>, Refusal> {
    let response = result.map_err(|failure| failed(component, failure, reading))?;
    match policy {
        Some(policy) if enforce::lists_tools(Some(policy), reading) => {
            enforce::filter_tools(response, policy, caller, reading)
        }
        _ => Ok(response),
    }
}

/// The refusal for a request the component gave no answer to; the details
/// go to the log only.
fn failed(component: &Loaded, failure: Failure, reading: &Reading) -> Refusal {
    let sha = &component.sha256[..12.min(component.sha256.len())];
    let id = reading.id.clone();
    match failure {
        Failure::Timeout => {
            tracing::warn!("component {sha} ran past the request deadline and was stopped");
            Refusal::TimedOut { id }
        }
        Failure::OutOfFuel => {
            tracing::warn!("component {sha} used up its fuel and was stopped");
            Refusal::OutOfFuel { id }
        }
        Failure::Trap(trap) => {
            tracing::error!("component {sha} trapped: {}", one_line(&trap));
            Refusal::Trapped { id }
        }
        Failure::NoResponse => {
            tracing::error!("component {sha} returned without sending a response");
            Refusal::NoResponse { id }
        }
        Failure::ResponseTooLarge => {
            tracing::error!("component {sha} sent a response over the --max-response limit");
            Refusal::ResponseTooLarge { id }
        }
        Failure::Setup(why) => {
            tracing::error!("could not start component {sha}: {why}");
            Refusal::NoInstance
        }
    }
}

/// Keeps a multi-line error (a wasm backtrace, say) on one log line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
