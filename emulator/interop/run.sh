#!/usr/bin/env bash
# SDK interop: the official Python SDK, tccli and the official Node SDK drive every emulated
# action against `cvm-keypairs emulate` (one emulator each, on a free loopback port, seeded with
# seed.json) and check what they get: a created key listed with its tags, the tag filters, an
# association visible only after the delay, errors surfaced with their codes, deletes; and the
# Python SDK assumes a role and a web identity (its STS client and credential providers), whose
# temporary credentials then create, list and delete key pairs.
#
# Usage: emulator/interop/run.sh. Installs the pinned clients from PyPI and npm into a fresh
# temporary venv and npm prefix (removed at the end, as are the emulators), needs python3 (with
# venv), node, npm and cargo. Exits non-zero if any client sees anything else. .ci/run
# runs it (some 40 to 70 s, most of it installing).
set -euo pipefail

# The clients, pinned. tccli is installed without its dependency on the whole
# tencentcloud-sdk-python (all products, some 400 MB): the common and CVM packages it imports
# are the ones below, plus its own small dependencies.
PY_COMMON=3.1.195
PY_CVM=3.1.178
PY_STS=3.0.1459
TCCLI=3.1.189.1
TCCLI_DEPS=(cos-python-sdk-v5==1.9.44 jmespath==1.1.0 six==1.17.0)
NODE_CVM=4.1.316
NODE_COMMON=4.1.220
# Each client's (dis)association delay: long enough for it to look in between (a tccli call is a
# new process of about half a second), short enough to keep the run brief.
PY_DELAY_MS=300
NODE_DELAY_MS=300
TCCLI_DELAY_MS=3000

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/cvm-keypairs-interop.XXXXXX")"
started=$SECONDS
pids=()
stdins=()

cleanup() {
    # Closing an emulator's stdin stops it (--exit-on-stdin-close); any left is ended by its id.
    for fd in "${stdins[@]}"; do
        exec {fd}>&-
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

echo "interop: installing the clients into $work"
python3 -m venv "$work/venv"
pip=("$work/venv/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" "tencentcloud-sdk-python-common==$PY_COMMON" "tencentcloud-sdk-python-cvm==$PY_CVM" \
    "tencentcloud-sdk-python-sts==$PY_STS" "${TCCLI_DEPS[@]}"
"${pip[@]}" --no-deps "tccli==$TCCLI"
npm install --prefix "$work/node" --no-audit --no-fund --silent \
    "tencentcloud-sdk-nodejs-cvm@$NODE_CVM" "tencentcloud-sdk-nodejs-common@$NODE_COMMON"
echo "interop: building the emulator"
(cd "$root" && cargo build --quiet --release -p cvm-keypairs-cli)

# The web identity token the Python SDK's OIDC providers present (STS interop).
WEB_IDENTITY_TOKEN="interop.web-identity.$RANDOM$RANDOM"

# emulator NAME DELAY_MS [OPTION...]: starts one through cargo run, its stdin held open by this
# script; sets $url to its endpoint.
emulator() {
    local name="$1" dir="$work/emulator-$1" delay="$2" fd line
    shift 2
    mkdir "$dir"
    mkfifo "$dir/stdin"
    (cd "$root" && exec cargo run --quiet --release -p cvm-keypairs-cli -- emulate --port 0 \
        --seed "$here/seed.json" --async-delay-ms "$delay" --exit-on-stdin-close "$@") \
        <"$dir/stdin" >"$dir/stdout" 2>"$dir/stderr" &
    pids+=($!)
    exec {fd}>"$dir/stdin"
    stdins+=("$fd")
    for _ in $(seq 300); do
        line=$(head -n 1 "$dir/stdout")
        [[ $line == "listening on http://127.0.0.1:"* ]] && break
        sleep 0.1
    done
    [[ $line == "listening on http://127.0.0.1:"* ]] || {
        cat "$dir/stderr" >&2
        echo "interop: the $name emulator did not start" >&2
        exit 1
    }
    url=${line#listening on }
}

emulator python "$PY_DELAY_MS" --web-identity-token "$WEB_IDENTITY_TOKEN"
python_url=$url
emulator node "$NODE_DELAY_MS"
node_url=$url
emulator tccli "$TCCLI_DELAY_MS"
tccli_url=$url

echo "interop: running the three clients"
runs=$SECONDS
"$work/venv/bin/python" "$here/python_sdk.py" "${python_url#http://}" "$PY_DELAY_MS" "$WEB_IDENTITY_TOKEN" >"$work/python.log" 2>&1 &
python_pid=$!
NODE_PATH="$work/node/node_modules" node "$here/node_sdk.js" "${node_url##*:}" "$NODE_DELAY_MS" >"$work/node.log" 2>&1 &
node_pid=$!
"$here/tccli.sh" "$work/venv/bin/tccli" "$tccli_url" "$TCCLI_DELAY_MS" >"$work/tccli.log" 2>&1 &
tccli_pid=$!

failed=0
for client in python node tccli; do
    pid_var="${client}_pid"
    if ! wait "${!pid_var}"; then
        failed=1
    fi
    sed "s/^/  /" "$work/$client.log"
done
echo "interop: versions: python $(python3 -c 'import platform; print(platform.python_version())'),\
 tencentcloud-sdk-python-common $PY_COMMON, tencentcloud-sdk-python-cvm $PY_CVM, -sts $PY_STS, tccli $TCCLI;\
 node $(node --version), tencentcloud-sdk-nodejs-cvm $NODE_CVM, tencentcloud-sdk-nodejs-common $NODE_COMMON"
echo "interop: clients ran $((SECONDS - runs)) s, $((SECONDS - started)) s in all"
if ((failed)); then
    echo "interop: FAILED" >&2
    exit 1
fi
echo "interop: all three clients passed"
