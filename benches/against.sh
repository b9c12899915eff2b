#!/usr/bin/env bash
# Side by side: this checkout's benches against another commit's, on the same machine in one
# run, so that both see the same load.
#
#   benches/against.sh REV [ROUNDS] [BENCH...]   (default 3 rounds; benches sign and delete_1000)
#
# Builds REV's benches in a temporary git worktree, then runs each bench of both, alternating,
# ROUNDS times, and prints for every line both have (`name: VALUE UNIT`) the median of the
# rounds and this checkout's ratio to REV's.
set -euo pipefail
shopt -s inherit_errexit
rev=${1:?usage: benches/against.sh REV [ROUNDS] [BENCH...]}
rounds=${2:-3}
shift $(($# < 2 ? $# : 2))
benches=(sign delete_1000)
[ $# -gt 0 ] && benches=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
old=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"' EXIT
git -C "$root" worktree add --detach --quiet "$old" "$rev"

binary() { # dir bench -> path of its release bench executable
  (cd "$1" && cargo bench --no-run --bench "$2" 2>&1) |
    sed -n "s|.*Executable benches/$2.rs (\(.*\))|\1|p" | tail -1
}

results=$(mktemp)
for bench in "${benches[@]}"; do
  theirs="$old/$(binary "$old" "$bench")"
  ours="$root/$(binary "$root" "$bench")"
  for round in $(seq "$rounds"); do
    for side in theirs ours; do
      exe=${!side}
      (cd "$(dirname "$exe")" && "$exe") | sed "s/^/$side $round /" >>"$results"
    done
  done
done

echo "| line | $rev | this checkout | this / $rev |"
echo "|---|---:|---:|---:|"
awk '
  { side = $1; name = $3; sub(/:$/, "", name); v[side, name] = v[side, name] " " $4; unit[name] = $5; names[name] = 1 }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    for (name in names) if ((("theirs", name) in v) && (("ours", name) in v)) {
      t = median(v["theirs", name]); o = median(v["ours", name])
      printf "| %s | %s %s | %s %s | %.2f |\n", name, t, unit[name], o, unit[name], o / t
    }
  }' "$results" | sort
rm -f "$results"
