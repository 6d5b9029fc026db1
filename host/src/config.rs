//! The server's validated configuration and its defaults. The CLI
//! (`cli.rs`) builds one [`Config`]; tests build them directly.

use std::path::PathBuf;
use std::time::Duration;

use crate::identity::Caller;
use crate::listen::Listen;
use crate::sse::SseLimits;

/// Default listening address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default largest request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default deadline for one request in the component.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of requests running in components at once.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u32 = 128;
/// Default share of the concurrent requests one caller may hold.
pub const DEFAULT_MAX_REQUESTS_PER_CALLER: u32 = 32;
/// Default busy slots per caller (guests still computing at an epoch tick,
/// at once): half the cores, at least one. Its further busy guests wait
/// their turn until their deadline, so one caller's busy tools leave the
/// other cores to everyone else; quick calls never wait.
pub fn default_max_busy_per_caller() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    u32::try_from(cores / 2).unwrap_or(u32::MAX).max(1)
}
/// Default largest response a component may send.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Default number of open client connections: four per concurrent request,
/// and with the server's own files still under the common soft limit of
/// 1024 open files.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 512;
/// Default total of request bodies held in memory at once: 64 full 1 MiB
/// bodies. With the instance pool, the connections' buffers and the rest,
/// the host stays well inside a 1 GiB container.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 64 * 1024 * 1024;
/// Default largest request head.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// Default time a client may take to send its request head and body.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time in-flight requests get to finish on shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limits of the legacy HTTP+SSE transport.
pub const DEFAULT_SSE_LIMITS: SseLimits = SseLimits {
    max_sessions: 256,
    max_sessions_per_caller: 8,
    idle_timeout: Duration::from_secs(30 * 60),
    keepalive: Duration::from_secs(15),
};
/// Default linear memory limit of one component instance.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 64 * 1024 * 1024;

/// Default poll interval for the component file (notifications are immediate).
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// The default compiled-component cache: `$XDG_CACHE_HOME/tailmcp` or `~/.cache/tailmcp`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("tailmcp"))
}

/// Which component to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentSource {
    /// The greet component built into the binary.
    Embedded,
    /// A `.wasm` component file (or, with `--allow-precompiled`, a `.cwasm`
    /// from `tailmcp compile`), watched and swapped in when it changes.
    File(PathBuf),
}

/// Everything `tailmcp serve` needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Listen,
    pub component: ComponentSource,
    /// Serve the embedded component while the component file is missing
    /// (otherwise a missing file fails the start).
    pub builtin_until_present: bool,
    /// Caller given to requests that carry no identity and did not come
    /// through a proxy (development only, loopback TCP only).
    pub dev_caller: Option<Caller>,
    /// Names clients may use to reach the server; empty means any.
    pub public_names: Vec<String>,
    /// Browser origins allowed to call; `*` allows any.
    pub allowed_origins: Vec<String>,
    /// Serve requests that came from the public internet through Funnel.
    pub allow_funnel: bool,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_concurrent_requests: u32,
    pub max_memory_bytes: usize,
    pub max_requests_per_caller: u32,
    /// Of one caller's guests, how many may be busy (still computing at an
    /// epoch tick) at once; the others wait their turn.
    pub max_busy_per_caller: u32,
    pub max_response_bytes: usize,
    pub max_connections: u32,
    /// Request body bytes held in memory at once, over all requests; a
    /// request that would go over gets 503 (a caller over its share, 429).
    pub max_buffered_bytes: usize,
    /// Largest request head (request line and headers); larger gets 431.
    pub max_header_bytes: usize,
    /// Time a client may take to send its request head, and its body.
    pub client_timeout: Duration,
    /// Fuel per request (roughly, wasm instructions); `None` means unmetered.
    pub fuel: Option<u64>,
    pub shutdown_timeout: Duration,
    /// The tool policy file; `None`: every caller may use every tool.
    pub policy: Option<PathBuf>,
    /// Where the audit log goes; `None`: no audit log.
    pub audit_log: Option<crate::audit::Destination>,
    /// Record tool arguments in the audit log, cut to this many bytes.
    pub audit_arguments: Option<usize>,
    /// Serve the legacy HTTP+SSE transport at /sse and /messages.
    pub legacy_sse: bool,
    pub sse: SseLimits,
    /// Load precompiled native code, from a `.cwasm` component path only.
    pub allow_precompiled: bool,
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// How often the component file is checked where notifications are missing.
    pub watch_interval: Duration,
}

impl Config {
    /// The defaults, serving the embedded component on `listen`.
    pub fn new(listen: Listen) -> Config {
        Config {
            listen,
            component: ComponentSource::Embedded,
            builtin_until_present: false,
            dev_caller: None,
            public_names: Vec::new(),
            allowed_origins: Vec::new(),
            allow_funnel: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_requests_per_caller: DEFAULT_MAX_REQUESTS_PER_CALLER,
            max_busy_per_caller: default_max_busy_per_caller(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            client_timeout: DEFAULT_CLIENT_TIMEOUT,
            fuel: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            policy: None,
            audit_log: None,
            audit_arguments: None,
            legacy_sse: true,
            sse: DEFAULT_SSE_LIMITS,
            allow_precompiled: false,
            cache_dir: None,
            watch_interval: DEFAULT_WATCH_INTERVAL,
        }
    }
}

/// Parses a duration: one or more `<number><unit>` parts with units `ms`,
/// `s`, `m` and `h`, e.g. `250ms`, `30s`, `1m30s`, `1h`. A bare number is
/// refused rather than guessed at (seconds? milliseconds?).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("empty duration: give one like 500ms, 30s, 1m30s or 1h".into());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` has no unit: add one, e.g. {text}s (seconds) or {text}ms (milliseconds)"
        ));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let (number, unit) = (&rest[..digits], &rest[digits..digits + unit_len]);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration like 500ms, 30s, 1m30s or 1h"))?;
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            _ => {
                return Err(format!(
                    "`{text}`: unknown unit `{unit}` (use ms, s, m or h)"
                ));
            }
        };
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("`{text}` is too long"))?;
        rest = &rest[digits + unit_len..];
    }
    Ok(total)
}

/// Parses `65536`, `512KiB`, `64MiB` or `1GiB`.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: usize = number
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 65536, 512KiB or 64MiB"))?;
    let scale: usize = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}`: unknown unit `{unit}` (use KiB, MiB or GiB)"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(
            parse_duration("1h2m3s4ms"),
            Ok(Duration::from_millis(3_723_004))
        );
        let bare = parse_duration("7").unwrap_err();
        assert!(bare.contains("add one"), "{bare}");
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("1MB").is_err());
    }
}
