//! Protocol eras: which revision a request speaks, and the checks a
//! 2026-07-28 request must pass before it is dispatched. Pure: tested natively.
//!
//! MCP 2026-07-28 ("modern") has no `initialize` handshake: every request
//! carries its protocol version and client capabilities in `params._meta`,
//! and repeats its method, version and target in headers. The revisions up
//! to 2025-11-25 ("legacy") negotiate once, with `initialize`. This endpoint
//! serves both; the body decides which a request is:
//!
//! | request                                                            | era                         |
//! |--------------------------------------------------------------------|-----------------------------|
//! | `params._meta` has `io.modelcontextprotocol/protocolVersion`       | modern, whatever the method |
//! | no such key, but `MCP-Protocol-Version` names 2026-07-28 or later  | modern and malformed: -32602 |
//! | otherwise                                                          | legacy                      |
//!
//! A modern request then climbs this ladder; the first rung it fails answers
//! (the HTTP status of each answer is [`crate::transport`]'s business):
//!
//! 1. `_meta` lacks `clientCapabilities`, or a key has the wrong type: -32602.
//! 2. `MCP-Protocol-Version` or `Mcp-Method` present but not equal to the
//!    body: -32020.
//! 3. The version is not one we serve per request: -32022, with
//!    `data: {supported, requested}`.
//! 4. `MCP-Protocol-Version` or `Mcp-Method` missing; `Mcp-Name` missing,
//!    badly encoded or not equal to `params.name` (`tools/call`,
//!    `prompts/get`) or `params.uri` (`resources/read`): -32020.
//! 5. The method is not served in this era (including `initialize`, `ping`
//!    and the other methods 2026-07-28 removed): -32601.
//! 6. The tool needs a client capability the request did not declare:
//!    -32021, with `data.requiredCapabilities`.
//! 7. An `Mcp-Param-*` header that a tool's input schema asks for (with
//!    `x-mcp-header`) is missing, badly encoded or not equal to the
//!    argument: -32020.
//!
//! Header names are case-insensitive; values are case-sensitive, compared
//! after trimming spaces and tabs, and `Mcp-Name` / `Mcp-Param-*` values may
//! be sent as `=?base64?<base64 of UTF-8>?=`.

use base64::Engine as _;
use rmcp::model::{ErrorCode, ErrorData, ProtocolVersion};
use serde_json::{Map, Value, json};

use crate::jsonrpc;
use crate::server::Server;
use crate::transport::Request;

/// `_meta` key of the protocol version a modern request speaks.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the client capabilities a modern request declares.
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client's name and version (optional).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// Result `_meta` key under which a modern server names itself.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// Revisions served per request, with `_meta` (modern), newest first.
pub const MODERN_VERSIONS: &[ProtocolVersion] = &[ProtocolVersion::V_2026_07_28];

/// Revisions served through `initialize` (legacy), newest first. 2024-11-05
/// clients are served too: over Streamable HTTP the messages this server
/// uses are the same.
pub const LEGACY_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2024_11_05,
];

/// Every revision served, newest first: `server/discover`'s
/// `supportedVersions`, and `supported` in a -32022 error, so that a client
/// that cannot speak 2026-07-28 learns it may fall back to `initialize`.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2026_07_28,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2024_11_05,
];

/// The protocol era of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2024-11-05 … 2025-11-25: `initialize`, errors in-band.
    Legacy,
    /// 2026-07-28: per-request `_meta`, `resultType`, `server/discover`.
    Modern,
}

/// Whether a version string names the modern era. Versions are dates, so
/// this is a plain string comparison, as the TypeScript SDK does: an unknown
/// later or non-date version counts as modern (and is then unsupported).
pub fn is_modern_version(version: &str) -> bool {
    version >= ProtocolVersion::V_2026_07_28.as_str()
}

/// Whether `version` is a legacy revision this server negotiates.
pub fn is_legacy_version(version: &str) -> bool {
    LEGACY_VERSIONS.iter().any(|v| v.as_str() == version)
}

/// Tells the era of `message` and, for a modern request, runs the ladder in
/// the module docs. The error is the JSON-RPC error to answer with.
pub fn classify(
    http: &Request,
    message: &jsonrpc::Request,
    server: &Server,
) -> Result<Era, ErrorData> {
    let meta = request_meta(message);
    let Some(meta) = meta.filter(|meta| meta.contains_key(PROTOCOL_VERSION_KEY)) else {
        return match http.header("mcp-protocol-version") {
            Some(version) if is_modern_version(version) => Err(missing_envelope(version, meta)),
            _ => Ok(Era::Legacy),
        };
    };
    check_modern(http, message, meta, server)?;
    Ok(Era::Modern)
}

/// `params._meta`, when it is an object.
fn request_meta(message: &jsonrpc::Request) -> Option<&Map<String, Value>> {
    message
        .params
        .as_ref()
        .and_then(|params| params.get("_meta"))
        .and_then(Value::as_object)
}

/// The client capabilities a modern request declares in its `_meta`.
pub fn client_capabilities(message: &jsonrpc::Request) -> Option<&Map<String, Value>> {
    request_meta(message)?
        .get(CLIENT_CAPABILITIES_KEY)?
        .as_object()
}

/// Whether the body claims the modern era (`_meta` names a protocol version).
pub fn claims_modern(message: &jsonrpc::Request) -> bool {
    request_meta(message).is_some_and(|meta| meta.contains_key(PROTOCOL_VERSION_KEY))
}

/// A request that names a modern version in its header but carries no
/// `_meta` claim: the modern envelope is missing, never a legacy fallback.
fn missing_envelope(header_version: &str, meta: Option<&Map<String, Value>>) -> ErrorData {
    let missing: Vec<&str> = match meta {
        None => vec!["_meta"],
        Some(meta) => [PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY]
            .into_iter()
            .filter(|key| !meta.contains_key(*key))
            .collect(),
    };
    ErrorData::invalid_params(
        format!(
            "Invalid params: MCP-Protocol-Version {header_version} needs params._meta with \
             {PROTOCOL_VERSION_KEY} and {CLIENT_CAPABILITIES_KEY}"
        ),
        Some(json!({ "missing": missing })),
    )
}

fn check_modern(
    http: &Request,
    message: &jsonrpc::Request,
    meta: &Map<String, Value>,
    server: &Server,
) -> Result<(), ErrorData> {
    // 1. The envelope.
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
    let method = message.method.as_str();

    // 2. Headers that contradict the body.
    let header_version = http.header("mcp-protocol-version");
    if let Some(header) = header_version
        && header != version
    {
        return Err(mismatch(
            "MCP-Protocol-Version",
            format!("MCP-Protocol-Version {header:?} but params._meta names {version:?}"),
        ));
    }
    let header_method = http.header("mcp-method");
    if let Some(header) = header_method
        && header != method
    {
        return Err(mismatch(
            "Mcp-Method",
            format!("Mcp-Method {header:?} but the body's method is {method:?}"),
        ));
    }

    // 3. The version.
    if !MODERN_VERSIONS.iter().any(|v| v.as_str() == version) {
        return Err(ErrorData::new(
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            format!(
                "Unsupported protocol version {version:?}: per-request _meta serves {}; {} are \
                 served through initialize",
                list(MODERN_VERSIONS),
                list(LEGACY_VERSIONS)
            ),
            Some(json!({ "supported": SUPPORTED_VERSIONS, "requested": version })),
        ));
    }

    // 4. Required headers.
    if header_version.is_none() {
        return Err(mismatch(
            "MCP-Protocol-Version",
            "the MCP-Protocol-Version header is missing".into(),
        ));
    }
    if header_method.is_none() {
        return Err(mismatch(
            "Mcp-Method",
            "the Mcp-Method header is missing".into(),
        ));
    }
    check_name_header(http, message)?;

    // 5. The method.
    if !crate::dispatch::serves(server, Era::Modern, method) {
        return Err(crate::dispatch::method_not_found(method));
    }

    // 6 and 7. What the tool asks of the request.
    if method == "tools/call"
        && let Some(tool) = message
            .params
            .as_ref()
            .and_then(|params| params.get("name"))
            .and_then(Value::as_str)
            .and_then(|name| server.tool(name))
    {
        let missing: Map<String, Value> = tool
            .client_capabilities
            .iter()
            .filter(|name| !capabilities.contains_key(**name))
            .map(|name| (name.to_string(), json!({})))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.keys().map(String::as_str).collect();
            return Err(ErrorData::new(
                ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                format!(
                    "Missing required client capability: tool {} needs {}",
                    tool.name,
                    names.join(", ")
                ),
                Some(json!({ "requiredCapabilities": missing })),
            ));
        }
        let arguments = message
            .params
            .as_ref()
            .and_then(|params| params.get("arguments"));
        check_param_headers(http, &(tool.definition)().input_schema, arguments)?;
    }
    Ok(())
}

fn bad_envelope(problem: String) -> ErrorData {
    ErrorData::invalid_params(format!("Invalid params: params._meta: {problem}"), None)
}

/// A -32020 HeaderMismatch error.
fn mismatch(header: &str, detail: String) -> ErrorData {
    ErrorData::new(
        ErrorCode::HEADER_MISMATCH,
        format!("Header mismatch: {detail}"),
        Some(json!({ "header": header })),
    )
}

fn list(versions: &[ProtocolVersion]) -> String {
    versions
        .iter()
        .map(ProtocolVersion::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which body field `Mcp-Name` repeats, per method.
fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

fn check_name_header(http: &Request, message: &jsonrpc::Request) -> Result<(), ErrorData> {
    let Some(field) = name_field(&message.method) else {
        return Ok(());
    };
    // A body without the field fails params validation later, in-band.
    let Some(body) = message
        .params
        .as_ref()
        .and_then(|params| params.get(field))
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let Some(header) = http.header("mcp-name") else {
        return Err(mismatch(
            "Mcp-Name",
            format!("the Mcp-Name header is missing (params.{field} is {body:?})"),
        ));
    };
    match decode_header_value(header) {
        None => Err(mismatch(
            "Mcp-Name",
            "the Mcp-Name header is not valid =?base64?...?= UTF-8".into(),
        )),
        Some(name) if name != body => Err(mismatch(
            "Mcp-Name",
            format!("Mcp-Name {name:?} but params.{field} is {body:?}"),
        )),
        Some(_) => Ok(()),
    }
}

/// Decodes a header value that may be sent as `=?base64?<base64>?=`
/// (canonical padding, UTF-8 inside). Any other value is taken literally.
/// `None` when the wrapper is there but its contents are not valid.
pub fn decode_header_value(value: &str) -> Option<String> {
    let Some(encoded) = value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    else {
        return Some(value.to_string());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Every property in `schema` marked `"x-mcp-header": "<Name>"`, as
/// (path of property names from the arguments object, header name, type).
/// Only chains of `properties` count, as SEP-2243 says.
fn header_params(schema: &Map<String, Value>) -> Vec<(Vec<String>, String, String)> {
    fn visit(
        schema: &Map<String, Value>,
        path: &mut Vec<String>,
        found: &mut Vec<(Vec<String>, String, String)>,
    ) {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, property) in properties {
            let Some(property) = property.as_object() else {
                continue;
            };
            path.push(name.clone());
            if let Some(header) = property.get("x-mcp-header").and_then(Value::as_str) {
                let kind = property.get("type").and_then(Value::as_str).unwrap_or("");
                found.push((path.clone(), header.to_string(), kind.to_string()));
            }
            visit(property, path, found);
            path.pop();
        }
    }
    let mut found = Vec::new();
    visit(schema, &mut Vec::new(), &mut found);
    found
}

fn check_param_headers(
    http: &Request,
    schema: &Map<String, Value>,
    arguments: Option<&Value>,
) -> Result<(), ErrorData> {
    for (path, name, kind) in header_params(schema) {
        let header = format!("Mcp-Param-{name}");
        let value = arguments
            .and_then(|arguments| path.iter().try_fold(arguments, |node, key| node.get(key)))
            .filter(|value| !value.is_null());
        let given = http.header(&header);
        let body = match value {
            // Absent or null in the body: the client must not send the header.
            None => match given {
                Some(_) => {
                    return Err(mismatch(
                        &header,
                        format!("{header} is sent but the argument is absent"),
                    ));
                }
                None => continue,
            },
            Some(value) => value,
        };
        let Some(given) = given else {
            return Err(mismatch(&header, format!("the {header} header is missing")));
        };
        let Some(decoded) = decode_header_value(given) else {
            return Err(mismatch(
                &header,
                format!("the {header} header is not valid =?base64?...?= UTF-8"),
            ));
        };
        let equal = match body {
            Value::String(text) => decoded == *text,
            Value::Bool(flag) => decoded == flag.to_string(),
            // Numbers compare by value (`42` and `42.0` agree) when the
            // header is a plain decimal.
            Value::Number(number) if matches!(kind.as_str(), "integer" | "number") => {
                is_decimal(&decoded)
                    && decoded.parse::<f64>().ok() == number.as_f64()
                    && number.as_f64().is_some()
            }
            Value::Number(number) => decoded == number.to_string(),
            // Objects and arrays cannot travel in a header; the schema check
            // of the arguments reports them.
            _ => true,
        };
        if !equal {
            return Err(mismatch(
                &header,
                format!("{header} {decoded:?} but the argument is {body}"),
            ));
        }
    }
    Ok(())
}

/// `-?digits(.digits)?`: the only number spelling a header may use.
fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::{Message, parse};
    use crate::testing::{FULL, meta, modern_body, modern_headers, post};

    /// The era of `body` sent with `headers`, or (code, data) of the refusal.
    fn classify_with(headers: &[(&str, &str)], body: &str) -> Result<Era, (i32, Value)> {
        let Ok(Message::Request(message)) = parse(body.as_bytes()) else {
            panic!("not a request: {body}");
        };
        classify(&post(headers, body), &message, &FULL)
            .map_err(|e| (e.code.0, e.data.unwrap_or(Value::Null)))
    }

    fn code(result: Result<Era, (i32, Value)>) -> i32 {
        match result {
            Ok(era) => panic!("expected a refusal, got {era:?}"),
            Err((code, _)) => code,
        }
    }

    /// A modern `method` request with `params` and the right headers.
    fn modern(method: &str, params: Value, name: Option<&str>) -> Result<Era, (i32, Value)> {
        classify_with(
            &modern_headers(method, name),
            &modern_body(json!(1), method, params),
        )
    }

    /// A `method` request whose `_meta` is exactly `meta`.
    fn with_meta(headers: &[(&str, &str)], method: &str, meta: Value) -> Result<Era, (i32, Value)> {
        let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":{"_meta": meta}});
        classify_with(headers, &body.to_string())
    }

    #[test]
    fn the_body_decides_the_era() {
        let legacy = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","_meta":{"progressToken":1}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#,
        ];
        for body in legacy {
            assert_eq!(classify_with(&[], body), Ok(Era::Legacy), "{body}");
            let header = [("MCP-Protocol-Version", "2025-06-18")];
            assert_eq!(classify_with(&header, body), Ok(Era::Legacy), "{body}");
        }
        assert_eq!(modern("tools/list", json!({}), None), Ok(Era::Modern));
        assert_eq!(modern("server/discover", json!({}), None), Ok(Era::Modern));
        // A claim makes even `initialize` modern, where it does not exist.
        assert_eq!(code(modern("initialize", json!({}), None)), -32601);
        assert!(!is_modern_version("2025-11-25"));
        assert!(is_modern_version("2026-07-28"));
        assert!(is_modern_version("2099-01-01"));
    }

    #[test]
    fn a_modern_header_without_a_claim_is_a_malformed_modern_request() {
        let header = [("MCP-Protocol-Version", "2026-07-28")];
        for (body, missing) in [
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                json!(["_meta"]),
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#,
                json!(["_meta"]),
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{}}}}"#,
                json!([PROTOCOL_VERSION_KEY]),
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"progressToken":1}}}"#,
                json!([PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY]),
            ),
        ] {
            assert_eq!(
                classify_with(&header, body),
                Err((-32602, json!({ "missing": missing }))),
                "{body}"
            );
        }
        // Any later (or unknown, non-date) version header counts as modern too.
        let later = [("MCP-Protocol-Version", "2099-01-01")];
        assert_eq!(
            code(classify_with(
                &later,
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
            )),
            -32602
        );
    }

    #[test]
    fn the_envelope_needs_version_and_capabilities() {
        let headers = modern_headers("server/discover", None);
        let mut no_caps = meta();
        no_caps
            .as_object_mut()
            .unwrap()
            .remove(CLIENT_CAPABILITIES_KEY);
        assert_eq!(
            with_meta(&headers, "server/discover", no_caps),
            Err((-32602, json!({ "missing": [CLIENT_CAPABILITIES_KEY] })))
        );
        let mut caps_not_object = meta();
        caps_not_object[CLIENT_CAPABILITIES_KEY] = json!(["sampling"]);
        assert_eq!(
            code(with_meta(&headers, "server/discover", caps_not_object)),
            -32602
        );
        let mut version_not_string = meta();
        version_not_string[PROTOCOL_VERSION_KEY] = json!(20260728);
        assert_eq!(
            code(with_meta(&headers, "server/discover", version_not_string)),
            -32602
        );
        let mut info_not_object = meta();
        info_not_object[CLIENT_INFO_KEY] = json!("me");
        assert_eq!(
            code(with_meta(&headers, "server/discover", info_not_object)),
            -32602
        );
        // clientInfo is a SHOULD: a request without it is served.
        let mut no_info = meta();
        no_info.as_object_mut().unwrap().remove(CLIENT_INFO_KEY);
        assert_eq!(
            with_meta(&headers, "server/discover", no_info),
            Ok(Era::Modern)
        );
        // The envelope rung comes before the header rungs.
        let mut no_caps = meta();
        no_caps
            .as_object_mut()
            .unwrap()
            .remove(CLIENT_CAPABILITIES_KEY);
        let wrong = [("MCP-Protocol-Version", "2025-11-25"), ("Mcp-Method", "x")];
        assert_eq!(code(with_meta(&wrong, "server/discover", no_caps)), -32602);
    }

    #[test]
    fn versions_and_mismatched_headers_in_ladder_order() {
        let mut v999 = meta();
        v999[PROTOCOL_VERSION_KEY] = json!("v999.0.0");
        // Header and body disagree: -32020 comes before the version check.
        let header_2026 = modern_headers("server/discover", None);
        assert_eq!(
            code(with_meta(&header_2026, "server/discover", v999.clone())),
            -32020
        );
        // They agree on a version we do not serve: -32022, naming ours.
        let header_v999 = [
            ("MCP-Protocol-Version", "v999.0.0"),
            ("Mcp-Method", "server/discover"),
        ];
        let (code_, data) = with_meta(&header_v999, "server/discover", v999.clone()).unwrap_err();
        assert_eq!(code_, -32022);
        assert_eq!(data["requested"], "v999.0.0");
        assert_eq!(data["supported"], json!(SUPPORTED_VERSIONS));
        // An Mcp-Method that disagrees is also found before the version.
        let wrong_method = [
            ("MCP-Protocol-Version", "v999.0.0"),
            ("Mcp-Method", "tools/list"),
        ];
        assert_eq!(
            code(with_meta(&wrong_method, "server/discover", v999.clone())),
            -32020
        );
        // The version is checked before the required headers' presence.
        assert_eq!(code(with_meta(&[], "server/discover", v999)), -32022);
        // A legacy version has no per-request form.
        let mut legacy = meta();
        legacy[PROTOCOL_VERSION_KEY] = json!("2025-11-25");
        assert_eq!(code(with_meta(&[], "server/discover", legacy)), -32022);
    }

    #[test]
    fn required_headers_are_present_and_case_sensitive() {
        let body = modern_body(json!(1), "tools/list", json!({}));
        for (headers, expected) in [
            (vec![("Mcp-Method", "tools/list")], Err(-32020)),
            (vec![("MCP-Protocol-Version", "2026-07-28")], Err(-32020)),
            (
                vec![
                    ("MCP-Protocol-Version", "2026-07-28"),
                    ("Mcp-Method", "TOOLS/LIST"),
                ],
                Err(-32020),
            ),
            (
                vec![
                    ("MCP-Protocol-Version", "2026-07-28"),
                    ("Mcp-Method", "prompts/list"),
                ],
                Err(-32020),
            ),
            (
                vec![
                    ("mcp-protocol-version", "2026-07-28"),
                    ("mcp-method", "tools/list"),
                ],
                Ok(Era::Modern),
            ),
            (
                vec![
                    ("MCP-PROTOCOL-VERSION", " 2026-07-28\t"),
                    ("MCP-METHOD", "\ttools/list  "),
                ],
                Ok(Era::Modern),
            ),
        ] {
            assert_eq!(
                classify_with(&headers, &body).map_err(|(code, _)| code),
                expected,
                "{headers:?}"
            );
        }
    }

    #[test]
    fn mcp_name_repeats_the_target() {
        let call = |name: Option<&str>| modern("tools/call", json!({"name": "greet"}), name);
        assert_eq!(call(Some("greet")), Ok(Era::Modern));
        assert_eq!(call(Some("  greet\t")), Ok(Era::Modern));
        assert_eq!(call(Some("=?base64?Z3JlZXQ=?=")), Ok(Era::Modern));
        assert_eq!(code(call(None)), -32020);
        assert_eq!(code(call(Some("GREET"))), -32020);
        assert_eq!(code(call(Some("other"))), -32020);
        assert_eq!(code(call(Some("=?base64?Z3JlZXQ?="))), -32020, "padding");
        assert_eq!(code(call(Some("=?base64?Z3J!ZXQ=?="))), -32020, "alphabet");
        // The wrapper is only a wrapper when it is whole.
        assert_eq!(code(call(Some("=?base64?Z3JlZXQ="))), -32020);
        let read =
            |uri: &str, header: Option<&str>| modern("resources/read", json!({"uri": uri}), header);
        assert_eq!(read("test://doc", Some("test://doc")), Ok(Era::Modern));
        assert_eq!(code(read("test://doc", Some("test://other"))), -32020);
        assert_eq!(code(read("test://doc", None)), -32020);
        let get = |header: Option<&str>| modern("prompts/get", json!({"name": "hello"}), header);
        assert_eq!(get(Some("hello")), Ok(Era::Modern));
        assert_eq!(code(get(None)), -32020);
        // Without a name in the body there is nothing to repeat: the
        // dispatcher reports the missing name, in-band.
        assert_eq!(modern("tools/call", json!({}), None), Ok(Era::Modern));
        // Header checks come before the method check.
        let body = modern_body(json!(1), "ping", json!({}));
        assert_eq!(
            code(classify_with(
                &[("MCP-Protocol-Version", "2026-07-28")],
                &body
            )),
            -32020
        );
    }

    #[test]
    fn methods_2026_removed_or_never_had_are_not_found() {
        for method in [
            "initialize",
            "ping",
            "logging/setLevel",
            "resources/subscribe",
            "resources/unsubscribe",
            "subscriptions/listen",
            "unknown/method",
        ] {
            assert_eq!(code(modern(method, json!({}), None)), -32601, "{method}");
        }
        for method in [
            "server/discover",
            "tools/list",
            "resources/list",
            "prompts/list",
        ] {
            assert_eq!(modern(method, json!({}), None), Ok(Era::Modern), "{method}");
        }
    }

    #[test]
    fn tools_refuse_undeclared_client_capabilities() {
        let body = |capabilities: Value| {
            let mut meta = meta();
            meta[CLIENT_CAPABILITIES_KEY] = capabilities;
            json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
                   "params":{"name":"needy","_meta": meta}})
            .to_string()
        };
        let headers = modern_headers("tools/call", Some("needy"));
        assert_eq!(
            classify_with(&headers, &body(json!({}))),
            Err((
                -32021,
                json!({"requiredCapabilities": {"sampling": {}, "roots": {}}})
            ))
        );
        assert_eq!(
            classify_with(&headers, &body(json!({"sampling": {}}))),
            Err((-32021, json!({"requiredCapabilities": {"roots": {}}})))
        );
        assert_eq!(
            classify_with(&headers, &body(json!({"sampling": {}, "roots": {}}))),
            Ok(Era::Modern)
        );
        // Tools that need nothing, and unknown tools (reported in-band), pass.
        assert_eq!(
            modern("tools/call", json!({"name": "greet"}), Some("greet")),
            Ok(Era::Modern)
        );
        assert_eq!(
            modern("tools/call", json!({"name": "nope"}), Some("nope")),
            Ok(Era::Modern)
        );
    }

    #[test]
    fn mcp_param_headers_repeat_marked_arguments() {
        let call = |arguments: Value, params: &[(&str, &str)]| {
            let mut headers = modern_headers("tools/call", Some("routed"));
            headers.extend_from_slice(params);
            classify_with(
                &headers,
                &modern_body(
                    json!(1),
                    "tools/call",
                    json!({"name":"routed","arguments": arguments}),
                ),
            )
            .map_err(|(code, _)| code)
        };
        let ok = Ok(Era::Modern);
        assert_eq!(call(json!({}), &[]), ok);
        assert_eq!(call(json!({"plain": "x", "region": null}), &[]), ok);
        assert_eq!(
            call(json!({"region": "eu"}), &[("Mcp-Param-Region", "eu")]),
            ok
        );
        assert_eq!(
            call(json!({"region": "eu"}), &[("mcp-param-region", " eu ")]),
            ok
        );
        assert_eq!(
            call(
                json!({"region": "eu"}),
                &[("Mcp-Param-Region", "=?base64?ZXU=?=")]
            ),
            ok
        );
        assert_eq!(call(json!({"region": "eu"}), &[]), Err(-32020), "missing");
        assert_eq!(
            call(json!({"region": "eu"}), &[("Mcp-Param-Region", "EU")]),
            Err(-32020)
        );
        assert_eq!(
            call(
                json!({"region": "eu"}),
                &[("Mcp-Param-Region", "=?base64?ZXU?=")]
            ),
            Err(-32020),
            "bad padding"
        );
        assert_eq!(
            call(
                json!({"region": "=?base64?ZXU="}),
                &[("Mcp-Param-Region", "=?base64?ZXU=")]
            ),
            ok,
            "no suffix: literal"
        );
        assert_eq!(
            call(json!({}), &[("Mcp-Param-Region", "eu")]),
            Err(-32020),
            "no argument"
        );
        assert_eq!(call(json!({"count": 42}), &[("Mcp-Param-Count", "42")]), ok);
        assert_eq!(
            call(json!({"count": 42}), &[("Mcp-Param-Count", "42.0")]),
            ok
        );
        assert_eq!(
            call(json!({"count": 42}), &[("Mcp-Param-Count", "4e1")]),
            Err(-32020)
        );
        assert_eq!(
            call(json!({"count": 42}), &[("Mcp-Param-Count", "43")]),
            Err(-32020)
        );
        assert_eq!(
            call(json!({"flag": true}), &[("Mcp-Param-Flag", "true")]),
            ok
        );
        assert_eq!(
            call(json!({"flag": true}), &[("Mcp-Param-Flag", "True")]),
            Err(-32020)
        );
        assert_eq!(
            call(json!({"nested": {"zone": "a"}}), &[("Mcp-Param-Zone", "a")]),
            ok
        );
        assert_eq!(call(json!({"nested": {"zone": "a"}}), &[]), Err(-32020));
    }

    #[test]
    fn decodes_base64_header_values() {
        assert_eq!(decode_header_value("plain"), Some("plain".into()));
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8=?="),
            Some("Hello".into())
        );
        assert_eq!(
            decode_header_value("=?base64?w6lsw6h2ZQ==?="),
            Some("élève".into())
        );
        assert_eq!(decode_header_value("=?base64??="), Some(String::new()));
        assert_eq!(decode_header_value("=?base64?SGVsbG8?="), None);
        assert_eq!(decode_header_value("=?base64?SGVs!!!bG8=?="), None);
        assert_eq!(decode_header_value("=?base64?/w==?="), None, "not UTF-8");
        assert_eq!(
            decode_header_value("=?BASE64?SGVsbG8=?="),
            Some("=?BASE64?SGVsbG8=?=".into()),
            "markers are lowercase"
        );
    }
}
