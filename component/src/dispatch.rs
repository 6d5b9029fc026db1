//! MCP methods, for both protocol eras, from one [`Server`]: the same tools,
//! resources and prompts answer 2025 and 2026-07-28 requests, and only the
//! shape of the result differs (see [`dispatch`]). Each request is handled on
//! its own: the server is stateless. A tool or prompt that needs input from
//! the client answers `input_required` (2026-07-28 only; a 2025 request gets
//! an error saying so), and the client's retry brings the answers as
//! [`Input`].
//!
//! | method                                  | legacy | modern | needs            |
//! |-----------------------------------------|--------|--------|------------------|
//! | `initialize`, `ping`                    | yes    | -      |                  |
//! | `server/discover`                       | -      | yes    |                  |
//! | `tools/list`, `tools/call`              | yes    | yes    |                  |
//! | `resources/list`, `resources/templates/list`, `resources/read` | yes | yes | [`Server::resources`] |
//! | `prompts/list`, `prompts/get`           | yes    | yes    | [`Server::prompts`] |
//! | `completion/complete`                   | yes    | yes    | [`Server::completions`] |

use std::collections::BTreeMap;

use rmcp::model::{
    CacheScope, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, DiscoverResult, EmptyResult, ErrorCode, ErrorData, GetPromptResponse,
    InitializeResult, JsonObject, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, ProtocolVersion, ReadResourceResult, ServerResult,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::caller::Caller;
use crate::era::{self, Era, LEGACY_VERSIONS, SERVER_INFO_KEY, SUPPORTED_VERSIONS};
use crate::jsonrpc::Request;
use crate::server::{Input, Server};

/// What `initialize` counter-offers when the client asks for a version we do
/// not know: the newest one with an `initialize` handshake.
pub const LATEST_LEGACY_VERSION: ProtocolVersion = ProtocolVersion::LATEST_WITH_INITIALIZE;

/// How long a 2026-07-28 client may reuse a discover, list or read result,
/// and with whom. Zero and private: the host can swap the component at any
/// moment, and a tool may answer differently per caller.
const CACHE_TTL_MS: u64 = 0;
const CACHE_SCOPE: CacheScope = CacheScope::Private;

/// Methods whose 2026-07-28 results carry `ttlMs` and `cacheScope`.
const CACHEABLE: &[&str] = &[
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
];

/// Whether `server` answers `method` in `era` (otherwise: method not found).
pub fn serves(server: &Server, era: Era, method: &str) -> bool {
    match method {
        "initialize" | "ping" => era == Era::Legacy,
        "server/discover" => era == Era::Modern,
        "tools/list" | "tools/call" => true,
        "resources/list" | "resources/templates/list" | "resources/read" => {
            server.resources.is_some()
        }
        "prompts/list" | "prompts/get" => server.prompts.is_some(),
        "completion/complete" => server.completions.is_some(),
        _ => false,
    }
}

/// The -32601 error for a method this server does not answer.
pub fn method_not_found(method: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::METHOD_NOT_FOUND,
        format!("Method not found: {method}"),
        None,
    )
}

/// Handles one request in `era` and shapes its result for that era: a
/// modern result carries `resultType`, `serverInfo` in `_meta` and, for lists
/// and reads, caching hints; a legacy result carries none of them. `caller`
/// is asked only when a tool, resource or prompt needs it.
pub fn dispatch(
    server: &Server,
    era: Era,
    request: &Request,
    caller: &dyn Fn() -> Caller,
) -> Result<Value, ErrorData> {
    let method = request.method.as_str();
    if !serves(server, era, method) {
        return Err(method_not_found(method));
    }
    let params = request.params.clone();
    let result = match method {
        "initialize" => initialize(server, params_as(params)?),
        "ping" => ServerResult::EmptyResult(EmptyResult {}),
        "server/discover" => discover(server),
        "tools/list" => tools_list(server, params_as(params)?)?,
        "tools/call" => tools_call(server, era, request, params_as(params)?, caller)?,
        "resources/list" => resources_list(server, params_as(params)?)?,
        "resources/templates/list" => resource_templates_list(server, params_as(params)?)?,
        "resources/read" => resources_read(server, era, params_as(params)?, caller)?,
        "prompts/list" => prompts_list(server, params_as(params)?)?,
        "prompts/get" => prompts_get(server, era, request, params_as(params)?, caller)?,
        "completion/complete" => complete(server, params_as(params)?)?,
        other => return Err(method_not_found(other)),
    };
    Ok(match era {
        Era::Legacy => legacy_shape(result),
        Era::Modern => modern_shape(server, method, result),
    })
}

/// A 2025 result: no `resultType` (rmcp adds it for 2026-07-28), and only
/// object-typed structured output.
fn legacy_shape(mut result: ServerResult) -> Value {
    result.strip_result_type_for_legacy_peer();
    result.strip_non_object_output_for_legacy_peer();
    serde_json::to_value(result).unwrap_or_default()
}

/// A 2026-07-28 result: `resultType`, the server's identity in `_meta`, and
/// caching hints where the spec asks for them.
fn modern_shape(server: &Server, method: &str, result: ServerResult) -> Value {
    let mut value = serde_json::to_value(result).unwrap_or_default();
    if let Value::Object(object) = &mut value {
        object
            .entry("resultType")
            .or_insert_with(|| json!("complete"));
        if CACHEABLE.contains(&method) {
            object.entry("ttlMs").or_insert_with(|| json!(CACHE_TTL_MS));
            object
                .entry("cacheScope")
                .or_insert_with(|| json!(CACHE_SCOPE));
        }
        let meta = object.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(meta) = meta {
            meta.insert(SERVER_INFO_KEY.into(), json!(server.info()));
        }
    }
    value
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
/// else our latest legacy one (the client decides whether it can use that).
/// Never 2026-07-28, which has no `initialize`.
pub fn negotiate(requested: &str) -> ProtocolVersion {
    LEGACY_VERSIONS
        .iter()
        .find(|v| v.as_str() == requested)
        .cloned()
        .unwrap_or(LATEST_LEGACY_VERSION)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    protocol_version: String,
}

fn initialize(server: &Server, params: InitializeParams) -> ServerResult {
    let mut result = InitializeResult::new(server.capabilities())
        .with_protocol_version(negotiate(&params.protocol_version))
        .with_server_info(server.info());
    if let Some(instructions) = server.instructions {
        result = result.with_instructions(instructions);
    }
    ServerResult::InitializeResult(result)
}

fn discover(server: &Server) -> ServerResult {
    let mut result = DiscoverResult::new(SUPPORTED_VERSIONS.to_vec(), server.capabilities())
        .with_server_info(server.info())
        .with_ttl_ms(CACHE_TTL_MS)
        .with_cache_scope(CACHE_SCOPE);
    result.instructions = server.instructions.map(String::from);
    ServerResult::DiscoverResult(result)
}

#[derive(Deserialize)]
struct ListParams {
    cursor: Option<String>,
}

/// Every list fits in one page, so no cursor we could have issued exists.
fn no_cursor(params: &ListParams) -> Result<(), ErrorData> {
    match params.cursor {
        Some(_) => Err(ErrorData::invalid_params(
            "Invalid params: unknown cursor",
            None,
        )),
        None => Ok(()),
    }
}

fn tools_list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
    no_cursor(&params)?;
    let tools = server
        .tools
        .iter()
        .map(|tool| (tool.definition)())
        .collect();
    Ok(ServerResult::ListToolsResult(
        ListToolsResult::with_all_items(tools),
    ))
}

/// `inputResponses` and `requestState`: how a client retries a request that
/// was answered `input_required` (2026-07-28). Each response must be an
/// object (the client's result for that input request).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Retry {
    input_responses: Option<BTreeMap<String, JsonObject>>,
    request_state: Option<String>,
}

/// The [`Input`] of a request: what its client declared and answered.
fn input(era: Era, request: &Request, retry: Retry) -> Input {
    let capabilities = match era {
        Era::Modern => era::client_capabilities(request).cloned(),
        // 2025 clients declare capabilities at `initialize`, which a
        // stateless server does not see again.
        Era::Legacy => None,
    };
    Input {
        can_ask: era == Era::Modern,
        client_capabilities: capabilities.unwrap_or_default(),
        responses: retry.input_responses.unwrap_or_default(),
        request_state: retry.request_state,
    }
}

/// What a 2025 client gets instead of an `input_required` answer it could
/// not follow.
const CANNOT_ASK: &str = "This needs to ask the client for input first, which takes MCP \
    2026-07-28; this request speaks an earlier revision.";

#[derive(Deserialize)]
struct CallParams {
    name: String,
    arguments: Option<JsonObject>,
    #[serde(flatten)]
    retry: Retry,
}

fn tools_call(
    server: &Server,
    era: Era,
    request: &Request,
    params: CallParams,
    caller: &dyn Fn() -> Caller,
) -> Result<ServerResult, ErrorData> {
    let Some(tool) = server.tool(&params.name) else {
        return Err(ErrorData::invalid_params(
            format!("Unknown tool: {}", params.name),
            None,
        ));
    };
    let input = input(era, request, params.retry);
    let response = (tool.call)(&caller(), params.arguments.unwrap_or_default(), &input)?;
    Ok(match response {
        CallToolResponse::InputRequired(_) if !input.can_ask => ServerResult::CallToolResult(
            CallToolResult::error(vec![ContentBlock::text(CANNOT_ASK)]),
        ),
        CallToolResponse::Task(_) => {
            return Err(ErrorData::internal_error(
                format!(
                    "Tool {} answered with a task, which is not supported",
                    params.name
                ),
                None,
            ));
        }
        response => response.into(),
    })
}

fn resources_list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
    no_cursor(&params)?;
    let resources = server.resources.as_ref().map(|r| (r.list)());
    Ok(ServerResult::ListResourcesResult(
        ListResourcesResult::with_all_items(resources.unwrap_or_default()),
    ))
}

fn resource_templates_list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
    no_cursor(&params)?;
    let templates = server.resources.as_ref().map(|r| (r.templates)());
    Ok(ServerResult::ListResourceTemplatesResult(
        ListResourceTemplatesResult::with_all_items(templates.unwrap_or_default()),
    ))
}

#[derive(Deserialize)]
struct ReadParams {
    uri: String,
}

fn resources_read(
    server: &Server,
    era: Era,
    params: ReadParams,
    caller: &dyn Fn() -> Caller,
) -> Result<ServerResult, ErrorData> {
    let contents = server
        .resources
        .as_ref()
        .and_then(|r| (r.read)(&caller(), &params.uri));
    let Some(contents) = contents else {
        // 2025 revisions have a code of their own; 2026-07-28 (SEP-2164) folds it into -32602.
        let code = match era {
            Era::Legacy => ErrorCode::RESOURCE_NOT_FOUND,
            Era::Modern => ErrorCode::INVALID_PARAMS,
        };
        return Err(ErrorData::new(
            code,
            format!("Resource not found: {}", params.uri),
            Some(json!({ "uri": params.uri })),
        ));
    };
    Ok(ServerResult::ReadResourceResult(ReadResourceResult::new(
        contents,
    )))
}

fn prompts_list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
    no_cursor(&params)?;
    let prompts = server.prompts.as_ref().map(|p| (p.list)());
    Ok(ServerResult::ListPromptsResult(
        ListPromptsResult::with_all_items(prompts.unwrap_or_default()),
    ))
}

#[derive(Deserialize)]
struct GetPromptParams {
    name: String,
    arguments: Option<JsonObject>,
    #[serde(flatten)]
    retry: Retry,
}

fn prompts_get(
    server: &Server,
    era: Era,
    request: &Request,
    params: GetPromptParams,
    caller: &dyn Fn() -> Caller,
) -> Result<ServerResult, ErrorData> {
    let Some(prompts) = &server.prompts else {
        return Err(method_not_found("prompts/get"));
    };
    let input = input(era, request, params.retry);
    let arguments = params.arguments.unwrap_or_default();
    Ok(
        match (prompts.get)(&caller(), &params.name, arguments, &input)? {
            GetPromptResponse::InputRequired(_) if !input.can_ask => {
                return Err(ErrorData::invalid_request(CANNOT_ASK, None));
            }
            response => response.into(),
        },
    )
}

fn complete(server: &Server, params: CompleteRequestParams) -> Result<ServerResult, ErrorData> {
    let Some(complete) = server.completions else {
        return Err(method_not_found("completion/complete"));
    };
    Ok(ServerResult::CompleteResult(CompleteResult::new(complete(
        &params,
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SERVER;
    use crate::era::CLIENT_CAPABILITIES_KEY;
    use crate::testing::{FULL, alice};
    use rmcp::model::NumberOrString;

    fn run_on(
        server: &Server,
        era: Era,
        method: &str,
        params: Value,
    ) -> Result<Value, (i32, Value)> {
        let request = Request {
            id: NumberOrString::Number(1),
            method: method.into(),
            params: Some(params),
        };
        dispatch(server, era, &request, &alice)
            .map_err(|e| (e.code.0, e.data.unwrap_or(Value::Null)))
    }

    fn run(method: &str, params: Value) -> Result<Value, (i32, String)> {
        let request = Request {
            id: NumberOrString::Number(1),
            method: method.into(),
            params: Some(params),
        };
        dispatch(&SERVER, Era::Legacy, &request, &Caller::default)
            .map_err(|e| (e.code.0, e.message.to_string()))
    }

    #[test]
    fn negotiates_versions() {
        for v in LEGACY_VERSIONS {
            assert_eq!(&negotiate(v.as_str()), v);
        }
        assert_eq!(negotiate("2099-01-01"), LATEST_LEGACY_VERSION);
        assert_eq!(
            negotiate("2026-07-28"),
            ProtocolVersion::V_2025_11_25,
            "no initialize in 2026"
        );
        assert_eq!(negotiate(""), LATEST_LEGACY_VERSION);
        let r = run("initialize", json!({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}})).unwrap();
        assert_eq!(r["protocolVersion"], "2025-06-18");
        assert_eq!(r["serverInfo"]["name"], "tailmcp");
        assert_eq!(r["capabilities"], json!({"tools": {}}));
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

    #[test]
    fn which_methods_each_era_serves() {
        for (method, legacy, modern) in [
            ("initialize", true, false),
            ("ping", true, false),
            ("server/discover", false, true),
            ("tools/list", true, true),
            ("tools/call", true, true),
            ("logging/setLevel", false, false),
            ("resources/subscribe", false, false),
        ] {
            assert_eq!(serves(&SERVER, Era::Legacy, method), legacy, "{method}");
            assert_eq!(serves(&SERVER, Era::Modern, method), modern, "{method}");
        }
        // Resources, prompts and completions only where the server has them.
        for method in [
            "resources/list",
            "resources/templates/list",
            "resources/read",
            "prompts/list",
            "prompts/get",
            "completion/complete",
        ] {
            for era in [Era::Legacy, Era::Modern] {
                assert!(!serves(&SERVER, era, method), "{method}");
                assert!(serves(&FULL, era, method), "{method}");
            }
        }
    }

    #[test]
    fn discover_describes_the_server() {
        let r = run_on(&SERVER, Era::Modern, "server/discover", json!({})).unwrap();
        assert_eq!(
            r["supportedVersions"],
            json!([
                "2026-07-28",
                "2025-11-25",
                "2025-06-18",
                "2025-03-26",
                "2024-11-05"
            ])
        );
        assert_eq!(r["capabilities"], json!({"tools": {}}));
        assert_eq!(
            (r["ttlMs"].clone(), r["cacheScope"].clone()),
            (json!(0), json!("private"))
        );
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["_meta"][SERVER_INFO_KEY]["name"], "tailmcp");
        assert_eq!(
            r["_meta"][SERVER_INFO_KEY]["version"],
            env!("CARGO_PKG_VERSION")
        );
        assert!(r["instructions"].as_str().unwrap().contains("greet"));
        // Identity travels only in _meta; there is no handshake version.
        assert!(r.get("serverInfo").is_none() && r.get("protocolVersion").is_none());
        let full = run_on(&FULL, Era::Modern, "server/discover", json!({})).unwrap();
        assert_eq!(
            full["capabilities"],
            json!({"tools": {}, "resources": {}, "prompts": {}, "completions": {}})
        );
        assert!(full.get("instructions").is_none());
    }

    #[test]
    fn results_are_shaped_for_their_era() {
        let greet = json!({"name": "greet"});
        let modern = run_on(&SERVER, Era::Modern, "tools/call", greet.clone()).unwrap();
        let legacy = run_on(&SERVER, Era::Legacy, "tools/call", greet).unwrap();
        assert_eq!(modern["resultType"], "complete");
        assert_eq!(modern["_meta"][SERVER_INFO_KEY]["name"], "tailmcp");
        assert!(modern.get("ttlMs").is_none(), "tools/call is not cacheable");
        for key in ["resultType", "_meta", "ttlMs", "cacheScope"] {
            assert!(
                legacy.get(key).is_none(),
                "legacy result has {key}: {legacy}"
            );
        }
        // The same tool, the same caller, the same answer.
        assert_eq!(modern["content"], legacy["content"]);
        assert_eq!(modern["structuredContent"], legacy["structuredContent"]);
        assert_eq!(
            legacy["content"][0]["text"],
            "Hello, Alice! You are logged in as alice@example.com."
        );

        for method in [
            "tools/list",
            "resources/list",
            "resources/templates/list",
            "prompts/list",
        ] {
            let modern = run_on(&FULL, Era::Modern, method, json!({})).unwrap();
            assert_eq!(modern["resultType"], "complete", "{method}");
            assert_eq!(
                (modern["ttlMs"].clone(), modern["cacheScope"].clone()),
                (json!(0), json!("private")),
                "{method}"
            );
            assert_eq!(modern["_meta"][SERVER_INFO_KEY]["name"], "full", "{method}");
            let legacy = run_on(&FULL, Era::Legacy, method, json!({})).unwrap();
            for key in ["resultType", "_meta", "ttlMs", "cacheScope"] {
                assert!(legacy.get(key).is_none(), "legacy {method} has {key}");
            }
        }
        let read = json!({"uri": "test://doc"});
        let modern = run_on(&FULL, Era::Modern, "resources/read", read.clone()).unwrap();
        assert_eq!(modern["contents"][0]["text"], "for alice@example.com");
        assert_eq!(modern["ttlMs"], 0);
        let legacy = run_on(&FULL, Era::Legacy, "resources/read", read).unwrap();
        assert_eq!(legacy["contents"], modern["contents"]);
        assert!(legacy.get("ttlMs").is_none() && legacy.get("resultType").is_none());

        let init = run_on(
            &FULL,
            Era::Legacy,
            "initialize",
            json!({"protocolVersion": "2025-11-25"}),
        )
        .unwrap();
        assert_eq!(
            init["capabilities"],
            json!({"tools": {}, "resources": {}, "prompts": {}, "completions": {}})
        );
        assert_eq!(
            run_on(&FULL, Era::Legacy, "ping", json!({})).unwrap(),
            json!({})
        );
    }

    #[test]
    fn resource_not_found_differs_by_era() {
        let missing = json!({"uri": "test://missing"});
        assert_eq!(
            run_on(&FULL, Era::Legacy, "resources/read", missing.clone()),
            Err((-32002, json!({"uri": "test://missing"})))
        );
        assert_eq!(
            run_on(&FULL, Era::Modern, "resources/read", missing),
            Err((-32602, json!({"uri": "test://missing"})))
        );
    }

    #[test]
    fn prompts_and_completions() {
        for era in [Era::Legacy, Era::Modern] {
            let hello = run_on(&FULL, era, "prompts/get", json!({"name": "hello"})).unwrap();
            assert_eq!(hello["messages"][0]["content"]["text"], "hello");
            assert_eq!(
                run_on(&FULL, era, "prompts/get", json!({"name": "nope"}))
                    .unwrap_err()
                    .0,
                -32602
            );
            let complete = run_on(
                &FULL,
                era,
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "hello"}, "argument": {"name": "a", "value": "o"}}),
            )
            .unwrap();
            assert_eq!(complete["completion"]["values"], json!(["one"]));
            assert_eq!(complete.get("resultType").is_some(), era == Era::Modern);
        }
    }

    /// `params` with the 2026-07-28 `_meta` (declaring `capabilities`).
    fn with_meta(mut params: Value, capabilities: Value) -> Value {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            CLIENT_CAPABILITIES_KEY: capabilities,
        });
        params
    }

    #[test]
    fn tools_can_ask_2026_clients_for_input() {
        // Round 1: the tool asks; the answer is input_required, uncached.
        let first = run_on(
            &FULL,
            Era::Modern,
            "tools/call",
            with_meta(json!({"name": "asker"}), json!({"elicitation": {}})),
        )
        .unwrap();
        assert_eq!(first["resultType"], "input_required");
        assert_eq!(
            first["inputRequests"]["name"]["method"],
            "elicitation/create"
        );
        assert_eq!(first["requestState"], "round-1");
        assert_eq!(first["_meta"][SERVER_INFO_KEY]["name"], "full");
        assert!(first.get("ttlMs").is_none() && first.get("content").is_none());
        // Round 2: the client retries with its answer and the state.
        let retry = json!({
            "name": "asker",
            "inputResponses": {"name": {"action": "accept", "content": {"name": "Zoë"}}, "extra": {}},
            "requestState": "round-1",
        });
        let done = run_on(
            &FULL,
            Era::Modern,
            "tools/call",
            with_meta(retry.clone(), json!({"elicitation": {}})),
        )
        .unwrap();
        assert_eq!(done["resultType"], "complete");
        assert_eq!(done["content"][0]["text"], "Hello, Zoë!");
        assert_eq!(
            done["structuredContent"],
            json!({"state": "round-1", "capabilities": {"elicitation": {}}})
        );
        // Each answer must be a result object.
        let bad = json!({"name": "asker", "inputResponses": {"name": 12345}});
        assert_eq!(
            run_on(&FULL, Era::Modern, "tools/call", with_meta(bad, json!({})))
                .unwrap_err()
                .0,
            -32602
        );
        // A 2025 client cannot be asked: it gets a tool error it can read, and
        // sees no capabilities it did not declare per request.
        let legacy = run_on(&FULL, Era::Legacy, "tools/call", json!({"name": "asker"})).unwrap();
        assert_eq!(legacy["isError"], true);
        assert!(
            legacy["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("2026-07-28")
        );
        assert!(legacy.get("resultType").is_none());
        let legacy_retry = run_on(&FULL, Era::Legacy, "tools/call", retry.clone()).unwrap();
        assert_eq!(legacy_retry["structuredContent"]["capabilities"], json!({}));
        // A tool may refuse a request outright: a protocol error, in-band.
        let mut tampered = retry;
        tampered["requestState"] = json!("round-1-TAMPERED");
        assert_eq!(
            run_on(
                &FULL,
                Era::Modern,
                "tools/call",
                with_meta(tampered, json!({}))
            )
            .unwrap_err()
            .0,
            -32602
        );
    }

    #[test]
    fn prompts_can_ask_2026_clients_for_input() {
        let first = run_on(
            &FULL,
            Era::Modern,
            "prompts/get",
            with_meta(json!({"name": "ask"}), json!({})),
        )
        .unwrap();
        assert_eq!(first["resultType"], "input_required");
        assert!(first.get("requestState").is_none());
        let retry = json!({"name": "ask", "inputResponses": {"name": {"action": "accept", "content": {"name": "Al"}}}});
        let done = run_on(
            &FULL,
            Era::Modern,
            "prompts/get",
            with_meta(retry, json!({})),
        )
        .unwrap();
        assert_eq!(done["messages"][0]["content"]["text"], "hello \"Al\"");
        assert_eq!(
            run_on(&FULL, Era::Legacy, "prompts/get", json!({"name": "ask"}))
                .unwrap_err()
                .0,
            -32600
        );
    }
}
