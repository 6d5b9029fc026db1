//! MCP methods, for both protocol eras, from one [`Server`]: the same tools,
//! resources and prompts answer 2025 and 2026-07-28 requests, and only the
//! shape of the result differs (see [`dispatch`]). Each request is handled on
//! its own: the server is stateless. A tool or prompt that needs input from
//! the client answers `input_required` (2026-07-28 only; a 2025 request gets
//! an error saying so), and the client's retry brings the answers as
//! [`crate::Input`].
//!
//! Which methods each era has, and which server capability each needs, is
//! the method table in `tailmcp-protocol` ([`tailmcp_protocol::METHODS`]);
//! the `match` below is over its [`Method`]s, so a method added there
//! without a handler here does not compile.

use rmcp::model::{ErrorData, ServerResult};
use serde_json::Value;
use tailmcp_protocol::Method;

use crate::caller::Caller;
use crate::handlers::params::params_as;
use crate::handlers::{completion, lifecycle, prompts, resources, tools};
use crate::jsonrpc::{Request, method_not_found};
use crate::server::Server;
use crate::shape;
use crate::version::Era;

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
    let Some((spec, method)) = server
        .serves(era, &request.method)
        .and_then(|spec| Some((spec, spec.request()?)))
    else {
        return Err(method_not_found(&request.method));
    };
    let result = run(server, era, method, request, caller)?;
    Ok(match era {
        Era::Legacy => shape::legacy(result),
        Era::Modern => shape::modern(server, spec, result),
    })
}

/// Runs the handler of `method`.
fn run(
    server: &Server,
    era: Era,
    method: Method,
    request: &Request,
    caller: &dyn Fn() -> Caller,
) -> Result<ServerResult, ErrorData> {
    let params = || request.params.clone();
    Ok(match method {
        Method::Initialize => lifecycle::initialize(server, params_as(params())?),
        Method::Ping => lifecycle::ping(),
        Method::Discover => lifecycle::discover(server),
        Method::ToolsList => tools::list(server, params_as(params())?)?,
        Method::ToolsCall => tools::call(server, era, request, params_as(params())?, caller)?,
        Method::ResourcesList => resources::list(server, params_as(params())?)?,
        Method::ResourceTemplatesList => resources::templates_list(server, params_as(params())?)?,
        Method::ResourcesRead => resources::read(server, era, params_as(params())?, caller)?,
        Method::PromptsList => prompts::list(server, params_as(params())?)?,
        Method::PromptsGet => prompts::get(server, era, request, params_as(params())?, caller)?,
        Method::Complete => completion::complete(server, params_as(params())?)?,
    })
}

#[cfg(test)]
mod tests;
