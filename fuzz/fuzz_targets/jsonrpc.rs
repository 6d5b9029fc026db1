//! Fuzzes the component's MCP handling natively (the same code the wasm
//! component runs): arbitrary headers and bodies through the Streamable
//! HTTP rules, the JSON-RPC envelope and both protocol eras. Nothing may
//! panic, every answer has a documented status, and every body is JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailmcp_component::transport::{Request, handle};
use tailmcp_component::{Caller, SERVER, User};

const HEADERS: [&str; 8] = [
    "accept",
    "content-type",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "mcp-param-x",
    "mcp-session-id",
    "origin",
];

fuzz_target!(|data: &[u8]| {
    // Layout: header chunks separated by 0xfe (first byte picks the name),
    // then 0xff, then the body. Valid defaults make most inputs reach dispatch.
    let (head, body) = match data.iter().position(|b| *b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let mut headers = vec![
        ("accept".to_string(), b"application/json, text/event-stream".to_vec()),
        ("content-type".to_string(), b"application/json".to_vec()),
    ];
    for chunk in head.split(|b| *b == 0xfe) {
        if let Some((which, value)) = chunk.split_first() {
            headers.push((HEADERS[*which as usize % HEADERS.len()].to_string(), value.to_vec()));
        }
    }
    let request = Request {
        method: "POST".into(),
        path: "/mcp".into(),
        headers,
        body: body.to_vec(),
    };
    let caller = || Caller {
        user: Some(User {
            login: "fuzz@example.com".into(),
            display_name: "Fuzz".into(),
            profile_pic_url: None,
        }),
        ..Caller::default()
    };
    let response = handle(&SERVER, &request, &caller);
    assert!(
        [200, 202, 400, 404, 405, 406, 413, 415].contains(&response.status),
        "undocumented status {}",
        response.status
    );
    if response.status == 202 {
        assert!(response.body.is_empty());
    } else {
        let json: serde_json::Value =
            serde_json::from_slice(&response.body).expect("every answer is JSON");
        assert_eq!(json["jsonrpc"], "2.0");
        assert!(json.get("result").is_some() != json.get("error").is_some());
    }
});
