//! What every request handler shares: the configuration, the active
//! component, the admission and body-budget counters, the legacy SSE
//! sessions, the tool policy in force and the audit log.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::audit::AuditLog;
use crate::config::Config;
use crate::limits::{Admission, Budget};
use crate::policy::Policy;
use crate::reload::Active;
use crate::sse::Sessions;

/// What every request handler shares.
pub struct App {
    pub config: Config,
    /// The component new requests run on; swapped by `reload.rs`.
    pub component: Arc<Active>,
    /// Requests running in components, in total and per caller.
    pub admission: Admission,
    /// Request body bytes held in memory, in total and per caller.
    pub budget: Budget,
    /// Open legacy HTTP+SSE sessions.
    pub sessions: Arc<Sessions>,
    /// Who may see and call which tools; `None`: everyone, everything.
    policy: Option<ArcSwap<Policy>>,
    /// One line per tools/call, when configured.
    pub audit: Option<AuditLog>,
}

impl App {
    pub fn new(
        config: Config,
        component: Arc<Active>,
        policy: Option<Policy>,
        audit: Option<AuditLog>,
    ) -> App {
        let admission = Admission::new(
            config.max_concurrent_requests,
            config.max_requests_per_caller,
            config.max_busy_per_caller,
        );
        let budget = Budget::new(
            config.max_buffered_bytes,
            Budget::caller_share(
                config.max_buffered_bytes,
                config.max_body_bytes,
                config.max_requests_per_caller,
                config.max_concurrent_requests,
            ),
        );
        let sessions = Sessions::new(config.sse);
        App {
            config,
            component,
            admission,
            budget,
            sessions,
            policy: policy.map(ArcSwap::from_pointee),
            audit,
        }
    }

    /// The tool policy in force for a request that starts now.
    pub fn policy(&self) -> Option<Arc<Policy>> {
        self.policy.as_ref().map(ArcSwap::load_full)
    }

    /// Replaces the tool policy (only when one was configured at start).
    pub fn set_policy(&self, policy: Policy) {
        if let Some(current) = &self.policy {
            current.store(Arc::new(policy));
        }
    }
}
