//! Host bindings for the `tailmcp:host/mcp-server` world (`wit/world.wit`).
//! WASI comes from wasmtime-wasi and wasmtime-wasi-http, so only our
//! `identity` interface and the world's export glue are generated here.

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "tailmcp:host/mcp-server",
        exports: { default: async },
        require_store_data_send: true,
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:random": wasmtime_wasi::p2::bindings::random,
            "wasi:cli": wasmtime_wasi::p2::bindings::cli,
        },
    });
}

pub use generated::McpServerPre;
pub use generated::tailmcp::host::identity;
