//! The command line: `tailmcp serve` and `tailmcp health`. Every flag has an
//! environment variable fallback, so containers can be configured with env.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, ComponentSource, Config, parse_duration, parse_size};
use crate::identity::{Caller, User};
use crate::listen::Listen;
use crate::sse::SseLimits;

/// tailmcp: an identity-aware MCP server for Tailscale networks.
///
/// Serves a WebAssembly component as an MCP Streamable HTTP endpoint at
/// /mcp, behind `tailscale serve`, and tells each tool who is calling.
#[derive(Debug, Parser)]
#[command(version, about, long_about, after_help = ENV_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Shown after `--help`: what every flag's environment variable accepts,
/// and the log filter, which is not a flag.
const ENV_HELP: &str = "\
Every flag can also be set by its environment variable (shown as [env: ...]).
On/off flags take 1/0, true/false, yes/no or on/off there.
Durations: 250ms, 30s, 2m, 1h, 1m30s (a unit is required).
Sizes: 65536, 512KiB, 64MiB, 1GiB.
Logging: RUST_LOG sets the log filter (default: info), e.g. RUST_LOG=debug or
RUST_LOG=info,tailmcp::access=warn to hide the per-request access lines.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the MCP endpoint (/mcp) and a health check (/healthz).
    #[command(after_help = ENV_HELP)]
    Serve(Box<ServeArgs>),
    /// Probe a running server's /healthz; exit 0 if it is healthy, 1 if not.
    Health(HealthArgs),
    /// Precompile a .wasm component to a .cwasm that `serve
    /// --allow-precompiled` loads in about a millisecond (same tailmcp
    /// version and engine settings only).
    Compile(CompileArgs),
    /// Check a tool policy file, or explain what it lets one caller do.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Report mistakes: wrong value types (with line numbers), tool names
    /// the component does not offer, rules that can never match. Exit 0
    /// only when there are none.
    Check {
        /// The policy file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The component whose tools/list names the known tools.
        /// Default: the built-in greet component.
        #[arg(long, value_name = "PATH")]
        component: Option<PathBuf>,
    },
    /// Print which tools a caller sees and which rule allows each.
    Explain {
        /// The policy file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The component whose tools to go through. Default: the built-in one.
        #[arg(long, value_name = "PATH")]
        component: Option<PathBuf>,
        /// The caller's login.
        #[arg(long = "as", value_name = "LOGIN", required_unless_present = "tagged")]
        login: Option<String>,
        /// The caller's display name (default: the login).
        #[arg(long, value_name = "NAME", requires = "login")]
        name: Option<String>,
        /// The caller's capabilities, as JSON in the
        /// Tailscale-App-Capabilities form.
        #[arg(long, value_name = "JSON")]
        grant: Option<String>,
        /// The caller is a tagged device: no user, only --grant.
        #[arg(long, conflicts_with = "login", requires = "grant")]
        tagged: bool,
    },
}

impl PolicyCommand {
    /// The caller `explain` is about.
    pub fn caller(
        login: Option<String>,
        name: Option<String>,
        grant: Option<&str>,
    ) -> Result<Caller, String> {
        let capabilities = match grant {
            Some(json) => {
                crate::identity::parse_capabilities(json).map_err(|e| format!("--grant: {e}"))?
            }
            None => Default::default(),
        };
        Ok(Caller {
            user: login.map(|login| User {
                display_name: name.unwrap_or_else(|| login.clone()),
                login,
                profile_pic_url: None,
            }),
            capabilities,
            peer: None,
        })
    }
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
        // Checked here rather than by clap: an env var set to 0 is present
        // to clap, and must not conflict with anything.
        if self.no_cache && self.cache_dir.is_some() {
            return Err("--no-cache and --cache-dir contradict each other; give one".into());
        }
        if self.audit_arguments && self.audit_log.is_none() {
            return Err("--audit-arguments needs --audit-log".into());
        }
        let dev_caller = dev_caller(
            self.dev_identity,
            self.dev_name,
            self.dev_grant.as_deref(),
            self.dev_tagged,
            &self.listen,
        )?;
        // An empty TAILMCP_PUBLIC_NAMES (compose leaves it empty when no
        // tailnet name is given) means no name check, not "no name allowed".
        let mut public_names = self.public_names;
        public_names.retain(|name| !name.trim().is_empty());
        Ok(Config {
            listen: self.listen,
            component: self
                .component
                .map_or(ComponentSource::Embedded, ComponentSource::File),
            builtin_until_present: self.builtin_until_present,
            dev_caller,
            public_names,
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

/// The caller requests without identity become (`--dev-identity`,
/// `--dev-grant`, `--dev-tagged`), refused anywhere but on loopback TCP:
/// behind `tailscale serve` on a unix socket every tagged device would
/// become the dev caller, and on a tailnet address every peer would.
fn dev_caller(
    login: Option<String>,
    name: Option<String>,
    grant: Option<&str>,
    tagged: bool,
    listen: &crate::listen::Listen,
) -> Result<Option<Caller>, String> {
    let capabilities = match grant {
        Some(json) => crate::identity::parse_capabilities(json).map_err(|e| {
            format!(
                "--dev-grant: {e}; expected e.g. '{{\"example.com/cap/tailmcp\":[{{\"role\":\"admin\"}}]}}'"
            )
        })?,
        None => Default::default(),
    };
    let user = match login {
        Some(login) if login.trim().is_empty() => {
            return Err("--dev-identity needs a login, e.g. alice@example.com".into());
        }
        Some(_) if tagged => {
            return Err(
                "--dev-tagged is a device without a user: give it --dev-grant, not --dev-identity"
                    .into(),
            );
        }
        Some(login) => Some(User {
            display_name: name.unwrap_or_else(|| login.clone()),
            login,
            profile_pic_url: None,
        }),
        None if name.is_some() => return Err("--dev-name needs --dev-identity".into()),
        None => None,
    };
    if tagged && capabilities.is_empty() {
        return Err(
            "--dev-tagged needs --dev-grant (a tagged device is known only by its grants)".into(),
        );
    }
    if user.is_none() && !tagged {
        if grant.is_some() {
            return Err(
                "--dev-grant needs --dev-identity LOGIN (a user) or --dev-tagged (a tagged device)"
                    .into(),
            );
        }
        return Ok(None);
    }
    match listen {
        crate::listen::Listen::Tcp(addr) if addr.ip().is_loopback() => {}
        other => {
            return Err(format!(
                "--dev-identity, --dev-grant and --dev-tagged are allowed only on a loopback \
                 TCP address such as 127.0.0.1:8080, not {other}: behind tailscale serve or on \
                 a tailnet address every caller without identity would get the dev identity"
            ));
        }
    }
    Ok(Some(Caller {
        user,
        capabilities,
        peer: None,
    }))
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
