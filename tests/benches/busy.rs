//! Busy-tool benchmark (prints figures; not a test), two parts:
//!
//! 1. Caller B's `greet` latency (p50/p99, one keep-alive connection, one
//!    call at a time) while caller A keeps N = 0, 1, 2, 8, 32 looping calls
//!    running, on the `fault_spin_tool` fixture; then the same with the N
//!    loops spread over N callers (the fair share's worst case).
//! 2. The cost on the plain greet benchmark (built-in component, one caller,
//!    16 keep-alive connections): requests/s and server CPU per request
//!    (from /proc), alternating in one run between this build, this build
//!    with the busy slots lifted (`--max-busy-per-caller 1000`), and,
//!    with `--old PATH`, an older `tailmcp` binary.
//!
//! Run: `cargo build --release --workspace && target/release/bench-busy [--old PATH] [SECONDS]`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tailmcp_tests::{MCP_HEADERS, Tailmcp, cpu_time, fixtures, tools_call, try_send};

const LEVELS: [usize; 5] = [0, 1, 2, 8, 32];
const CONNECTIONS: usize = 16;
const ROUNDS: usize = 3;

/// One keep-alive HTTP/1.1 connection.
async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    sender
}

/// One `tools/call greet` by `login` on `sender`; panics unless it is a 200.
async fn greet(sender: &mut SendRequest<Full<Bytes>>, login: &str, id: u64) {
    let mut request = http::Request::post("/mcp").header("host", "localhost");
    for (name, value) in MCP_HEADERS {
        request = request.header(*name, *value);
    }
    let request = request
        .header("tailscale-user-login", login)
        .header("tailscale-user-name", "Bench")
        .body(Full::new(Bytes::from(tools_call(id, "greet", json!({})))))
        .expect("request");
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("greet answered");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body");
    assert_eq!(status, 200, "{:?}", body.to_bytes());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Part 1, one row: B's greet latency while `n` calls loop, by one caller
/// or by `n` callers.
async fn latency_row(n: usize, distinct: bool, window: Duration) {
    let server = Tailmcp::builder()
        .args([
            "--component",
            fixtures::FAULT_SPIN_TOOL,
            "--no-cache",
            "--request-timeout",
            "60s",
        ])
        .start()
        .await;
    let addr = server.addr();
    let loops: Vec<_> = (0..n)
        .map(|i| {
            let login = if distinct {
                format!("a{i}@example.com")
            } else {
                "a@example.com".to_string()
            };
            tokio::spawn(async move {
                let mut headers = MCP_HEADERS.to_vec();
                headers.push(("tailscale-user-login", &login));
                let body = tools_call(i as u64, "spin", json!({}));
                let _ = try_send(addr, "POST", "/mcp", &headers, body).await;
            })
        })
        .collect();
    server.wait_in_flight(n as u64).await;
    let mut sender = connect(addr).await;
    let mut latencies = Vec::new();
    let until = Instant::now() + window;
    while Instant::now() < until {
        let sent = Instant::now();
        greet(&mut sender, "b@example.com", latencies.len() as u64).await;
        latencies.push(sent.elapsed());
    }
    let still_looping = loops.iter().filter(|l| !l.is_finished()).count();
    latencies.sort();
    println!(
        "  A: {n:>2} looping call(s){:<14} B: p50 {:>7.2} ms  p99 {:>7.2} ms  ({} calls; {still_looping} loops still running)",
        if distinct && n > 0 {
            format!(" by {n} callers")
        } else {
            String::new()
        },
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        latencies.len(),
    );
    for l in loops {
        l.abort();
    }
}

/// Part 2, one run (in a child process, so `TAILMCP_BIN` picks the binary):
/// prints `rps cpu_us_per_request`.
async fn throughput(window: Duration, extra: &[String]) {
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut args = vec!["--no-cache"];
    args.extend(extra);
    let server = Tailmcp::builder().args(&args).start().await;
    let addr = server.addr();
    let pid = server.pid();
    // Warm the pool and the connections.
    let mut senders = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut sender = connect(addr).await;
        for i in 0..50 {
            greet(&mut sender, "alice@example.com", i).await;
        }
        senders.push(sender);
    }
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let until = started + window;
    let workers: Vec<_> = senders
        .into_iter()
        .map(|mut sender| {
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < until {
                    greet(&mut sender, "alice@example.com", n).await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut requests = 0;
    for worker in workers {
        requests += worker.await.expect("worker");
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time(pid) - cpu_before;
    println!(
        "{:.0} {:.1}",
        requests as f64 / elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / requests as f64
    );
}

/// Runs [`throughput`] in a child process on `bin` and parses its line.
fn throughput_child(bin: &std::path::Path, window: Duration, extra: &[&str]) -> (f64, f64) {
    let output = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg("--throughput")
        .arg(window.as_secs().to_string())
        .args(extra)
        .env("TAILMCP_BIN", bin)
        .output()
        .expect("run the throughput child");
    assert!(
        output.status.success(),
        "throughput child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut numbers = text
        .split_whitespace()
        .map(|n| n.parse::<f64>().expect("a number"));
    (numbers.next().expect("rps"), numbers.next().expect("cpu"))
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--throughput") {
        let window = Duration::from_secs(args[1].parse().expect("seconds"));
        return throughput(window, &args[2..]).await;
    }
    let old = match args.iter().position(|a| a == "--old") {
        Some(i) => {
            let path = std::path::PathBuf::from(args.remove(i + 1));
            args.remove(i);
            Some(path)
        }
        None => None,
    };
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let window = Duration::from_secs(seconds);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!(
        "B's greet latency while A's calls loop ({seconds} s per row, {cores} cores, default flags):"
    );
    for n in LEVELS {
        latency_row(n, false, window).await;
    }
    for n in LEVELS.into_iter().filter(|&n| n > 1) {
        latency_row(n, true, window).await;
    }

    let new = tailmcp_tests::tailmcp_bin();
    let mut variants: Vec<(String, std::path::PathBuf, Vec<&str>)> = vec![
        ("this build".into(), new.clone(), vec![]),
        (
            "this build, --max-busy-per-caller 1000".into(),
            new,
            vec!["--max-busy-per-caller", "1000"],
        ),
    ];
    if let Some(old) = &old {
        variants.push((format!("old binary {}", old.display()), old.clone(), vec![]));
    }
    println!(
        "\nPlain greet, one caller, {CONNECTIONS} keep-alive connections, {seconds} s per run, \
         {ROUNDS} alternating rounds (req/s, server CPU per request):"
    );
    let mut results = vec![Vec::new(); variants.len()];
    for _ in 0..ROUNDS {
        for (i, (_, bin, extra)) in variants.iter().enumerate() {
            results[i].push(throughput_child(bin, window, extra));
        }
    }
    for ((name, _, _), runs) in variants.iter().zip(&results) {
        let rps: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.0)).collect();
        let cpu: Vec<String> = runs.iter().map(|r| format!("{:.1}", r.1)).collect();
        let mean = |f: fn(&(f64, f64)) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
        println!(
            "  {name}: {:.0} req/s, {:.1} us CPU/request (runs: {} req/s; {} us)",
            mean(|r| r.0),
            mean(|r| r.1),
            rps.join(", "),
            cpu.join(", ")
        );
    }
}
