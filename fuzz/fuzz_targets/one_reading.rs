//! Differential: the host's reading of a request body against what the
//! component actually does with the bytes it is given.
//!
//! The host reads the body (`host/src/rpc.rs`), judges it, and hands the
//! component its own re-serialisation. For every input the host accepts, the
//! component (the same MCP code the wasm component runs, natively, with
//! tools that record when they run) must run no tool other than the one the
//! host named, none at all when the host named none, and answer with the id
//! the host read. A tool the policy forbids (`forbidden`) is refused by the
//! host before the component sees the request, so it must never run.
#![no_main]

use std::cell::RefCell;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rmcp::model::{CallToolResponse, ErrorData, JsonObject};
use serde_json::Value;
use tailmcp_component::tools::Registered;
use tailmcp_component::transport::{Request, handle};
use tailmcp_component::{Caller, Input, SERVER, Server, User};

#[path = "../../host/src/rpc.rs"]
#[allow(dead_code, reason = "only the reading is fuzzed")]
mod rpc;

thread_local! {
    /// The tools the component ran for the current input.
    static RAN: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// What the host's policy forbids in this target.
const FORBIDDEN: &str = "forbidden";

macro_rules! recording {
    ($fn:ident, $name:expr, $inner:expr) => {
        fn $fn(caller: &Caller, args: JsonObject, input: &Input) -> Result<CallToolResponse, ErrorData> {
            RAN.with(|ran| ran.borrow_mut().push($name));
            ($inner.call)(caller, args, input)
        }
    };
}

fn greet() -> &'static Registered {
    SERVER.tool("greet").expect("greet is built in")
}
fn whoami() -> &'static Registered {
    SERVER.tool("whoami").expect("whoami is built in")
}
recording!(run_greet, "greet", greet());
recording!(run_whoami, "whoami", whoami());
recording!(run_forbidden, FORBIDDEN, whoami());

fn server() -> &'static Server {
    static SERVER_: OnceLock<Server> = OnceLock::new();
    SERVER_.get_or_init(|| {
        let tools = vec![
            Registered { call: run_greet, ..*greet() },
            Registered { call: run_whoami, ..*whoami() },
            Registered { name: FORBIDDEN, call: run_forbidden, ..*whoami() },
        ];
        Server {
            tools: Box::leak(tools.into_boxed_slice()),
            ..SERVER_FIELDS
        }
    })
}

/// The built-in server's other fields (its tools are replaced above).
const SERVER_FIELDS: Server = Server {
    name: "tailmcp",
    title: "one reading",
    version: "0",
    instructions: None,
    tools: &[],
    resources: None,
    prompts: None,
    completions: None,
};

const HEADERS: [&str; 4] = ["mcp-protocol-version", "mcp-method", "mcp-name", "accept"];

fuzz_target!(|data: &[u8]| {
    // Layout as in `jsonrpc`: header chunks separated by 0xfe (first byte
    // picks the name), then 0xff, then the body.
    let (head, body) = match data.iter().position(|b| *b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let Ok(reading) = rpc::read(body) else {
        return; // refused by the host: no component sees it
    };
    if reading.tool.as_deref() == Some(FORBIDDEN) {
        return; // refused by the host's policy before the component runs
    }
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
        body: reading.body.clone(),
    };
    let caller = || Caller {
        user: Some(User {
            login: "fuzz@example.com".into(),
            display_name: "Fuzz".into(),
            profile_pic_url: None,
        }),
        ..Caller::default()
    };
    RAN.with(|ran| ran.borrow_mut().clear());
    let response = handle(server(), &request, &caller);
    let ran = RAN.with(|ran| ran.borrow().clone());
    match ran.as_slice() {
        [] => {}
        [tool] => assert_eq!(
            Some(*tool),
            reading.tool.as_deref(),
            "the component ran a tool the host did not judge"
        ),
        more => panic!("the component ran {} tools for one request: {more:?}", more.len()),
    }
    assert_ne!(ran.first(), Some(&FORBIDDEN), "a forbidden tool ran");
    if response.status != 202 && reading.kind == rpc::Kind::Request {
        let answer: Value = serde_json::from_slice(&response.body).expect("every answer is JSON");
        if let Some(id) = answer.get("id") {
            assert_eq!(Some(id), reading.id.as_ref(), "the component answered another id");
        }
    }
    if reading.kind != rpc::Kind::Request {
        assert!(ran.is_empty(), "a tool ran for a notification or a response");
    }
});
