//! The wasmtime engine and what it links: one engine per process (pooling
//! allocator, epoch interruption), one linker, and [`Loaded`] components
//! compiled once and pre-instantiated, so each request only instantiates.

use std::time::{Duration, SystemTime};

use wasmtime::Result;
use wasmtime::component::{Component, Linker};
use wasmtime::error::Context;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Precompiled,
};

use crate::bindings::McpServerPre;
use crate::cache::Cache;
use crate::periodic::Periodic;
use crate::state::State;

/// How often the engine's epoch advances; request deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Dirty memory (per linear memory or table) that a freed pool slot resets
/// in place rather than handing back to the kernel; anything beyond is
/// madvised away as before. It stays resident while the slot is free, so the
/// pool can hold up to `max_instances` times this. Less than a request
/// dirties costs CPU on every request; more only holds memory. 256 KiB is
/// about twice what greet dirties (figures: `benches/README.md`, "Memory
/// over time").
const KEEP_RESIDENT_BYTES: usize = 256 << 10;

/// Sizes the engine is built for.
#[derive(Debug, Clone, Copy)]
pub struct EngineLimits {
    /// Requests that may run at once (one component instance each).
    pub max_instances: u32,
    /// Linear memory one instance may grow to.
    pub max_memory_bytes: usize,
    /// Meter fuel (compiled code then counts instructions).
    pub fuel: bool,
}

impl Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            max_instances: crate::config::DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_memory_bytes: crate::config::DEFAULT_MAX_MEMORY_BYTES,
            fuel: false,
        }
    }
}

/// Builds the engine: pooled instance slots (instantiation is then a few
/// page resets rather than mmaps) and epoch interruption for deadlines.
pub fn engine(limits: EngineLimits) -> Result<Engine> {
    // Reset a freed slot's linear memory and tables by rewriting only the
    // pages the instance dirtied (found with Linux's PAGEMAP_SCAN, kernel 6.7
    // or newer) instead of madvise: the next instance in the slot starts from
    // the same pristine image, but without page faults, copy-on-write faults
    // and the cross-core TLB shootdowns madvise causes, which had been the
    // largest share of the server's CPU (figures: `benches/README.md`, "What
    // made it faster"). Without the ioctl, keeping memory resident would mean
    // a memset of all KEEP_RESIDENT_BYTES per request, so older kernels keep
    // the madvise reset.
    match build(limits, true) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            tracing::info!(
                "resetting instance memory with madvise (PAGEMAP_SCAN unavailable: {e:#})"
            );
            build(limits, false)
        }
    }
    .context("failed to create the wasmtime engine")
}

fn build(limits: EngineLimits, reset_dirty_pages_only: bool) -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    let n = limits.max_instances;
    pool.total_component_instances(n)
        // A Rust wasip2 component has one memory and a few core instances and tables.
        .total_memories(n)
        .total_tables(n.saturating_mul(4))
        .total_core_instances(n.saturating_mul(8))
        .max_memory_size(limits.max_memory_bytes);
    if reset_dirty_pages_only {
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(KEEP_RESIDENT_BYTES)
            // `Yes`: fail (and fall back) where the kernel lacks the ioctl.
            .pagemap_scan(Enabled::Yes);
    }
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .epoch_interruption(true)
        .consume_fuel(limits.fuel);
    Engine::new(&config)
}

/// The linker every component is checked against: WASI 0.2 (CLI, clocks,
/// random, io; closed filesystem and sockets), wasi:http, and our `identity`.
pub fn linker(engine: &Engine) -> Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    // Rust's wasm32-wasip2 std imports wasi:cli interfaces beyond wasi:http/proxy,
    // so link the CLI world too (as `wasmtime serve -Scli` does).
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::identity_import::add_to_linker(&mut linker)?;
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
    /// How it was made ready, for the log.
    pub how: How,
}

/// How a component was made ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Compiled from `.wasm` (then cached, when a cache is configured).
    Compiled,
    /// Compiled code reused from the cache.
    Cached,
    /// A precompiled `.cwasm` (from `tailmcp compile`).
    Precompiled,
}

impl std::fmt::Display for How {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            How::Compiled => "compiled",
            How::Cached => "from cache",
            How::Precompiled => "precompiled",
        })
    }
}

/// Whether a component's bytes may be precompiled native code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeCode {
    /// Only `.wasm` compiled from source: what every path gets by default,
    /// since precompiled code runs outside the sandbox.
    Refuse,
    /// A `.cwasm` from `tailmcp compile` may be loaded as is: a `.cwasm`
    /// path with `--allow-precompiled`.
    Allow,
}

/// Makes `bytes` (a `.wasm` component, or with [`NativeCode::Allow`] a
/// `.cwasm` from `tailmcp compile`) ready to serve, and checks it against
/// `linker`: a component that imports something the host does not provide,
/// or does not export `wasi:http/incoming-handler`, is refused here, before
/// it can be swapped in.
pub fn load(
    engine: &Engine,
    linker: &Linker<State>,
    cache: Option<&Cache>,
    bytes: &[u8],
    source: &str,
    native: NativeCode,
) -> Result<Loaded> {
    let sha256 = crate::digest::sha256_hex(bytes);
    if native == NativeCode::Refuse && is_native_code(bytes) {
        // Deserializing it would run it unchecked: refuse before anything else.
        wasmtime::bail!(
            "`{source}` is precompiled native code; tailmcp only runs precompiled code \
             from a `.cwasm` path with --allow-precompiled"
        );
    }
    let (component, how) = compile(engine, cache, bytes, &sha256)
        .with_context(|| format!("`{source}` is not a usable component"))?;
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
        how,
    })
}

/// Precompiled wasmtime code, or any other ELF object (native code that
/// wasmtime would not recognise is no component either, but say what it is).
fn is_native_code(bytes: &[u8]) -> bool {
    Engine::detect_precompiled(bytes).is_some() || bytes.starts_with(b"\x7fELF")
}

/// Only called with precompiled bytes the caller allowed (see [`load`]).
fn compile(
    engine: &Engine,
    cache: Option<&Cache>,
    bytes: &[u8],
    sha256: &str,
) -> Result<(Component, How)> {
    match Engine::detect_precompiled(bytes) {
        Some(Precompiled::Component) => return Ok((deserialize(engine, bytes)?, How::Precompiled)),
        Some(Precompiled::Module) => {
            wasmtime::bail!("it is a precompiled core module, not a component")
        }
        None => {}
    }
    if bytes.starts_with(b"\0asm") && bytes.get(4..8) == Some(&[1, 0, 0, 0]) {
        wasmtime::bail!(
            "it is a core WebAssembly module, not a component (build for wasm32-wasip2)"
        );
    }
    // The cache is keyed by the sha256 of these source bytes, never of a `.cwasm`.
    if let Some(cache) = cache
        && let Some(cached) = cache.load(sha256)
    {
        match deserialize(engine, &cached) {
            Ok(component) => return Ok((component, How::Cached)),
            Err(e) => {
                tracing::warn!("ignoring unusable cache entry for {sha256}: {e:#}");
                cache.remove(sha256);
            }
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Some(cache) = cache {
        match component.serialize() {
            Ok(compiled) => cache.store(sha256, &compiled),
            Err(e) => tracing::warn!("could not serialize component for the cache: {e:#}"),
        }
    }
    Ok((component, How::Compiled))
}

/// Loads native code made by this engine configuration (`tailmcp compile`
/// or the cache). Wasmtime refuses code from another version or config.
#[allow(
    unsafe_code,
    reason = "deserializing trusts the bytes to be wasmtime's own output: they come from \
              a `.cwasm` path the operator opted into with --allow-precompiled, or from \
              tailmcp's cache, whose directory and entries are checked to be writable only \
              by tailmcp's user (cache.rs)"
)]
fn deserialize(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    // SAFETY: see the reason above; wasmtime still checks version and settings.
    unsafe { Component::deserialize(engine, bytes) }
}

/// Compiles a `.wasm` component to a `.cwasm` for this engine configuration.
pub fn precompile(engine: &Engine, bytes: &[u8]) -> Result<Vec<u8>> {
    engine.precompile_component(bytes)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub fn epoch_ticker(engine: Engine) -> Result<Periodic> {
    Periodic::start("epoch-ticker", EPOCH_TICK, move || engine.increment_epoch())
        .context("cannot start the thread that enforces request deadlines")
}
