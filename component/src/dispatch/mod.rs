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

use rmcp::model::{ErrorData, ServerResult};
use serde_json::Value;

use crate::caller::Caller;
use crate::handlers::params::params_as;
use crate::handlers::{completion, lifecycle, prompts, resources, tools};
use crate::jsonrpc::{Request, method_not_found};
use crate::server::Server;
use crate::shape;
use crate::version::Era;

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
    let params = || request.params.clone();
    let result: ServerResult = match method {
        "initialize" => lifecycle::initialize(server, params_as(params())?),
        "ping" => lifecycle::ping(),
        "server/discover" => lifecycle::discover(server),
        "tools/list" => tools::list(server, params_as(params())?)?,
        "tools/call" => tools::call(server, era, request, params_as(params())?, caller)?,
        "resources/list" => resources::list(server, params_as(params())?)?,
        "resources/templates/list" => resources::templates_list(server, params_as(params())?)?,
        "resources/read" => resources::read(server, era, params_as(params())?, caller)?,
        "prompts/list" => prompts::list(server, params_as(params())?)?,
        "prompts/get" => prompts::get(server, era, request, params_as(params())?, caller)?,
        "completion/complete" => completion::complete(server, params_as(params())?)?,
        other => return Err(method_not_found(other)),
    };
    Ok(match era {
        Era::Legacy => shape::legacy(result),
        Era::Modern => shape::modern(server, method, result),
    })
}

#[cfg(test)]
mod tests;
