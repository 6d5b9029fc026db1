//! The tool registry. Writing a tool is one file in this folder and one line
//! in [`TOOLS`]; see `greet.rs` for the shape.

mod greet;

use std::sync::Arc;

use rmcp::model::{
    CallToolResult, ContentBlock, JsonObject, Tool as ToolDefinition, ToolAnnotations,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use crate::caller::{Caller, User};

/// Every tool this component serves, in the order `tools/list` shows them.
pub static TOOLS: &[Registered] = &[register::<greet::Greet>()];

/// An MCP tool: a name, a definition for `tools/list`, and a call.
pub trait Tool {
    /// The tool's name, unique in [`TOOLS`].
    const NAME: &'static str;
    /// The arguments, deserialized from `tools/call` `arguments`. Arguments
    /// that do not deserialize give the model an `isError` result saying why.
    type Args: DeserializeOwned;
    /// What `tools/list` shows for this tool.
    fn definition() -> ToolDefinition;
    /// Runs the tool for `caller`.
    fn call(caller: &Caller, args: Self::Args) -> CallToolResult;
}

/// A tool in the registry, type-erased.
pub struct Registered {
    pub name: &'static str,
    pub definition: fn() -> ToolDefinition,
    pub call: fn(&Caller, JsonObject) -> CallToolResult,
}

const fn register<T: Tool>() -> Registered {
    Registered {
        name: T::NAME,
        definition: T::definition,
        call: call_typed::<T>,
    }
}

fn call_typed<T: Tool>(caller: &Caller, arguments: JsonObject) -> CallToolResult {
    match serde_json::from_value(Value::Object(arguments)) {
        Ok(args) => T::call(caller, args),
        Err(e) => error(format!("Invalid arguments for tool {}: {e}", T::NAME)),
    }
}

/// Finds a registered tool by name.
pub fn find(name: &str) -> Option<&'static Registered> {
    TOOLS.iter().find(|tool| tool.name == name)
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
