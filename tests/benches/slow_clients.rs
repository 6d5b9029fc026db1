//! Slow-clients benchmark (prints figures; not a test): 1,000 clients try to
//! hold the host with its default limits, half as sockets that never send a
//! byte (reconnecting when closed), half as uploads that declare a 1 MiB body
//! and trickle it (starting again when refused or cut off). Meanwhile a
//! victim calls `tools/call greet`, a new connection each time, in a loop.
//! Prints how many calls the victim got answered, their latency, its errors,
//! what the slow clients got, and the host's RSS at the start and its peak.
//! Only 127.0.0.1 is used.
//!
//! Run: `cargo build --release --workspace && target/release/bench-slow-clients [SECONDS]`

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tailmcp_tests::{MCP_HEADERS, Tailmcp, rss_kib, tools_call, try_send};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const IDLE: usize = 500;
const UPLOADS: usize = 500;
/// What each upload declares: the default --max-body.
const DECLARED: usize = 1 << 20;
/// Each upload sends this much every [`TRICKLE_EVERY`].
const TRICKLE: usize = 16;
const TRICKLE_EVERY: Duration = Duration::from_millis(200);
/// A refused or cut-off client waits this long before it tries again.
const BACK_OFF: Duration = Duration::from_millis(100);

type Counts = Arc<Mutex<BTreeMap<String, u64>>>;

fn count(counts: &Counts, key: impl Into<String>) {
    *counts
        .lock()
        .expect("counts")
        .entry(key.into())
        .or_default() += 1;
}

/// A socket that never sends a byte, reconnecting whenever it is closed.
async fn idle_client(addr: SocketAddr, deadline: Instant, counts: Counts) {
    while Instant::now() < deadline {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            count(&counts, "idle: connect failed");
            tokio::time::sleep(BACK_OFF).await;
            continue;
        };
        let mut buf = [0u8; 64];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(_) => count(&counts, "idle: closed by the host"),
            Err(_) => count(&counts, "idle: still open at the end"),
        }
        tokio::time::sleep(BACK_OFF).await;
    }
}

/// An upload trickling a 1 MiB body, starting again when it is answered.
async fn slow_upload(addr: SocketAddr, deadline: Instant, counts: Counts) {
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nContent-Length: {DECLARED}\r\n\r\n"
    );
    while Instant::now() < deadline {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            count(&counts, "upload: connect failed");
            tokio::time::sleep(BACK_OFF).await;
            continue;
        };
        let (mut reader, mut writer) = stream.split();
        if writer.write_all(head.as_bytes()).await.is_err() {
            count(&counts, "upload: closed before its head was sent");
            continue;
        }
        let mut answer = [0u8; 12];
        let outcome = loop {
            if Instant::now() >= deadline {
                break "upload: still sending at the end".to_string();
            }
            tokio::select! {
                read = reader.read(&mut answer) => break match read {
                    Ok(n) if n >= 12 => format!("upload: answered {}", String::from_utf8_lossy(&answer[9..12])),
                    _ => "upload: closed by the host".to_string(),
                },
                () = tokio::time::sleep(TRICKLE_EVERY) => {
                    if writer.write_all(&[b' '; TRICKLE]).await.is_err() {
                        break "upload: closed by the host".to_string();
                    }
                }
            }
        };
        count(&counts, outcome);
        tokio::time::sleep(BACK_OFF).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let server = Tailmcp::builder().start().await;
    let (addr, pid) = (server.addr(), server.pid());
    let rss_start = rss_kib(pid);
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let peak = Arc::new(AtomicU64::new(rss_start));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let counts: Counts = Arc::default();
    let mut slow = Vec::new();
    for _ in 0..IDLE {
        slow.push(tokio::spawn(idle_client(addr, deadline, counts.clone())));
    }
    for _ in 0..UPLOADS {
        slow.push(tokio::spawn(slow_upload(addr, deadline, counts.clone())));
    }

    // The victim: one call at a time, each on a new connection, as long as
    // the slow clients run. A call may take at most 10 s.
    let mut latencies = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut longest_gap = Duration::ZERO;
    let mut last_answer = Instant::now();
    let headers: Vec<(&str, &str)> = MCP_HEADERS
        .iter()
        .copied()
        .chain([
            ("tailscale-user-login", "victim@example.com"),
            ("tailscale-user-name", "Victim"),
        ])
        .collect();
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        let started = Instant::now();
        let call = try_send(
            addr,
            "POST",
            "/mcp",
            &headers,
            tools_call(n, "greet", json!({})),
        );
        let outcome = match tokio::time::timeout(Duration::from_secs(10), call).await {
            Ok(Ok(reply))
                if reply.status == 200 && reply.body.windows(7).any(|w| w == b"Hello, ") =>
            {
                Ok(())
            }
            Ok(Ok(reply)) => Err(format!("status {}", reply.status)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("no answer in 10 s".to_string()),
        };
        match outcome {
            Ok(()) => {
                latencies.push(started.elapsed());
                longest_gap = longest_gap.max(last_answer.elapsed());
                last_answer = Instant::now();
            }
            Err(e) => *errors.entry(e).or_default() += 1,
        }
    }
    longest_gap = longest_gap.max(last_answer.elapsed());
    for client in slow {
        let _ = client.await;
    }
    sampler.abort();
    let alive = try_send(addr, "GET", "/healthz", &[], "")
        .await
        .is_ok_and(|r| r.status == 200);

    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "slow clients: {seconds} s, {IDLE} idle sockets + {UPLOADS} uploads trickling \
         {TRICKLE} B every {TRICKLE_EVERY:?}, host with its default limits"
    );
    println!(
        "victim tools/call greet: {} answered ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, \
         longest time without an answer {:.1} ms",
        latencies.len(),
        latencies.len() as f64 / seconds as f64,
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        ms(longest_gap),
    );
    println!("victim errors: {}", errors.values().sum::<u64>());
    for (error, count) in &errors {
        println!("  {count:>7}  {error}");
    }
    println!("slow clients:");
    for (outcome, count) in counts.lock().expect("counts").iter() {
        println!("  {count:>7}  {outcome}");
    }
    println!(
        "host RSS: start {:.1} MiB, peak {:.1} MiB; alive at the end: {alive}",
        mib(rss_start),
        mib(peak.load(Ordering::Relaxed))
    );
}
