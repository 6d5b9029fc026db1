//! The MCP method table: every method tailmcp knows, once. The component
//! dispatches, checks 2026-07-28 headers and adds caching hints from it; the
//! host reads the tool a request names from it.
//!
//! | method                     | kind         | eras   | needs         | cacheable | target          |
//! |----------------------------|--------------|--------|---------------|-----------|-----------------|
//! | `initialize`, `ping`       | request      | legacy |               |           |                 |
//! | `server/discover`          | request      | modern |               | yes       |                 |
//! | `tools/list`               | request      | both   | `tools`       | yes       |                 |
//! | `tools/call`               | request      | both   | `tools`       |           | tool (`name`)   |
//! | `resources/list`, `resources/templates/list` | request | both | `resources` | yes |            |
//! | `resources/read`           | request      | both   | `resources`   | yes       | resource (`uri`) |
//! | `prompts/list`             | request      | both   | `prompts`     | yes       |                 |
//! | `prompts/get`              | request      | both   | `prompts`     |           | prompt (`name`) |
//! | `completion/complete`      | request      | both   | `completions` |           |                 |
//! | `notifications/initialized`| notification | legacy |               |           |                 |
//! | `notifications/cancelled`  | notification | both   |               |           |                 |
//!
//! A method not in the table (`logging/setLevel`, `resources/subscribe`,
//! ...) is not served in any era.

use serde_json::Value;

use crate::version::Era;

/// A request method: what the component has a handler for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Initialize,
    Ping,
    Discover,
    ToolsList,
    ToolsCall,
    ResourcesList,
    ResourceTemplatesList,
    ResourcesRead,
    PromptsList,
    PromptsGet,
    Complete,
}

/// A notification a client may send: acknowledged, never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notification {
    Initialized,
    Cancelled,
}

/// Whether a method is a request (it gets a response) or a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request(Method),
    Notification(Notification),
}

/// The protocol eras that have a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eras {
    /// 2024-11-05 … 2025-11-25 only (2026-07-28 removed it).
    Legacy,
    /// 2026-07-28 only.
    Modern,
    Both,
}

impl Eras {
    /// Whether `era` has the method.
    pub const fn include(self, era: Era) -> bool {
        matches!(
            (self, era),
            (Eras::Both, _) | (Eras::Legacy, Era::Legacy) | (Eras::Modern, Era::Modern)
        )
    }
}

/// A server capability, as `initialize` and `server/discover` declare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Tools,
    Resources,
    Prompts,
    Completions,
}

impl Capability {
    /// The capability's key in `capabilities`.
    pub const fn name(self) -> &'static str {
        match self {
            Capability::Tools => "tools",
            Capability::Resources => "resources",
            Capability::Prompts => "prompts",
            Capability::Completions => "completions",
        }
    }
}

/// What a method acts on, named by one of its params: what the host's
/// policy judges (a tool) and what the 2026-07-28 `Mcp-Name` header repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Tool,
    Prompt,
    Resource,
}

impl Target {
    /// The param that names the target.
    pub const fn field(self) -> &'static str {
        match self {
            Target::Tool | Target::Prompt => "name",
            Target::Resource => "uri",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The JSON-RPC `method`.
    pub name: &'static str,
    pub kind: Kind,
    pub eras: Eras,
    /// The server capability it needs; `None` for the lifecycle.
    pub needs: Option<Capability>,
    /// Whether a 2026-07-28 result carries `ttlMs` and `cacheScope`.
    pub cacheable: bool,
    /// Which param names what it acts on.
    pub target: Option<Target>,
}

impl Spec {
    /// The request method, or `None` for a notification.
    pub const fn request(&self) -> Option<Method> {
        match self.kind {
            Kind::Request(method) => Some(method),
            Kind::Notification(_) => None,
        }
    }

    /// The target `params` names (a string at [`Target::field`]), if any.
    pub fn target_in<'a>(&self, params: Option<&'a Value>) -> Option<&'a str> {
        let field = self.target?.field();
        params?.get(field)?.as_str()
    }
}

const fn request(name: &'static str, method: Method, eras: Eras) -> Spec {
    Spec {
        name,
        kind: Kind::Request(method),
        eras,
        needs: None,
        cacheable: false,
        target: None,
    }
}

const fn notification(name: &'static str, notification: Notification, eras: Eras) -> Spec {
    Spec {
        kind: Kind::Notification(notification),
        ..request(name, Method::Ping, eras)
    }
}

/// A request of both eras that needs `capability`.
const fn needs(name: &'static str, method: Method, capability: Capability) -> Spec {
    Spec {
        needs: Some(capability),
        ..request(name, method, Eras::Both)
    }
}

const fn cacheable(spec: Spec) -> Spec {
    Spec {
        cacheable: true,
        ..spec
    }
}

const fn targets(spec: Spec, target: Target) -> Spec {
    Spec {
        target: Some(target),
        ..spec
    }
}

use Capability as C;
use Method as M;

/// Every method, in the order of the module docs.
pub static METHODS: &[Spec] = &[
    request("initialize", M::Initialize, Eras::Legacy),
    request("ping", M::Ping, Eras::Legacy),
    cacheable(request("server/discover", M::Discover, Eras::Modern)),
    cacheable(needs("tools/list", M::ToolsList, C::Tools)),
    targets(needs("tools/call", M::ToolsCall, C::Tools), Target::Tool),
    cacheable(needs("resources/list", M::ResourcesList, C::Resources)),
    cacheable(needs(
        "resources/templates/list",
        M::ResourceTemplatesList,
        C::Resources,
    )),
    cacheable(targets(
        needs("resources/read", M::ResourcesRead, C::Resources),
        Target::Resource,
    )),
    cacheable(needs("prompts/list", M::PromptsList, C::Prompts)),
    targets(
        needs("prompts/get", M::PromptsGet, C::Prompts),
        Target::Prompt,
    ),
    needs("completion/complete", M::Complete, C::Completions),
    notification(
        "notifications/initialized",
        Notification::Initialized,
        Eras::Legacy,
    ),
    notification(
        "notifications/cancelled",
        Notification::Cancelled,
        Eras::Both,
    ),
];

/// The row of method `name`; `None` for a method not in the table.
pub fn lookup(name: &str) -> Option<&'static Spec> {
    METHODS.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests;
