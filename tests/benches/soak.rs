//! Soak benchmark (prints figures; not a test): mixed valid and invalid
//! traffic at concurrency 64 against the real host for 10 minutes, with
//! fault fixtures swapped in for a few seconds every 20 s. Prints requests
//! served, failures by kind, and host RSS at the start and the end, with a
//! sample every 30 s between. The start is after a warm-up (each fault
//! fixture in every instance slot at once, then 30 s of the same mix); RSS at
//! boot and after that burst are printed too.
//!
//! Run: `cargo build --release --workspace && target/release/bench-soak [SECONDS]`

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tailmcp_tests::{
    MCP_HEADERS, Reply, Tailmcp, fixtures, greet_wasm, replace_atomically, rss_kib, send,
    tools_call, try_send,
};

const CONCURRENCY: usize = 64;
/// The host's `--max-concurrent-requests`, and so its instance slots.
const SLOTS: usize = 128;
const FAULT_EVERY: Duration = Duration::from_secs(20);
const FAULT_FOR: Duration = Duration::from_secs(3);

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

type Counts = Arc<Mutex<BTreeMap<String, u64>>>;

const FAULTS: [&str; 6] = [
    fixtures::FAULT_TRAP,
    fixtures::FAULT_LOOP,
    fixtures::FAULT_OOM,
    fixtures::FAULT_HUGE_BODY,
    fixtures::FAULT_SLEEP,
    fixtures::FAULT_NO_RESPONSE,
];

/// Mixed traffic at [`CONCURRENCY`] for `length`, with a fault fixture
/// swapped in for `fault_for` out of every `fault_every`. Returns the answers
/// by kind, the workers stopped by a transport error and the fault windows.
async fn phase(
    server: &Arc<Tailmcp>,
    component: &Path,
    greet: &Arc<Vec<u8>>,
    length: Duration,
    (fault_every, fault_for): (Duration, Duration),
) -> (BTreeMap<String, u64>, usize, usize) {
    let deadline = Instant::now() + length;
    let counts: Counts = Arc::default();
    let faults = {
        let (component, greet) = (component.to_owned(), greet.clone());
        tokio::spawn(async move {
            let mut windows = 0;
            for fixture in FAULTS.iter().cycle() {
                tokio::time::sleep(fault_every - fault_for).await;
                if Instant::now() + fault_for > deadline {
                    break;
                }
                replace_atomically(&component, &std::fs::read(fixture).expect("fixture"));
                tokio::time::sleep(fault_for).await;
                replace_atomically(&component, &greet);
                windows += 1;
            }
            windows
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
    let mut stopped = 0;
    for worker in workers {
        if worker.await.is_err() {
            stopped += 1; // a request failed at the transport level
        }
    }
    let windows = faults.await.unwrap_or(0);
    let counts = std::mem::take(&mut *counts.lock().expect("counts"));
    (counts, stopped, windows)
}

/// Each fault fixture in every instance slot at once (see main), then greet
/// back.
async fn every_fault_in_every_slot(server: &Arc<Tailmcp>, component: &Path, greet: &[u8]) {
    let call = |n: u64| {
        let server = server.clone();
        async move {
            let body = tools_call(n, "greet", json!({}));
            send(server.addr(), "POST", "/mcp", MCP_HEADERS, body)
                .await
                .status
        }
    };
    // Until the swap has taken: greet answers 200, every fault fixture not.
    let until = |greet_serves: bool| async move {
        let deadline = Instant::now() + Duration::from_secs(30);
        while (call(0).await == 200) != greet_serves {
            assert!(Instant::now() < deadline, "a swap never took");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    for fixture in FAULTS {
        replace_atomically(component, &std::fs::read(fixture).expect("fixture"));
        until(false).await;
        for _ in 0..2 {
            let calls: Vec<_> = (0..SLOTS as u64).map(|n| tokio::spawn(call(n))).collect();
            for call in calls {
                call.await.expect("request");
            }
        }
        replace_atomically(component, greet);
        until(true).await;
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
    let greet = Arc::new(std::fs::read(greet_wasm()).expect("build the host first"));
    replace_atomically(&path, &greet);
    let server = Arc::new(
        Tailmcp::builder()
            .args([
                "--component",
                path.to_str().unwrap(),
                "--request-timeout",
                "2s",
                "--max-memory",
                "32MiB",
                "--max-response",
                "1MiB",
                "--max-concurrent-requests",
                &SLOTS.to_string(),
                "--max-requests-per-caller",
                &SLOTS.to_string(),
            ])
            .start()
            .await,
    );
    let pid = server.pid();
    let rss_boot = rss_kib(pid);

    // Warm-up, so the soak measures growth rather than high-water marks
    // being reached. First the worst burst once: each fault fixture in every
    // instance slot at once. Every slot then keeps what it may keep resident
    // while free (`KEEP_RESIDENT_BYTES` in host/src/engine.rs) and the heap
    // has seen 128 responses cut off at the limit at once, as a long run
    // would sooner or later. Then the soak's own mix, each fault once.
    every_fault_in_every_slot(&server, &path, &greet).await;
    let rss_burst = rss_kib(pid);
    let warm_up = Duration::from_secs(FAULTS.len() as u64 * 5);
    phase(
        &server,
        &path,
        &greet,
        warm_up,
        (Duration::from_secs(5), Duration::from_secs(1)),
    )
    .await;
    let rss_start = rss_kib(pid);

    // RSS every 30 s: a leak climbs for the whole run, a warm pool stays level.
    let timeline: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    let sampler = {
        let timeline = timeline.clone();
        let started = Instant::now();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let sample = (started.elapsed().as_secs(), rss_kib(pid));
                timeline.lock().expect("timeline").push(sample);
            }
        })
    };
    let (counts, stopped, fault_windows) = phase(
        &server,
        &path,
        &greet,
        Duration::from_secs(seconds),
        (FAULT_EVERY, FAULT_FOR),
    )
    .await;
    sampler.abort();
    let rss_end = rss_kib(pid);
    let alive = send(server.addr(), "GET", "/healthz", &[], "").await.status == 200;

    let total: u64 = counts.values().sum();
    println!(
        "soak: {seconds} s after a {warm_up:?} warm-up, concurrency {CONCURRENCY}, \
         {fault_windows} fault windows of {FAULT_FOR:?}"
    );
    println!(
        "requests answered: {total} ({:.0}/s)",
        total as f64 / seconds as f64
    );
    for (kind, count) in counts.iter() {
        println!("  {count:>9}  {kind}");
    }
    println!("workers stopped by a transport error (hang, reset): {stopped}");
    println!(
        "host alive at the end: {alive}; panics in its log: {}",
        server
            .logs()
            .lines()
            .filter(|l| l.contains("panicked at") && !l.contains("src/bin/fault_"))
            .count()
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    let timeline: Vec<String> = timeline
        .lock()
        .expect("timeline")
        .iter()
        .map(|&(t, kib)| format!("{t}s {:.1}", mib(kib)))
        .collect();
    println!(
        "host RSS: at boot {:.1} MiB, after the worst burst {:.1} MiB, after warm-up {:.1} MiB, \
         during the soak (MiB): {}",
        mib(rss_boot),
        mib(rss_burst),
        mib(rss_start),
        timeline.join(", ")
    );
    println!(
        "host RSS over the soak: start {:.1} MiB, end {:.1} MiB ({:+.1}%)",
        mib(rss_start),
        mib(rss_end),
        (rss_end as f64 / rss_start.max(1) as f64 - 1.0) * 100.0
    );
}
