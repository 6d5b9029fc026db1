//! The command line: `tailmcp serve` and `tailmcp health`. Every flag has an
//! environment variable fallback, so containers can be configured with env.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, ComponentSource, Config, parse_duration, parse_size};
use crate::identity::User;
use crate::listen::Listen;
use crate::sse::SseLimits;

/// tailmcp: an identity-aware MCP server for Tailscale networks.
///
/// Serves a WebAssembly component as an MCP Streamable HTTP endpoint at
/// /mcp, behind `tailscale serve`, and tells each tool who is calling.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the MCP endpoint (/mcp) and a health check (/healthz).
    Serve(Box<ServeArgs>),
    /// Probe a running server's /healthz; exit 0 if it is healthy, 1 if not.
    Health(HealthArgs),
    /// Precompile a .wasm component to a .cwasm that `serve
    /// --allow-precompiled` loads in about a millisecond (same tailmcp
    /// version and engine settings only).
    Compile(CompileArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen: HOST:PORT, or unix:/path/to/socket.
    ///
    /// Identity headers are honoured only on a unix socket or a loopback
    /// address (IPv4-mapped `[::ffff:127.0.0.1]` included), where only
    /// `tailscale serve` can reach the server. Use a unix
    /// socket when tailscale runs in userspace mode (as in docker compose):
    /// there, tailnet peers reach loopback ports directly.
    #[arg(long, env = "TAILMCP_LISTEN", value_name = "ADDR", default_value = config::DEFAULT_LISTEN)]
    pub listen: Listen,

    /// The component to serve: a .wasm built for wasm32-wasip2 against
    /// wit/world.wit (or, with --allow-precompiled, a .cwasm from `tailmcp
    /// compile`). The file is watched:
    /// replace it (ideally `cp new.wasm x.tmp && mv x.tmp PATH`) and new
    /// requests use the new version; a broken file is refused and the old one
    /// keeps serving; SIGHUP reloads too. While PATH does not exist, the
    /// built-in greet component serves. Default: the built-in greet component.
    #[arg(long, env = "TAILMCP_COMPONENT", value_name = "PATH")]
    pub component: Option<PathBuf>,

    /// Run precompiled native code (a .cwasm from `tailmcp compile`), which
    /// is not sandboxed like a .wasm: only from a --component path ending
    /// in .cwasm, never from a .wasm path. Whoever can write that file can
    /// run code as tailmcp. Default: only .wasm, compiled from source.
    #[arg(long, env = "TAILMCP_ALLOW_PRECOMPILED")]
    pub allow_precompiled: bool,

    /// Directory for compiled components, so restarts and swaps back to a
    /// known version skip compilation. The only place tailmcp writes. It
    /// must be writable by tailmcp's user only (else it is not used).
    /// Default: $XDG_CACHE_HOME/tailmcp or ~/.cache/tailmcp.
    #[arg(long, env = "TAILMCP_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Do not cache compiled components.
    #[arg(long, env = "TAILMCP_NO_CACHE", conflicts_with = "cache_dir")]
    pub no_cache: bool,

    /// How often to check the --component file for changes where file
    /// notifications do not work (some bind mounts); notifications are immediate.
    #[arg(long, env = "TAILMCP_WATCH_INTERVAL", value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub watch_interval: Duration,

    /// DEVELOPMENT ONLY: treat requests without Tailscale identity as coming
    /// from this login, so you can try tools without a tailnet. Identity
    /// from `tailscale serve`, when present, still wins.
    #[arg(long, env = "TAILMCP_DEV_IDENTITY", value_name = "LOGIN")]
    pub dev_identity: Option<String>,

    /// Display name for --dev-identity (default: the login).
    #[arg(
        long,
        env = "TAILMCP_DEV_NAME",
        value_name = "NAME",
        requires = "dev_identity"
    )]
    pub dev_name: Option<String>,

    /// Only answer requests addressed to this name (checked against
    /// X-Forwarded-Host, else Host), e.g. mcp.tail1234.ts.net. Repeat for
    /// several. Default: any name.
    #[arg(
        long = "public-name",
        env = "TAILMCP_PUBLIC_NAMES",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub public_names: Vec<String>,

    /// Browser origin allowed to call the server, e.g. https://app.example.com,
    /// or * for any. Repeat for several. Requests without Origin (every
    /// non-browser MCP client) are always allowed.
    #[arg(
        long = "allow-origin",
        env = "TAILMCP_ALLOWED_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Serve requests from the public internet through Tailscale Funnel
    /// (they carry no identity). Refused with 403 by default.
    #[arg(long, env = "TAILMCP_ALLOW_FUNNEL")]
    pub allow_funnel: bool,

    /// Largest request body; larger ones get 413 before the component runs.
    #[arg(long, env = "TAILMCP_MAX_BODY", value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub max_body: usize,

    /// Deadline for one request in the component; a component still running
    /// then is stopped and the caller gets an error.
    #[arg(long, env = "TAILMCP_REQUEST_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Requests running in components at once; more get 503 with Retry-After.
    #[arg(long, env = "TAILMCP_MAX_CONCURRENT_REQUESTS", value_name = "N", default_value_t = config::DEFAULT_MAX_CONCURRENT_REQUESTS)]
    pub max_concurrent_requests: u32,

    /// Requests one caller (a login; for tagged devices, their capability
    /// set) may have running at once; more get 429 with Retry-After.
    #[arg(long, env = "TAILMCP_MAX_REQUESTS_PER_CALLER", value_name = "N", default_value_t = config::DEFAULT_MAX_REQUESTS_PER_CALLER)]
    pub max_requests_per_caller: u32,

    /// Of one caller's requests, how many may be busy in components at once
    /// (still computing at an epoch tick, every 10 ms); its other busy ones wait their turn,
    /// and are stopped with 504 at their --request-timeout, counted from
    /// arrival. Quick calls never wait. Default: half the CPU cores, at least 1.
    #[arg(long, env = "TAILMCP_MAX_BUSY_PER_CALLER", value_name = "N")]
    pub max_busy_per_caller: Option<u32>,

    /// Largest response a component may send; a larger one becomes a 500.
    #[arg(long, env = "TAILMCP_MAX_RESPONSE", value_name = "SIZE", default_value = "4MiB", value_parser = parse_size)]
    pub max_response: usize,

    /// Open client connections. At the limit, connections that have sent
    /// nothing for a second are closed to make room; otherwise new ones wait
    /// to be accepted (a connection that has sent a request is never cut).
    #[arg(long, env = "TAILMCP_MAX_CONNECTIONS", value_name = "N", default_value_t = config::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: u32,

    /// Request body bytes held in memory at once, over all requests (the
    /// declared Content-Length is reserved before the body is read). A
    /// request that would go over gets 503 with Retry-After at once; one
    /// caller may hold the share --max-requests-per-caller gives it of
    /// --max-concurrent-requests (at least --max-body), else 429.
    #[arg(long, env = "TAILMCP_MAX_BUFFERED_BYTES", value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_buffered_bytes: usize,

    /// Largest request head (request line and headers); larger gets 431.
    #[arg(long, env = "TAILMCP_MAX_HEADER_SIZE", value_name = "SIZE", default_value = "64KiB", value_parser = parse_size)]
    pub max_header_size: usize,

    /// Time a client may take to send its request head, and then its body
    /// (a slow client gets 408 or is disconnected).
    #[arg(long, env = "TAILMCP_CLIENT_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub client_timeout: Duration,

    /// Fuel for one request (about one unit per wasm instruction); a
    /// component that runs out is stopped. Default: unmetered (the
    /// --request-timeout still applies).
    #[arg(long, env = "TAILMCP_FUEL", value_name = "UNITS")]
    pub fuel: Option<u64>,

    /// On SIGTERM or SIGINT, time in-flight requests get to finish (new
    /// connections are refused at once); then they are stopped and the
    /// process exits.
    #[arg(long, env = "TAILMCP_SHUTDOWN_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// A tool policy (TOML): which callers may see and call which tools, by
    /// login or by Tailscale app capability (grants). Enforced by the host;
    /// re-read on SIGHUP (a broken file keeps the old policy). Default:
    /// every caller may use every tool.
    #[arg(long, env = "TAILMCP_POLICY", value_name = "PATH")]
    pub policy: Option<PathBuf>,

    /// Write an audit log, one JSON line per tools/call (and per refused
    /// call): `stderr`, or a file to append to. On stderr, the log lines
    /// beside them never start with `{` and are never more than one line.
    #[arg(long, env = "TAILMCP_AUDIT_LOG", value_name = "stderr|PATH")]
    pub audit_log: Option<crate::audit::Destination>,

    /// Include tool arguments in the audit log (off by default: they may hold
    /// personal data).
    #[arg(long, env = "TAILMCP_AUDIT_ARGUMENTS", requires = "audit_log")]
    pub audit_arguments: bool,

    /// With --audit-arguments, cut arguments to this much JSON.
    #[arg(long, env = "TAILMCP_AUDIT_ARGUMENTS_MAX", value_name = "SIZE", default_value = "1KiB", value_parser = parse_size)]
    pub audit_arguments_max: usize,

    /// Do not serve the legacy HTTP+SSE transport (GET /sse, POST /messages),
    /// which older clients and `mcp-remote --transport sse-only` use.
    #[arg(long, env = "TAILMCP_NO_LEGACY_SSE")]
    pub no_legacy_sse: bool,

    /// Open legacy SSE sessions, in total; more get 503.
    #[arg(long, env = "TAILMCP_MAX_SSE_SESSIONS", value_name = "N", default_value_t = config::DEFAULT_SSE_LIMITS.max_sessions)]
    pub max_sse_sessions: usize,

    /// Open legacy SSE sessions per caller; more get 429.
    #[arg(long, env = "TAILMCP_MAX_SSE_SESSIONS_PER_CALLER", value_name = "N", default_value_t = config::DEFAULT_SSE_LIMITS.max_sessions_per_caller)]
    pub max_sse_sessions_per_caller: usize,

    /// A legacy SSE session with no POST for this long is closed.
    #[arg(long, env = "TAILMCP_SSE_IDLE_TIMEOUT", value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub sse_idle_timeout: Duration,

    /// Interval of keep-alive comments on idle SSE streams.
    #[arg(long, env = "TAILMCP_SSE_KEEPALIVE", value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub sse_keepalive: Duration,

    /// Linear memory one component instance may use.
    #[arg(long, env = "TAILMCP_MAX_MEMORY", value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_memory: usize,
}

impl ServeArgs {
    /// Validates the flags into a [`Config`].
    pub fn into_config(self) -> Result<Config, String> {
        if self.max_concurrent_requests == 0 {
            return Err("--max-concurrent-requests must be at least 1".into());
        }
        if self.max_requests_per_caller == 0 || self.max_connections == 0 {
            return Err(
                "--max-requests-per-caller and --max-connections must be at least 1".into(),
            );
        }
        if self.max_busy_per_caller == Some(0) {
            return Err("--max-busy-per-caller must be at least 1".into());
        }
        if self.sse_keepalive.is_zero() || self.sse_idle_timeout.is_zero() {
            return Err("--sse-keepalive and --sse-idle-timeout must be positive".into());
        }
        if self.max_buffered_bytes < self.max_body {
            return Err("--max-buffered-bytes must be at least --max-body".into());
        }
        if self.max_header_size < 8192 {
            return Err("--max-header-size must be at least 8KiB".into());
        }
        let dev_identity = match self.dev_identity {
            Some(login) if login.trim().is_empty() => {
                return Err("--dev-identity needs a login, e.g. alice@example.com".into());
            }
            Some(login) => Some(User {
                display_name: self.dev_name.unwrap_or_else(|| login.clone()),
                login,
                profile_pic_url: None,
            }),
            None => None,
        };
        Ok(Config {
            listen: self.listen,
            component: self
                .component
                .map_or(ComponentSource::Embedded, ComponentSource::File),
            dev_identity,
            public_names: self.public_names,
            allowed_origins: self.allowed_origins,
            allow_funnel: self.allow_funnel,
            max_body_bytes: self.max_body,
            request_timeout: self.request_timeout,
            max_concurrent_requests: self.max_concurrent_requests,
            max_memory_bytes: self.max_memory,
            max_requests_per_caller: self.max_requests_per_caller,
            max_busy_per_caller: self
                .max_busy_per_caller
                .unwrap_or_else(config::default_max_busy_per_caller),
            max_response_bytes: self.max_response,
            max_connections: self.max_connections,
            max_buffered_bytes: self.max_buffered_bytes,
            max_header_bytes: self.max_header_size,
            client_timeout: self.client_timeout,
            fuel: self.fuel,
            shutdown_timeout: self.shutdown_timeout,
            policy: self.policy,
            audit_log: self.audit_log,
            audit_arguments: self.audit_arguments.then_some(self.audit_arguments_max),
            legacy_sse: !self.no_legacy_sse,
            sse: SseLimits {
                max_sessions: self.max_sse_sessions,
                max_sessions_per_caller: self.max_sse_sessions_per_caller,
                idle_timeout: self.sse_idle_timeout,
                keepalive: self.sse_keepalive,
            },
            allow_precompiled: self.allow_precompiled,
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir.or_else(config::default_cache_dir)
            },
            watch_interval: self.watch_interval,
        })
    }
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The server's address: HOST:PORT, or unix:/path/to/socket.
    #[arg(long, env = "TAILMCP_LISTEN", value_name = "ADDR", default_value = config::DEFAULT_LISTEN)]
    pub listen: Listen,

    /// Give up after this long.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The .wasm component to compile.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// Where to write the .cwasm (its name must end in .cwasm). Default:
    /// INPUT with the extension .cwasm.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,
}
