//! Shared pieces for the unit tests: requests, a caller, and a server that
//! uses every part of [`Server`] (the greet server has tools only).

use rmcp::model::{
    CallToolResponse, CallToolResult, CompleteRequestParams, CompletionInfo, ErrorData,
    GetPromptResponse, GetPromptResult, InputRequiredResult, JsonObject, Prompt, PromptMessage,
    Resource, ResourceContents, ResourceTemplate, Role, Tool as ToolDefinition,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::caller::{Caller, User};
use crate::input::Input;
use crate::meta::{CLIENT_CAPABILITIES_KEY, PROTOCOL_VERSION_KEY};
use crate::server::{Prompts, Resources, Server};
use crate::tools::{self, Registered, Tool, no_arguments, register, schema};
use crate::transport::handle;
use crate::wire::{Request, Response};

pub const ACCEPT: &str = "application/json, text/event-stream";

/// A POST to `/mcp` with the Accept and Content-Type every MCP POST carries,
/// plus `headers`.
pub fn post(headers: &[(&str, &str)], body: &str) -> Request {
    let mut all = vec![
        ("accept".to_string(), ACCEPT.as_bytes().to_vec()),
        ("content-type".to_string(), b"application/json".to_vec()),
    ];
    all.extend(
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())),
    );
    Request {
        method: "POST".into(),
        path: "/mcp".into(),
        headers: all,
        body: body.as_bytes().to_vec(),
    }
}

/// The `_meta` of a well-formed 2026-07-28 request.
pub fn meta() -> Value {
    json!({
        PROTOCOL_VERSION_KEY: "2026-07-28",
        CLIENT_CAPABILITIES_KEY: {},
        "io.modelcontextprotocol/clientInfo": {"name": "unit", "version": "1"}
    })
}

/// A 2026-07-28 request body: `params` plus the standard `_meta`.
pub fn modern_body(id: Value, method: &str, mut params: Value) -> String {
    params["_meta"] = meta();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// The headers a 2026-07-28 client sends with `method` (and `name` for
/// `Mcp-Name` when given).
pub fn modern_headers<'a>(method: &'a str, name: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut headers = vec![
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", method),
    ];
    if let Some(name) = name {
        headers.push(("Mcp-Name", name));
    }
    headers
}

pub fn alice() -> Caller {
    Caller {
        user: Some(User {
            login: "alice@example.com".into(),
            display_name: "Alice".into(),
            profile_pic_url: Some("https://example.com/a.png".into()),
        }),
        ..Caller::default()
    }
}

/// (status, body as JSON or `Null`) of `req` answered for `server`.
pub fn answer_for(server: &Server, req: &Request) -> (u16, Value) {
    let response: Response = handle(server, req, &alice);
    let body = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body).unwrap()
    };
    (response.status, body)
}

/// A tool that needs the client's sampling capability.
pub struct Needy;

impl Tool for Needy {
    const NAME: &'static str = "needy";
    const CLIENT_CAPABILITIES: &'static [&'static str] = &["sampling", "roots"];
    type Args = JsonObject;

    fn definition() -> ToolDefinition {
        ToolDefinition::new(Self::NAME, "Needs sampling.", no_arguments())
    }

    fn call(_caller: &Caller, _args: JsonObject) -> CallToolResult {
        tools::structured("ran", json!({}))
    }
}

/// A tool whose arguments travel in `Mcp-Param-*` headers too.
pub struct Routed;

#[derive(Deserialize)]
pub struct RoutedArgs {
    #[expect(dead_code, reason = "only the header checks read it")]
    region: Option<String>,
}

impl Tool for Routed {
    const NAME: &'static str = "routed";
    type Args = RoutedArgs;

    fn definition() -> ToolDefinition {
        ToolDefinition::new(
            Self::NAME,
            "Has header-mirrored arguments.",
            schema(json!({
                "type": "object",
                "properties": {
                    "region": { "type": "string", "x-mcp-header": "Region" },
                    "count": { "type": "integer", "x-mcp-header": "Count" },
                    "flag": { "type": "boolean", "x-mcp-header": "Flag" },
                    "nested": {
                        "type": "object",
                        "properties": { "zone": { "type": "string", "x-mcp-header": "Zone" } }
                    },
                    "plain": { "type": "string" }
                }
            })),
        )
    }

    fn call(_caller: &Caller, _args: RoutedArgs) -> CallToolResult {
        tools::structured("routed", json!({}))
    }
}

/// Asks the client for a name (elicitation) before greeting, and reports
/// what it saw of the request's [`Input`].
pub struct Asker;

/// The input request `Asker` and the `ask` prompt send.
pub fn ask_for_name(state: Option<&str>) -> InputRequiredResult {
    let requests = serde_json::from_value(json!({
        "name": {
            "method": "elicitation/create",
            "params": {
                "message": "Your name?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
            }
        }
    }))
    .unwrap();
    InputRequiredResult::new(Some(requests), state.map(String::from))
}

impl Tool for Asker {
    const NAME: &'static str = "asker";
    type Args = JsonObject;

    fn definition() -> ToolDefinition {
        ToolDefinition::new(Self::NAME, "Asks for a name.", no_arguments())
    }

    fn call(_caller: &Caller, _args: JsonObject) -> CallToolResult {
        unreachable!("respond is overridden")
    }

    fn respond(
        _caller: &Caller,
        _args: JsonObject,
        input: &Input,
    ) -> Result<CallToolResponse, ErrorData> {
        if input
            .request_state
            .as_deref()
            .is_some_and(|s| s != "round-1")
        {
            return Err(ErrorData::invalid_params("requestState is not ours", None));
        }
        Ok(match input.response("name") {
            None => ask_for_name(Some("round-1")).into(),
            Some(answer) => tools::structured(
                format!(
                    "Hello, {}!",
                    answer["content"]["name"].as_str().unwrap_or("?")
                ),
                json!({
                    "state": input.request_state,
                    "capabilities": input.client_capabilities,
                }),
            )
            .into(),
        })
    }
}

static TEST_TOOLS: &[Registered] = &[
    register::<crate::tools::greet::Greet>(),
    register::<Needy>(),
    register::<Routed>(),
    register::<Asker>(),
];

fn resources() -> Vec<Resource> {
    vec![Resource::new("test://doc", "doc").with_mime_type("text/plain")]
}

fn templates() -> Vec<ResourceTemplate> {
    Vec::new()
}

fn read(caller: &Caller, uri: &str) -> Option<Vec<ResourceContents>> {
    let login = caller
        .user
        .as_ref()
        .map(|u| u.login.clone())
        .unwrap_or_default();
    (uri == "test://doc").then(|| vec![ResourceContents::text(format!("for {login}"), uri)])
}

fn prompt_list() -> Vec<Prompt> {
    vec![
        Prompt::new("hello", Some("Says hello"), None),
        Prompt::new("ask", Some("Asks for a name first"), None),
    ]
}

fn prompt_get(
    _caller: &Caller,
    name: &str,
    _args: JsonObject,
    input: &Input,
) -> Result<GetPromptResponse, ErrorData> {
    let text = match (name, input.response("name")) {
        ("hello", _) => "hello".to_string(),
        ("ask", None) => return Ok(ask_for_name(None).into()),
        ("ask", Some(answer)) => format!("hello {}", answer["content"]["name"]),
        _ => {
            return Err(ErrorData::invalid_params(
                format!("Unknown prompt: {name}"),
                None,
            ));
        }
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).into())
}

fn complete(_params: &CompleteRequestParams) -> Result<CompletionInfo, ErrorData> {
    CompletionInfo::with_all_values(vec!["one".into()])
        .map_err(|e| ErrorData::internal_error(e, None))
}

/// A server with every part: tools with client-capability and header needs,
/// a resource, a prompt and completions.
pub static FULL: Server = Server {
    name: "full",
    title: "Full test server",
    version: "9.9.9",
    instructions: None,
    tools: TEST_TOOLS,
    resources: Some(Resources {
        list: resources,
        templates,
        read,
    }),
    prompts: Some(Prompts {
        list: prompt_list,
        get: prompt_get,
    }),
    completions: Some(complete),
};
