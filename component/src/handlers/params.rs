//! What the method handlers share: reading params, list cursors, and the
//! [`Input`] a request brings on a retry.

use std::collections::BTreeMap;

use rmcp::model::{ErrorData, JsonObject};
use serde::Deserialize;
use serde_json::Value;

use crate::input::Input;
use crate::jsonrpc::Request;
use crate::meta;
use crate::version::Era;

/// Deserializes `params`, treating a missing `params` as `{}`.
pub fn params_as<T: for<'de> Deserialize<'de>>(params: Option<Value>) -> Result<T, ErrorData> {
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

#[derive(Deserialize)]
pub struct ListParams {
    cursor: Option<String>,
}

/// Every list fits in one page, so no cursor we could have issued exists.
pub fn no_cursor(params: &ListParams) -> Result<(), ErrorData> {
    match params.cursor {
        Some(_) => Err(ErrorData::invalid_params(
            "Invalid params: unknown cursor",
            None,
        )),
        None => Ok(()),
    }
}

/// `inputResponses` and `requestState`: how a client retries a request that
/// was answered `input_required` (2026-07-28). Each response must be an
/// object (the client's result for that input request).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    input_responses: Option<BTreeMap<String, JsonObject>>,
    request_state: Option<String>,
}

/// The [`Input`] of a request: what its client declared and answered.
pub fn input(era: Era, request: &Request, retry: Retry) -> Input {
    let capabilities = match era {
        Era::Modern => meta::client_capabilities(request).cloned(),
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
pub const CANNOT_ASK: &str = "This needs to ask the client for input first, which takes MCP \
    2026-07-28; this request speaks an earlier revision.";
