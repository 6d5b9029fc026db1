//! Runs one HTTP request in a fresh instance of the active component: a new
//! store holding the caller, the request's deadline, and its memory limit.
//! A trap, a timeout or a missing response becomes a [`Failure`], never a panic.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use wasmtime::{Store, Trap};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::engine::{EPOCH_TICK, Loaded};
use crate::identity::Caller;
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
    /// The host could not set up the instance (e.g. all instance slots busy).
    Setup(String),
}

/// Limits for one instance.
#[derive(Debug, Clone, Copy)]
pub struct InstanceLimits {
    pub timeout: Duration,
    pub max_memory_bytes: usize,
}

/// Runs `request` through a fresh instance of `component` for `caller`.
pub async fn run(
    component: Arc<Loaded>,
    request: http::Request<Full<Bytes>>,
    caller: Caller,
    limits: InstanceLimits,
) -> Result<http::Response<HyperOutgoingBody>, Failure> {
    let mut store = Store::new(
        component.pre.engine(),
        State::new(caller, limits.max_memory_bytes),
    );
    store.limiter(|state| &mut state.limits);
    let ticks = limits.timeout.as_millis() / EPOCH_TICK.as_millis().max(1) + 1;
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.epoch_deadline_trap();

    let (sender, receiver) = tokio::sync::oneshot::channel();
    let setup = |e: wasmtime::Error| Failure::Setup(format!("{e:#}"));
    let incoming = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, request)
        .map_err(setup)?;
    let outparam = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .map_err(setup)?;

    // The guest runs in its own task so it can keep streaming the body after
    // the response head has been handed to hyper.
    let task = tokio::spawn(async move {
        let proxy = component.pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, incoming, outparam)
            .await
    });

    match tokio::time::timeout(limits.timeout + EPOCH_TICK * 10, receiver).await {
        Ok(Ok(Ok(response))) => {
            tokio::spawn(async move {
                if let Ok(Err(e)) = task.await {
                    tracing::warn!("component failed after sending its response head: {e:#}");
                }
            });
            Ok(response)
        }
        Ok(Ok(Err(code))) => Err(Failure::Trap(format!(
            "component answered with error code {code:?}"
        ))),
        Ok(Err(_dropped)) => match task.await {
            Ok(Ok(())) => Err(Failure::NoResponse),
            Ok(Err(e)) => Err(classify(e)),
            Err(join) => Err(Failure::Trap(format!("component task failed: {join}"))),
        },
        Err(_elapsed) => {
            // Stuck in a host call (an epoch deadline only stops running wasm).
            task.abort();
            Err(Failure::Timeout)
        }
    }
}

fn classify(error: wasmtime::Error) -> Failure {
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Failure::Timeout,
        _ => Failure::Trap(format!("{error:?}")),
    }
}
