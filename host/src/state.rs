//! What each request's `Store` holds: WASI contexts that are closed to the
//! outside (no files, no environment, no sockets, no outbound HTTP), the
//! memory limits, and the verified [`Caller`]. The component's stdout and
//! stderr are captured (`output.rs`), never the host's own.

use std::future::Future;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

use crate::identity::Caller;
use crate::output::ComponentOutput;

/// Per-request store data.
pub struct State {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: DenyOutbound,
    pub(crate) limits: StoreLimits,
    /// Who sent the request; read by the `identity` import.
    pub caller: Caller,
}

impl State {
    pub fn new(caller: Caller, max_memory_bytes: usize, output: &ComponentOutput) -> State {
        let wasi = WasiCtx::builder()
            // Panic messages and a component's own diagnostics reach the host
            // log, escaped, once the request is done: not as raw lines.
            .stdout(output.stdout.clone())
            .stderr(output.stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        State {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks: DenyOutbound,
            limits: StoreLimitsBuilder::new()
                .memory_size(max_memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            caller,
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Outbound HTTP is closed: a component answers its caller and talks to no one else.
struct DenyOutbound;

impl WasiHttpHooks for DenyOutbound {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        Box::new(async { Err(HttpError::HttpRequestDenied) })
    }
}
