use rmcp::model::{NumberOrString, ProtocolVersion};
use serde_json::json;

use super::*;
use crate::SERVER;
use crate::meta::{CLIENT_CAPABILITIES_KEY, SERVER_INFO_KEY};
use crate::testing::{FULL, alice};
use crate::version::{LEGACY_VERSIONS, negotiate};

fn run_on(server: &Server, era: Era, method: &str, params: Value) -> Result<Value, (i32, Value)> {
    let request = Request {
        id: NumberOrString::Number(1),
        method: method.into(),
        params: Some(params),
    };
    dispatch(server, era, &request, &alice).map_err(|e| (e.code.0, e.data.unwrap_or(Value::Null)))
}

fn run(method: &str, params: Value) -> Result<Value, (i32, String)> {
    let request = Request {
        id: NumberOrString::Number(1),
        method: method.into(),
        params: Some(params),
    };
    dispatch(&SERVER, Era::Legacy, &request, &Caller::default)
        .map_err(|e| (e.code.0, e.message.to_string()))
}

#[test]
fn negotiates_versions() {
    for v in LEGACY_VERSIONS {
        assert_eq!(negotiate(v).as_str(), *v);
    }
    assert_eq!(
        negotiate("2099-01-01"),
        ProtocolVersion::LATEST_WITH_INITIALIZE
    );
    assert_eq!(
        negotiate("2026-07-28"),
        ProtocolVersion::V_2025_11_25,
        "no initialize in 2026"
    );
    assert_eq!(negotiate(""), ProtocolVersion::LATEST_WITH_INITIALIZE);
    let r = run("initialize", json!({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}})).unwrap();
    assert_eq!(r["protocolVersion"], "2025-06-18");
    assert_eq!(r["serverInfo"]["name"], "tailmcp");
    assert_eq!(r["capabilities"], json!({"tools": {}}));
    assert!(r["instructions"].as_str().unwrap().contains("greet"));
}

#[test]
fn method_and_param_errors() {
    assert_eq!(run("nope", json!({})).unwrap_err().0, -32601);
    assert_eq!(run("initialize", json!({})).unwrap_err().0, -32602);
    assert_eq!(run("initialize", json!([1])).unwrap_err().0, -32602);
    assert_eq!(run("tools/call", json!({})).unwrap_err().0, -32602);
    assert_eq!(run("tools/call", json!({"name": 5})).unwrap_err().0, -32602);
    assert_eq!(
        run("tools/call", json!({"name":"greet","arguments":[1]}))
            .unwrap_err()
            .0,
        -32602
    );
    let (code, message) = run("tools/call", json!({"name":"nope"})).unwrap_err();
    assert_eq!((code, message.as_str()), (-32602, "Unknown tool: nope"));
    assert_eq!(
        run("tools/list", json!({"cursor":"x"})).unwrap_err().0,
        -32602
    );
}

#[test]
fn bad_arguments_are_a_tool_error() {
    let r = run(
        "tools/call",
        json!({"name":"greet","arguments":{"extra":1}}),
    )
    .unwrap();
    assert_eq!(r["isError"], true);
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Invalid arguments")
    );
}

#[test]
fn lists_tools() {
    let r = run("tools/list", json!({})).unwrap();
    let greet = &r["tools"][0];
    assert_eq!(greet["name"], "greet");
    assert_eq!(
        greet["inputSchema"],
        json!({"type":"object","additionalProperties":false})
    );
    assert_eq!(greet["annotations"]["readOnlyHint"], true);
    assert_eq!(greet["outputSchema"]["type"], "object");
}

#[test]
fn which_methods_each_era_serves() {
    for (method, legacy, modern) in [
        ("initialize", true, false),
        ("ping", true, false),
        ("server/discover", false, true),
        ("tools/list", true, true),
        ("tools/call", true, true),
        ("logging/setLevel", false, false),
        ("resources/subscribe", false, false),
        // A notification sent with an id is not a request anyone answers.
        ("notifications/initialized", false, false),
        ("notifications/cancelled", false, false),
    ] {
        let serves = |era| SERVER.serves(era, method).is_some();
        assert_eq!(serves(Era::Legacy), legacy, "{method}");
        assert_eq!(serves(Era::Modern), modern, "{method}");
    }
    // Resources, prompts and completions only where the server has them.
    for method in [
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "prompts/list",
        "prompts/get",
        "completion/complete",
    ] {
        for era in [Era::Legacy, Era::Modern] {
            assert!(SERVER.serves(era, method).is_none(), "{method}");
            assert!(FULL.serves(era, method).is_some(), "{method}");
        }
    }
}

#[test]
fn discover_describes_the_server() {
    let r = run_on(&SERVER, Era::Modern, "server/discover", json!({})).unwrap();
    assert_eq!(
        r["supportedVersions"],
        json!([
            "2026-07-28",
            "2025-11-25",
            "2025-06-18",
            "2025-03-26",
            "2024-11-05"
        ])
    );
    assert_eq!(r["capabilities"], json!({"tools": {}}));
    assert_eq!(
        (r["ttlMs"].clone(), r["cacheScope"].clone()),
        (json!(0), json!("private"))
    );
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["_meta"][SERVER_INFO_KEY]["name"], "tailmcp");
    assert_eq!(
        r["_meta"][SERVER_INFO_KEY]["version"],
        env!("CARGO_PKG_VERSION")
    );
    assert!(r["instructions"].as_str().unwrap().contains("greet"));
    // Identity travels only in _meta; there is no handshake version.
    assert!(r.get("serverInfo").is_none() && r.get("protocolVersion").is_none());
    let full = run_on(&FULL, Era::Modern, "server/discover", json!({})).unwrap();
    assert_eq!(
        full["capabilities"],
        json!({"tools": {}, "resources": {}, "prompts": {}, "completions": {}})
    );
    assert!(full.get("instructions").is_none());
}

#[test]
fn results_are_shaped_for_their_era() {
    let greet = json!({"name": "greet"});
    let modern = run_on(&SERVER, Era::Modern, "tools/call", greet.clone()).unwrap();
    let legacy = run_on(&SERVER, Era::Legacy, "tools/call", greet).unwrap();
    assert_eq!(modern["resultType"], "complete");
    assert_eq!(modern["_meta"][SERVER_INFO_KEY]["name"], "tailmcp");
    assert!(modern.get("ttlMs").is_none(), "tools/call is not cacheable");
    for key in ["resultType", "_meta", "ttlMs", "cacheScope"] {
        assert!(
            legacy.get(key).is_none(),
            "legacy result has {key}: {legacy}"
        );
    }
    // The same tool, the same caller, the same answer.
    assert_eq!(modern["content"], legacy["content"]);
    assert_eq!(modern["structuredContent"], legacy["structuredContent"]);
    assert_eq!(
        legacy["content"][0]["text"],
        "Hello, Alice! You are logged in as alice@example.com."
    );

    for method in [
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "prompts/list",
    ] {
        let modern = run_on(&FULL, Era::Modern, method, json!({})).unwrap();
        assert_eq!(modern["resultType"], "complete", "{method}");
        assert_eq!(
            (modern["ttlMs"].clone(), modern["cacheScope"].clone()),
            (json!(0), json!("private")),
            "{method}"
        );
        assert_eq!(modern["_meta"][SERVER_INFO_KEY]["name"], "full", "{method}");
        let legacy = run_on(&FULL, Era::Legacy, method, json!({})).unwrap();
        for key in ["resultType", "_meta", "ttlMs", "cacheScope"] {
            assert!(legacy.get(key).is_none(), "legacy {method} has {key}");
        }
    }
    let read = json!({"uri": "test://doc"});
    let modern = run_on(&FULL, Era::Modern, "resources/read", read.clone()).unwrap();
    assert_eq!(modern["contents"][0]["text"], "for alice@example.com");
    assert_eq!(modern["ttlMs"], 0);
    let legacy = run_on(&FULL, Era::Legacy, "resources/read", read).unwrap();
    assert_eq!(legacy["contents"], modern["contents"]);
    assert!(legacy.get("ttlMs").is_none() && legacy.get("resultType").is_none());

    let init = run_on(
        &FULL,
        Era::Legacy,
        "initialize",
        json!({"protocolVersion": "2025-11-25"}),
    )
    .unwrap();
    assert_eq!(
        init["capabilities"],
        json!({"tools": {}, "resources": {}, "prompts": {}, "completions": {}})
    );
    assert_eq!(
        run_on(&FULL, Era::Legacy, "ping", json!({})).unwrap(),
        json!({})
    );
}

#[test]
fn resource_not_found_differs_by_era() {
    let missing = json!({"uri": "test://missing"});
    assert_eq!(
        run_on(&FULL, Era::Legacy, "resources/read", missing.clone()),
        Err((-32002, json!({"uri": "test://missing"})))
    );
    assert_eq!(
        run_on(&FULL, Era::Modern, "resources/read", missing),
        Err((-32602, json!({"uri": "test://missing"})))
    );
}

#[test]
fn prompts_and_completions() {
    for era in [Era::Legacy, Era::Modern] {
        let hello = run_on(&FULL, era, "prompts/get", json!({"name": "hello"})).unwrap();
        assert_eq!(hello["messages"][0]["content"]["text"], "hello");
        assert_eq!(
            run_on(&FULL, era, "prompts/get", json!({"name": "nope"}))
                .unwrap_err()
                .0,
            -32602
        );
        let complete = run_on(
            &FULL,
            era,
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "hello"}, "argument": {"name": "a", "value": "o"}}),
        )
        .unwrap();
        assert_eq!(complete["completion"]["values"], json!(["one"]));
        assert_eq!(complete.get("resultType").is_some(), era == Era::Modern);
    }
}

/// `params` with the 2026-07-28 `_meta` (declaring `capabilities`).
fn with_meta(mut params: Value, capabilities: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        CLIENT_CAPABILITIES_KEY: capabilities,
    });
    params
}

#[test]
fn tools_can_ask_2026_clients_for_input() {
    // Round 1: the tool asks; the answer is input_required, uncached.
    let first = run_on(
        &FULL,
        Era::Modern,
        "tools/call",
        with_meta(json!({"name": "asker"}), json!({"elicitation": {}})),
    )
    .unwrap();
    assert_eq!(first["resultType"], "input_required");
    assert_eq!(
        first["inputRequests"]["name"]["method"],
        "elicitation/create"
    );
    assert_eq!(first["requestState"], "round-1");
    assert_eq!(first["_meta"][SERVER_INFO_KEY]["name"], "full");
    assert!(first.get("ttlMs").is_none() && first.get("content").is_none());
    // Round 2: the client retries with its answer and the state.
    let retry = json!({
        "name": "asker",
        "inputResponses": {"name": {"action": "accept", "content": {"name": "Zoë"}}, "extra": {}},
        "requestState": "round-1",
    });
    let done = run_on(
        &FULL,
        Era::Modern,
        "tools/call",
        with_meta(retry.clone(), json!({"elicitation": {}})),
    )
    .unwrap();
    assert_eq!(done["resultType"], "complete");
    assert_eq!(done["content"][0]["text"], "Hello, Zoë!");
    assert_eq!(
        done["structuredContent"],
        json!({"state": "round-1", "capabilities": {"elicitation": {}}})
    );
    // Each answer must be a result object.
    let bad = json!({"name": "asker", "inputResponses": {"name": 12345}});
    assert_eq!(
        run_on(&FULL, Era::Modern, "tools/call", with_meta(bad, json!({})))
            .unwrap_err()
            .0,
        -32602
    );
    // A 2025 client cannot be asked: it gets a tool error it can read, and
    // sees no capabilities it did not declare per request.
    let legacy = run_on(&FULL, Era::Legacy, "tools/call", json!({"name": "asker"})).unwrap();
    assert_eq!(legacy["isError"], true);
    assert!(
        legacy["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("2026-07-28")
    );
    assert!(legacy.get("resultType").is_none());
    let legacy_retry = run_on(&FULL, Era::Legacy, "tools/call", retry.clone()).unwrap();
    assert_eq!(legacy_retry["structuredContent"]["capabilities"], json!({}));
    // A tool may refuse a request outright: a protocol error, in-band.
    let mut tampered = retry;
    tampered["requestState"] = json!("round-1-TAMPERED");
    assert_eq!(
        run_on(
            &FULL,
            Era::Modern,
            "tools/call",
            with_meta(tampered, json!({}))
        )
        .unwrap_err()
        .0,
        -32602
    );
}

#[test]
fn prompts_can_ask_2026_clients_for_input() {
    let first = run_on(
        &FULL,
        Era::Modern,
        "prompts/get",
        with_meta(json!({"name": "ask"}), json!({})),
    )
    .unwrap();
    assert_eq!(first["resultType"], "input_required");
    assert!(first.get("requestState").is_none());
    let retry = json!({"name": "ask", "inputResponses": {"name": {"action": "accept", "content": {"name": "Al"}}}});
    let done = run_on(
        &FULL,
        Era::Modern,
        "prompts/get",
        with_meta(retry, json!({})),
    )
    .unwrap();
    assert_eq!(done["messages"][0]["content"]["text"], "hello \"Al\"");
    assert_eq!(
        run_on(&FULL, Era::Legacy, "prompts/get", json!({"name": "ask"}))
            .unwrap_err()
            .0,
        -32600
    );
}

#[test]
fn declared_capabilities_are_the_ones_the_table_needs() {
    use tailmcp_protocol::{Capability, METHODS};
    for server in [&SERVER, &FULL] {
        let declared = serde_json::to_value(server.capabilities()).unwrap();
        for capability in [
            Capability::Tools,
            Capability::Resources,
            Capability::Prompts,
            Capability::Completions,
        ] {
            assert_eq!(
                declared.get(capability.name()).is_some(),
                server.has(capability),
                "{} {}",
                server.name,
                capability.name()
            );
        }
        // A method is served in an era that has it exactly when the server
        // declares what it needs.
        for spec in METHODS.iter().filter(|spec| spec.request().is_some()) {
            for era in [Era::Legacy, Era::Modern] {
                let declares = spec
                    .needs
                    .is_none_or(|capability| declared.get(capability.name()).is_some());
                assert_eq!(
                    server.serves(era, spec.name).is_some(),
                    spec.eras.include(era) && declares,
                    "{} {}",
                    server.name,
                    spec.name
                );
            }
        }
    }
}
