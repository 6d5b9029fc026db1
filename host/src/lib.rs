//! tailmcp: an identity-aware MCP server for Tailscale networks.
//!
//! The host serves a WebAssembly component (world `tailmcp:host/mcp-server`
//! in `wit/world.wit`) behind `tailscale serve`. Where to find things:
//!
//! | what                                   | file                 |
//! |----------------------------------------|----------------------|
//! | flags and env vars                     | `cli.rs`, `config.rs`|
//! | accept loop, shutdown                  | `server.rs`          |
//! | one request's path (routing, logging)  | `request.rs`         |
//! | where identity is decoded              | `identity/mod.rs`    |
//! | identity handed to the component       | `identity/wit.rs`    |
//! | Origin / public-name checks            | `checks.rs`          |
//! | engine, linker, loading a component    | `engine.rs`          |
//! | where a component is swapped (hot swap)| `reload.rs`          |
//! | compiled-component cache               | `cache.rs`           |
//! | one request in a fresh instance        | `instance.rs`        |
//! | concurrency: total and per-caller      | `limits.rs`          |
//! | tool policy (grants, logins)           | `policy.rs`          |
//! | `tailmcp policy check` / `explain`     | `policy_cmd.rs`      |
//! | audit log of tool calls                | `audit.rs`           |
//! | reading a JSON-RPC envelope            | `rpc.rs`             |
//! | what a request's store holds           | `state.rs`           |
//! | `/healthz` and `tailmcp health`        | `health.rs`          |
//! | giving freed memory back to the kernel | `heap.rs`            |
//! | background threads (epoch, heap trim)  | `periodic.rs`        |
//! | legacy HTTP+SSE transport bridge       | `sse.rs`             |

pub mod audit;
pub mod bindings;
pub mod cache;
pub mod checks;
pub mod cli;
pub mod config;
pub mod engine;
pub mod health;
pub mod heap;
pub mod identity;
pub mod instance;
pub mod limits;
pub mod listen;
pub mod periodic;
pub mod policy;
pub mod policy_cmd;
pub mod reload;
pub mod request;
pub mod rpc;
pub mod server;
pub mod sse;
pub mod state;

pub use config::Config;
pub use server::serve;

/// `tailmcp compile`: precompiles `input` for the engine `serve` uses with
/// its default limits; returns the path written.
pub fn compile(
    input: &std::path::Path,
    output: Option<&std::path::Path>,
) -> wasmtime::Result<std::path::PathBuf> {
    use wasmtime::error::Context;
    let engine = engine::engine(engine::EngineLimits::default())?;
    let bytes =
        std::fs::read(input).with_context(|| format!("cannot read `{}`", input.display()))?;
    let compiled = engine::precompile(&engine, &bytes)
        .with_context(|| format!("`{}` is not a valid component", input.display()))?;
    let output = output.map_or_else(
        || input.with_extension("cwasm"),
        std::path::Path::to_path_buf,
    );
    std::fs::write(&output, compiled)
        .with_context(|| format!("cannot write `{}`", output.display()))?;
    Ok(output)
}
