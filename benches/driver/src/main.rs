//! `tailmcp-bench`: tailmcp against the original Python FastMCP server and a
//! native rmcp server, in one run on this machine. `benches/run.sh` builds
//! everything and runs this; see the README's "Performance" section.
//!
//! 1. Cold start: process start to the first good `tools/call greet` (the
//!    median of `--cold` starts per variant, variants interleaved).
//! 2. tailmcp's per-request instantiation cost, in-process (`instantiate.rs`).
//! 3. Load: all servers up at once (idle ones sleep in epoll); for each
//!    concurrency level, each server in turn (the order rotates per level)
//!    gets a warm-up and then a measured `wrk` run with `greet.lua`, which
//!    counts an answer as good only if it holds the expected greeting.
//!    Peak RSS is VmHWM, reset before each measured run. "other load" is the
//!    CPU the rest of the machine used meanwhile (colleagues' builds), so a
//!    disturbed run can be recognised.
//!
//!    This whole pass is repeated `--rounds` times and each figure is the
//!    median over the rounds, so a burst of other load on the machine moves
//!    one round, not the result.
//!
//! Options: --duration S (10) --warmup S (2) --rounds N (3) --levels 1,16,64 --cold N (5)
//! --instantiations N (20000) --servers a,b,.. --out PATH (benches/results.json)
//! --instantiation-only (time instantiation alone, e.g. under a profiler)

mod client;
mod instantiate;
mod servers;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use servers::{Kind, Paths, Server};

struct Options {
    duration: u32,
    warmup: u32,
    rounds: u32,
    levels: Vec<u32>,
    cold: usize,
    instantiations: u32,
    servers: Vec<Kind>,
    out: PathBuf,
    /// Only time instantiation (e.g. under a profiler), print it and exit.
    instantiation_only: bool,
}

fn options(root: &std::path::Path) -> Options {
    let mut o = Options {
        duration: 10,
        warmup: 2,
        rounds: 3,
        levels: vec![1, 16, 64],
        cold: 5,
        instantiations: 20_000,
        servers: servers::ALL.to_vec(),
        out: root.join("benches/results.json"),
        instantiation_only: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || value.parse::<u32>().expect("a number");
        match args[i].as_str() {
            "--duration" => o.duration = number(),
            "--warmup" => o.warmup = number(),
            "--rounds" => o.rounds = number().max(1),
            "--cold" => o.cold = number() as usize,
            "--instantiations" => o.instantiations = number(),
            "--levels" => {
                o.levels = value
                    .split(',')
                    .map(|v| v.parse().expect("level"))
                    .collect()
            }
            "--servers" => {
                o.servers = value
                    .split(',')
                    .map(|v| Kind::parse(v).unwrap_or_else(|| panic!("unknown server {v}")))
                    .collect()
            }
            "--out" => o.out = PathBuf::from(value),
            "--instantiation-only" => {
                o.instantiation_only = true;
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().expect("repository root");
    let opts = options(&root);
    let paths = Paths::new(root);
    if opts.instantiation_only {
        println!("{}", instantiate::measure(opts.instantiations));
        return;
    }
    std::fs::create_dir_all(paths.work.join("logs")).expect("work dir");
    let started_at = unix_now();
    let load_before = loadavg();

    // The .cwasm that `tailmcp compile` makes, for the precompiled cold start.
    let cwasm = paths.work.join("greet.cwasm");
    let status = Command::new(&paths.tailmcp)
        .arg("compile")
        .arg(&paths.greet_wasm)
        .arg("-o")
        .arg(&cwasm)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("tailmcp compile");
    assert!(status.success(), "tailmcp compile failed");
    let warm_cache = paths.work.join("cache-warm");
    let _ = std::fs::remove_dir_all(&warm_cache);

    // Cold starts are spread over the load rounds (some before each), so
    // that, like the load figures, they are not all taken in one busy spell.
    let variants = cold_variants(&paths, &opts, &cwasm, &warm_cache);
    let mut cold_samples: Vec<Vec<(f64, u64)>> = vec![Vec::new(); variants.len()];
    let cold_in_round = |round: usize| {
        let r = opts.rounds as usize;
        let start = opts.cold * round / r;
        start..opts.cold * (round + 1) / r
    };

    eprintln!(
        "== tailmcp instantiation cost ({} iterations)",
        opts.instantiations
    );
    let instantiation = if opts.servers.contains(&Kind::Tailmcp) {
        instantiate::measure(opts.instantiations)
    } else {
        Value::Null
    };
    eprintln!("   {instantiation}");

    eprintln!(
        "== load: levels {:?}, {} s each after {} s warm-up",
        opts.levels, opts.duration, opts.warmup
    );
    let mut running: Vec<Server> = opts
        .servers
        .iter()
        .map(|&kind| {
            let cache = format!("--cache-dir={}", warm_cache.display());
            // All load comes from one identity: let it use every instance
            // slot (the default per-caller share, 32, answers 429 at 64).
            let extra: Vec<&str> = if kind == Kind::Tailmcp {
                vec![&cache, "--max-requests-per-caller=128"]
            } else {
                vec![]
            };
            let log = paths.work.join(format!("logs/load-{}.log", kind.key()));
            Server::start(&paths, kind, &extra, &log)
        })
        .collect();
    let mut load: BTreeMap<&str, Value> = BTreeMap::new();
    let mut whole_peak: BTreeMap<&str, u64> = BTreeMap::new();
    for server in &running {
        whole_peak.insert(
            server.kind.key(),
            servers::status_kib(server.pid(), "VmHWM:"),
        );
        load.insert(
            server.kind.key(),
            json!({ "description": server.kind.describe(), "levels": {} }),
        );
    }
    let mut rounds: BTreeMap<(&str, u32), Vec<Value>> = BTreeMap::new();
    for round in 0..opts.rounds as usize {
        eprintln!("== round {round}: cold starts");
        cold_starts(&paths, &variants, cold_in_round(round), &mut cold_samples);
        eprintln!("== round {round}: load");
        for (step, &c) in opts.levels.iter().enumerate() {
            let n = running.len();
            for i in 0..n {
                let server = &running[(i + step + round) % n];
                let key = server.kind.key();
                let session = server.session.as_deref().unwrap_or("");
                wrk(&paths, server, c, opts.warmup, session);
                servers::reset_peak_rss(server.pid());
                let (busy0, srv0, wrk0) = (
                    servers::machine_busy_ticks(),
                    servers::cpu_ticks(server.pid()),
                    servers::children_ticks(),
                );
                let mut result = wrk(&paths, server, c, opts.duration, session);
                let (busy1, srv1, wrk1) = (
                    servers::machine_busy_ticks(),
                    servers::cpu_ticks(server.pid()),
                    servers::children_ticks(),
                );
                let peak = servers::status_kib(server.pid(), "VmHWM:");
                let peak_total = whole_peak.get_mut(key).expect("server");
                *peak_total = (*peak_total).max(peak);
                let secs = result["duration_us"].as_f64().unwrap_or(1.0) / 1e6;
                let requests = result["requests"].as_f64().unwrap_or(0.0);
                let server_cpu = (srv1 - srv0) as f64 / servers::TICKS_PER_SEC;
                let wrk_cpu = (wrk1 - wrk0) as f64 / servers::TICKS_PER_SEC;
                let busy = (busy1 - busy0) as f64 / servers::TICKS_PER_SEC;
                let errors = [
                    "bad",
                    "connect_errors",
                    "read_errors",
                    "write_errors",
                    "timeouts",
                ]
                .iter()
                .map(|k| result[k].as_u64().unwrap_or(0))
                .sum::<u64>();
                let extra = json!({
                    "rps": (requests / secs).round(),
                    "errors": errors,
                    "peak_rss_kib": peak,
                    "server_cpu_cores": round2(server_cpu / secs),
                    "server_cpu_us_per_request": round2(server_cpu * 1e6 / requests.max(1.0)),
                    "wrk_cpu_cores": round2(wrk_cpu / secs),
                    "other_load_cores": round2(((busy - server_cpu - wrk_cpu) / secs).max(0.0)),
                });
                merge(&mut result, extra);
                eprintln!(
                    "   round {round} {key:>16} c={c:<3} {:>8} req/s  p50 {:>9}  p99 {:>9}  errors {}  other load {}",
                    result["rps"],
                    fmt_us(&result["p50_us"]),
                    fmt_us(&result["p99_us"]),
                    errors,
                    result["other_load_cores"]
                );
                rounds.entry((key, c)).or_default().push(result);
            }
        }
    }
    // Each figure is the median of the rounds; errors are summed, peaks maxed.
    for ((key, c), results) in rounds {
        load.get_mut(key).expect("server")["levels"][c.to_string()] = median_of(&results);
    }
    let cold = cold_summary(&variants, cold_samples);
    for server in running.drain(..) {
        let key = server.kind.key();
        load.get_mut(key).expect("server")["peak_rss_kib"] = json!(whole_peak[key]);
        server.stop();
    }

    let ratios = ratios(&load, &opts.levels);
    let report = json!({
        "command": "bash benches/run.sh",
        "started_unix": started_at,
        "machine": machine(load_before),
        "settings": {
            "duration_s": opts.duration,
            "rounds": opts.rounds,
            "aggregation": "each figure is the median over the rounds (errors summed, peak RSS maxed); \
                            `rounds` holds every round's own figures",
            "warmup_s": opts.warmup,
            "levels": opts.levels,
            "load_generator": wrk_version(),
            "wrk_threads": "min(2, connections)",
            "script": "benches/greet.lua (POST tools/call greet with Tailscale-User-Login/Name; \
                       good = 200 and the body holds the expected greeting)",
            "order": "all servers up at once; per level each in turn, the order rotating with level and round",
        },
        "servers": load,
        "cold_start": cold,
        "instantiation": instantiation,
        "ratios": ratios,
    });
    let table = table(&report, &opts.levels);
    println!("{table}");
    std::fs::write(
        &opts.out,
        serde_json::to_string_pretty(&report).expect("json") + "\n",
    )
    .expect("write results");
    eprintln!("wrote {}", opts.out.display());
}

/// Runs wrk against `server`; its JSON summary line.
fn wrk(paths: &Paths, server: &Server, c: u32, secs: u32, session: &str) -> Value {
    let url = format!("http://{}/mcp", server.addr);
    let output = Command::new("wrk")
        .arg(format!("-t{}", c.min(2)))
        .arg(format!("-c{c}"))
        .arg(format!("-d{secs}s"))
        .args(["--timeout", "10s", "-s"])
        .arg(paths.root.join("benches/greet.lua"))
        .arg(&url)
        .args(["--", session])
        .output()
        .expect("run wrk (apt-get install wrk)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| {
            panic!(
                "no summary from wrk: {stdout} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// Cold-start variants: (name, server, tailmcp flags, fresh empty cache per start).
/// A cold-start variant: its name, server, flags, and whether each start
/// gets a fresh, empty cache.
type Variant = (&'static str, Kind, Vec<String>, bool);

fn cold_variants(
    paths: &Paths,
    opts: &Options,
    cwasm: &std::path::Path,
    warm_cache: &std::path::Path,
) -> Vec<Variant> {
    let warm = format!("--cache-dir={}", warm_cache.display());
    let component = format!("--component={}", cwasm.display());
    let mut variants: Vec<Variant> = Vec::new();
    if opts.servers.contains(&Kind::Tailmcp) {
        variants.push((
            "tailmcp, empty cache (compiles the .wasm)",
            Kind::Tailmcp,
            vec![],
            true,
        ));
        variants.push((
            "tailmcp, warm cache",
            Kind::Tailmcp,
            vec![warm.clone()],
            false,
        ));
        variants.push((
            "tailmcp, precompiled .cwasm",
            Kind::Tailmcp,
            vec![component, "--allow-precompiled".into(), "--no-cache".into()],
            false,
        ));
    }
    for &kind in &opts.servers {
        if kind != Kind::Tailmcp {
            variants.push((kind.key(), kind, vec![], false));
        }
    }
    // Fill the warm cache once, unmeasured.
    if opts.servers.contains(&Kind::Tailmcp) {
        let log = paths.work.join("logs/cold-fill.log");
        Server::start(paths, Kind::Tailmcp, &[&warm], &log).stop();
    }
    variants
}

/// Starts every variant once per index in `starts`, adding to `samples`.
fn cold_starts(
    paths: &Paths,
    variants: &[Variant],
    starts: std::ops::Range<usize>,
    samples: &mut [Vec<(f64, u64)>],
) {
    for round in starts {
        for (i, (_, kind, flags, empty)) in variants.iter().enumerate() {
            let mut flags: Vec<String> = flags.clone();
            if *empty {
                let dir = paths.work.join(format!("cache-empty-{round}"));
                let _ = std::fs::remove_dir_all(&dir);
                flags.push(format!("--cache-dir={}", dir.display()));
            }
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let addr = servers::free_addr();
            let log =
                std::fs::File::create(paths.work.join(format!("logs/cold-{}.log", kind.key())))
                    .expect("log");
            let mut cmd = servers::command(paths, *kind, addr, &flags);
            cmd.stdout(log.try_clone().expect("log")).stderr(log);
            let spawned = Instant::now();
            let child = cmd.spawn().expect("spawn");
            let mut server = Server {
                kind: *kind,
                addr,
                child,
                session: None,
            };
            let (done, _) = server
                .first_greeting(std::time::Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("{} cold start failed: {e}", kind.key()));
            let ms = (done - spawned).as_secs_f64() * 1e3;
            let rss = servers::status_kib(server.pid(), "VmHWM:");
            samples[i].push((ms, rss));
            server.stop();
        }
    }
}

fn cold_summary(variants: &[Variant], samples: Vec<Vec<(f64, u64)>>) -> Value {
    let mut out = serde_json::Map::new();
    for ((name, kind, _, _), s) in variants.iter().zip(samples) {
        if s.is_empty() {
            continue;
        }
        let mut ms: Vec<f64> = s.iter().map(|x| x.0).collect();
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        let rss = s.iter().map(|x| x.1).max().unwrap_or(0);
        eprintln!("   {name:<45} median {median:>8.1} ms  (min {:.1})", ms[0]);
        out.insert(
            (*name).to_string(),
            json!({
                "server": kind.key(),
                "median_ms": round2(median),
                "min_ms": round2(ms[0]),
                "samples_ms": ms.iter().map(|v| round2(*v)).collect::<Vec<_>>(),
                "peak_rss_at_first_answer_kib": rss,
            }),
        );
    }
    Value::Object(out)
}

fn ratios(load: &BTreeMap<&str, Value>, levels: &[u32]) -> Value {
    let Some(t) = load.get("tailmcp") else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for &c in levels {
        let level = c.to_string();
        let tl = &t["levels"][&level];
        let mut per = serde_json::Map::new();
        for other in ["python", "python-stateless", "native-rmcp"] {
            let Some(o) = load.get(other) else { continue };
            let ol = &o["levels"][&level];
            let div = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) if b > 0.0 => json!(round2(a / b)),
                _ => Value::Null,
            };
            per.insert(
                other.to_string(),
                json!({
                    // tailmcp's req/s as a multiple of the other's.
                    "rps": div(&tl["rps"], &ol["rps"]),
                    // The other's p99 as a multiple of tailmcp's (25 means 1/25).
                    "p99_other_over_tailmcp": div(&ol["p99_us"], &tl["p99_us"]),
                    // tailmcp's peak RSS as a multiple of the other's.
                    "peak_rss": div(&t["peak_rss_kib"], &o["peak_rss_kib"]),
                    // tailmcp's CPU per request as a multiple of the other's.
                    "cpu_per_request": div(&tl["server_cpu_us_per_request"], &ol["server_cpu_us_per_request"]),
                }),
            );
        }
        out.insert(level, Value::Object(per));
    }
    Value::Object(out)
}

/// The Markdown table the README shows.
fn table(report: &Value, levels: &[u32]) -> String {
    let mut s = String::new();
    let m = &report["machine"];
    s += &format!(
        "Machine: {}, {} cores, {} GiB, Linux {}; load average at start {}. {} s per run after {} s warm-up, median of {} rounds, {}.\n\n",
        m["cpu"].as_str().unwrap_or("?"),
        m["cores"],
        m["memory_gib"],
        m["kernel"].as_str().unwrap_or("?"),
        m["loadavg_at_start"].as_str().unwrap_or("?"),
        report["settings"]["duration_s"],
        report["settings"]["warmup_s"],
        report["settings"]["rounds"],
        report["settings"]["load_generator"]
            .as_str()
            .unwrap_or("wrk"),
    );
    s += "| server | conns | req/s | p50 | p99 | p99.9 | errors | peak RSS | server CPU / req | other load |\n";
    s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    let servers = report["servers"].as_object().cloned().unwrap_or_default();
    let order = ["tailmcp", "python", "python-stateless", "native-rmcp"];
    for key in order {
        let Some(srv) = servers.get(key) else {
            continue;
        };
        for &c in levels {
            let l = &srv["levels"][c.to_string()];
            s += &format!(
                "| {key} | {c} | {} | {} | {} | {} | {} | {} | {} | {:.2} cores |\n",
                thousands(l["rps"].as_f64().unwrap_or(0.0)),
                fmt_us(&l["p50_us"]),
                fmt_us(&l["p99_us"]),
                fmt_us(&l["p999_us"]),
                l["errors"],
                mib(&l["peak_rss_kib"]),
                fmt_us(&l["server_cpu_us_per_request"]),
                l["other_load_cores"].as_f64().unwrap_or(0.0),
            );
        }
    }
    s += "\n| whole run | peak RSS |\n|---|---:|\n";
    for key in order {
        if let Some(srv) = servers.get(key) {
            s += &format!("| {key} | {} |\n", mib(&srv["peak_rss_kib"]));
        }
    }
    s += "\n| cold start: process start → first good `tools/call` | median | min | peak RSS then |\n|---|---:|---:|---:|\n";
    if let Some(cold) = report["cold_start"].as_object() {
        // tailmcp's variants first, then the others in table order.
        let mut cold: Vec<(&String, &Value)> = cold.iter().collect();
        cold.sort_by_key(|(name, v)| {
            let server = v["server"].as_str().unwrap_or("");
            let rank = order
                .iter()
                .position(|k| *k == server)
                .unwrap_or(order.len());
            (rank, !name.contains("empty"), name.contains("precompiled"))
        });
        for (name, v) in cold {
            s += &format!(
                "| {name} | {:.1} ms | {:.1} ms | {} |\n",
                v["median_ms"].as_f64().unwrap_or(0.0),
                v["min_ms"].as_f64().unwrap_or(0.0),
                mib(&v["peak_rss_at_first_answer_kib"])
            );
        }
    }
    let inst = &report["instantiation"];
    if !inst.is_null() {
        s += &format!(
            "\ntailmcp per request, in-process (one thread): new store + instantiate + drop {} µs \
             (store alone {} µs); whole `tools/call greet` through `instance::run` {} µs.\n",
            inst["store_instantiate_drop_us"],
            inst["store_only_us"],
            inst["whole_request_in_process_us"]
        );
    }
    if let Some(ratios) = report["ratios"].as_object() {
        s += "\n| tailmcp vs | conns | req/s ratio | their p99 ÷ ours | peak RSS ratio | CPU/req ratio |\n|---|---:|---:|---:|---:|---:|\n";
        for other in ["python", "python-stateless", "native-rmcp"] {
            for &c in levels {
                let r = &ratios[&c.to_string()][other];
                if r.is_null() {
                    continue;
                }
                s += &format!(
                    "| {other} | {c} | {}x | {}x | {}x | {}x |\n",
                    r["rps"], r["p99_other_over_tailmcp"], r["peak_rss"], r["cpu_per_request"]
                );
            }
        }
    }
    s
}

/// Per-field median over rounds; errors summed, peak RSS maxed, the rounds kept.
fn median_of(results: &[Value]) -> Value {
    let mut out = serde_json::Map::new();
    let Some(first) = results.first().and_then(Value::as_object) else {
        return Value::Null;
    };
    for key in first.keys() {
        let mut values: Vec<f64> = results.iter().filter_map(|r| r[key].as_f64()).collect();
        values.sort_by(f64::total_cmp);
        let value = match key.as_str() {
            _ if values.is_empty() => continue,
            "errors" | "bad" | "good" | "requests" | "connect_errors" | "read_errors"
            | "write_errors" | "status_errors" | "timeouts" => {
                json!(values.iter().sum::<f64>() as u64)
            }
            "peak_rss_kib" | "max_us" => json!(values[values.len() - 1] as u64),
            _ => json!(round2(values[values.len() / 2])),
        };
        out.insert(key.clone(), value);
    }
    out.insert("rounds".into(), Value::Array(results.to_vec()));
    Value::Object(out)
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

fn fmt_us(v: &Value) -> String {
    let us = v.as_f64().unwrap_or(0.0);
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn mib(v: &Value) -> String {
    format!("{:.1} MiB", v.as_f64().unwrap_or(0.0) / 1024.0)
}

fn thousands(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine(load_before: String) -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": (mem_kib / 1024.0 / 1024.0).round(),
        "kernel": kernel,
        "loadavg_at_start": load_before,
        "loadavg_at_end": loadavg(),
        "note": "2 cores shared with other work (other builds and tests): absolute figures \
                 move between runs; only ratios within one run count",
    })
}

fn wrk_version() -> String {
    Command::new("wrk")
        .arg("-v")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("wrk")
                .split(" [")
                .next()
                .unwrap_or("wrk")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|_| "wrk".into())
}
