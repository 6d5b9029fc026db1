//! `tailmcp serve`'s flags, checked and made into a [`Config`].

use super::ServeArgs;
use crate::config::{self, ComponentSource, Config};
use crate::identity::{Caller, User};
use crate::listen::Listen;
use crate::sse::SseLimits;

impl ServeArgs {
    /// Validates the flags into a [`Config`].
    pub fn into_config(self) -> Result<Config, String> {
        self.check()?;
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

    /// Limits and flags that contradict each other, before anything is built.
    fn check(&self) -> Result<(), String> {
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
        Ok(())
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
    listen: &Listen,
) -> Result<Option<Caller>, String> {
    let capabilities = match grant {
        Some(json) => crate::identity::parse_capabilities(json).map_err(|e| {
            format!(
                "--dev-grant: {e}; expected e.g. '{{\"example.com/cap/tailmcp\":[{{\"role\":\"admin\"}}]}}'"
            )
        })?,
        None => Default::default(),
    };
    let user = dev_user(login, name, tagged)?;
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
        Listen::Tcp(addr) if addr.ip().is_loopback() => {}
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

/// The dev caller's user (`--dev-identity`, `--dev-name`), if it has one.
fn dev_user(
    login: Option<String>,
    name: Option<String>,
    tagged: bool,
) -> Result<Option<User>, String> {
    Ok(match login {
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
    })
}
