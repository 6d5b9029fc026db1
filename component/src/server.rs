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
        if self.resources.is_some() {
            capabilities.resources = Some(ResourcesCapability::default());
        }
        if self.prompts.is_some() {
            capabilities.prompts = Some(PromptsCapability::default());
        }
        if self.completions.is_some() {
            capabilities.completions = Some(JsonObject::new());
        }
        capabilities
    }

    /// The tool registered under `name`.
    pub fn tool(&self, name: &str) -> Option<&'static Registered> {
        self.tools.iter().find(|tool| tool.name == name)
    }
}
