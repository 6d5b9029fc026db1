//! Soak benchmark (prints figures; not a test): mixed valid and invalid
//! traffic at concurrency 64 against the real host for 10 minutes, with
//! fault fixtures swapped in for a few seconds every 20 s. Prints requests
//! served, failures by kind, and host RSS at the start and the end.
//!
//! Run: `cargo run --release -p tailmcp-tests --bin bench-soak [SECONDS]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tailmcp_tests::{MCP_HEADERS, Reply, Tailmcp, fixtures, send, tools_call, try_send};

const CONCURRENCY: usize = 64;
const FAULT_EVERY: Duration = Duration::from_secs(20);
const FAULT_FOR: Duration = Duration::from_secs(3);

fn greet_wasm() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/component-build/wasm32-wasip2/component/tailmcp_component.wasm")
}

fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// One request of the mix, and whether its answer was the documented one
/// (status 0: the connection failed).
async fn one(server: &Tailmcp, n: u64) -> (&'static str, bool, u16) {
    let addr = server.addr();
    let send = |method: &'static str,
                path: &'static str,
                headers: Vec<(&'static str, &'static str)>,
                body: String| async move {
        try_send(addr, method, path, &headers, body)
            .await
            .unwrap_or(Reply {
                status: 0,
                headers: Default::default(),
                body: Default::default(),
            })
    };
    let alice = [
        ("tailscale-user-login", "alice@example.com"),
        ("tailscale-user-name", "Alice"),
    ];
    match n % 20 {
        0..=13 => {
            let mut headers = MCP_HEADERS.to_vec();
            headers.extend_from_slice(&alice);
            let r = send("POST", "/mcp", headers, tools_call(n, "greet", json!({}))).await;
            let ok = r.status == 200 && r.body.windows(7).any(|w| w == b"Hello, ");
            ("greet", ok, r.status)
        }
        14 => {
            let r = send("POST", "/mcp", MCP_HEADERS.to_vec(), "{\"jsonrpc\":".into()).await;
            ("malformed JSON", r.status == 400, r.status)
        }
        15 => {
            let r = send(
                "POST",
                "/mcp",
                MCP_HEADERS.to_vec(),
                r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#.into(),
            )
            .await;
            ("unknown method", r.status == 200, r.status)
        }
        16 => {
            let mut headers = MCP_HEADERS.to_vec();
            headers.extend_from_slice(&[
                ("tailscale-user-login", "=?utf-8?q?=ZZ?="),
                ("tailscale-app-capabilities", "{nope"),
            ]);
            let r = send("POST", "/mcp", headers, tools_call(n, "greet", json!({}))).await;
            ("malformed identity", r.status == 200, r.status)
        }
        17 => {
            let big = format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"p":"{}"}}}}"#,
                "x".repeat(2 << 20)
            );
            let r = send("POST", "/mcp", MCP_HEADERS.to_vec(), big).await;
            // The host answers 413 from the Content-Length and closes the
            // connection; a client still writing may see the close instead.
            ("oversized body", r.status == 413 || r.status == 0, r.status)
        }
        18 => {
            let r = send("GET", "/mcp", Vec::new(), String::new()).await;
            ("GET /mcp", r.status == 405, r.status)
        }
        _ => {
            let r = send(
                "POST",
                "/mcp",
                vec![("content-type", "text/plain")],
                "x".into(),
            )
            .await;
            (
                "wrong content type",
                r.status == 406 || r.status == 415,
                r.status,
            )
        }
    }
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("component.wasm");
    let greet = std::fs::read(greet_wasm()).expect("build the host first");
    replace(&path, &greet);
    let server = Arc::new(
        Tailmcp::start(&[
            "--component",
            path.to_str().unwrap(),
            "--request-timeout",
            "2s",
            "--max-memory",
            "32MiB",
            "--max-response",
            "1MiB",
            "--max-concurrent-requests",
            "128",
            "--max-requests-per-caller",
            "128",
        ])
        .await,
    );
    let pid = server.pid();
    // Warm up, then take the starting RSS.
    for n in 0..2000 {
        one(&server, n).await;
    }
    let rss_start = rss_kib(pid);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let counts: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();

    let faults = {
        let path = path.clone();
        tokio::spawn(async move {
            let fixtures = [
                fixtures::FAULT_TRAP,
                fixtures::FAULT_LOOP,
                fixtures::FAULT_OOM,
                fixtures::FAULT_HUGE_BODY,
                fixtures::FAULT_SLEEP,
                fixtures::FAULT_NO_RESPONSE,
            ];
            let mut swaps = 0;
            for fixture in fixtures.iter().cycle() {
                tokio::time::sleep(FAULT_EVERY - FAULT_FOR).await;
                if Instant::now() + FAULT_FOR > deadline {
                    break;
                }
                replace(&path, &std::fs::read(fixture).expect("fixture"));
                tokio::time::sleep(FAULT_FOR).await;
                replace(&path, &greet);
                swaps += 1;
            }
            swaps
        })
    };

    let mut workers = Vec::new();
    for w in 0..CONCURRENCY as u64 {
        let (server, counts) = (server.clone(), counts.clone());
        workers.push(tokio::spawn(async move {
            let mut n = w * 7;
            while Instant::now() < deadline {
                let (kind, documented, status) = one(&server, n).await;
                let key = if documented {
                    format!("ok: {kind}")
                } else if status == 0 {
                    format!("TRANSPORT ERROR: {kind}")
                } else if status >= 500 {
                    format!("contained fault ({status}) while a fault fixture served: {kind}")
                } else {
                    format!("UNEXPECTED {status}: {kind}")
                };
                *counts.lock().expect("counts").entry(key).or_default() += 1;
                n += 1;
            }
        }));
    }
    let mut crashed_workers = 0;
    for worker in workers {
        if worker.await.is_err() {
            crashed_workers += 1; // a request failed at the transport level
        }
    }
    let fault_windows = faults.await.unwrap_or(0);
    let rss_end = rss_kib(pid);
    let alive = send(server.addr(), "GET", "/healthz", &[], "").await.status == 200;
    let counts = counts.lock().expect("counts");
    let total: u64 = counts.values().sum();
    println!(
        "soak: {seconds} s, concurrency {CONCURRENCY}, {fault_windows} fault windows of {FAULT_FOR:?}"
    );
    println!(
        "requests answered: {total} ({:.0}/s)",
        total as f64 / seconds as f64
    );
    for (kind, count) in counts.iter() {
        println!("  {count:>9}  {kind}");
    }
    println!("workers stopped by a transport error (hang, reset): {crashed_workers}");
    println!(
        "host alive at the end: {alive}; panics in its log: {}",
        server
            .logs()
            .lines()
            .filter(|l| l.contains("panicked at") && !l.contains("src/bin/fault_"))
            .count()
    );
    println!(
        "host RSS: start {:.1} MiB, end {:.1} MiB ({:+.1}%)",
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        (rss_end as f64 / rss_start.max(1) as f64 - 1.0) * 100.0
    );
}
