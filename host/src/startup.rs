//! Starting up: the component to serve first, the tool policy and audit log,
//! and the warnings an operator must see before the server says it is
//! listening.

use wasmtime::Result;
use wasmtime::error::Context;

use crate::audit::AuditLog;
use crate::config::{ComponentSource, Config};
use crate::engine::Loaded;
use crate::identity::Trust;
use crate::policy::Policy;
use crate::reload::{self, Loader};

/// The greet component, built from `component/` by `build.rs`.
pub static EMBEDDED_COMPONENT: &[u8] = include_bytes!(env!("TAILMCP_EMBEDDED_COMPONENT"));

/// The component to start with. A `--component` file that does not exist
/// is an error (a typo must not quietly serve greet with a healthy
/// `/healthz`), unless `--builtin-until-present` asks for the built-in
/// component until the file appears (an empty `components/` volume). A file
/// that is refused (say, precompiled code at a `.wasm` path) stops the server
/// from starting.
pub fn initial_component(
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
pub fn warn_about_precompiled(config: &Config) {
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

/// Says what an operator must know about identity on this `config`: a
/// listener that ignores it, or the development caller standing in for it.
pub fn warn_about_identity(config: &Config) {
    if config.listen.trust() == Trust::Ignore {
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
}

/// The tool policy and audit log `config` names, opened (an error stops the start).
pub fn policy_and_audit(config: &Config) -> Result<(Option<Policy>, Option<AuditLog>)> {
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
    Ok((policy, audit))
}
