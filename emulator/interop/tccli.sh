#!/usr/bin/env bash
# Every emulated action through tccli, against `cvm-keypairs emulate` seeded with
# interop/seed.json; run by interop/run.sh.
#
# Usage: tccli.sh TCCLI URL ASYNC_DELAY_MS. Exits non-zero at the first mismatch. tccli has no
# option for the scheme; an --endpoint with `http://` is used as it is. Each call is a new
# process (about half a second), which also keeps it under the 10 requests per second per action.
set -euo pipefail

tccli=$1 url=$2 delay_ms=$3
public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl tccli@interop"
checks=0

fail() {
    echo "tccli: FAILED: $*" >&2
    exit 1
}

tc() {
    "$tccli" cvm "$@" --secretId AKIDEMULATOR00000000000000000000 \
        --secretKey emulator-secret-key-not-for-production --region "${region:-ap-guangzhou}" --endpoint "$url"
}

# get FILTER ACTION ARGS...: the JMESPath FILTER of the answer, without spaces or line breaks.
get() {
    local filter=$1
    shift
    tc "$@" --filter "$filter" | tr -d ' \n'
}

# expect EXPECTED FILTER ACTION ARGS...
expect() {
    local expected=$1 got
    shift
    got=$(get "$@") || fail "$2 failed"
    [[ $got == "$expected" ]] || fail "$2 ${*:3}: $1 is $got, not $expected"
    checks=$((checks + 1))
}

# fails CODE ACTION ARGS...: the call fails, and tccli shows the API's code.
fails() {
    local code=$1 err
    shift
    if err=$(tc "$@" 2>&1 >/dev/null); then
        fail "$1 ${*:2} succeeded, not $code"
    fi
    [[ $err == *"code:$code message:"* ]] || fail "$1 ${*:2}: $err, not $code"
    checks=$((checks + 1))
}

# until_ EXPECTED FILTER ACTION ARGS...: polls until it holds, at most 10 delays and 10 s more.
until_() {
    local deadline=$((SECONDS + delay_ms * 10 / 1000 + 10))
    until [[ $(get "${@:2}") == "$1" ]]; do
        ((SECONDS < deadline)) || fail "never: $3 ${*:4} giving $1"
    done
    checks=$((checks + 1))
}

expect 2 TotalCount DescribeKeyPairs
created=$(get KeyPair.KeyId CreateKeyPair --KeyName tccli_created --ProjectId 0 \
    --TagSpecification '[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"ci"}]}]' | tr -d '"')
[[ $created == skey-???????? ]] || fail "CreateKeyPair gave $created"
private_key=$(tc CreateKeyPair --KeyName tccli_second --ProjectId 0 --filter KeyPair.PrivateKey)
[[ $private_key == '"-----BEGIN OPENSSH PRIVATE KEY-----\n'* ]] || fail "no private key: $private_key"
expect "[{\"Key\":\"env\",\"Value\":\"ci\"}]" 'KeyPairSet[0].Tags' DescribeKeyPairs --KeyIds "[\"$created\"]"
for filter in '{"Name":"tag:env","Values":["ci"]}' '{"Name":"tag-key","Values":["env"]}' '{"Name":"tag-value","Values":["ci"]}'; do
    expect "[\"$created\"]" 'KeyPairSet[].KeyId' DescribeKeyPairs --Filters "[$filter]"
done
fails InvalidKeyPairName.Duplicate CreateKeyPair --KeyName tccli_created --ProjectId 0
fails InvalidKeyPairNameEmpty CreateKeyPair --KeyName '' --ProjectId 0

imported=$(get KeyId ImportKeyPair --KeyName tccli_imported --ProjectId 0 --PublicKey "$public_key" | tr -d '"')
fails InvalidPublicKey.Duplicate ImportKeyPair --KeyName tccli_again --ProjectId 0 --PublicKey "$public_key"
fails InvalidPublicKey.Malformed ImportKeyPair --KeyName tccli_bad --ProjectId 0 --PublicKey 'ssh-rsa AAAA'
tc ModifyKeyPairAttribute --KeyId "$imported" --KeyName tccli_renamed --Description renamed >/dev/null
expect '["tccli_renamed","renamed"]' 'KeyPairSet[0].[KeyName,Description]' DescribeKeyPairs --KeyIds "[\"$imported\"]"

asked=$SECONDS
tc AssociateInstancesKeyPairs --InstanceIds '["ins-stop0002"]' --KeyIds "[\"$created\"]" >/dev/null
expect '"OPERATING"' 'InstanceSet[0].LatestOperationState' DescribeInstances --InstanceIds '["ins-stop0002"]'
expect '[]' 'KeyPairSet[0].AssociatedInstanceIds' DescribeKeyPairs --KeyIds "[\"$created\"]"
until_ '["ins-stop0002"]' 'KeyPairSet[0].AssociatedInstanceIds' DescribeKeyPairs --KeyIds "[\"$created\"]"
((SECONDS - asked >= delay_ms * 9 / 10000)) || fail "the association showed before the delay"
expect "[\"SUCCESS\",[\"$created\"]]" 'InstanceSet[0].[LatestOperationState,LoginSettings.KeyIds]' \
    DescribeInstances --InstanceIds '["ins-stop0002"]'

fails UnsupportedOperation.InstanceStateRunning AssociateInstancesKeyPairs --InstanceIds '["ins-run00001"]' --KeyIds "[\"$created\"]"
fails UnsupportedOperation.InstanceOsWindows AssociateInstancesKeyPairs --InstanceIds '["ins-win00001"]' --KeyIds "[\"$created\"]"
fails InvalidInstanceId.NotFound DisassociateInstancesKeyPairs --InstanceIds '["ins-zzzzzzzz"]' --KeyIds "[\"$created\"]"

tc AssociateInstancesKeyPairs --InstanceIds '["ins-run00001"]' --KeyIds "[\"$imported\"]" --ForceStop True >/dev/null
expect '"STOPPED"' 'InstanceSet[0].InstanceState' DescribeInstances --InstanceIds '["ins-run00001"]'
until_ '"SUCCESS"' 'InstanceSet[0].LatestOperationState' DescribeInstances --InstanceIds '["ins-run00001"]'
expect "[\"STOPPED\",[\"$imported\"]]" 'InstanceSet[0].[InstanceState,LoginSettings.KeyIds]' \
    DescribeInstances --InstanceIds '["ins-run00001"]'

tc DisassociateInstancesKeyPairs --InstanceIds '["ins-stop0002"]' --KeyIds "[\"$created\"]" >/dev/null
fails InvalidParameterValue.KeyPairNotSupported DeleteKeyPairs --KeyIds "[\"$created\"]"
until_ '[]' 'KeyPairSet[0].AssociatedInstanceIds' DescribeKeyPairs --KeyIds "[\"$created\"]"
tc DeleteKeyPairs --KeyIds "[\"$created\"]" >/dev/null
expect 0 TotalCount DescribeKeyPairs --KeyIds "[\"$created\"]"
fails InvalidParameterValue.KeyPairNotSupported DeleteKeyPairs --KeyIds '["skey-seed0002"]'
region=ap-nowhere fails UnsupportedRegion DescribeInstances
echo "tccli: $checks checks passed"
