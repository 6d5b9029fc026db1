//! The tool registry. Writing a tool is one file in this folder and one line
//! in [`TOOLS`]; see `greet.rs` for the shape.

pub(crate) mod greet;
pub(crate) mod whoami;

use std::sync::Arc;

use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, ErrorData, JsonObject, Tool as ToolDefinition,
    ToolAnnotations,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use crate::caller::{Caller, User};
pub use crate::input::Input;

/// Every tool this component serves, in the order `tools/list` shows them.
pub static TOOLS: &[Registered] = &[register::<greet::Greet>(), register::<whoami::Whoami>()];

/// An MCP tool: a name, a definition for `tools/list`, and a call.
pub trait Tool {
    /// The tool's name, unique in [`TOOLS`].
    const NAME: &'static str;
    /// The arguments, deserialized from `tools/call` `arguments`. Arguments
    /// that do not deserialize give the model an `isError` result saying why.
    type Args: DeserializeOwned;
    /// Client capabilities the tool needs, by name (e.g. `"sampling"`). A
    /// 2026-07-28 request that does not declare one of them in its `_meta`
    /// is refused with -32021 before the tool runs. (Legacy clients declare
    /// capabilities once, at `initialize`, which a stateless server does not
    /// keep; their requests are not checked.)
    const CLIENT_CAPABILITIES: &'static [&'static str] = &[];
    /// What `tools/list` shows for this tool.
    fn definition() -> ToolDefinition;
    /// Runs the tool for `caller`.
    fn call(caller: &Caller, args: Self::Args) -> CallToolResult;
    /// Runs a tool that may ask the client for input first (elicitation,
    /// sampling, roots): it answers `CallToolResponse::InputRequired`, and
    /// the client calls again with its answers in `input`. Only 2026-07-28
    /// clients can be asked (`input.can_ask`); for others, an `InputRequired`
    /// answer becomes a tool error. `Err` refuses the request outright, e.g.
    /// a `requestState` that fails verification (-32602). By default:
    /// [`Tool::call`].
    fn respond(
        caller: &Caller,
        args: Self::Args,
        input: &Input,
    ) -> Result<CallToolResponse, ErrorData> {
        let _ = input;
        Ok(Self::call(caller, args).into())
    }
}

/// A tool in the registry, type-erased.
pub struct Registered {
    pub name: &'static str,
    pub client_capabilities: &'static [&'static str],
    pub definition: fn() -> ToolDefinition,
    pub call: fn(&Caller, JsonObject, &Input) -> Result<CallToolResponse, ErrorData>,
}

/// The registry entry for tool `T`.
pub const fn register<T: Tool>() -> Registered {
    Registered {
        name: T::NAME,
        client_capabilities: T::CLIENT_CAPABILITIES,
        definition: T::definition,
        call: call_typed::<T>,
    }
}

fn call_typed<T: Tool>(
    caller: &Caller,
    arguments: JsonObject,
    input: &Input,
) -> Result<CallToolResponse, ErrorData> {
    match serde_json::from_value(Value::Object(arguments)) {
        Ok(args) => T::respond(caller, args, input),
        Err(e) => Ok(error(format!("Invalid arguments for tool {}: {e}", T::NAME)).into()),
    }
}

// Small helpers so a tool file reads like its description.

/// A JSON Schema object from a `json!` literal.
pub fn schema(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(object) => Arc::new(object),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The input schema of a tool that takes no arguments.
pub fn no_arguments() -> Arc<JsonObject> {
    schema(serde_json::json!({ "type": "object", "additionalProperties": false }))
}

/// Annotations for a tool that only reads.
pub fn read_only() -> ToolAnnotations {
    ToolAnnotations::new().read_only(true)
}

/// A successful result: `text` for the model, `structured` for programs.
pub fn structured(text: impl Into<String>, structured: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

/// A tool error the model should see (`isError: true`).
pub fn error(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}
