//! The 2026-07-28 headers that repeat the body: `Mcp-Name` (the target of
//! `tools/call`, `prompts/get`, `resources/read`) and `Mcp-Param-*` (the
//! arguments a tool's input schema marks with `x-mcp-header`), and the
//! `=?base64?...?=` form their values may take.

use base64::Engine as _;
use rmcp::model::{ErrorCode, ErrorData};
use serde_json::{Map, Value, json};
use tailmcp_protocol::lookup;

use crate::jsonrpc;
use crate::wire::Request;

/// A -32020 HeaderMismatch error.
pub(super) fn mismatch(header: &str, detail: String) -> ErrorData {
    ErrorData::new(
        ErrorCode::HEADER_MISMATCH,
        format!("Header mismatch: {detail}"),
        Some(json!({ "header": header })),
    )
}

/// Rung 4's `Mcp-Name`: it repeats the target the body names.
pub(super) fn check_name_header(
    http: &Request,
    message: &jsonrpc::Request,
) -> Result<(), ErrorData> {
    // Which body field `Mcp-Name` repeats: the method's target.
    let Some((spec, field)) =
        lookup(&message.method).and_then(|spec| Some((spec, spec.target?.field())))
    else {
        return Ok(());
    };
    // A body without the field fails params validation later, in-band.
    let Some(body) = spec.target_in(message.params.as_ref()) else {
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
pub(super) fn decode_header_value(value: &str) -> Option<String> {
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

pub(super) fn check_param_headers(
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
        if !repeats(&decoded, body, &kind) {
            return Err(mismatch(
                &header,
                format!("{header} {decoded:?} but the argument is {body}"),
            ));
        }
    }
    Ok(())
}

/// Whether header value `decoded` repeats argument `body`, whose schema
/// type is `kind`.
fn repeats(decoded: &str, body: &Value, kind: &str) -> bool {
    match body {
        Value::String(text) => decoded == text,
        Value::Bool(flag) => decoded == flag.to_string(),
        // Numbers compare by value (`42` and `42.0` agree) when the
        // header is a plain decimal.
        Value::Number(number) if matches!(kind, "integer" | "number") => {
            is_decimal(decoded)
                && decoded.parse::<f64>().ok() == number.as_f64()
                && number.as_f64().is_some()
        }
        Value::Number(number) => decoded == number.to_string(),
        // Objects and arrays cannot travel in a header; the schema check
        // of the arguments reports them.
        _ => true,
    }
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
