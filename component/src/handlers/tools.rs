//! `tools/list` and `tools/call`.

use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, ErrorData, JsonObject, ListToolsResult,
    ServerResult,
};
use serde::Deserialize;

use super::params::{CANNOT_ASK, ListParams, Retry, input, no_cursor};
use crate::caller::Caller;
use crate::jsonrpc::Request;
use crate::server::Server;
use crate::version::Era;

pub fn list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
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

#[derive(Deserialize)]
pub struct CallParams {
    name: String,
    arguments: Option<JsonObject>,
    #[serde(flatten)]
    retry: Retry,
}

pub fn call(
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
