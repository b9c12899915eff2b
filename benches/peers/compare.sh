#!/usr/bin/env bash
# Side-by-side: the official Tencent Cloud Python SDK against this crate, building and signing
# DeleteKeyPairs with 1 and 100 ids, no network. Installs the pinned SDK into a temporary virtual
# environment, times it (official_sdk.py), runs `cargo bench --bench sign` in the same run, and
# prints both medians and their ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."

COMMON=3.1.195 # tencentcloud-sdk-python-common
CVM=3.1.178    # tencentcloud-sdk-python-cvm (needs common >=3.1.178,<4)

venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    "tencentcloud-sdk-python-common==$COMMON" "tencentcloud-sdk-python-cvm==$CVM"

echo "official SDK: tencentcloud-sdk-python-common $COMMON, -cvm $CVM, $("$venv/bin/python" --version)"
official=$("$venv/bin/python" benches/peers/official_sdk.py)
echo "$official"
ours=$(cargo bench --quiet --bench sign)
echo "$ours"

figure() { # figure NAME TEXT -> the ns/op number of line "NAME: N ns/op"
    awk -v name="$1:" '$1 == name { print $2 }' <<<"$2"
}

echo
echo "| DeleteKeyPairs, POST | official Python SDK | cvm-keypairs | official / ours |"
echo "|---|---:|---:|---:|"
for n in 1 100; do
    theirs=$(figure "official_sdk_delete_post_$n" "$official")
    mine=$(figure "sign_delete_post_$n" "$ours")
    if [[ -z $theirs || -z $mine ]]; then
        echo "missing figure for $n ids" >&2
        exit 1
    fi
    awk -v n="$n" -v t="$theirs" -v m="$mine" \
        'BEGIN { printf "| %d id%s | %d ns | %d ns | %.1f× |\n", n, (n == 1 ? "" : "s"), t, m, t / m }'
done
