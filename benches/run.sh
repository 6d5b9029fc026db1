#!/usr/bin/env bash
# The side-by-side benchmark (README, "Performance"): tailmcp against the
# original Python FastMCP server and a native rmcp server, driven by wrk.
# Builds and installs what it needs, then runs benches/driver, which prints
# the table and writes benches/results.json. Options go to the driver, e.g.
#   bash benches/run.sh --duration 10 --levels 1,16,64 --cold 5
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if command -v rustup >/dev/null; then
    rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
fi

# (a) tailmcp, with the greet component built and embedded by host/build.rs.
cargo build --release -p tailmcp

# (b) FastMCP in a venv of its own, pinned.
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! cmp -s benches/requirements.txt "$venv/.requirements.txt"; then
    "$venv/bin/pip" install -q -r benches/requirements.txt
    cp benches/requirements.txt "$venv/.requirements.txt"
fi

# (c) the native rmcp server, and the driver (which links the host library
# to time instantiation). Both outside the workspace, in target/benches.
export CARGO_TARGET_DIR=target/benches
cargo build --release --manifest-path benches/native-rmcp/Cargo.toml
cargo build --release --manifest-path benches/driver/Cargo.toml
unset CARGO_TARGET_DIR

exec target/benches/release/tailmcp-bench "$@"
