#!/usr/bin/env bash
# A short fuzz run of every target (default 60 s each): prints how many
# inputs each one ran and fails if any found a crash.
# Usage: bash fuzz/run.sh [SECONDS] [TARGET...]   (default: every target)
# A target's seeds (fuzz/seeds/TARGET) and dictionary (fuzz/dict/TARGET.dict)
# are used when present.
# Needs cargo-fuzz (installed here if missing). Runs on stable Rust without
# sanitizers (-s none): panics and failed assertions are what it finds.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus artifacts
status=0
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  [ -d "seeds/$target" ] && cp -n seeds/"$target"/* "corpus/$target/"
  extra=()
  [ -f "dict/$target.dict" ] && extra+=("-dict=dict/$target.dict")
  log="$(mktemp)"
  if cargo fuzz run -s none --release "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -artifact_prefix="artifacts/$target/" "${extra[@]}" >"$log" 2>&1; then
    runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | cut -d' ' -f2)"
    printf '%-20s %12s runs in %ss, no crash\n' "$target" "$runs" "$seconds"
  else
    printf '%-20s CRASHED, see fuzz/artifacts/%s and:\n' "$target" "$target"
    tail -40 "$log"
    status=1
  fi
  rm -f "$log"
done
exit $status
