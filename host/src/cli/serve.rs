//! `tailmcp serve`'s flags, each with its environment variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::builder::BoolishValueParser;

use crate::config::{self, parse_duration, parse_size};
use crate::listen::Listen;

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
    /// keeps serving; SIGHUP reloads too. A PATH that does not exist is an
    /// error, unless --builtin-until-present. Default: the built-in greet
    /// component.
    #[arg(long, env = "TAILMCP_COMPONENT", value_name = "PATH")]
    pub component: Option<PathBuf>,

    /// Run precompiled native code (a .cwasm from `tailmcp compile`), which
    /// is not sandboxed like a .wasm: only from a --component path ending
    /// in .cwasm, never from a .wasm path. Whoever can write that file can
    /// run code as tailmcp. Default: only .wasm, compiled from source.
    #[arg(long, env = "TAILMCP_ALLOW_PRECOMPILED", value_parser = BoolishValueParser::new())]
    pub allow_precompiled: bool,

    /// While the --component file does not exist (e.g. an empty components
    /// volume on first start), serve the built-in greet component, and the
    /// file as soon as it appears. Without this, a missing file fails the start.
    #[arg(long, env = "TAILMCP_BUILTIN_UNTIL_PRESENT", value_parser = BoolishValueParser::new())]
    pub builtin_until_present: bool,

    /// Directory for compiled components, so restarts and swaps back to a
    /// known version skip compilation. The only place tailmcp writes. It
    /// must be writable by tailmcp's user only (else it is not used).
    /// Default: $XDG_CACHE_HOME/tailmcp or ~/.cache/tailmcp.
    #[arg(long, env = "TAILMCP_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Do not cache compiled components.
    #[arg(long, env = "TAILMCP_NO_CACHE", value_parser = BoolishValueParser::new())]
    pub no_cache: bool,

    /// How often to check the --component file for changes where file
    /// notifications do not work (some bind mounts); notifications are immediate.
    #[arg(long, env = "TAILMCP_WATCH_INTERVAL", value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub watch_interval: Duration,

    /// DEVELOPMENT ONLY: treat requests without Tailscale identity as coming
    /// from this login, so you can try tools without a tailnet. Allowed only
    /// on a loopback TCP --listen address, and never applied to a request
    /// that carries X-Forwarded-For or any Tailscale identity (so a request
    /// through `tailscale serve` is always its real caller).
    #[arg(long, env = "TAILMCP_DEV_IDENTITY", value_name = "LOGIN")]
    pub dev_identity: Option<String>,

    /// DEVELOPMENT ONLY: app capabilities (grants) for the dev caller, as
    /// JSON in the Tailscale-App-Capabilities form, e.g.
    /// '{"example.com/cap/tailmcp":[{"role":"admin"}]}'. Same rules as
    /// --dev-identity.
    #[arg(long, env = "TAILMCP_DEV_GRANT", value_name = "JSON")]
    pub dev_grant: Option<String>,

    /// DEVELOPMENT ONLY: the dev caller is a tagged device: no user, only
    /// the --dev-grant capabilities. Same rules as --dev-identity.
    #[arg(
        long,
        env = "TAILMCP_DEV_TAGGED",
        value_parser = BoolishValueParser::new()
    )]
    pub dev_tagged: bool,

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
    #[arg(long, env = "TAILMCP_ALLOW_FUNNEL", value_parser = BoolishValueParser::new())]
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
    #[arg(long, env = "TAILMCP_AUDIT_ARGUMENTS", value_parser = BoolishValueParser::new())]
    pub audit_arguments: bool,

    /// With --audit-arguments, cut arguments to this much JSON.
    #[arg(long, env = "TAILMCP_AUDIT_ARGUMENTS_MAX", value_name = "SIZE", default_value = "1KiB", value_parser = parse_size)]
    pub audit_arguments_max: usize,

    /// Do not serve the legacy HTTP+SSE transport (GET /sse, POST /messages),
    /// which older clients and `mcp-remote --transport sse-only` use.
    #[arg(long, env = "TAILMCP_NO_LEGACY_SSE", value_parser = BoolishValueParser::new())]
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
