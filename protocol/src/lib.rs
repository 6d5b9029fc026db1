//! What the tailmcp host and its MCP component both need to know about MCP,
//! written once:
//!
//! - [`methods`]: the method table. Per method: its name, which protocol
//!   eras serve it, the server capability it needs, whether a 2026-07-28
//!   result is cacheable, and which param names its target (the tool of a
//!   `tools/call`, the URI of a `resources/read`). The component's dispatch,
//!   its 2026-07-28 checks and its caching hints, and the host's reading of a
//!   request body, all look methods up here.
//! - [`version`]: the protocol-version model: the two eras, the revisions
//!   served in each, and what `initialize` negotiates.
//! - [`meta`]: the `_meta` keys of a 2026-07-28 request and result.
//!
//! Plain data and `serde_json` only, so the host stays light and the
//! component builds it for wasm32-wasip2.

pub mod meta;
pub mod methods;
pub mod version;

pub use methods::{Capability, Eras, Kind, METHODS, Method, Notification, Spec, Target, lookup};
pub use version::Era;
