//! The caller of the current request, as plain Rust for tools.
//!
//! This is the only place the component calls the host's `identity` import;
//! tools receive a [`Caller`] and never see Tailscale headers (the host has
//! already removed them from the request).

use serde_json::{Map, Value};

use crate::tailmcp::host::identity;

/// Who is calling, as verified and decoded by the host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// The Tailscale user, or `None` for tagged devices and requests that did
    /// not come through `tailscale serve`.
    pub user: Option<User>,
    /// App capabilities granted by the tailnet policy: capability name → every
    /// grant object for it (the union of all matching grants).
    pub capabilities: Map<String, Value>,
}

/// A Tailscale user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Login name, e.g. `alice@example.com`. Authorize on this.
    pub login: String,
    /// Display name, e.g. `Alice Example`. For display only.
    pub display_name: String,
    /// Profile picture URL, if the identity provider has one.
    pub profile_pic_url: Option<String>,
}

impl Caller {
    /// Asks the host who sent the request this instance is handling.
    pub fn current() -> Caller {
        let caller = identity::current_caller();
        let capabilities = caller
            .capabilities
            .into_iter()
            .map(|cap| {
                // The host hands over grant objects it parsed itself, so they
                // are valid JSON; anything else is kept as a string.
                let grants = cap
                    .grants
                    .into_iter()
                    .map(|g| serde_json::from_str(&g).unwrap_or(Value::String(g)))
                    .collect();
                (cap.name, Value::Array(grants))
            })
            .collect();
        Caller {
            user: caller.user.map(|u| User {
                login: u.login,
                display_name: u.display_name,
                profile_pic_url: u.profile_pic_url,
            }),
            capabilities,
        }
    }

    /// Every grant object for capability `name` (empty when not granted).
    pub fn grants(&self, name: &str) -> &[Value] {
        match self.capabilities.get(name) {
            Some(Value::Array(grants)) => grants,
            _ => &[],
        }
    }
}
