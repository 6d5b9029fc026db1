//! The wasmtime engine and what it links: one engine per process (pooling
//! allocator, epoch interruption), one linker, and [`Loaded`] components
//! compiled once and pre-instantiated, so each request only instantiates.

use std::path::Path;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::Result;
use wasmtime::component::{Component, Linker};
use wasmtime::error::Context;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::McpServerPre;
use crate::state::State;

/// How often the engine's epoch advances; request deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Sizes the engine is built for.
#[derive(Debug, Clone, Copy)]
pub struct EngineLimits {
    /// Requests that may run at once (one component instance each).
    pub max_instances: u32,
    /// Linear memory one instance may grow to.
    pub max_memory_bytes: usize,
}

/// Builds the engine: pooled instance slots (instantiation is then a few
/// page resets rather than mmaps) and epoch interruption for deadlines.
pub fn engine(limits: EngineLimits) -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    let n = limits.max_instances;
    pool.total_component_instances(n)
        // A Rust wasip2 component has one memory and a few core instances and tables.
        .total_memories(n)
        .total_tables(n.saturating_mul(4))
        .total_core_instances(n.saturating_mul(8))
        .max_memory_size(limits.max_memory_bytes);
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .epoch_interruption(true);
    Engine::new(&config).context("failed to create the wasmtime engine")
}

/// The linker every component is checked against: WASI 0.2 (CLI, clocks,
/// random, io; closed filesystem and sockets), wasi:http, and our `identity`.
pub fn linker(engine: &Engine) -> Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    // Rust's wasm32-wasip2 std imports wasi:cli interfaces beyond wasi:http/proxy,
    // so link the CLI world too (as `wasmtime serve -Scli` does).
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::identity::wit::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// A component ready to serve: compiled, linked and pre-instantiated.
pub struct Loaded {
    pub pre: McpServerPre<State>,
    /// Hex sha256 of the bytes it was loaded from.
    pub sha256: String,
    /// Where it came from: a path, or `embedded`.
    pub source: String,
    pub loaded_at: SystemTime,
}

/// Compiles `bytes` and checks them against `linker`.
pub fn load(engine: &Engine, linker: &Linker<State>, bytes: &[u8], source: &str) -> Result<Loaded> {
    let sha256 = hex(&Sha256::digest(bytes));
    let component = Component::new(engine, bytes)
        .with_context(|| format!("`{source}` is not a valid WebAssembly component"))?;
    let instance_pre = linker
        .instantiate_pre(&component)
        .with_context(|| format!("`{source}` needs imports tailmcp does not provide"))?;
    let pre = McpServerPre::new(instance_pre)
        .with_context(|| format!("`{source}` does not export wasi:http/incoming-handler@0.2.12"))?;
    Ok(Loaded {
        pre,
        sha256,
        source: source.to_string(),
        loaded_at: SystemTime::now(),
    })
}

/// Reads and loads a component file.
pub fn load_file(engine: &Engine, linker: &Linker<State>, path: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read component `{}`", path.display()))?;
    load(engine, linker, &bytes, &path.display().to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> EpochTicker {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(EPOCH_TICK)
                {
                    engine.increment_epoch();
                }
            })
            .ok();
        EpochTicker {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
