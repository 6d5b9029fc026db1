//! What a request brings a tool or prompt besides its arguments: the
//! client's declared capabilities and its answers to earlier questions.

use std::collections::BTreeMap;

use rmcp::model::JsonObject;

/// What a 2026-07-28 request carries besides its method and arguments: the
/// client capabilities it declares and, when the client retries a request
/// that was answered `input_required` (SEP-2322, "multi round-trip
/// requests"), its answers and the state the server asked it to echo.
/// 2025 requests carry none of it, and cannot be asked for input: a server
/// has no way to reach a 2025 client mid-request without a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Input {
    /// Whether an `input_required` answer can reach this client (2026-07-28).
    pub can_ask: bool,
    /// The client capabilities declared in `_meta` (2026-07-28 only).
    pub client_capabilities: JsonObject,
    /// `inputResponses`: the key of each input request answered, and the
    /// client's result for it (`ElicitResult`, `CreateMessageResult`, ...).
    pub responses: BTreeMap<String, JsonObject>,
    /// `requestState` as echoed by the client. Untrusted: a server that keeps
    /// anything meaningful in it must check its integrity.
    pub request_state: Option<String>,
}

impl Input {
    /// Whether the client declared capability `name` (e.g. `"elicitation"`).
    pub fn declares(&self, name: &str) -> bool {
        self.client_capabilities.contains_key(name)
    }

    /// The client's answer to the input request `key`, if it sent one.
    pub fn response(&self, key: &str) -> Option<&JsonObject> {
        self.responses.get(key)
    }
}
