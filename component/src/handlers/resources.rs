//! `resources/list`, `resources/templates/list` and `resources/read`.

use rmcp::model::{
    ErrorCode, ErrorData, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult,
    ServerResult,
};
use serde::Deserialize;
use serde_json::json;

use super::params::{ListParams, no_cursor};
use crate::caller::Caller;
use crate::server::Server;
use crate::version::Era;

pub fn list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
    no_cursor(&params)?;
    let resources = server.resources.as_ref().map(|r| (r.list)());
    Ok(ServerResult::ListResourcesResult(
        ListResourcesResult::with_all_items(resources.unwrap_or_default()),
    ))
}

pub fn templates_list(server: &Server, params: ListParams) -> Result<ServerResult, ErrorData> {
    no_cursor(&params)?;
    let templates = server.resources.as_ref().map(|r| (r.templates)());
    Ok(ServerResult::ListResourceTemplatesResult(
        ListResourceTemplatesResult::with_all_items(templates.unwrap_or_default()),
    ))
}

#[derive(Deserialize)]
pub struct ReadParams {
    uri: String,
}

pub fn read(
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
