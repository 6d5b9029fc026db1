//! The server: loads the component, binds the listener, accepts connections
//! (HTTP/1.1 via hyper) and shuts down gracefully.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::Result;

use crate::app::App;
use crate::cache::Cache;
use crate::config::{ComponentSource, Config};
use crate::connections::{self, Connections, Watched};
use crate::enforce;
use crate::engine::{self, EngineLimits};
use crate::identity::Trust;
use crate::listen::{Listener, Serve};
use crate::reload::{self, Active, Loader};
use crate::request;
use crate::startup;

/// Where it always was, for code outside the crate (the benchmarks).
pub use crate::startup::EMBEDDED_COMPONENT;

/// Serves `config` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let engine = engine::engine(EngineLimits {
        max_instances: config.max_concurrent_requests,
        max_memory_bytes: config.max_memory_bytes,
        fuel: config.fuel.is_some(),
    })?;
    let loader = Arc::new(Loader {
        engine: engine.clone(),
        linker: engine::linker(&engine)?,
        cache: config
            .cache_dir
            .as_deref()
            .and_then(|dir| Cache::open(dir, &engine)),
        allow_precompiled: config.allow_precompiled,
    });
    startup::warn_about_precompiled(&config);
    let active = Arc::new(Active::new(load_first(&loader, &config)?));
    let _watcher = match &config.component {
        ComponentSource::File(path) => Some(reload::watch(
            path.clone(),
            loader.clone(),
            active.clone(),
            config.watch_interval,
        )),
        ComponentSource::Embedded => None,
    };
    startup::warn_about_identity(&config);
    // Policy, audit log and signal handlers are ready before the server
    // says it is listening.
    let (policy, audit) = startup::policy_and_audit(&config)?;
    let policy_path = config.policy.clone();
    let app = Arc::new(App::new(config, active, policy, audit));
    let _policy_reloader = match policy_path {
        Some(path) => enforce::reload_policy(path, app.clone(), app.config.watch_interval),
        // SIGHUP would otherwise end the process: say there is nothing to reload.
        None if _watcher.is_none() => ignore_sighup(),
        None => None,
    };
    let _ticker = engine::epoch_ticker(engine.clone())?;
    let _trimmer = crate::heap::trimmer();
    run(app, shutdown).await
}

/// The component to start with, logged.
fn load_first(loader: &Loader, config: &Config) -> Result<engine::Loaded> {
    let started = std::time::Instant::now();
    let component =
        startup::initial_component(loader, &config.component, config.builtin_until_present)?;
    tracing::info!(
        "serving component {} (sha256 {}, {} in {:.0}ms)",
        component.source,
        component.sha256,
        component.how,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(component)
}

/// Accepts connections until `shutdown`, then lets in-flight requests finish
/// for up to `--shutdown-timeout`.
async fn run(app: Arc<App>, shutdown: impl Future<Output = ()>) -> Result<()> {
    let drain = app.config.shutdown_timeout;
    let connections = Connections::new(app.config.max_connections, app.config.client_timeout);
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
            accepted = accept(&listener, &app, &graceful, &connections) => {
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

/// Accepts one connection. At the connection limit, silent fresh
/// connections make room; otherwise new clients wait in the backlog.
async fn accept(
    listener: &Listener,
    app: &Arc<App>,
    graceful: &GracefulShutdown,
    connections: &Arc<Connections>,
) -> std::io::Result<()> {
    let place = connections.place().await;
    listener
        .accept(Connection {
            app,
            graceful,
            connections,
            place,
        })
        .await
}

/// An accepted connection, about to be served in its own task.
struct Connection<'a> {
    app: &'a Arc<App>,
    graceful: &'a GracefulShutdown,
    connections: &'a Arc<Connections>,
    place: OwnedSemaphorePermit,
}

impl Serve for Connection<'_> {
    fn serve<IO>(self, io: IO, trust: Trust)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let slot = self.connections.register(self.place);
        let app = self.app.clone();
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
        let connection = self
            .graceful
            .watch(builder.serve_connection(TokioIo::new(io), service));
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
}

/// Marks its connection idle when dropped with the response body.
struct RequestFinished(Arc<connections::Activity>);

impl Drop for RequestFinished {
    fn drop(&mut self) {
        self.0.request_finished();
    }
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
