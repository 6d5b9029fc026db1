//! Builds the fixture components in `fixtures/` for wasm32-wasip2, like
//! wasmtime's test-programs: one cargo run, then a generated `gen.rs` with a
//! path constant per fixture and a `foreach_fixture!` macro.

use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = dir.parent().expect("tests/ is in the workspace");
    let fixtures = dir.join("fixtures");
    for path in [
        fixtures.join("src"),
        fixtures.join("Cargo.toml"),
        root.join("wit"),
        // The conformance fixture builds on the component crate's MCP code.
        root.join("component/src"),
        root.join("component/Cargo.toml"),
        root.join("protocol/src"),
        root.join("protocol/Cargo.toml"),
    ] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let target_dir = root.join("target").join("fixtures-build");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--bins", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(fixtures.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        // Under `cargo clippy` these would lint (and fail) the nested build too.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .status()
        .expect("run cargo for the fixtures");
    assert!(
        status.success(),
        "building tests/fixtures for wasm32-wasip2 failed"
    );

    let mut names: Vec<String> = std::fs::read_dir(fixtures.join("src/bin"))
        .expect("fixtures/src/bin")
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from))
        .collect();
    names.sort();
    let mut generated = String::new();
    for name in &names {
        assert!(
            ["identity_", "fault_", "swap_", "conformance_", "security_"]
                .iter()
                .any(|p| name.starts_with(p)),
            "fixture `{name}` needs a suite prefix (identity_, fault_, swap_, conformance_, security_)"
        );
        let wasm = target_dir.join(format!("wasm32-wasip2/release/{name}.wasm"));
        writeln!(
            generated,
            "pub const {}: &str = {:?};",
            name.to_uppercase(),
            wasm.display().to_string()
        )
        .unwrap();
    }
    writeln!(
        generated,
        "#[macro_export]\nmacro_rules! foreach_fixture {{\n    ($mac:ident) => {{"
    )
    .unwrap();
    for name in &names {
        writeln!(generated, "        $mac!({name});").unwrap();
    }
    writeln!(generated, "    }};\n}}").unwrap();
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("gen.rs");
    std::fs::write(out, generated).expect("write gen.rs");
}
