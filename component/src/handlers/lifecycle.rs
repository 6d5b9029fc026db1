//! The lifecycle: `initialize` and `ping` (2025), `server/discover`
//! (2026-07-28).

use rmcp::model::{DiscoverResult, EmptyResult, InitializeResult, ServerResult};
use serde::Deserialize;

use crate::server::Server;
use crate::shape::{CACHE_SCOPE, CACHE_TTL_MS};
use crate::version::{negotiate, supported};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    protocol_version: String,
}

pub fn initialize(server: &Server, params: InitializeParams) -> ServerResult {
    let mut result = InitializeResult::new(server.capabilities())
        .with_protocol_version(negotiate(&params.protocol_version))
        .with_server_info(server.info());
    if let Some(instructions) = server.instructions {
        result = result.with_instructions(instructions);
    }
    ServerResult::InitializeResult(result)
}

pub fn discover(server: &Server) -> ServerResult {
    let mut result = DiscoverResult::new(supported(), server.capabilities())
        .with_server_info(server.info())
        .with_ttl_ms(CACHE_TTL_MS)
        .with_cache_scope(CACHE_SCOPE);
    result.instructions = server.instructions.map(String::from);
    ServerResult::DiscoverResult(result)
}

pub fn ping() -> ServerResult {
    ServerResult::EmptyResult(EmptyResult {})
}
