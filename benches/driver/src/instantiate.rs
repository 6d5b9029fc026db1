//! tailmcp's per-request instantiation cost, measured in-process through the
//! host library: the engine, linker and component exactly as `tailmcp serve`
//! builds them with its default limits (pooling allocator, 128 slots, 64 MiB).
//!
//! * `store + instantiate + drop`: what every request pays before the guest
//!   runs its first instruction of `handle`, and after it returns: a new
//!   `Store` with fresh WASI/HTTP contexts and the caller, the component
//!   instantiated from its `InstancePre` into a pool slot, and the slot
//!   given back.
//! * `store only`: the same without instantiation (`Store` + `State`).
//! * `whole request`: `instance::run` of a `tools/call greet` (the above plus
//!   the guest's work: parsing, dispatch, the tool, serializing, the
//!   wasi-http body plumbing), without hyper and the network.
//!
//! One thread, one request at a time; mean of `n` after a warm-up.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tailmcp::engine::{self, EngineLimits};
use tailmcp::identity::{Caller, User};
use tailmcp::instance::{self, InstanceLimits};
use tailmcp::state::State;
use wasmtime::Store;

use crate::client;

fn caller() -> Caller {
    Caller {
        user: Some(User {
            login: client::LOGIN.into(),
            display_name: client::NAME.into(),
            profile_pic_url: None,
        }),
        ..Caller::default()
    }
}

fn request() -> http::Request<Full<Bytes>> {
    http::Request::builder()
        .method("POST")
        .uri("http://localhost/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::from_static(client::GREET.as_bytes())))
        .expect("request")
}

fn per_op_us(started: Instant, n: u32) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

pub fn measure(n: u32) -> Value {
    let limits = EngineLimits::default();
    let engine = engine::engine(limits).expect("engine");
    let linker = engine::linker(&engine).expect("linker");
    let loaded = Arc::new(
        engine::load(
            &engine,
            &linker,
            None,
            tailmcp::server::EMBEDDED_COMPONENT,
            "embedded",
            engine::NativeCode::Refuse,
        )
        .expect("load the built-in component"),
    );
    // The deadline is set per request below.
    let instance_limits = InstanceLimits {
        deadline: Instant::now(),
        max_memory_bytes: limits.max_memory_bytes,
        max_response_bytes: 4 << 20,
        fuel: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let new_store = || {
            let mut store = Store::new(&engine, State::new(caller(), limits.max_memory_bytes));
            // (`instance::run` also installs the memory limiter, which only
            // runs when memory grows; its field is private to the host.)
            store.set_epoch_deadline(u64::MAX / 2);
            store
        };
        let instantiate = |rounds: u32| {
            let loaded = loaded.clone();
            async move {
                for _ in 0..rounds {
                    let mut store = new_store();
                    let _proxy = loaded
                        .pre
                        .instantiate_async(&mut store)
                        .await
                        .expect("instantiate");
                    drop(store);
                }
            }
        };
        instantiate(n / 10).await;
        let started = Instant::now();
        instantiate(n).await;
        let instantiate_us = per_op_us(started, n);

        for _ in 0..n / 10 {
            drop(new_store());
        }
        let started = Instant::now();
        for _ in 0..n {
            drop(new_store());
        }
        let store_us = per_op_us(started, n);

        let whole = |rounds: u32| {
            let loaded = loaded.clone();
            async move {
                for _ in 0..rounds {
                    let limits = InstanceLimits {
                        deadline: Instant::now() + std::time::Duration::from_secs(30),
                        ..instance_limits
                    };
                    let busy = Arc::new(tokio::sync::Semaphore::new(1));
                    let response =
                        instance::run(loaded.clone(), request(), caller(), limits, busy)
                            .await
                            .expect("greet answered");
                    let body = response
                        .into_body()
                        .collect()
                        .await
                        .expect("body")
                        .to_bytes();
                    assert!(body.windows(5).any(|w| w == b"Alice"), "unexpected answer");
                }
            }
        };
        whole(n / 10).await;
        let started = Instant::now();
        whole(n).await;
        let whole_us = per_op_us(started, n);

        json!({
            "method": "in-process through the host library (benches/driver/src/instantiate.rs): \
                       engine, linker and component as `tailmcp serve` builds them; one thread, \
                       one at a time; mean per operation",
            "iterations": n,
            "store_only_us": round2(store_us),
            "store_instantiate_drop_us": round2(instantiate_us),
            "whole_request_in_process_us": round2(whole_us),
        })
    })
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
