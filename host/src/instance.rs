//! Runs one HTTP request in a fresh instance of the active component: a new
//! store holding the caller, the request's deadline, and its memory limit.
//! A trap, a timeout or a missing response becomes a [`Failure`], never a panic.
//! A guest yields to the scheduler at every epoch tick, so a busy one never
//! holds a worker thread the host needs for I/O and other requests; one that
//! is still computing at a tick also needs one of its caller's busy slots.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::engine::{EPOCH_TICK, Loaded};
use crate::identity::Caller;
use crate::output::{ComponentOutput, OutputLog};
use crate::state::State;

/// Why a request got no response from the component.
#[derive(Debug)]
pub enum Failure {
    /// The component trapped (a panic, `unreachable`, out of memory, ...).
    Trap(String),
    /// The component ran past the request deadline.
    Timeout,
    /// The component returned without setting a response.
    NoResponse,
    /// The component used up its fuel.
    OutOfFuel,
    /// The component's response was larger than allowed.
    ResponseTooLarge,
    /// The host could not set up the instance (e.g. all instance slots busy).
    Setup(String),
}

/// Limits for one instance.
#[derive(Debug, Clone, Copy)]
pub struct InstanceLimits {
    /// When the request must be answered: its arrival plus the request
    /// timeout, so time spent queueing counts.
    pub deadline: Instant,
    pub max_memory_bytes: usize,
    pub max_response_bytes: usize,
    pub fuel: Option<u64>,
}

/// Runs `request` through a fresh instance of `component` for `caller`,
/// whose busy guests share `busy_slots`; the whole response, body read.
pub async fn run(
    component: Arc<Loaded>,
    request: http::Request<Bytes>,
    caller: Caller,
    limits: InstanceLimits,
    busy_slots: Arc<Semaphore>,
) -> Result<http::Response<Bytes>, Failure> {
    let output = OutputLog {
        output: ComponentOutput::default(),
        component: component.sha256.chars().take(12).collect(),
        request: format!(
            "{} {} by {}",
            request.method(),
            request.uri().path(),
            caller.describe()
        ),
    };
    let mut store = new_store(&component, caller, &limits, busy_slots, &output.output)?;
    let setup = |e: wasmtime::Error| Failure::Setup(format!("{e:#}"));
    // Host calls (a component sleeping, say) are not interrupted by epochs:
    // this timer catches those, a tick after the guest's own trap would.
    let deadline = tokio::time::Instant::from_std(limits.deadline + EPOCH_TICK);

    let (sender, receiver) = tokio::sync::oneshot::channel();
    let incoming = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, request.map(Full::new))
        .map_err(setup)?;
    let outparam = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .map_err(setup)?;

    // The guest runs in its own task so it can keep streaming the body after
    // the response head has been handed over.
    let mut task = tokio::spawn(async move {
        // Dropped with the instance, however the task ends (even aborted):
        // then the component's output is logged.
        let _output = output;
        let proxy = component.pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, incoming, outparam)
            .await
    });

    let response = response_head(receiver, &mut task, deadline).await?;
    read_whole(response, task, deadline, limits.max_response_bytes).await
}

/// A store for one request: its caller, memory limit, fuel and deadline.
fn new_store(
    component: &Loaded,
    caller: Caller,
    limits: &InstanceLimits,
    busy_slots: Arc<Semaphore>,
    output: &ComponentOutput,
) -> Result<Store<State>, Failure> {
    let mut store = Store::new(
        component.pre.engine(),
        State::new(caller, limits.max_memory_bytes, output),
    );
    store.limiter(|state| &mut state.limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(at_each_tick(limits.deadline, busy_slots));
    if let Some(fuel) = limits.fuel {
        store
            .set_fuel(fuel)
            .map_err(|e| Failure::Setup(format!("{e:#}")))?;
    }
    Ok(store)
}

/// Waits (until `deadline`) for the response head the guest hands over.
async fn response_head(
    receiver: tokio::sync::oneshot::Receiver<Result<http::Response<HyperOutgoingBody>, ErrorCode>>,
    task: &mut JoinHandle<wasmtime::Result<()>>,
    deadline: tokio::time::Instant,
) -> Result<http::Response<HyperOutgoingBody>, Failure> {
    match tokio::time::timeout_at(deadline, receiver).await {
        Ok(Ok(Ok(response))) => Ok(response),
        Ok(Ok(Err(code))) => Err(Failure::Trap(format!(
            "component answered with error code {code:?}"
        ))),
        Ok(Err(_dropped)) => Err(match task.await {
            Ok(Ok(())) => Failure::NoResponse,
            Ok(Err(e)) => classify(e),
            Err(join) => Failure::Trap(format!("component task failed: {join}")),
        }),
        Err(_elapsed) => {
            task.abort();
            Err(Failure::Timeout)
        }
    }
}

/// Reads the whole body (within the deadline and the size limit) so a
/// failure is still a clean error response, not a cut-off one.
async fn read_whole(
    response: http::Response<HyperOutgoingBody>,
    task: JoinHandle<wasmtime::Result<()>>,
    deadline: tokio::time::Instant,
    max_bytes: usize,
) -> Result<http::Response<Bytes>, Failure> {
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, max_bytes).collect();
    match tokio::time::timeout_at(deadline, body).await {
        Ok(Ok(collected)) => {
            tokio::spawn(async move {
                if let Ok(Err(e)) = task.await {
                    tracing::warn!("component failed after sending its response: {e:#}");
                }
            });
            Ok(http::Response::from_parts(parts, collected.to_bytes()))
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            task.abort();
            Err(Failure::ResponseTooLarge)
        }
        Ok(Err(body_error)) => Err(match task.await {
            Ok(Err(e)) => classify(e),
            _ => Failure::Trap(format!("the response body failed: {body_error}")),
        }),
        Err(_elapsed) => {
            task.abort();
            Err(Failure::Timeout)
        }
    }
}

/// What a guest does at each epoch tick: stop if its deadline has passed;
/// at its first tick (still computing: busy, where a quick call is done
/// long before one), wait for one of its caller's busy slots, kept until the
/// store is dropped (a later tick would let every queued guest compute a
/// tick more first: measured, that made answers late on a loaded machine);
/// otherwise let the scheduler run other tasks and the I/O driver first
/// (tokio's `yield_now` defers the wake-up until after both), then continue.
fn at_each_tick(
    deadline: Instant,
    busy_slots: Arc<Semaphore>,
) -> impl FnMut(wasmtime::StoreContextMut<'_, State>) -> wasmtime::Result<UpdateDeadline>
+ Send
+ Sync
+ 'static {
    let held: Arc<OnceLock<OwnedSemaphorePermit>> = Arc::default();
    move |_| {
        if Instant::now() >= deadline {
            return Ok(UpdateDeadline::Interrupt);
        }
        if held.get().is_some() {
            return Ok(UpdateDeadline::YieldCustom(
                1,
                Box::pin(tokio::task::yield_now()),
            ));
        }
        let (held, slots) = (held.clone(), busy_slots.clone());
        // No ticks added: this callback runs again as soon as the guest
        // resumes, so a guest whose wait ran into its deadline traps at once
        // instead of computing for another tick (many at once would delay
        // everyone's answer).
        Ok(UpdateDeadline::YieldCustom(
            0,
            Box::pin(async move {
                let wait = slots.acquire_owned();
                if let Ok(Ok(slot)) = tokio::time::timeout_at(deadline.into(), wait).await {
                    let _ = held.set(slot);
                }
            }),
        ))
    }
}

fn classify(error: wasmtime::Error) -> Failure {
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Failure::Timeout,
        Some(Trap::OutOfFuel) => Failure::OutOfFuel,
        _ => Failure::Trap(format!("{error:?}")),
    }
}
