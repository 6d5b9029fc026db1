//! The ladder a 2026-07-28 request climbs before it is dispatched, one
//! function per rung (numbered as in [`crate::era`]'s docs); the first rung
//! that fails answers.

use rmcp::model::{ErrorCode, ErrorData};
use serde_json::{Map, Value, json};
use tailmcp_protocol::{Target, lookup};

use super::headers::{check_name_header, check_param_headers, mismatch};
use crate::jsonrpc;
use crate::meta::{CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, PROTOCOL_VERSION_KEY};
use crate::server::Server;
use crate::tools::Registered;
use crate::version::{Era, LEGACY_VERSIONS, MODERN_VERSIONS, SUPPORTED_VERSIONS};
use crate::wire::Request;

/// What rung 1 reads from `_meta`.
struct Envelope<'a> {
    version: &'a str,
    capabilities: &'a Map<String, Value>,
}

/// Runs the ladder on a request whose `_meta` claims the modern era.
pub(super) fn climb(
    http: &Request,
    message: &jsonrpc::Request,
    meta: &Map<String, Value>,
    server: &Server,
) -> Result<(), ErrorData> {
    let envelope = envelope(meta)?; // 1
    let method = message.method.as_str();
    headers_agree(http, envelope.version, method)?; // 2
    version_served(envelope.version)?; // 3
    headers_present(http, message)?; // 4
    method_served(server, method)?; // 5
    if let Some(tool) = called_tool(server, message) {
        capabilities_declared(tool, envelope.capabilities)?; // 6
        // 7: the Mcp-Param-* headers the tool's schema asks for.
        let arguments = message
            .params
            .as_ref()
            .and_then(|params| params.get("arguments"));
        check_param_headers(http, &(tool.definition)().input_schema, arguments)?;
    }
    Ok(())
}

/// Rung 1: `_meta` has a string version, an object of client capabilities
/// and, if any, an object of client info.
fn envelope(meta: &Map<String, Value>) -> Result<Envelope<'_>, ErrorData> {
    let Some(version) = meta.get(PROTOCOL_VERSION_KEY).and_then(Value::as_str) else {
        return Err(bad_envelope(format!(
            "{PROTOCOL_VERSION_KEY} must be a string"
        )));
    };
    let Some(capabilities) = meta.get(CLIENT_CAPABILITIES_KEY) else {
        return Err(ErrorData::invalid_params(
            format!("Invalid params: params._meta is missing {CLIENT_CAPABILITIES_KEY}"),
            Some(json!({ "missing": [CLIENT_CAPABILITIES_KEY] })),
        ));
    };
    let Some(capabilities) = capabilities.as_object() else {
        return Err(bad_envelope(format!(
            "{CLIENT_CAPABILITIES_KEY} must be an object"
        )));
    };
    if meta
        .get(CLIENT_INFO_KEY)
        .is_some_and(|info| !info.is_object())
    {
        return Err(bad_envelope(format!("{CLIENT_INFO_KEY} must be an object")));
    }
    Ok(Envelope {
        version,
        capabilities,
    })
}

fn bad_envelope(problem: String) -> ErrorData {
    ErrorData::invalid_params(format!("Invalid params: params._meta: {problem}"), None)
}

/// Rung 2: `MCP-Protocol-Version` and `Mcp-Method`, when sent, repeat the body.
fn headers_agree(http: &Request, version: &str, method: &str) -> Result<(), ErrorData> {
    if let Some(header) = http.header("mcp-protocol-version")
        && header != version
    {
        return Err(mismatch(
            "MCP-Protocol-Version",
            format!("MCP-Protocol-Version {header:?} but params._meta names {version:?}"),
        ));
    }
    if let Some(header) = http.header("mcp-method")
        && header != method
    {
        return Err(mismatch(
            "Mcp-Method",
            format!("Mcp-Method {header:?} but the body's method is {method:?}"),
        ));
    }
    Ok(())
}

/// Rung 3: the version is one served per request.
fn version_served(version: &str) -> Result<(), ErrorData> {
    if MODERN_VERSIONS.contains(&version) {
        return Ok(());
    }
    Err(ErrorData::new(
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        format!(
            "Unsupported protocol version {version:?}: per-request _meta serves {}; {} are \
             served through initialize",
            MODERN_VERSIONS.join(", "),
            LEGACY_VERSIONS.join(", ")
        ),
        Some(json!({ "supported": SUPPORTED_VERSIONS, "requested": version })),
    ))
}

/// Rung 4: the required headers are there, and `Mcp-Name` repeats the target.
fn headers_present(http: &Request, message: &jsonrpc::Request) -> Result<(), ErrorData> {
    if http.header("mcp-protocol-version").is_none() {
        return Err(mismatch(
            "MCP-Protocol-Version",
            "the MCP-Protocol-Version header is missing".into(),
        ));
    }
    if http.header("mcp-method").is_none() {
        return Err(mismatch(
            "Mcp-Method",
            "the Mcp-Method header is missing".into(),
        ));
    }
    check_name_header(http, message)
}

/// Rung 5: the method is served in this era, by this server.
fn method_served(server: &Server, method: &str) -> Result<(), ErrorData> {
    if server.serves(Era::Modern, method).is_some() {
        Ok(())
    } else {
        Err(jsonrpc::method_not_found(method))
    }
}

/// The tool a request calls (its method's target is a tool), when this
/// server has it (an unknown tool is reported in-band by the dispatcher).
fn called_tool(server: &Server, message: &jsonrpc::Request) -> Option<&'static Registered> {
    let spec = lookup(&message.method).filter(|spec| spec.target == Some(Target::Tool))?;
    spec.target_in(message.params.as_ref())
        .and_then(|name| server.tool(name))
}

/// Rung 6: the request declares every client capability the tool needs.
fn capabilities_declared(
    tool: &Registered,
    capabilities: &Map<String, Value>,
) -> Result<(), ErrorData> {
    let missing: Map<String, Value> = tool
        .client_capabilities
        .iter()
        .filter(|name| !capabilities.contains_key(**name))
        .map(|name| (name.to_string(), json!({})))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.keys().map(String::as_str).collect();
    Err(ErrorData::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!(
            "Missing required client capability: tool {} needs {}",
            tool.name,
            names.join(", ")
        ),
        Some(json!({ "requiredCapabilities": missing })),
    ))
}
