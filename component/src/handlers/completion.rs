//! `completion/complete`.

use rmcp::model::{CompleteRequestParams, CompleteResult, ErrorData, ServerResult};

use crate::jsonrpc::method_not_found;
use crate::server::Server;

pub fn complete(server: &Server, params: CompleteRequestParams) -> Result<ServerResult, ErrorData> {
    let Some(complete) = server.completions else {
        return Err(method_not_found("completion/complete"));
    };
    Ok(ServerResult::CompleteResult(CompleteResult::new(complete(
        &params,
    )?)))
}
