#!/usr/bin/env bash
# The test command (README "Test it"): installs what the tests need on a
# fresh machine, then runs every check. Safe to re-run; later runs are fast.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32-wasip2 target"
rustup target add wasm32-wasip2

step "test clients: npm packages (tests/clients/package-lock.json)"
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)

step "test clients: Python mcp SDK (target/pyenv)"
if [ ! -x target/pyenv/bin/python ]; then
  mkdir -p target
  python3 -m venv target/pyenv
fi
target/pyenv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/requirements.txt

step "deployment: docker-compose.yml, config/serve.json, Dockerfile, deploy/ (tests/deploy; no Docker engine or cluster needed)"
target/pyenv/bin/pip install --quiet --disable-pip-version-check -r tests/deploy/requirements.txt
target/pyenv/bin/python tests/deploy/check.py
target/pyenv/bin/python tests/deploy/scale_out.py
target/pyenv/bin/hadolint --no-color Dockerfile
if printf 'FROM debian\n' | target/pyenv/bin/hadolint --no-color - >/dev/null 2>&1; then
  echo "hadolint passed an untagged FROM: the Dockerfile lint is not working" >&2
  exit 1
fi

step "format"
cargo fmt --all --check

step "build: tailmcp and the test harness (release; the host embeds the component built from component/)"
cargo build --release --locked --workspace

step "lint"
cargo clippy --release --locked --workspace --all-targets -- -D warnings
cargo clippy --release --locked -p tailmcp-component --target wasm32-wasip2 -- -D warnings

step "tests: unit tests, and integration tests against the real binary with real clients"
cargo test --release --locked --workspace
if [ "$(id -u)" = 0 ]; then
  step "tests that need root: the compose service in a container sandbox (tests/deploy/container.sh)"
  cargo test --release --locked --workspace -- --ignored compose_topology_in_a_container_sandbox
else
  echo "not root: skipped the ignored tests that need root (cargo test -- --ignored, as root, runs them)"
fi

step "conformance: the official MCP suite, 2025-11-25 and 2026-07-28 (tests/conformance/RESULTS.md)"
bash tests/conformance/run.sh
