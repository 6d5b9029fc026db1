//! Where a component is swapped: the active component, and the watcher that
//! replaces it when its file changes (or on SIGHUP).
//!
//! Each request takes the active component once ([`Active::current`]) and
//! keeps it to the end, so in-flight requests finish on the old version while
//! every request that starts after a swap uses the new one. A new file is
//! compiled off the request path and checked against the linker before it is
//! swapped in; a file that fails is refused and the old component keeps
//! serving. The old component is freed when its last request ends.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::cache::Cache;
use crate::engine::{self, Loaded, NativeCode};
use crate::state::State;

/// Quiet time after the last write before an in-place write is loaded.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// Everything needed to make bytes into a [`Loaded`] component.
pub struct Loader {
    pub engine: Engine,
    pub linker: Linker<State>,
    pub cache: Option<Cache>,
    /// `--allow-precompiled`: a `.cwasm` path may hold precompiled code.
    pub allow_precompiled: bool,
}

impl Loader {
    /// Loads `bytes` read from the component file at `path`. Precompiled
    /// code is native code that runs outside the sandbox, so it is loaded
    /// only when the operator opted in and named the file `.cwasm`: writing
    /// a `.wasm` path (the usual deploy path) never runs native code.
    pub fn load_file(&self, path: &Path, bytes: &[u8]) -> wasmtime::Result<Loaded> {
        let native = if self.allow_precompiled && is_cwasm(path) {
            NativeCode::Allow
        } else {
            NativeCode::Refuse
        };
        self.load(bytes, &path.display().to_string(), native)
    }

    /// Loads the built-in component (source bytes, never precompiled).
    pub fn load_embedded(&self, bytes: &[u8]) -> wasmtime::Result<Loaded> {
        self.load(bytes, "embedded", NativeCode::Refuse)
    }

    fn load(&self, bytes: &[u8], source: &str, native: NativeCode) -> wasmtime::Result<Loaded> {
        engine::load(
            &self.engine,
            &self.linker,
            self.cache.as_ref(),
            bytes,
            source,
            native,
        )
    }
}

/// True for a path named `*.cwasm`, the only name precompiled code loads from.
pub fn is_cwasm(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "cwasm")
}

/// A file that was refused, for `/healthz`.
#[derive(Debug, Clone)]
pub struct RefusedFile {
    pub reason: String,
    pub sha256: String,
    pub at: SystemTime,
}

/// The component serving new requests, and its swap history.
pub struct Active {
    current: ArcSwap<Loaded>,
    swaps: AtomicU64,
    last_refusal: Mutex<Option<RefusedFile>>,
}

impl Active {
    pub fn new(loaded: Loaded) -> Active {
        Active {
            current: ArcSwap::from_pointee(loaded),
            swaps: AtomicU64::new(0),
            last_refusal: Mutex::new(None),
        }
    }

    /// The component for a request that starts now.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    fn swap(&self, loaded: Loaded) -> Arc<Loaded> {
        self.swaps.fetch_add(1, Ordering::Relaxed);
        self.current.swap(Arc::new(loaded))
    }

    fn refuse(&self, sha256: String, reason: String) {
        if let Ok(mut last) = self.last_refusal.lock() {
            *last = Some(RefusedFile {
                reason,
                sha256,
                at: SystemTime::now(),
            });
        }
    }

    /// How many times a new component was swapped in.
    pub fn swaps(&self) -> u64 {
        self.swaps.load(Ordering::Relaxed)
    }

    /// The last file that was refused, if any.
    pub fn last_refusal(&self) -> Option<RefusedFile> {
        self.last_refusal.lock().ok().and_then(|r| r.clone())
    }
}

/// Why to look at the file again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The file is complete (closed after writing, renamed into place, SIGHUP).
    Now,
    /// The file is being written; wait for it to settle.
    Settle,
}

/// Watches a component file until dropped.
pub struct Watcher {
    _notify: Option<notify::RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `path`: file-system notifications on its directory (so an
/// atomic rename is seen), a poll every `poll` for mounts without them, and SIGHUP.
pub fn watch(path: PathBuf, loader: Arc<Loader>, active: Arc<Active>, poll: Duration) -> Watcher {
    let (triggers, mut incoming) = mpsc::unbounded_channel();
    let notify = start_notify(&path, triggers.clone());
    // Installed before serving starts, so an early SIGHUP cannot kill the server.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let task = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(poll.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen = signature(&path);
        loop {
            let first = tokio::select! {
                Some(trigger) = incoming.recv() => trigger,
                Some(()) = recv_hangup(&mut hangup) => {
                    tracing::info!("SIGHUP: reloading `{}`", path.display());
                    Trigger::Now
                }
                _ = ticker.tick() => {
                    if signature(&path) == seen { continue; }
                    Trigger::Settle
                }
            };
            settle(first, &mut incoming).await;
            seen = signature(&path);
            reload(&path, &loader, &active).await;
        }
    });
    Watcher {
        _notify: notify,
        task,
    }
}

async fn recv_hangup(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

/// Waits until the file has settled: briefly after a `Now`, or until no
/// write has been seen for [`DEBOUNCE`].
async fn settle(first: Trigger, incoming: &mut mpsc::UnboundedReceiver<Trigger>) {
    let wait = |t: Trigger| match t {
        Trigger::Now => Duration::from_millis(5),
        Trigger::Settle => DEBOUNCE,
    };
    let mut deadline = Instant::now() + wait(first);
    loop {
        tokio::select! {
            Some(next) = incoming.recv() => deadline = Instant::now() + wait(next),
            () = tokio::time::sleep_until(deadline.into()) => return,
        }
    }
}

fn start_notify(
    path: &Path,
    triggers: mpsc::UnboundedSender<Trigger>,
) -> Option<notify::RecommendedWatcher> {
    let name = path.file_name()?.to_owned();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if !event.paths.iter().any(|p| p.file_name() == Some(&name)) {
            return;
        }
        let trigger = match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(_)) => Trigger::Now,
            EventKind::Create(_) | EventKind::Modify(_) => Trigger::Settle,
            _ => return,
        };
        let _ = triggers.send(trigger);
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(watcher) => watcher,
        Err(e) => {
            tracing::warn!("file notifications unavailable ({e}); polling for component changes");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
        tracing::warn!(
            "cannot watch `{}` ({e}); polling for component changes",
            dir.display()
        );
        return None;
    }
    Some(watcher)
}

/// What identifies a version of the file without reading it.
fn signature(path: &Path) -> Option<(u64, SystemTime, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?, meta.ino()))
}

/// Loads the file and swaps it in, or refuses it; never disturbs serving.
async fn reload(path: &Path, loader: &Arc<Loader>, active: &Arc<Active>) {
    let source = path.display().to_string();
    let previous = active.current();
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(
                "cannot read component `{source}` ({e}); still serving {} (sha256 {})",
                previous.source,
                previous.sha256
            );
            return;
        }
    };
    let sha256 = crate::digest::sha256_hex(&bytes);
    if sha256 == previous.sha256 && previous.source == source {
        tracing::debug!("`{source}` is unchanged (sha256 {sha256})");
        return;
    }
    let started = Instant::now();
    let loader = loader.clone();
    let file = path.to_path_buf();
    // Compiling takes a core for a while: keep it off the request threads.
    let loaded = tokio::task::spawn_blocking(move || loader.load_file(&file, &bytes)).await;
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!("loading `{source}` failed unexpectedly: {e}");
            return;
        }
    };
    match loaded {
        Ok(loaded) => {
            let how = loaded.how;
            let old = active.swap(loaded);
            tracing::info!(
                "swapped in component `{source}` (sha256 {sha256}, {how} in {:.0}ms); \
                 previous sha256 {} finishes its in-flight requests",
                started.elapsed().as_secs_f64() * 1000.0,
                old.sha256
            );
        }
        Err(e) => {
            // One log line, whatever the error text holds.
            let reason = format!("{e:#}")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            tracing::warn!(
                "refused component `{source}` (sha256 {sha256}): {reason}; still serving {} (sha256 {})",
                previous.source,
                previous.sha256
            );
            active.refuse(sha256, reason);
        }
    }
}
