//! Hot swap: the component file is replaced while the server runs.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tailmcp_tests::{Tailmcp, fixtures, replace_atomically, sha256_hex, tailmcp_bin};

fn read(fixture: &str) -> Vec<u8> {
    std::fs::read(fixture).unwrap()
}

/// A server on a copy of `swap_v1` in a temp dir: (dir, component path, server).
async fn serving_v1(extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, Tailmcp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("component.wasm");
    std::fs::write(&path, read(fixtures::SWAP_V1)).unwrap();
    let cache = dir.path().join("cache");
    let mut args = vec![
        "--component",
        path.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let server = Tailmcp::builder().args(&args).start().await;
    (dir, path, server)
}

/// In-flight requests finish on the old component; new ones use the new one.
#[tokio::test]
pub async fn swap_v1() {
    let (_dir, path, server) = serving_v1(&[]).await;
    assert_eq!(server.version("/").await, "v1");
    let server = Arc::new(server);
    let slow = {
        let server = server.clone();
        tokio::spawn(async move { server.version("/?sleep=1500").await })
    };
    server.wait_in_flight(1).await;
    replace_atomically(&path, &read(fixtures::SWAP_V2));
    server.wait_for_version("v2").await;
    assert_eq!(
        slow.await.unwrap(),
        "v1",
        "the in-flight request finished on v1"
    );
    let health = server.health().await;
    assert_eq!(health["swaps"], 1);
    assert_eq!(
        health["component"]["sha256"],
        sha256_hex(&read(fixtures::SWAP_V2))
    );
}

/// Swapping under continuous concurrent load fails no request.
#[tokio::test]
pub async fn swap_v2() {
    let (_dir, path, server) = serving_v1(&[]).await;
    let server = Arc::new(server);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (server, stop, served) = (server.clone(), stop.clone(), served.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let v = server.version("/").await;
                assert!(v == "v1" || v == "v2", "{v}");
                served.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for round in 0..10 {
        let next = if round % 2 == 0 {
            fixtures::SWAP_V2
        } else {
            fixtures::SWAP_V1
        };
        replace_atomically(&path, &read(next));
        server
            .wait_for_version(if round % 2 == 0 { "v2" } else { "v1" })
            .await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("no request failed during the swaps");
    }
    assert!(served.load(Ordering::Relaxed) > 50);
    assert_eq!(server.health().await["swaps"], 10);
}

/// Each kind of bad file is refused; the old component keeps serving.
#[tokio::test]
pub async fn swap_no_handler() {
    let (_dir, path, server) = serving_v1(&[]).await;
    let v1_sha = sha256_hex(&read(fixtures::SWAP_V1));
    let v2 = read(fixtures::SWAP_V2);
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    let bad: [(&str, Vec<u8>, &str); 5] = [
        (
            "truncated",
            v2[..v2.len() / 2].to_vec(),
            "not a usable component",
        ),
        (
            "garbage",
            b"definitely not wasm".to_vec(),
            "not a usable component",
        ),
        ("core module", core_module, "core WebAssembly module"),
        (
            "no handler",
            read(fixtures::SWAP_NO_HANDLER),
            "does not export wasi:http/incoming-handler",
        ),
        (
            "a .cwasm at the .wasm path",
            foreign_cwasm(fixtures::SWAP_V2).await,
            "is precompiled native code",
        ),
    ];
    for (name, bytes, reason) in bad {
        replace_atomically(&path, &bytes);
        let health = server.wait_refusal(&bytes).await;
        let why = health["lastRefusal"]["reason"].as_str().unwrap();
        assert!(why.contains(reason), "{name}: {why}");
        assert_eq!(health["component"]["sha256"], v1_sha, "{name}: still v1");
        assert_eq!(server.version("/").await, "v1", "{name}: v1 still serves");
    }
    let logs = server.logs();
    let refusals = logs
        .lines()
        .filter(|l| l.contains("refused component"))
        .count();
    assert_eq!(refusals, 5, "{logs}");
    let still = format!("still serving {} (sha256 {v1_sha})", path.display());
    for line in logs.lines().filter(|l| l.contains("refused component")) {
        assert!(
            line.contains(&still),
            "one line says what stays active: {line}"
        );
    }
}

#[tokio::test]
async fn in_place_write_and_rapid_swaps_end_on_the_last_file() {
    let (_dir, path, server) = serving_v1(&[]).await;
    std::fs::write(&path, read(fixtures::SWAP_V2)).unwrap();
    server.wait_for_version("v2").await;
    for fixture in [
        fixtures::SWAP_V1,
        fixtures::SWAP_V2,
        fixtures::SWAP_V1,
        fixtures::SWAP_V2,
        fixtures::SWAP_V1,
    ] {
        replace_atomically(&path, &read(fixture));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(server.version("/").await, "v1");
    assert_eq!(
        server.health().await["component"]["sha256"],
        sha256_hex(&read(fixtures::SWAP_V1))
    );
}

#[tokio::test]
async fn precompiled_cwasm_swaps_in_and_the_cache_serves_restarts() {
    let (dir, path, server) = serving_v1(&[]).await;
    assert_eq!(server.health().await["component"]["how"], "compiled");
    drop(server);

    // Precompiled code only from a `.cwasm` path, with the opt-in.
    let cwasm = dir.path().join("component.cwasm");
    compile(fixtures::SWAP_V1, &cwasm).await;
    let native = Tailmcp::builder()
        .args([
            "--component",
            cwasm.to_str().unwrap(),
            "--no-cache",
            "--allow-precompiled",
        ])
        .start()
        .await;
    assert_eq!(native.version("/").await, "v1");
    let v2_cwasm = dir.path().join("v2.cwasm");
    compile(fixtures::SWAP_V2, &v2_cwasm).await;
    replace_atomically(&cwasm, &std::fs::read(&v2_cwasm).unwrap());
    native.wait_for_version("v2").await;
    assert_eq!(native.health().await["component"]["how"], "precompiled");
    drop(native);

    // A restart on v1: compiled once by the first server, now from the cache.
    let cache = dir.path().join("cache");
    let again = Tailmcp::builder()
        .args([
            "--component",
            path.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
        ])
        .start()
        .await;
    assert_eq!(
        again.health().await["component"]["how"],
        "from cache",
        "{}",
        again.logs()
    );
    assert_eq!(again.version("/").await, "v1");
}

#[tokio::test]
async fn missing_file_serves_the_builtin_component_until_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.wasm");
    let server = Tailmcp::builder()
        .args([
            "--component",
            path.to_str().unwrap(),
            "--no-cache",
            "--builtin-until-present",
        ])
        .start()
        .await;
    assert!(server.logs().contains("does not exist yet"));
    assert_eq!(server.health().await["component"]["source"], "embedded");
    replace_atomically(&path, &read(fixtures::SWAP_V2));
    server.wait_for_version("v2").await;
}

#[tokio::test]
async fn polling_finds_changes_without_notifications_and_sighup_reloads() {
    let (_dir, path, server) = serving_v1(&["--watch-interval", "100ms"]).await;
    assert!(server.signal("HUP"), "kill -HUP");
    server.wait_for_log(&["SIGHUP: reloading"]).await;
    assert_eq!(
        server.version("/").await,
        "v1",
        "SIGHUP with an unchanged file keeps serving"
    );
    replace_atomically(&path, &read(fixtures::SWAP_V2));
    server.wait_for_version("v2").await;
}

pub(crate) async fn compile(input: &str, output: &Path) {
    let status = tokio::process::Command::new(tailmcp_bin())
        .args(["compile", input, "-o", output.to_str().unwrap()])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

/// A `.cwasm` as another wasmtime version would write it: ours, with the
/// engine version recorded in its `.wasmtime.engine` section changed.
pub(crate) async fn foreign_cwasm(input: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.cwasm");
    compile(input, &out).await;
    let mut bytes = std::fs::read(&out).unwrap();
    let marker = b"x86_64-unknown-linux-gnu";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("engine section names the target");
    // The byte before the target's length prefix is the last digit of the version.
    let digit = at - 2;
    assert!(
        bytes[digit].is_ascii_digit(),
        "engine section layout changed"
    );
    bytes[digit] = if bytes[digit] == b'0' { b'1' } else { b'0' };
    bytes
}
