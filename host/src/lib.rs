//! tailmcp: an identity-aware MCP server for Tailscale networks.
//!
//! The host serves a WebAssembly component (world `tailmcp:host/mcp-server`
//! in `wit/world.wit`) behind `tailscale serve`. Where to find things:
//!
//! | what                                          | file                   |
//! |-----------------------------------------------|------------------------|
//! | flags and env vars                            | `cli/` (`serve.rs`: the flags, `validate.rs`: into a `Config`), `config.rs` |
//! | starting up: first component, policy, warnings| `startup.rs`           |
//! | accept loop, one task per connection, shutdown| `server.rs`            |
//! | the address and the bound socket              | `listen.rs`            |
//! | connection limit, head/idle deadlines         | `connections.rs`       |
//! | what every request shares                     | `app.rs`               |
//! | one request's path, one line per step         | `request.rs`           |
//! | where identity is decoded                     | `identity/mod.rs`      |
//! | identity handed to the component              | `identity_import.rs`   |
//! | Origin / public-name checks                   | `checks.rs`            |
//! | reading a request body within its limits      | `body.rs`              |
//! | reading a JSON-RPC envelope                   | `rpc.rs`               |
//! | where the tool policy is enforced (and reloaded) | `enforce.rs`        |
//! | tool policy: the file and its rules           | `policy.rs`            |
//! | `tailmcp policy check` / `explain`            | `policy_cmd.rs`        |
//! | concurrency: total and per-caller; body budget| `limits.rs`            |
//! | one request in a fresh instance               | `instance.rs`          |
//! | every answer the host makes itself            | `refusal.rs`           |
//! | JSON responses, whole bodies to hyper         | `response.rs`          |
//! | audit log of tool calls                       | `audit.rs`             |
//! | engine, linker, loading a component           | `engine.rs`            |
//! | where a component is swapped (hot swap)       | `reload.rs`            |
//! | compiled-component cache                      | `cache.rs`             |
//! | what a request's store holds                  | `state.rs`             |
//! | a component's stdout/stderr, logged           | `output.rs`            |
//! | the host log: one line per event              | `logging.rs`           |
//! | binding the unix socket (its mode)            | `unix_socket.rs`       |
//! | `/healthz` (all of its JSON) and `tailmcp health` | `health.rs`        |
//! | sha256 names                                  | `digest.rs`            |
//! | giving freed memory back to the kernel        | `heap.rs`              |
//! | background threads (epoch, heap trim)         | `periodic.rs`          |
//! | legacy HTTP+SSE: sessions; HTTP handlers      | `sse/mod.rs`; `sse/bridge.rs` |
//!
//! Every `use crate::…` points one way: `tests/all/layout.rs` fails on a
//! module cycle, a file over 300 lines of code or a function over 60.

pub mod app;
pub mod audit;
pub mod bindings;
pub mod body;
pub mod cache;
pub mod checks;
pub mod cli;
pub mod config;
pub mod connections;
pub mod digest;
pub mod enforce;
pub mod engine;
pub mod health;
pub mod heap;
pub mod identity;
pub mod identity_import;
pub mod instance;
pub mod limits;
pub mod listen;
pub mod logging;
pub mod output;
pub mod periodic;
pub mod policy;
pub mod policy_cmd;
pub mod refusal;
pub mod reload;
pub mod request;
pub mod response;
pub mod rpc;
pub mod server;
pub mod sse;
pub mod startup;
pub mod state;
pub mod unix_socket;

pub use config::Config;
pub use server::serve;

/// `tailmcp compile`: precompiles `input` for the engine `serve` uses with
/// its default limits; returns the path written. The output must be named
/// `.cwasm`: `serve` runs precompiled code only from such a path (with
/// `--allow-precompiled`) and refuses it at a `.wasm` path, so a
/// `.cwasm` written under another name could only fail later.
pub fn compile(
    input: &std::path::Path,
    output: Option<&std::path::Path>,
) -> wasmtime::Result<std::path::PathBuf> {
    use wasmtime::error::Context;
    let output = output.map_or_else(
        || input.with_extension("cwasm"),
        std::path::Path::to_path_buf,
    );
    if !reload::is_cwasm(&output) {
        wasmtime::bail!(
            "`{}` does not end in .cwasm: precompiled native code must be named as such \
             (tailmcp serve runs it only from a .cwasm path, with --allow-precompiled)",
            output.display()
        );
    }
    let engine = engine::engine(engine::EngineLimits::default())?;
    let bytes =
        std::fs::read(input).with_context(|| format!("cannot read `{}`", input.display()))?;
    let compiled = engine::precompile(&engine, &bytes)
        .with_context(|| format!("`{}` is not a valid component", input.display()))?;
    write_atomically(&output, &compiled)
        .with_context(|| format!("cannot write `{}`", output.display()))?;
    Ok(output)
}

/// Writes a new file beside `path` (mode 0644 at most, so no one else may
/// change the code) and renames it over `path`, so a server watching `path`
/// never loads half a file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(name);
    let _ = std::fs::remove_file(&tmp);
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
