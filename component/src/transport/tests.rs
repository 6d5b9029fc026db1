use serde_json::{Value, json};

use super::*;
use crate::SERVER;
use crate::testing::{alice, answer_for, modern_body, modern_headers, post};

fn answer(req: &Request) -> (u16, Value) {
    answer_for(&SERVER, req)
}

/// (status, error code or null, id or null) of a POST.
fn outcome(headers: &[(&str, &str)], body: &str) -> (u16, Value, Value) {
    let (status, body) = answer(&post(headers, body));
    (
        status,
        body["error"]["code"].clone(),
        body.get("id").cloned().unwrap_or(Value::Null),
    )
}

#[test]
fn greet_over_tools_call() {
    let (status, body) = answer(&post(
        &[],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet"}}"#,
    ));
    assert_eq!(status, 200);
    assert_eq!(body["id"], 1);
    assert_eq!(
        body["result"]["content"][0]["text"],
        "Hello, Alice! You are logged in as alice@example.com."
    );
    assert_eq!(
        body["result"]["structuredContent"]["profilePicUrl"],
        "https://example.com/a.png"
    );
    assert_eq!(
        body["result"].get("resultType"),
        None,
        "legacy results carry no resultType"
    );
}

#[test]
fn http_errors_in_order() {
    let mut r = post(&[], "{}");
    r.path = "/other".into();
    assert_eq!(answer(&r).0, 404);
    for method in ["GET", "DELETE", "PUT"] {
        let mut r = post(&[], "{}");
        r.method = method.into();
        let response = handle(&SERVER, &r, &alice);
        assert_eq!(response.status, 405);
        assert!(response.headers.contains(&("allow".into(), "POST".into())));
    }
    let mut r = post(&[], "{");
    r.headers[0].1 = b"application/json".to_vec();
    assert_eq!(answer(&r).0, 406);
    r.headers[0].1 = b"*/*".to_vec();
    assert_eq!(answer(&r).0, 406);
    let mut r = post(&[], "{");
    r.headers[1].1 = b"text/plain".to_vec();
    assert_eq!(answer(&r).0, 415);
    let mut r = post(&[], "{");
    r.headers[1].1 = b"application/json; charset=utf-8".to_vec();
    assert_eq!(
        answer(&r),
        (
            400,
            json!({"jsonrpc":"2.0","error":{"code":-32700,"message":answer(&r).1["error"]["message"]}})
        )
    );
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (status, code, _) = outcome(&[("MCP-Protocol-Version", "2020-01-01")], ping);
    assert_eq!(status, 400);
    assert_eq!(code, -32000, "legacy 4xx never carries a 2026 code");
    // The legacy header check still comes before the body is read.
    assert_eq!(
        outcome(&[("MCP-Protocol-Version", "2020-01-01")], "{"),
        (400, json!(-32000), Value::Null)
    );
    assert_eq!(
        outcome(&[("MCP-Protocol-Version", "2025-06-18")], ping).0,
        200
    );
    assert_eq!(
        outcome(&[("MCP-Protocol-Version", " 2025-06-18 ")], ping).0,
        200
    );
}

#[test]
fn batches_notifications_and_unknown_methods() {
    let (status, body) = answer(&post(&[], r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#));
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32600))
    );
    assert_eq!(
        answer(&post(
            &[],
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        )),
        (202, Value::Null)
    );
    let (status, body) = answer(&post(
        &[],
        r#"{"jsonrpc":"2.0","id":"x","method":"resources/list"}"#,
    ));
    assert_eq!(
        (status, body["id"].clone(), body["error"]["code"].clone()),
        (200, json!("x"), json!(-32601))
    );
    let (status, body) = answer(&post(&[], r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#));
    assert_eq!(
        (status, body),
        (200, json!({"jsonrpc":"2.0","id":2,"result":{}}))
    );
}

#[test]
fn modern_refusals_use_http_status_and_echo_the_id() {
    let discover = modern_body(json!("d"), "server/discover", json!({}));
    let ok = modern_headers("server/discover", None);
    let (status, body) = answer(&post(&ok, &discover));
    assert_eq!((status, body["id"].clone()), (200, json!("d")));
    assert_eq!(body["result"]["resultType"], "complete");

    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        String,
        (u16, Value, Value),
    );
    let cases: Vec<Case> = vec![
        (
            "header without claim",
            vec![
                ("MCP-Protocol-Version", "2026-07-28"),
                ("Mcp-Method", "ping"),
            ],
            r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#.into(),
            (400, json!(-32602), json!(9)),
        ),
        (
            "Mcp-Method mismatch",
            vec![
                ("MCP-Protocol-Version", "2026-07-28"),
                ("Mcp-Method", "tools/list"),
            ],
            discover.clone(),
            (400, json!(-32020), json!("d")),
        ),
        (
            "unsupported version",
            vec![
                ("MCP-Protocol-Version", "2030-01-01"),
                ("Mcp-Method", "server/discover"),
            ],
            discover.replace("2026-07-28", "2030-01-01"),
            (400, json!(-32022), json!("d")),
        ),
        (
            "missing capability",
            modern_headers("tools/call", Some("greet")),
            json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"greet",
                "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})
            .to_string(),
            (400, json!(-32602), json!(3)),
        ),
        (
            "removed method",
            modern_headers("ping", None),
            modern_body(json!(5), "ping", json!({})),
            (404, json!(-32601), json!(5)),
        ),
        (
            "initialize with a claim",
            modern_headers("initialize", None),
            modern_body(json!(6), "initialize", json!({})),
            (404, json!(-32601), json!(6)),
        ),
        (
            "unknown tool, in-band",
            modern_headers("tools/call", Some("nope")),
            modern_body(json!(7), "tools/call", json!({"name": "nope"})),
            (200, json!(-32602), json!(7)),
        ),
        (
            "a legacy-unknown header does not hide a modern body's mismatch",
            vec![
                ("MCP-Protocol-Version", "2020-01-01"),
                ("Mcp-Method", "server/discover"),
            ],
            discover.clone(),
            (400, json!(-32020), json!("d")),
        ),
    ];
    for (name, headers, body, expected) in cases {
        assert_eq!(outcome(&headers, &body), expected, "{name}");
    }
    // Notifications get 202 in either era.
    assert_eq!(
        outcome(
            &modern_headers("notifications/cancelled", None),
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#
        ),
        (202, Value::Null, Value::Null)
    );
}

#[test]
fn legacy_refusals_never_carry_2026_codes() {
    let bodies = [
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        "{",
        "[]",
        r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
    ];
    for header in [None, Some("2020-01-01"), Some("1.0"), Some("2025-11-25")] {
        for body in bodies {
            let headers: Vec<(&str, &str)> = header
                .map(|h| ("MCP-Protocol-Version", h))
                .into_iter()
                .collect();
            let (status, code, _) = outcome(&headers, body);
            let code = code.as_i64().unwrap_or(0);
            assert!(
                !(-32022..=-32020).contains(&code),
                "{header:?} {body}: {status} {code}"
            );
        }
    }
}
