//! Builds the greet component (`component/`) for wasm32-wasip2 and embeds it,
//! so `cargo run -- serve` works on a fresh clone with no other step.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ is inside the workspace");
    for path in [
        "component/src",
        "component/Cargo.toml",
        "protocol/src",
        "protocol/Cargo.toml",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    println!("cargo:rerun-if-env-changed=TAILMCP_COMPONENT_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=TAILMCP_PREBUILT_COMPONENT");
    // Embed an already built component instead (e.g. one built in another
    // stage or by another toolchain).
    if let Some(prebuilt) = env::var_os("TAILMCP_PREBUILT_COMPONENT") {
        println!(
            "cargo:rerun-if-changed={}",
            PathBuf::from(&prebuilt).display()
        );
        println!(
            "cargo:rustc-env=TAILMCP_EMBEDDED_COMPONENT={}",
            PathBuf::from(prebuilt).display()
        );
        return;
    }
    // A target dir of its own: no lock contention with the outer build.
    let target_dir = env::var_os("TAILMCP_COMPONENT_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("component-build"));
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--package", "tailmcp-component"])
        .args(["--target", "wasm32-wasip2", "--profile", "component"])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        // Under `cargo clippy` these would lint (and fail) the nested build too.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("failed to run cargo to build the component");
    if !status.success() {
        panic!(
            "building the component for wasm32-wasip2 failed (see above). \
             If the target is missing: rustup target add wasm32-wasip2"
        );
    }
    let wasm = target_dir.join("wasm32-wasip2/component/tailmcp_component.wasm");
    println!(
        "cargo:rustc-env=TAILMCP_EMBEDDED_COMPONENT={}",
        wasm.display()
    );
}
