//! `prompts/list` and `prompts/get`.

use rmcp::model::{ErrorData, GetPromptResponse, JsonObject, ListPromptsResult, ServerResult};
use serde::Deserialize;

use super::params::{CANNOT_ASK, ListParams, Retry, input, no_cursor};
use crate::caller::Caller;
use crate::jsonrpc::{Request, method_not_found};
use crate::server::Server;
use crate::version::Era;

pub fn list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
    no_cursor(&params)?;
    let prompts = server.prompts.as_ref().map(|p| (p.list)());
    Ok(ServerResult::ListPromptsResult(
        ListPromptsResult::with_all_items(prompts.unwrap_or_default()),
    ))
}

#[derive(Deserialize)]
pub struct GetPromptParams {
    name: String,
    arguments: Option<JsonObject>,
    #[serde(flatten)]
    retry: Retry,
}

pub fn get(
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
