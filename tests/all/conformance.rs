//! The conformance fixture (`fixtures/src/bin/conformance_server.rs`), on
//! the real host: the parts of the MCP plumbing the greet component does not
//! use (resources, prompts, completions, a tool that needs a client
//! capability, `Mcp-Param-*` headers) in both eras. The official suite runs
//! against the same fixture with `bash tests/conformance/run.sh`.

use serde_json::{Value, json};
use tailmcp_tests::{Tailmcp, fixtures, modern, post_mcp};

/// A 2026-07-28 request: (headers, body).
fn modern_request(
    method: &'static str,
    name: Option<&'static str>,
    params: Value,
    capabilities: Value,
) -> (Vec<(&'static str, &'static str)>, String) {
    (
        modern::headers(method, name),
        modern::body_with(json!(1), method, params, capabilities),
    )
}

fn legacy(method: &str, params: Value) -> String {
    json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string()
}

/// (status, body) of a POST.
async fn post(server: &Tailmcp, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    let reply = post_mcp(server.addr(), headers, body).await;
    (reply.status, reply.json())
}

#[tokio::test]
pub async fn conformance_server() {
    let server = Tailmcp::builder()
        .args([
            "--component",
            fixtures::CONFORMANCE_SERVER,
            "--dev-identity",
            "alice@example.com",
        ])
        .start()
        .await;

    // Capabilities: the same in both eras.
    let (_, init) = post(
        &server,
        &[],
        &legacy("initialize", json!({"protocolVersion": "2025-11-25"})),
    )
    .await;
    let (headers, body) = modern_request("server/discover", None, json!({}), json!({}));
    let (_, discover) = post(&server, &headers, &body).await;
    let capabilities = json!({"tools": {}, "resources": {}, "prompts": {}, "completions": {}});
    assert_eq!(init["result"]["capabilities"], capabilities);
    assert_eq!(discover["result"]["capabilities"], capabilities);

    // Identity reaches the fixture's tools as it reaches greet.
    let (headers, body) = modern_request(
        "tools/call",
        Some("test_caller"),
        json!({"name": "test_caller"}),
        json!({}),
    );
    let (_, call) = post(&server, &headers, &body).await;
    assert_eq!(
        call["result"]["structuredContent"]["login"],
        "alice@example.com"
    );

    // A tool that needs sampling: refused with -32021 (HTTP 400) unless the
    // 2026-07-28 request declares it.
    let (headers, body) = modern_request(
        "tools/call",
        Some("test_missing_capability"),
        json!({"name": "test_missing_capability"}),
        json!({}),
    );
    let (status, refused) = post(&server, &headers, &body).await;
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (400, json!(-32021))
    );
    assert_eq!(
        refused["error"]["data"]["requiredCapabilities"],
        json!({"sampling": {}})
    );
    let (headers, body) = modern_request(
        "tools/call",
        Some("test_missing_capability"),
        json!({"name": "test_missing_capability"}),
        json!({"sampling": {}}),
    );
    assert_eq!(post(&server, &headers, &body).await.0, 200);

    // An argument marked x-mcp-header travels in Mcp-Param-Region too.
    let call_region = |header: Option<&'static str>| {
        let (mut headers, body) = modern_request(
            "tools/call",
            Some("test_header_param"),
            json!({"name": "test_header_param", "arguments": {"region": "eu-west"}}),
            json!({}),
        );
        headers.extend(header.map(|h| ("mcp-param-region", h)));
        (headers, body)
    };
    for (header, status) in [
        (Some("eu-west"), 200),
        (Some("=?base64?ZXUtd2VzdA==?="), 200),
        (Some("us-east"), 400),
        (Some("=?base64?ZXUtd2VzdA?="), 400),
        (None, 400),
    ] {
        let (headers, body) = call_region(header);
        let (got, reply) = post(&server, &headers, &body).await;
        assert_eq!(got, status, "{header:?}: {reply}");
        if status == 400 {
            assert_eq!(reply["error"]["code"], -32020, "{header:?}");
        }
    }

    // Resources: read in both eras; "not found" has an era-specific code.
    let read = json!({"uri": "test://template/42/data"});
    let (_, legacy_read) = post(&server, &[], &legacy("resources/read", read.clone())).await;
    let (headers, body) = modern_request(
        "resources/read",
        Some("test://template/42/data"),
        read,
        json!({}),
    );
    let (_, modern_read) = post(&server, &headers, &body).await;
    assert_eq!(
        legacy_read["result"]["contents"],
        modern_read["result"]["contents"]
    );
    assert!(
        legacy_read["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Data for ID: 42")
    );
    assert_eq!(modern_read["result"]["ttlMs"], 0);
    assert!(legacy_read["result"].get("ttlMs").is_none());
    let missing = json!({"uri": "test://nope"});
    let (status, legacy_missing) =
        post(&server, &[], &legacy("resources/read", missing.clone())).await;
    assert_eq!(
        (status, legacy_missing["error"]["code"].clone()),
        (200, json!(-32002))
    );
    let (headers, body) = modern_request("resources/read", Some("test://nope"), missing, json!({}));
    let (status, modern_missing) = post(&server, &headers, &body).await;
    assert_eq!(
        (status, modern_missing["error"]["code"].clone()),
        (200, json!(-32602))
    );
    assert_eq!(modern_missing["error"]["data"]["uri"], "test://nope");

    // Prompts and completions.
    let args =
        json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a", "arg2": "b"}});
    let (headers, body) = modern_request(
        "prompts/get",
        Some("test_prompt_with_arguments"),
        args,
        json!({}),
    );
    let (_, prompt) = post(&server, &headers, &body).await;
    assert_eq!(
        prompt["result"]["messages"][0]["content"]["text"],
        "Prompt with arguments: arg1='a', arg2='b'"
    );
    let complete = json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
        "argument": {"name": "arg1", "value": "par"}});
    let (_, completion) = post(&server, &[], &legacy("completion/complete", complete)).await;
    assert_eq!(
        completion["result"]["completion"]["values"],
        json!(["paris", "park", "party"])
    );
}
