//! No native code through the component path: precompiled code (a `.cwasm`
//! from `tailmcp compile`) runs outside the WebAssembly sandbox, so it is
//! loaded only from a `.cwasm` path with `--allow-precompiled`, and the
//! compiled-component cache is used only where nobody else can plant code.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use tailmcp_tests::{Exited, Tailmcp, fixtures, replace_atomically, sha256_hex, tailmcp_bin};

use crate::reload::{compile, foreign_cwasm};

/// What the host says, on one line, when it refuses precompiled code.
const REFUSAL: &str = "is precompiled native code; tailmcp only runs precompiled code from a \
                       `.cwasm` path with --allow-precompiled";

/// `tailmcp compile` of a fixture, as bytes.
async fn cwasm_of(fixture: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.cwasm");
    compile(fixture, &out).await;
    std::fs::read(&out).unwrap()
}

/// The reason `/healthz` gives for refusing `bytes`, once it does.
async fn refusal_of(server: &Tailmcp, bytes: &[u8]) -> String {
    let health = server.wait_refusal(bytes).await;
    health["lastRefusal"]["reason"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A `.cwasm` written over the watched `.wasm` (the normal deploy path) is
/// refused, with or without `--allow-precompiled`; the old one keeps serving.
#[tokio::test]
async fn cwasm_written_over_the_watched_wasm_is_refused() {
    struct Case {
        name: &'static str,
        extra: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "default",
            extra: &[],
        },
        Case {
            name: "--allow-precompiled",
            extra: &["--allow-precompiled"],
        },
    ];
    let v1 = std::fs::read(fixtures::SWAP_V1).unwrap();
    let v2_cwasm = cwasm_of(fixtures::SWAP_V2).await;
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greet.wasm");
        std::fs::write(&path, &v1).unwrap();
        let mut args = vec!["--component", path.to_str().unwrap(), "--no-cache"];
        args.extend_from_slice(case.extra);
        let server = Tailmcp::builder().args(&args).start().await;
        assert_eq!(server.version("/").await, "v1", "{}", case.name);

        replace_atomically(&path, &v2_cwasm);
        let reason = refusal_of(&server, &v2_cwasm).await;
        let name = case.name;
        assert!(
            reason.contains(&format!("`{}` {REFUSAL}", path.display())),
            "{name}: {reason}"
        );
        let health = server.health().await;
        assert_eq!(health["component"]["sha256"], sha256_hex(&v1), "{name}");
        assert_eq!(health["swaps"], 0, "{name}");
        assert_eq!(server.version("/").await, "v1", "{name}: v1 still serves");
        let logs = server.logs();
        let line = logs
            .lines()
            .find(|l| l.contains("refused component"))
            .unwrap_or_else(|| panic!("{name}: no refusal logged:\n{logs}"));
        assert!(line.contains(REFUSAL), "{name}: {line}");
        assert!(line.contains("still serving"), "{name}: {line}");
    }
}

/// What a server given a component file at startup does.
#[tokio::test]
async fn startup_runs_precompiled_code_only_from_a_cwasm_path_with_the_flag() {
    enum Want {
        Serves,
        Refuses,
    }
    struct Case {
        name: &'static str,
        file: &'static str,
        precompiled: bool,
        extra: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
        want: Want,
    }
    let cases = [
        Case {
            name: ".cwasm bytes at a .wasm path",
            file: "greet.wasm",
            precompiled: true,
            extra: &[],
            env: &[],
            want: Want::Refuses,
        },
        Case {
            name: ".cwasm bytes at a .wasm path, --allow-precompiled",
            file: "greet.wasm",
            precompiled: true,
            extra: &["--allow-precompiled"],
            env: &[],
            want: Want::Refuses,
        },
        Case {
            name: ".cwasm bytes at an extensionless path, --allow-precompiled",
            file: "greet",
            precompiled: true,
            extra: &["--allow-precompiled"],
            env: &[],
            want: Want::Refuses,
        },
        Case {
            name: ".cwasm path without --allow-precompiled",
            file: "greet.cwasm",
            precompiled: true,
            extra: &[],
            env: &[],
            want: Want::Refuses,
        },
        Case {
            name: ".cwasm path, --allow-precompiled",
            file: "greet.cwasm",
            precompiled: true,
            extra: &["--allow-precompiled"],
            env: &[],
            want: Want::Serves,
        },
        Case {
            name: ".cwasm path, TAILMCP_ALLOW_PRECOMPILED=true",
            file: "greet.cwasm",
            precompiled: true,
            extra: &[],
            env: &[("TAILMCP_ALLOW_PRECOMPILED", "true")],
            want: Want::Serves,
        },
        Case {
            name: ".wasm at a .wasm path, --allow-precompiled",
            file: "greet.wasm",
            precompiled: false,
            extra: &["--allow-precompiled"],
            env: &[],
            want: Want::Serves,
        },
    ];
    let v1 = std::fs::read(fixtures::SWAP_V1).unwrap();
    let v1_cwasm = cwasm_of(fixtures::SWAP_V1).await;
    for case in cases {
        let name = case.name;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(case.file);
        std::fs::write(&path, if case.precompiled { &v1_cwasm } else { &v1 }).unwrap();
        match (launch(&path, case.extra, case.env).await, case.want) {
            (Err(Exited { code, log: stderr }), Want::Refuses) => {
                assert_eq!(code, Some(1), "{name}:\n{stderr}");
                let line = stderr
                    .lines()
                    .find(|l| l.contains(REFUSAL))
                    .unwrap_or_else(|| panic!("{name}: no refusal:\n{stderr}"));
                assert!(
                    line.contains(&format!("`{}` {REFUSAL}", path.display())),
                    "{name}: {line}"
                );
            }
            (Ok(server), Want::Serves) => {
                assert_eq!(server.version("/").await, "v1", "{name}");
                let health = server.health().await;
                let how = if case.precompiled {
                    "precompiled"
                } else {
                    "compiled"
                };
                assert_eq!(health["component"]["how"], how, "{name}");
            }
            (Err(Exited { log, .. }), Want::Serves) => {
                panic!("{name}: did not start:\n{log}")
            }
            (Ok(_), Want::Refuses) => panic!("{name}: started"),
        }
    }
}

/// Starts `tailmcp serve` on `component` and waits until it listens or exits.
async fn launch(component: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<Tailmcp, Exited> {
    Tailmcp::builder()
        .args(["--no-cache", "--component"])
        .arg(component)
        .args(extra)
        .envs(env.iter().copied())
        .launch()
        .await
}

/// With the opt-in, a `.cwasm` path hot-swaps precompiled code; code from
/// another engine is still refused there.
#[tokio::test]
async fn allowed_cwasm_path_swaps_precompiled_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greet.cwasm");
    std::fs::write(&path, cwasm_of(fixtures::SWAP_V1).await).unwrap();
    let server = Tailmcp::builder()
        .args([
            "--component",
            path.to_str().unwrap(),
            "--no-cache",
            "--allow-precompiled",
        ])
        .start()
        .await;
    assert_eq!(server.version("/").await, "v1");
    assert!(
        server.logs().contains("--allow-precompiled: `"),
        "the opt-in is logged:\n{}",
        server.logs()
    );
    let v2_cwasm = cwasm_of(fixtures::SWAP_V2).await;
    replace_atomically(&path, &v2_cwasm);
    server.wait_for_version("v2").await;
    let health = server.health().await;
    assert_eq!(health["component"]["how"], "precompiled");
    assert_eq!(health["component"]["sha256"], sha256_hex(&v2_cwasm));

    let foreign = foreign_cwasm(fixtures::SWAP_V1).await;
    replace_atomically(&path, &foreign);
    let reason = refusal_of(&server, &foreign).await;
    assert!(reason.contains("not a usable component"), "{reason}");
    assert_eq!(server.version("/").await, "v2", "v2 still serves");
}

/// `tailmcp compile` writes precompiled code only under a `.cwasm` name.
#[tokio::test]
async fn compile_writes_only_cwasm_names() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["greet.wasm", "greet"] {
        let out = dir.path().join(name);
        let run = tokio::process::Command::new(tailmcp_bin())
            .args(["compile", fixtures::SWAP_V1, "-o"])
            .arg(&out)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{name}: {stderr}");
        assert!(
            stderr.contains("does not end in .cwasm"),
            "{name}: {stderr}"
        );
        assert!(!out.exists(), "{name}: nothing written");
    }
    let out = dir.path().join("greet.cwasm");
    compile(fixtures::SWAP_V1, &out).await;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o022, 0, "not writable by others: {mode:o}");
}

/// The cache name the server gave the compiled `fixture` (`<sha256>-<engine>.cwasm`),
/// found by letting a server compile it into a fresh private cache; returns
/// (entry name, compiled bytes).
async fn cache_entry(fixture: &str) -> (String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = Tailmcp::builder()
        .args([
            "--component",
            fixture,
            "--cache-dir",
            cache.to_str().unwrap(),
        ])
        .start()
        .await;
    assert_eq!(server.health().await["component"]["how"], "compiled");
    drop(server);
    let entry = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
        .expect("the server cached the compiled component");
    let meta = entry.metadata().unwrap();
    assert_eq!(
        meta.permissions().mode() & 0o077,
        0,
        "cache entries are private: {:o}",
        meta.permissions().mode()
    );
    let name = entry.file_name().to_string_lossy().into_owned();
    (name, std::fs::read(entry.path()).unwrap())
}

/// Native code planted in the cache is never run: the cache entry for
/// v1's `.wasm` is replaced by v2's compiled code, which the server would
/// serve (answering "v2") if it trusted the entry.
#[tokio::test]
async fn planted_cache_entries_are_not_loaded() {
    enum Plant {
        /// A regular file with this mode.
        File(u32),
        /// A symlink to a file elsewhere.
        Symlink,
    }
    struct Case {
        name: &'static str,
        dir_mode: u32,
        /// Owner of the cache directory (needs root to set).
        dir_owner: Option<u32>,
        plant: Plant,
        warning: &'static str,
    }
    let cases = [
        Case {
            name: "world-writable cache dir",
            dir_mode: 0o777,
            dir_owner: None,
            plant: Plant::File(0o600),
            warning: "compiled-component cache disabled",
        },
        Case {
            name: "group-writable cache dir",
            dir_mode: 0o770,
            dir_owner: None,
            plant: Plant::File(0o600),
            warning: "compiled-component cache disabled",
        },
        Case {
            name: "cache dir owned by another user",
            dir_mode: 0o755,
            dir_owner: Some(4242),
            plant: Plant::File(0o600),
            warning: "is owned by uid 4242",
        },
        Case {
            name: "world-writable entry in a private dir",
            dir_mode: 0o700,
            dir_owner: None,
            plant: Plant::File(0o666),
            warning: "ignoring cache entry",
        },
        Case {
            name: "symlinked entry in a private dir",
            dir_mode: 0o700,
            dir_owner: None,
            plant: Plant::Symlink,
            warning: "ignoring cache entry",
        },
    ];
    let (v1_entry, _) = cache_entry(fixtures::SWAP_V1).await;
    let (v2_entry, v2_compiled) = cache_entry(fixtures::SWAP_V2).await;
    let engine_key = |entry: &str| entry.split_once('-').unwrap().1.to_string();
    assert_eq!(engine_key(&v1_entry), engine_key(&v2_entry));
    assert!(
        v1_entry.starts_with(&sha256_hex(&std::fs::read(fixtures::SWAP_V1).unwrap())),
        "keyed by the source's sha256: {v1_entry}"
    );
    let root = {
        let probe = tempfile::tempdir().unwrap();
        std::fs::metadata(probe.path()).unwrap().uid() == 0
    };
    for case in cases {
        let name = case.name;
        if case.dir_owner.is_some() && !root {
            eprintln!("{name}: skipped (needs root to give a directory away)");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        let planted = cache.join(&v1_entry);
        match case.plant {
            Plant::File(mode) => {
                std::fs::write(&planted, &v2_compiled).unwrap();
                std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            Plant::Symlink => {
                let elsewhere = dir.path().join("elsewhere.cwasm");
                std::fs::write(&elsewhere, &v2_compiled).unwrap();
                std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
            }
        }
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(case.dir_mode)).unwrap();
        if let Some(owner) = case.dir_owner {
            std::os::unix::fs::chown(&cache, Some(owner), None).unwrap();
        }
        let server = Tailmcp::builder()
            .args([
                "--component",
                fixtures::SWAP_V1,
                "--cache-dir",
                cache.to_str().unwrap(),
            ])
            .start()
            .await;
        assert_eq!(
            server.version("/").await,
            "v1",
            "{name}: the planted code ran"
        );
        assert_eq!(
            server.health().await["component"]["how"],
            "compiled",
            "{name}"
        );
        let logs = server.logs();
        assert!(logs.contains(case.warning), "{name}:\n{logs}");
        let _ = std::fs::remove_file(Path::new(&planted));
    }
}
