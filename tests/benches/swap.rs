//! Hot-swap benchmark (prints figures; not a test):
//! - time from a file landing (atomic rename) to the first response from the
//!   new version, for the greet `.wasm` (compiled on swap) and a `.cwasm`
//!   (served from a `.cwasm` path with `--allow-precompiled`);
//! - failed requests during 50 swaps under concurrent load;
//! - host RSS after 1 swap and after 100 swaps.
//!
//! Run: `cargo build --release --workspace && target/release/bench-swap`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tailmcp_tests::{
    MCP_HEADERS, Tailmcp, fixtures, greet_wasm, replace_atomically, rss_kib, send, tailmcp_bin,
};

const REPEATS: usize = 10;

/// True when the server answers like greet (JSON-RPC) rather than like a swap fixture.
async fn serves_greet(server: &Tailmcp) -> bool {
    let reply = send(
        server.addr(),
        "POST",
        "/mcp",
        MCP_HEADERS,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    )
    .await;
    reply.status == 200 && reply.json().get("jsonrpc").is_some()
}

async fn serves_version(server: &Tailmcp, want: &str) -> bool {
    let reply = send(server.addr(), "GET", "/", &[], "").await;
    reply.status == 200 && reply.json()["version"] == want
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("component.wasm");
    let v1 = std::fs::read(fixtures::SWAP_V1).expect("swap_v1");
    let v2 = std::fs::read(fixtures::SWAP_V2).expect("swap_v2");
    let greet = std::fs::read(greet_wasm()).expect("build the host first");
    let cwasm = dir.path().join("v2.cwasm");
    let status = std::process::Command::new(tailmcp_bin())
        .args(["compile", fixtures::SWAP_V2, "-o"])
        .arg(&cwasm)
        .status()
        .expect("tailmcp compile");
    assert!(status.success());
    let v2_cwasm = std::fs::read(&cwasm).expect("cwasm");
    let v1_cwasm = dir.path().join("v1.cwasm");
    let status = std::process::Command::new(tailmcp_bin())
        .args(["compile", fixtures::SWAP_V1, "-o"])
        .arg(&v1_cwasm)
        .status()
        .expect("tailmcp compile");
    assert!(status.success());
    let v1_cwasm = std::fs::read(&v1_cwasm).expect("cwasm");

    replace_atomically(&path, &v1);
    let server = Tailmcp::builder()
        .args(["--component", path.to_str().unwrap(), "--no-cache"])
        .start()
        .await;
    // Precompiled code loads only from a `.cwasm` path, with the opt-in.
    let native_path = dir.path().join("component.cwasm");
    replace_atomically(&native_path, &v1_cwasm);
    let native = Tailmcp::builder()
        .args([
            "--component",
            native_path.to_str().unwrap(),
            "--no-cache",
            "--allow-precompiled",
        ])
        .start()
        .await;

    // 1. Landing to first response.
    let mut wasm_times = Vec::new();
    let mut cwasm_times = Vec::new();
    for _ in 0..REPEATS {
        replace_atomically(&path, &v1);
        while !serves_version(&server, "v1").await {}
        let landed = Instant::now();
        replace_atomically(&path, &greet);
        while !serves_greet(&server).await {}
        wasm_times.push(landed.elapsed());

        replace_atomically(&native_path, &v1_cwasm);
        while !serves_version(&native, "v1").await {}
        let landed = Instant::now();
        replace_atomically(&native_path, &v2_cwasm);
        while !serves_version(&native, "v2").await {}
        cwasm_times.push(landed.elapsed());
    }
    println!(
        "swap: file landed -> first response from the new version (median of {REPEATS}, atomic rename)"
    );
    println!(
        "  greet .wasm (compiled on swap, no cache): {:>8.1} ms",
        median(wasm_times).as_secs_f64() * 1e3
    );
    println!(
        "  .cwasm (tailmcp compile):                 {:>8.1} ms",
        median(cwasm_times).as_secs_f64() * 1e3
    );

    // 2. 50 swaps under load, starting from a swap fixture (the `.wasm`
    // server was last given greet, which the load would count as failures).
    replace_atomically(&path, &v1);
    while !serves_version(&server, "v1").await {}
    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for _ in 0..16 {
        let (server, stop, ok, failed) = (server.clone(), stop.clone(), ok.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let reply = send(server.addr(), "GET", "/", &[], "").await;
                let good = reply.status == 200
                    && serde_json::from_slice::<serde_json::Value>(&reply.body)
                        .is_ok_and(|j| j["version"] == "v1" || j["version"] == "v2");
                if good { &ok } else { &failed }.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for round in 0..50 {
        let (bytes, want) = if round % 2 == 0 {
            (&v2, "v2")
        } else {
            (&v1, "v1")
        };
        replace_atomically(&path, bytes);
        while !serves_version(&server, want).await {}
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    println!(
        "50 swaps under load (16 clients): {} requests ok, {} failed",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );

    // 3. Memory over 100 swaps (each a .cwasm, so the figure is about freeing,
    // not compiling), on the server at the `.cwasm` path.
    let pid = native.pid();
    let mut after_one = 0;
    for round in 1..=100 {
        let (bytes, want) = if round % 2 == 1 {
            (&v2_cwasm, "v2")
        } else {
            (&v1_cwasm, "v1")
        };
        replace_atomically(&native_path, bytes);
        while !serves_version(&native, want).await {}
        for _ in 0..20 {
            serves_version(&native, want).await;
        }
        if round == 1 {
            after_one = rss_kib(pid);
        }
    }
    let after_hundred = rss_kib(pid);
    println!(
        "host RSS: after 1 swap {:.1} MiB, after 100 swaps {:.1} MiB ({:+.1}%)",
        after_one as f64 / 1024.0,
        after_hundred as f64 / 1024.0,
        (after_hundred as f64 / after_one.max(1) as f64 - 1.0) * 100.0
    );
}
