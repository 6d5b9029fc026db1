//! The server: loads the component, binds the listener, accepts connections
//! (HTTP/1.1 via hyper) and shuts down gracefully.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use wasmtime::Result;
use wasmtime::error::Context;

use crate::audit::AuditLog;
use crate::cache::Cache;
use crate::config::{ComponentSource, Config};
use crate::connections::{self, Connections, Slot, Watched};
use crate::engine::{self, EngineLimits, Loaded};
use crate::identity::Trust;
use crate::listen::Listen;
use crate::policy::Policy;
use crate::reload::{self, Active, Loader};
use crate::request::{self, App};
use crate::unix_socket;

/// The greet component, built from `component/` by `build.rs`.
pub static EMBEDDED_COMPONENT: &[u8] = include_bytes!(env!("TAILMCP_EMBEDDED_COMPONENT"));

/// Serves `config` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let engine = engine::engine(EngineLimits {
        max_instances: config.max_concurrent_requests,
        max_memory_bytes: config.max_memory_bytes,
        fuel: config.fuel.is_some(),
    })?;
    let linker = engine::linker(&engine)?;
    let cache = config
        .cache_dir
        .as_deref()
        .and_then(|dir| Cache::open(dir, &engine));
    let loader = Arc::new(Loader {
        engine: engine.clone(),
        linker,
        cache,
        allow_precompiled: config.allow_precompiled,
    });
    warn_about_precompiled(&config);
    let started = std::time::Instant::now();
    let component = initial_component(&loader, &config.component, config.builtin_until_present)?;
    tracing::info!(
        "serving component {} (sha256 {}, {} in {:.0}ms)",
        component.source,
        component.sha256,
        component.how,
        started.elapsed().as_secs_f64() * 1000.0
    );
    let active = Arc::new(Active::new(component));
    let _watcher = match &config.component {
        ComponentSource::File(path) => Some(reload::watch(
            path.clone(),
            loader.clone(),
            active.clone(),
            config.watch_interval,
        )),
        ComponentSource::Embedded => None,
    };
    let trust = config.listen.trust();
    if trust == Trust::Ignore {
        tracing::warn!(
            "{} is not loopback or a unix socket: Tailscale identity headers will be IGNORED \
             (anyone who can reach this address could forge them). Listen on a unix socket \
             behind tailscale serve instead.",
            config.listen
        );
    }
    if let Some(dev) = &config.dev_caller {
        let who = match &dev.user {
            Some(user) => format!("{} ({})", user.login, user.display_name),
            None => "a tagged device".to_string(),
        };
        let grants = serde_json::to_string(&dev.capabilities).unwrap_or_default();
        tracing::warn!(
            "DEVELOPMENT MODE: local requests without Tailscale identity are treated as {who} \
             with capabilities {grants}. Never use the --dev-* options on a tailnet."
        );
    }
    // Policy, audit log and signal handlers are ready before the server
    // says it is listening.
    let policy = match &config.policy {
        Some(path) => {
            let policy = Policy::load(path).map_err(wasmtime::Error::msg)?;
            tracing::info!("tool policy from `{}` is active", path.display());
            Some(policy)
        }
        None => None,
    };
    let audit = match &config.audit_log {
        Some(destination) => Some(
            AuditLog::open(destination, config.audit_arguments).map_err(wasmtime::Error::msg)?,
        ),
        None => None,
    };
    let drain = config.shutdown_timeout;
    let connections = Connections::new(config.max_connections, config.client_timeout);
    let policy_path = config.policy.clone();
    let app = Arc::new(App::new(config, active, policy, audit));
    let watching = _watcher.is_some();
    let _policy_reloader = match policy_path {
        Some(path) => reload_policy(path, app.clone(), app.config.watch_interval),
        // SIGHUP would otherwise end the process: say there is nothing to reload.
        None if !watching => ignore_sighup(),
        None => None,
    };
    let _ticker = engine::epoch_ticker(engine.clone())?;
    let _trimmer = crate::heap::trimmer();
    let sweeper = connections::sweeper(connections.clone());
    let listener = Listener::bind(&app.config.listen).await?;
    tracing::info!("listening on {}/mcp", listener.address());
    for name in &app.config.public_names {
        tracing::info!("reachable through tailscale serve at https://{name}/mcp");
    }
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept(&app, &graceful, &connections) => {
                if let Err(e) = accepted {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    sweeper.abort();
    tracing::info!("shutting down: finishing in-flight requests (up to {drain:?})");
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests were still running after {drain:?}; stopped them");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The component to start with. A `--component` file that does not exist
/// is an error (a typo must not quietly serve greet with a healthy
/// `/healthz`), unless `--builtin-until-present` asks for the built-in
/// component until the file appears (an empty `components/` volume). A file
/// that is refused (say, precompiled code at a `.wasm` path) stops the server
/// from starting.
fn initial_component(
    loader: &Loader,
    source: &ComponentSource,
    builtin_until_present: bool,
) -> Result<Loaded> {
    match source {
        ComponentSource::File(path) if !builtin_until_present && !path.exists() => {
            wasmtime::bail!(
                "component `{}` does not exist (check --component / TAILMCP_COMPONENT); to serve \
                 the built-in greet component until the file appears, pass \
                 --builtin-until-present (TAILMCP_BUILTIN_UNTIL_PRESENT=1)",
                path.display()
            )
        }
        ComponentSource::File(path) if path.exists() => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read component `{}`", path.display()))?;
            loader.load_file(path, &bytes)
        }
        ComponentSource::File(path) => {
            tracing::warn!(
                "component `{}` does not exist yet: serving the built-in greet component, \
                 and the file as soon as it appears",
                path.display()
            );
            loader.load_embedded(EMBEDDED_COMPONENT)
        }
        ComponentSource::Embedded => loader.load_embedded(EMBEDDED_COMPONENT),
    }
}

/// Says what `--allow-precompiled` does for this `--component`: whoever can
/// write a `.cwasm` it applies to can run native code in the host.
fn warn_about_precompiled(config: &Config) {
    if !config.allow_precompiled {
        return;
    }
    match &config.component {
        ComponentSource::File(path) if reload::is_cwasm(path) => tracing::warn!(
            "--allow-precompiled: `{}` may hold precompiled native code, which runs \
             outside the WebAssembly sandbox; only its owner should be able to write it \
             and its directory",
            path.display()
        ),
        ComponentSource::File(path) => tracing::warn!(
            "--allow-precompiled has no effect: `{}` is not a `.cwasm` path, so it only \
             ever loads .wasm compiled from source",
            path.display()
        ),
        ComponentSource::Embedded => {
            tracing::warn!("--allow-precompiled has no effect without a `.cwasm` --component")
        }
    }
}

enum Listener {
    Tcp(TcpListener, Listen),
    Unix(UnixListener, PathBuf),
}

impl Listener {
    async fn bind(listen: &Listen) -> Result<Listener> {
        match listen {
            Listen::Tcp(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}"))?;
                let bound = Listen::Tcp(listener.local_addr()?);
                Ok(Listener::Tcp(listener, bound))
            }
            Listen::Unix(path) => {
                remove_stale_socket(path).await?;
                // Mode 0660 whatever the umask (see unix_socket.rs).
                let listener = unix_socket::bind(path).with_context(|| {
                    format!("cannot listen on unix socket `{}`", path.display())
                })?;
                Ok(Listener::Unix(listener, path.clone()))
            }
        }
    }

    fn address(&self) -> Listen {
        match self {
            Listener::Tcp(_, bound) => bound.clone(),
            Listener::Unix(_, path) => Listen::Unix(path.clone()),
        }
    }

    async fn accept(
        &self,
        app: &Arc<App>,
        graceful: &GracefulShutdown,
        connections: &Arc<Connections>,
    ) -> std::io::Result<()> {
        // At the connection limit, silent fresh connections make room;
        // otherwise new clients wait in the backlog.
        let place = connections.place().await;
        match self {
            Listener::Tcp(listener, bound) => {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                let slot = connections.register(place);
                spawn_connection(stream, app.clone(), bound.trust(), graceful, slot);
            }
            Listener::Unix(listener, _) => {
                let (stream, _) = listener.accept().await?;
                let slot = connections.register(place);
                spawn_connection(stream, app.clone(), Trust::Honour, graceful, slot);
            }
        }
        Ok(())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Removes a socket file left by a server that is gone; refuses to take over
/// one that still answers.
async fn remove_stale_socket(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        wasmtime::bail!(
            "`{}` exists and is not a socket; not replacing it",
            path.display()
        );
    }
    if tokio::net::UnixStream::connect(path).await.is_ok() {
        wasmtime::bail!("`{}` is in use by another running server", path.display());
    }
    std::fs::remove_file(path)
        .with_context(|| format!("cannot remove stale socket `{}`", path.display()))
}

fn spawn_connection<IO>(
    io: IO,
    app: Arc<App>,
    trust: Trust,
    graceful: &GracefulShutdown,
    slot: Slot,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // Head deadlines are `connections.rs`'s: hyper's would also close
        // idle keep-alive connections after it, racing `tailscale serve`.
        .header_read_timeout(None)
        // A larger request head is answered 431.
        .max_header_size(app.config.max_header_bytes)
        .keep_alive(true);
    let activity = slot.activity.clone();
    let service = hyper::service::service_fn(move |req| {
        let (app, activity) = (app.clone(), activity.clone());
        async move {
            activity.request_started();
            let response = request::handle(app, req, trust).await?;
            // Idle again once the response body is written (or dropped).
            let finished = RequestFinished(activity);
            Ok::<_, std::convert::Infallible>(response.map(move |body| {
                body.map_frame(move |frame| {
                    let _ = &finished;
                    frame
                })
                .boxed_unsync()
            }))
        }
    });
    let io = Watched::new(io, slot.activity.clone());
    let connection = graceful.watch(builder.serve_connection(TokioIo::new(io), service));
    tokio::spawn(async move {
        tokio::select! {
            ended = connection => {
                if let Err(e) = ended {
                    tracing::debug!("connection ended with an error: {e}");
                }
            }
            // Dropping the connection closes it.
            () = slot.activity.closed() => {}
        }
        drop(slot);
    });
}

/// Marks its connection idle when dropped with the response body.
struct RequestFinished(Arc<connections::Activity>);

impl Drop for RequestFinished {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// Re-reads the policy on SIGHUP, and when its contents change (checked
/// every `poll`: a distroless container has no `kill` to send SIGHUP with,
/// and a ConfigMap update arrives as a new file); a file that fails to
/// parse keeps the old one.
fn reload_policy(
    path: PathBuf,
    app: Arc<App>,
    poll: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()?;
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(poll.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // What was last tried, so a broken file is reported once, not every poll.
        let mut tried = policy_sha256(&path);
        loop {
            let why = tokio::select! {
                signal = hangup.recv() => match signal {
                    Some(()) => "SIGHUP",
                    None => return,
                },
                _ = ticker.tick() => {
                    let now = policy_sha256(&path);
                    if now.is_none() || now == tried {
                        continue;
                    }
                    tried = now;
                    "the file changed"
                }
            };
            match Policy::load(&path) {
                Ok(policy) => {
                    app.set_policy(policy);
                    tracing::info!("{why}: reloaded the tool policy from `{}`", path.display());
                }
                Err(e) => tracing::warn!("{why}: {e}; keeping the previous policy"),
            }
        }
    }))
}

/// The policy file's sha256, or `None` while it cannot be read (mid-rename).
fn policy_sha256(path: &std::path::Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|bytes| crate::digest::sha256_hex(&bytes))
}

/// Logs SIGHUP instead of dying of it when there is nothing to reload.
fn ignore_sighup() -> Option<tokio::task::JoinHandle<()>> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()?;
    Some(tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: nothing to reload (no --component file, no --policy)");
        }
    }))
}
