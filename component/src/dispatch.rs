//! MCP methods: version negotiation, `initialize`, `ping`, `tools/list`,
//! `tools/call`. Each request is handled on its own: the server is stateless.

use rmcp::model::{
    EmptyResult, ErrorData, Implementation, InitializeResult, JsonObject, ListToolsResult,
    ProtocolVersion, ServerCapabilities, ServerResult, ToolsCapability,
};
use serde::Deserialize;
use serde_json::Value;

use crate::caller::Caller;
use crate::jsonrpc::Request;
use crate::tools;

/// Protocol versions served, newest first. 2024-11-05 clients are served
/// too: over Streamable HTTP the messages this server uses are the same.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2024_11_05,
];

/// What `initialize` counter-offers when the client asks for a version we do not know.
pub const LATEST_VERSION: ProtocolVersion = ProtocolVersion::V_2025_11_25;

/// Whether `version` (e.g. from `MCP-Protocol-Version`) is one we serve.
pub fn is_supported(version: &str) -> bool {
    SUPPORTED_VERSIONS.iter().any(|v| v.as_str() == version)
}

const INSTRUCTIONS: &str = "This server knows who is calling: every request reaches it through \
    Tailscale, which vouches for the caller's login and display name. Call `greet` to learn \
    which Tailscale user the server sees you as.";

/// Handles one request. `caller` is asked only when a tool needs it.
pub fn dispatch(request: &Request, caller: &dyn Fn() -> Caller) -> Result<ServerResult, ErrorData> {
    let params = request.params.clone();
    match request.method.as_str() {
        "initialize" => initialize(params_as(params)?),
        "ping" => Ok(ServerResult::EmptyResult(EmptyResult {})),
        "tools/list" => tools_list(params_as(params)?),
        "tools/call" => tools_call(params_as(params)?, caller),
        other => Err(ErrorData::new(
            rmcp::model::ErrorCode::METHOD_NOT_FOUND,
            format!("Method not found: {other}"),
            None,
        )),
    }
}

/// Deserializes `params`, treating a missing `params` as `{}`.
fn params_as<T: for<'de> Deserialize<'de>>(params: Option<Value>) -> Result<T, ErrorData> {
    let params = params.unwrap_or_else(|| Value::Object(JsonObject::new()));
    if !params.is_object() {
        return Err(ErrorData::invalid_params(
            "Invalid params: expected an object",
            None,
        ));
    }
    serde_json::from_value(params)
        .map_err(|e| ErrorData::invalid_params(format!("Invalid params: {e}"), None))
}

/// The version to answer an `initialize` with: the client's if we serve it,
/// else our latest (the client decides whether it can use that).
pub fn negotiate(requested: &str) -> ProtocolVersion {
    SUPPORTED_VERSIONS
        .iter()
        .find(|v| v.as_str() == requested)
        .cloned()
        .unwrap_or(LATEST_VERSION)
}

pub fn server_info() -> Implementation {
    let mut info = Implementation::new("tailmcp", env!("CARGO_PKG_VERSION"));
    info.title = Some("tailmcp: who is calling, via Tailscale".into());
    info
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    protocol_version: String,
}

fn initialize(params: InitializeParams) -> Result<ServerResult, ErrorData> {
    let mut capabilities = ServerCapabilities::default();
    capabilities.tools = Some(ToolsCapability::default());
    let result = InitializeResult::new(capabilities)
        .with_protocol_version(negotiate(&params.protocol_version))
        .with_server_info(server_info())
        .with_instructions(INSTRUCTIONS);
    Ok(ServerResult::InitializeResult(result))
}

#[derive(Deserialize)]
struct ListParams {
    cursor: Option<String>,
}

fn tools_list(params: ListParams) -> Result<ServerResult, ErrorData> {
    // All tools fit in one page, so no cursor we could have issued exists.
    if params.cursor.is_some() {
        return Err(ErrorData::invalid_params(
            "Invalid params: unknown cursor",
            None,
        ));
    }
    let tools = tools::TOOLS
        .iter()
        .map(|tool| (tool.definition)())
        .collect();
    Ok(ServerResult::ListToolsResult(
        ListToolsResult::with_all_items(tools),
    ))
}

#[derive(Deserialize)]
struct CallParams {
    name: String,
    arguments: Option<JsonObject>,
}

fn tools_call(params: CallParams, caller: &dyn Fn() -> Caller) -> Result<ServerResult, ErrorData> {
    let Some(tool) = tools::find(&params.name) else {
        return Err(ErrorData::invalid_params(
            format!("Unknown tool: {}", params.name),
            None,
        ));
    };
    let result = (tool.call)(&caller(), params.arguments.unwrap_or_default());
    Ok(ServerResult::CallToolResult(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::NumberOrString;
    use serde_json::json;

    fn run(method: &str, params: Value) -> Result<Value, (i32, String)> {
        let request = Request {
            id: NumberOrString::Number(1),
            method: method.into(),
            params: Some(params),
        };
        dispatch(&request, &Caller::default)
            .map(|r| serde_json::to_value(r).unwrap())
            .map_err(|e| (e.code.0, e.message.to_string()))
    }

    #[test]
    fn negotiates_versions() {
        for v in SUPPORTED_VERSIONS {
            assert_eq!(&negotiate(v.as_str()), v);
        }
        assert_eq!(negotiate("2099-01-01"), LATEST_VERSION);
        assert_eq!(negotiate(""), LATEST_VERSION);
        let r = run("initialize", json!({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}})).unwrap();
        assert_eq!(r["protocolVersion"], "2025-06-18");
        assert_eq!(r["serverInfo"]["name"], "tailmcp");
        assert!(r["capabilities"]["tools"].is_object());
        assert!(r["instructions"].as_str().unwrap().contains("greet"));
    }

    #[test]
    fn method_and_param_errors() {
        assert_eq!(run("nope", json!({})).unwrap_err().0, -32601);
        assert_eq!(run("initialize", json!({})).unwrap_err().0, -32602);
        assert_eq!(run("initialize", json!([1])).unwrap_err().0, -32602);
        assert_eq!(run("tools/call", json!({})).unwrap_err().0, -32602);
        assert_eq!(run("tools/call", json!({"name": 5})).unwrap_err().0, -32602);
        assert_eq!(
            run("tools/call", json!({"name":"greet","arguments":[1]}))
                .unwrap_err()
                .0,
            -32602
        );
        let (code, message) = run("tools/call", json!({"name":"nope"})).unwrap_err();
        assert_eq!((code, message.as_str()), (-32602, "Unknown tool: nope"));
        assert_eq!(
            run("tools/list", json!({"cursor":"x"})).unwrap_err().0,
            -32602
        );
    }

    #[test]
    fn bad_arguments_are_a_tool_error() {
        let r = run(
            "tools/call",
            json!({"name":"greet","arguments":{"extra":1}}),
        )
        .unwrap();
        assert_eq!(r["isError"], true);
        assert!(
            r["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("Invalid arguments")
        );
    }

    #[test]
    fn lists_tools() {
        let r = run("tools/list", json!({})).unwrap();
        let greet = &r["tools"][0];
        assert_eq!(greet["name"], "greet");
        assert_eq!(
            greet["inputSchema"],
            json!({"type":"object","additionalProperties":false})
        );
        assert_eq!(greet["annotations"]["readOnlyHint"], true);
        assert_eq!(greet["outputSchema"]["type"], "object");
    }
}
