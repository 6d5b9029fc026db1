use serde_json::{Value, json};

use super::headers::decode_header_value;
use super::*;
use crate::jsonrpc::{Message, parse};
use crate::meta::CLIENT_INFO_KEY;
use crate::testing::{FULL, meta, modern_body, modern_headers, post};
use crate::version::SUPPORTED_VERSIONS;

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
