#!/usr/bin/env bash
# Runs every fuzz target that `cargo fuzz list` names for SECONDS each (default 20), one after
# the other, on the installed stable toolchain, and exits non-zero if any target crashes, hangs
# or fails to build. Seeds come from tests/vectors/ (examples/seed.rs); each target's corpus
# and crash artifacts stay in fuzz/corpus/<target>/ and fuzz/artifacts/<target>/ (git-ignored).
set -euo pipefail
seconds=${1:-20}
case $seconds in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS per target]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."

# cargo-fuzz passes nightly-only flags (-Zsanitizer, ...); the stable compiler takes them with this.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cargo run --quiet --manifest-path fuzz/Cargo.toml --no-default-features --example seed -- tests/vectors fuzz/corpus
cargo fuzz build
logs=fuzz/target/run-logs
mkdir -p "$logs"

failed=()
summary=()
for target in $(cargo fuzz list); do
    log=$logs/$target.log
    echo "fuzzing $target for ${seconds}s (log: $log)"
    if cargo fuzz run "$target" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        failed+=("$target")
        grep -a -A3 -e 'panicked at' -e '^==[0-9]*==ERROR' -e 'ERROR: libFuzzer' -e 'Test unit written' "$log" | head -40 >&2 || true
    fi
    # libFuzzer ends with "Done N runs"; after a crash the last "#N" status line counts.
    runs=$({ grep -ao 'Done [0-9]* runs' "$log" | awk '{print $2}'; grep -ao '^#[0-9]*' "$log" | tr -d '#' | tail -1; } | head -1 || true)
    corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
    summary+=("$(printf '%-18s %12s executions  %6s corpus files  %s' "$target" "${runs:-?}" "$corpus" "$result")")
done

printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
