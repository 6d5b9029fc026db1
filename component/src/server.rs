//! What an MCP server built on this crate serves: its name, its tools and,
//! optionally, resources, prompts and completions. The greet component is one
//! [`Server`] (`crate::SERVER`); the conformance fixture in `tests/fixtures`
//! is another, served by the same transport, era and dispatch code.
//!
//! Everything here is plain data and function pointers, so a server is a
//! `static` and each request reads it without setup.

use rmcp::model::{
    CompleteRequestParams, CompletionInfo, ErrorData, GetPromptResponse, Implementation,
    JsonObject, Prompt, PromptsCapability, Resource, ResourceContents, ResourceTemplate,
    ResourcesCapability, ServerCapabilities, ToolsCapability,
};

use tailmcp_protocol::methods::{Capability, Kind, Spec, lookup};
use tailmcp_protocol::version::Era;

use crate::caller::Caller;
use crate::input::Input;
use crate::tools::Registered;

/// An MCP server: identity, instructions and what it serves.
pub struct Server {
    /// `serverInfo.name`.
    pub name: &'static str,
    /// `serverInfo.title`.
    pub title: &'static str,
    /// `serverInfo.version`.
    pub version: &'static str,
    /// Guidance a client may add to the model's system prompt.
    pub instructions: Option<&'static str>,
    /// The tools, in `tools/list` order.
    pub tools: &'static [Registered],
    /// Resources; `None` leaves out the capability and its methods.
    pub resources: Option<Resources>,
    /// Prompts; `None` leaves out the capability and its methods.
    pub prompts: Option<Prompts>,
    /// Argument completion (`completion/complete`); `None` leaves it out.
    pub completions: Option<Complete>,
}

/// Suggests values for a prompt or resource-template argument.
pub type Complete = fn(&CompleteRequestParams) -> Result<CompletionInfo, ErrorData>;

/// The resources a server serves.
pub struct Resources {
    /// Direct resources, for `resources/list`.
    pub list: fn() -> Vec<Resource>,
    /// Resource templates, for `resources/templates/list`.
    pub templates: fn() -> Vec<ResourceTemplate>,
    /// The contents of the resource at `uri`, or `None` if there is none
    /// (the error code for that differs between protocol eras, so the
    /// dispatcher writes it).
    pub read: fn(&Caller, &str) -> Option<Vec<ResourceContents>>,
}

/// The prompts a server serves.
pub struct Prompts {
    /// Every prompt, for `prompts/list`.
    pub list: fn() -> Vec<Prompt>,
    /// Renders prompt `name` with `arguments`, or asks the client for input
    /// first (see [`Input`]); an unknown prompt or bad arguments is an error
    /// (-32602).
    pub get: fn(&Caller, &str, JsonObject, &Input) -> Result<GetPromptResponse, ErrorData>,
}

impl Server {
    /// `serverInfo` (legacy `initialize`) and `_meta` `serverInfo` (2026-07-28).
    pub fn info(&self) -> Implementation {
        let mut info = Implementation::new(self.name, self.version);
        info.title = Some(self.title.into());
        info
    }

    /// The capabilities this server declares, the same in both eras.
    pub fn capabilities(&self) -> ServerCapabilities {
        let mut capabilities = ServerCapabilities::default();
        capabilities.tools = Some(ToolsCapability::default());
        if self.has(Capability::Resources) {
            capabilities.resources = Some(ResourcesCapability::default());
        }
        if self.has(Capability::Prompts) {
            capabilities.prompts = Some(PromptsCapability::default());
        }
        if self.has(Capability::Completions) {
            capabilities.completions = Some(JsonObject::new());
        }
        capabilities
    }

    /// Whether this server has `capability` (every server has tools).
    pub fn has(&self, capability: Capability) -> bool {
        match capability {
            Capability::Tools => true,
            Capability::Resources => self.resources.is_some(),
            Capability::Prompts => self.prompts.is_some(),
            Capability::Completions => self.completions.is_some(),
        }
    }

    /// The method table's row for request `method` if this server answers
    /// it in `era`; `None` means method not found.
    pub fn serves(&self, era: Era, method: &str) -> Option<&'static Spec> {
        lookup(method).filter(|spec| {
            matches!(spec.kind, Kind::Request(_))
                && spec.eras.include(era)
                && spec.needs.is_none_or(|capability| self.has(capability))
        })
    }

    /// The tool registered under `name`.
    pub fn tool(&self, name: &str) -> Option<&'static Registered> {
        self.tools.iter().find(|tool| tool.name == name)
    }
}
