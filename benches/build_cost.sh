#!/usr/bin/env bash
# What a build script pays for depending on cvm-keypairs: the wall time of a clean release build
# of the library, against that of an empty crate with exactly the same dependencies and
# features, for the default build and the signer-only build (default-features = false).
#
#   benches/build_cost.sh [RUNS]     (default 1 run of each; prints one line per build and ratio)
#
# Both are built from scratch in their own target directory, from the crates.io sources cargo
# already has (run `cargo fetch` once first, or have network). Dependencies dominate: the ratio
# is what the library's own code adds.
set -euo pipefail
shopt -s inherit_errexit # a failed build fails the script instead of timing as 0 s
runs=${1:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The library package alone: its sources and manifest, without the workspace, dev-dependencies,
# examples, tests or benches, so nothing but what a dependent builds is built.
mkdir -p "$work/lib"
cp -r "$root/src" "$work/lib/"
awk '
  /^\[workspace\]/ || /^\[dev-dependencies\]/ || /^\[\[bench\]\]/ || /^\[\[test\]\]/ || /^\[\[example\]\]/ || /^\[package.metadata/ { skip = 1; next }
  /^\[/ { skip = 0 }
  !skip
' "$root/Cargo.toml" | grep -v '^default-members' > "$work/lib/Cargo.toml"
# The README is included by a doc-test item only; an empty one keeps `include_str!` happy.
: > "$work/lib/README.md"

# The empty crate: the same [dependencies] and [features], an empty lib.rs.
mkdir -p "$work/empty/src"
: > "$work/empty/src/lib.rs"
sed -e 's/^name = "cvm-keypairs"/name = "empty-with-the-same-deps"/' -e 's/^name = "cvm_keypairs"/name = "empty"/' \
  "$work/lib/Cargo.toml" > "$work/empty/Cargo.toml"
cp "$root/Cargo.lock" "$work/lib/" && cp "$root/Cargo.lock" "$work/empty/"

build() { # dir, features args...
  local dir=$1; shift
  rm -rf "$dir/target"
  local start end
  start=$(date +%s.%N)
  (cd "$dir" && cargo build --release --lib --quiet "$@") >&2
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

for variant in default signer-only; do
  args=()
  [ "$variant" = signer-only ] && args=(--no-default-features)
  for run in $(seq "$runs"); do
    empty=$(build "$work/empty" "${args[@]}")
    lib=$(build "$work/lib" "${args[@]}")
    ratio=$(echo "scale=3; $lib / $empty" | bc)
    printf 'build_%s: library %.1f s, empty crate with the same dependencies %.1f s, ratio %s (run %s)\n' \
      "$variant" "$lib" "$empty" "$ratio" "$run"
  done
done
