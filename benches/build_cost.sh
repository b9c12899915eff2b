#!/usr/bin/env bash
# What a build script pays for depending on cvm-keypairs: the wall time of a clean release build
# of the library, against that of an empty crate with exactly the same dependencies and
# features, for the default build and the signer-only build (default-features = false).
#
#   benches/build_cost.sh [RUNS]     (default 1 run of each; one line per build: wall and CPU time, ratios)
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

build() { # dir, features args... -> "WALL CPU" in seconds
  local dir=$1; shift
  rm -rf "$dir/target"
  local TIMEFORMAT='%R %U %S'
  local times
  times=$( { time (cd "$dir" && cargo build --release --lib --quiet "$@") >&2; } 2>&1 )
  read -r wall user sys <<<"$times"
  echo "$wall $(echo "$user + $sys" | bc)"
}

# Wall time is what a build script waits; CPU time (user + system, all cores) is the work done,
# which other load on the machine disturbs much less: both are printed, with their ratios.
for variant in default signer-only; do
  args=()
  [ "$variant" = signer-only ] && args=(--no-default-features)
  for run in $(seq "$runs"); do
    read -r empty_wall empty_cpu <<<"$(build "$work/empty" "${args[@]}")"
    read -r lib_wall lib_cpu <<<"$(build "$work/lib" "${args[@]}")"
    printf 'build_%s: wall %.1f s vs %.1f s, ratio %.3f; cpu %.1f s vs %.1f s, ratio %.3f (library vs empty crate with the same dependencies, run %s)\n' \
      "$variant" "$lib_wall" "$empty_wall" "$(echo "scale=3; $lib_wall / $empty_wall" | bc)" \
      "$lib_cpu" "$empty_cpu" "$(echo "scale=3; $lib_cpu / $empty_cpu" | bc)" "$run"
  done
done
